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
}
