using ProvenanceGate.Diagnostics;
using ProvenanceGate.Signing;

namespace ProvenanceGate.Tests.Signing;

/// <summary>cosign's GetPass rules: env (set-but-empty counts), else a terminal prompt (twice for new keys), else all of stdin.</summary>
public sealed class PasswordSourceTests
{
    [Test]
    public void Environment_wins_and_an_empty_value_is_a_password()
    {
        var prompts = 0;
        var source = new PasswordSource(name => name == "COSIGN_PASSWORD" ? "" : null, stdinIsTerminal: true, new StringReader("stdin"), _ => { prompts++; return "typed"; });
        Assert.That(source.ForExistingKey(), Is.EqualTo(""));
        Assert.That(source.ForNewKey(), Is.EqualTo(""));
        Assert.That(prompts, Is.Zero);
    }

    [Test]
    public void Without_environment_or_terminal_all_of_stdin_is_the_password_including_the_newline()
    {
        var source = new PasswordSource(_ => null, stdinIsTerminal: false, new StringReader("pw\n"), _ => throw new AssertionException("no prompt"));
        Assert.That(source.ForExistingKey(), Is.EqualTo("pw\n"));
        Assert.That(source.ForExistingKey(), Is.EqualTo("pw\n"), "stdin is read once and remembered");
        Assert.That(new PasswordSource(_ => null, false, new StringReader(""), _ => "").ForNewKey(), Is.EqualTo(""));
    }

    [Test]
    public void A_terminal_is_asked_once_to_unlock_and_twice_for_a_new_key()
    {
        var asked = new List<string>();
        var answers = new Queue<string>(["one", "one", "one", "first-Xq9", "second-Zk4"]);
        var source = new PasswordSource(_ => null, stdinIsTerminal: true, new StringReader(""), prompt => { asked.Add(prompt); return answers.Dequeue(); });
        Assert.That(source.ForExistingKey(), Is.EqualTo("one"));
        Assert.That(source.ForNewKey(), Is.EqualTo("one"));
        Assert.That(asked, Has.Count.EqualTo(3));
        var mismatch = Assert.Throws<ProvenanceException>(() => source.ForNewKey());
        Assert.That(mismatch!.Diagnostic.Code, Is.EqualTo("PG2003"));
        Assert.That(mismatch.Message, Does.Not.Contain("first-Xq9").And.Not.Contain("second-Zk4"));
    }

    [Test]
    [NonParallelizable]
    public void Environment_only_source_never_prompts_and_says_what_to_set()
    {
        var saved = Environment.GetEnvironmentVariable(PasswordSource.EnvironmentVariable);
        try
        {
            Environment.SetEnvironmentVariable(PasswordSource.EnvironmentVariable, null);
            var missing = Assert.Throws<ProvenanceException>(() => PasswordSource.EnvironmentOnly().ForExistingKey());
            Assert.That(missing!.Diagnostic.Code, Is.EqualTo("PG2003"));
            Assert.That(missing.Message, Does.Contain("COSIGN_PASSWORD"));
            Environment.SetEnvironmentVariable(PasswordSource.EnvironmentVariable, "from-env");
            Assert.That(PasswordSource.EnvironmentOnly().ForExistingKey(), Is.EqualTo("from-env"));
        }
        finally
        {
            Environment.SetEnvironmentVariable(PasswordSource.EnvironmentVariable, saved);
        }
    }
}
