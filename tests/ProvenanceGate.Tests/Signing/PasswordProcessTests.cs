using ProvenanceGate.Signing;

namespace ProvenanceGate.Tests.Signing;

/// <summary>
/// cosign's password rules end to end, in a real child process (environment and stdin are per process):
/// a set-but-empty COSIGN_PASSWORD is the empty password and stdin is not read; an unset one reads all of stdin.
/// </summary>
public sealed class PasswordProcessTests
{
    [Test]
    public void Set_but_empty_COSIGN_PASSWORD_is_the_empty_password_and_stdin_is_ignored()
    {
        using var temp = new TempDirectory();
        var result = RunTool(["keygen", "--output-key-prefix", temp.Combine("empty")], cosignPassword: "", stdin: "ignored-stdin");
        Assert.That(result.ExitCode, Is.EqualTo(0), result.Output);
        using var key = PrivateKeyLoader.Load(temp.Combine("empty.key"), () => "");
        Assert.That(TrustedKey.FromEcdsa("k", key).ToPem(), Is.EqualTo(File.ReadAllText(temp.Combine("empty.pub"))));
        Assert.That(result.Output, Does.Not.Contain("ignored-stdin"));
    }

    [Test]
    public void Unset_COSIGN_PASSWORD_reads_all_of_stdin_including_the_newline()
    {
        using var temp = new TempDirectory();
        var result = RunTool(["keygen", "--output-key-prefix", temp.Combine("piped")], cosignPassword: null, stdin: "piped-pw\n");
        Assert.That(result.ExitCode, Is.EqualTo(0), result.Output);
        using var key = PrivateKeyLoader.Load(temp.Combine("piped.key"), () => "piped-pw\n");
        var withoutNewline = Assert.Throws<Diagnostics.ProvenanceException>(() => PrivateKeyLoader.Load(temp.Combine("piped.key"), () => "piped-pw"));
        Assert.That(withoutNewline!.Diagnostic.Code, Is.EqualTo("PG2002"));
        Assert.That(result.Output, Does.Not.Contain("piped-pw"));
    }

    private static (int ExitCode, string Output) RunTool(string[] arguments, string? cosignPassword, string stdin)
    {
        var result = ExternalProcess.RunTool(arguments, new Dictionary<string, string?> { [PasswordSource.EnvironmentVariable] = cosignPassword }, stdin);
        return (result.ExitCode, result.Output);
    }
}
