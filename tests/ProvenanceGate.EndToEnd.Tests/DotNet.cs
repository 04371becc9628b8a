using System.Diagnostics;
using System.Text;

namespace ProvenanceGate.EndToEnd.Tests;

internal sealed record DotNetResult(int ExitCode, string Output)
{
    public override string ToString() => $"exit {ExitCode}\n{Output}";
}

/// <summary>
/// Runs the real `dotnet` CLI in an isolated environment: its own packages folder, no build-server reuse, and none of
/// the CI variables of the machine running the tests (they switch the gate on by default; each test says what it wants).
/// </summary>
internal static class DotNet
{
    private static readonly string[] InheritedVariablesToClear = ["CI", "TF_BUILD", "GITHUB_ACTIONS", "SOURCE_DATE_EPOCH", "COSIGN_PASSWORD", "PROVENANCEGATE_ACCELERATOR", "MSBuildExtensionsPath", "MSBUILD_EXE_PATH", "MSBuildSDKsPath"];

    /// <param name="packagesDirectory">NUGET_PACKAGES for the run; null keeps the machine's own (used to pack from the repository,
    /// whose obj/ folders must keep pointing at the packages folder every other build of the repository uses).</param>
    public static DotNetResult Run(string workingDirectory, string? packagesDirectory, params string[] arguments)
    {
        var startInfo = Prepare("dotnet", arguments);
        startInfo.WorkingDirectory = workingDirectory;
        if (packagesDirectory is not null)
            startInfo.Environment["NUGET_PACKAGES"] = packagesDirectory;
        startInfo.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        startInfo.Environment["DOTNET_NOLOGO"] = "1";
        startInfo.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
        // No node or compiler server outlives a test: each run sees the files as they are now.
        startInfo.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        startInfo.Environment["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0";
        startInfo.Environment["UseSharedCompilation"] = "false";
        return Execute(startInfo, TimeSpan.FromMinutes(5));
    }

    /// <summary>Runs an installed program (the packed tool) in the same cleared environment, plus <paramref name="environment"/>.</summary>
    public static DotNetResult RunProgram(string program, IReadOnlyDictionary<string, string> environment, params string[] arguments)
    {
        var startInfo = Prepare(program, arguments);
        foreach (var (name, value) in environment)
            startInfo.Environment[name] = value;
        return Execute(startInfo, TimeSpan.FromMinutes(2));
    }

    private static ProcessStartInfo Prepare(string fileName, string[] arguments)
    {
        var startInfo = new ProcessStartInfo(fileName) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
            startInfo.ArgumentList.Add(argument);
        foreach (var name in InheritedVariablesToClear)
            startInfo.Environment.Remove(name);
        return startInfo;
    }

    private static DotNetResult Execute(ProcessStartInfo startInfo, TimeSpan timeout)
    {
        var output = new StringBuilder();
        using var process = new Process { StartInfo = startInfo };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{startInfo.FileName} {string.Join(' ', startInfo.ArgumentList)} ran for more than {timeout.TotalMinutes} minutes\n{output}");
        }

        process.WaitForExit();
        lock (output)
            return new DotNetResult(process.ExitCode, output.ToString());
    }
}
