using System.ComponentModel;
using System.Diagnostics;

namespace ProvenanceGate.Tests.Infrastructure;

public sealed record ProcessResult(int ExitCode, string Stdout, string Stderr)
{
    public string Output => Stdout + Stderr;

    public override string ToString() => $"exit {ExitCode}\n{Output}";
}

/// <summary>Runs real programs (peers such as node and openssl, the built tool, sha256sum) with captured output and a time limit.</summary>
public static class ExternalProcess
{
    /// <param name="environment">Variables to set; a null value removes the variable the test run inherited.</param>
    public static ProcessResult Run(
        string fileName,
        IEnumerable<string> arguments,
        string? workingDirectory = null,
        IReadOnlyDictionary<string, string?>? environment = null,
        string? stdin = null,
        TimeSpan? timeout = null)
    {
        var start = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = stdin is not null,
            UseShellExecute = false,
        };
        if (workingDirectory is not null)
            start.WorkingDirectory = workingDirectory;
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null)
                start.Environment.Remove(name);
            else
                start.Environment[name] = value;
        }

        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (Win32Exception)
        {
            Prerequisite.Require(false, $"{fileName} on PATH");
            throw; // unreachable: Require throws when the prerequisite is missing
        }

        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (stdin is not null)
            {
                process.StandardInput.Write(stdin);
                process.StandardInput.Close();
            }

            var limit = timeout ?? TimeSpan.FromMinutes(2);
            if (!process.WaitForExit(limit))
            {
                process.Kill(entireProcessTree: true);
                Assert.Fail($"{fileName} {string.Join(' ', start.ArgumentList)} did not finish within {limit}\n{stdout.Result}{stderr.Result}");
            }

            process.WaitForExit();
            return new ProcessResult(process.ExitCode, stdout.Result, stderr.Result);
        }
    }

    /// <summary>Runs the dotnet-provenance built beside the tests as a real child process (a fresh environment, real stdin).</summary>
    public static ProcessResult RunTool(IEnumerable<string> arguments, IReadOnlyDictionary<string, string?>? environment = null, string? stdin = null) =>
        Run(
            Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet",
            ["exec", Path.Combine(AppContext.BaseDirectory, "dotnet-provenance.dll"), .. arguments],
            environment: environment,
            stdin: stdin,
            timeout: TimeSpan.FromMinutes(1));
}

public static class Prerequisite
{
    /// <summary>A missing peer fails in CI (where .ci/run installs it) and skips the test on a bare developer machine.</summary>
    public static void Require(bool available, string what)
    {
        if (available)
            return;
        if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable("CI")))
            Assert.Fail($"prerequisite missing under CI: {what}");
        Assert.Ignore($"prerequisite missing: {what}");
    }
}
