using System.CommandLine;
using ProvenanceGate.Tool.Cli;

namespace ProvenanceGate.Tests.Foundation;

public sealed class CliUsageTests
{
    [Test]
    public void Unknown_verb_is_a_usage_error_with_exit_code_2()
    {
        var result = Cli.Run("no-such-verb");
        Assert.That(result.ExitCode, Is.EqualTo(2));
        Assert.That(result.Stderr, Does.Contain("error PG0001"));
        Assert.That(result.Stdout, Is.Empty);
    }

    [Test]
    public void Help_succeeds()
    {
        var result = Cli.Run("--help");
        Assert.That(result.ExitCode, Is.EqualTo(0));
        Assert.That(result.Stdout, Does.Contain("ProvenanceGate"));
    }

    [Test]
    public void Each_verb_is_named_as_the_command_its_factory_makes()
    {
        // A run builds only the verb named by its first argument, looked up by these names: a name that drifted from
        // its command would turn that verb into "unrecognized command".
        foreach (var (name, create) in ProvenanceCli.Verbs)
            Assert.That(create().Name, Is.EqualTo(name));
        Assert.That(ProvenanceCli.Verbs.Select(v => v.Name), Is.Unique);
    }

    [Test]
    public void Root_help_lists_every_verb()
    {
        var help = Cli.Run("--help").Stdout;
        foreach (var (name, _) in ProvenanceCli.Verbs)
            Assert.That(help, Does.Match($@"(?m)^\s+{System.Text.RegularExpressions.Regex.Escape(name)}\b"), name);
    }

    [TestCase("fingerprint", "--help")]
    [TestCase("verify", "--help")]
    [TestCase("github", "--help")]
    [TestCase("compare", "a", "b", "--no-such-option")]
    [TestCase("fingerprint")]
    [TestCase("sign", "--key")]
    [TestCase("scan", "model", "--accelerator", "cpu", "--accelerator", "cuda", "extra")]
    public void A_verb_parses_and_helps_as_in_the_whole_tree(params string[] args)
    {
        var whole = ProvenanceCli.CreateRootCommand().Parse(args);
        var single = ProvenanceCli.CreateRootCommand(args[0]).Parse(args);
        Assert.That(single.Errors.Select(e => e.Message), Is.EqualTo(whole.Errors.Select(e => e.Message)));
        Assert.That(single.CommandResult.Command.Name, Is.EqualTo(whole.CommandResult.Command.Name));
        Assert.That(HelpOf(single), Is.EqualTo(HelpOf(whole)));
    }

    private static string HelpOf(ParseResult parse)
    {
        if (!parse.Tokens.Any(t => t.Value == "--help"))
            return "";
        using var output = new StringWriter();
        parse.Invoke(new InvocationConfiguration { Output = output, Error = TextWriter.Null });
        return output.ToString();
    }
}
