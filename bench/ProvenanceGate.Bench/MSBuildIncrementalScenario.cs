using System.Diagnostics;

namespace ProvenanceGate.Bench;

/// <summary>
/// What ProvenanceGate.Build adds to a no-op incremental build: SignedModelApp with the packed package, against the same
/// project without the package, both already built once. Goal: at most 5% more (the gate target is skipped as up to date
/// and hashes nothing). Both builds run in the same way and interleaved, so machine noise hits both alike.
/// </summary>
internal sealed class MSBuildIncrementalScenario : IBenchScenario
{
    public string Name => "msbuild-noop";

    public void Run(BenchReport report, bool quick)
    {
        var root = Path.Combine(Path.GetTempPath(), "pg-bench-msbuild-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            var repo = FindRepoRoot();
            var feed = Path.Combine(root, "feed");
            var packages = Path.Combine(root, "packages");
            // Packed with the machine's own packages folder: the repository's obj/ folders must keep pointing at it.
            DotNet(repo, null, "pack", Path.Combine(repo, "src", "ProvenanceGate.Build", "ProvenanceGate.Build.csproj"), "-c", "Release", "-o", feed);

            var workspace = Path.Combine(root, "workspace");
            CopyDirectory(Path.Combine(repo, "samples", "SignedModelApp"), Path.Combine(workspace, "SignedModelApp"));
            CopyDirectory(Path.Combine(repo, "samples", "models", "sample-finetune"), Path.Combine(workspace, "models", "sample-finetune"));
            File.Copy(Path.Combine(repo, "global.json"), Path.Combine(workspace, "global.json"));
            File.WriteAllText(Path.Combine(workspace, "Directory.Build.props"), "<Project />\n");
            File.WriteAllText(Path.Combine(workspace, "Directory.Build.targets"), "<Project />\n");
            File.WriteAllText(Path.Combine(workspace, "Directory.Packages.props"),
                "<Project><PropertyGroup><ManagePackageVersionsCentrally>false</ManagePackageVersionsCentrally></PropertyGroup></Project>\n");
            File.WriteAllText(Path.Combine(workspace, "NuGet.Config"),
                $"<configuration><packageSources><add key=\"bench\" value=\"{feed}\" /></packageSources></configuration>\n");

            // The baseline is the same project with the PackageReference removed (its ProvenanceGate settings then mean nothing).
            var withPackage = Path.Combine(workspace, "SignedModelApp", "SignedModelApp.csproj");
            var baselineDirectory = Path.Combine(workspace, "BaselineApp");
            CopyDirectory(Path.Combine(workspace, "SignedModelApp"), baselineDirectory);
            var baseline = Path.Combine(baselineDirectory, "BaselineApp.csproj");
            File.Move(Path.Combine(baselineDirectory, "SignedModelApp.csproj"), baseline);
            var csproj = File.ReadAllLines(baseline).Where(l => !l.Contains("\"ProvenanceGate.Build\"", StringComparison.Ordinal));
            File.WriteAllLines(baseline, csproj);

            foreach (var project in new[] { withPackage, baseline })
                DotNet(workspace, packages, "build", project);

            var repetitions = quick ? 3 : 7;
            var withTimes = new List<double>();
            var baselineTimes = new List<double>();
            for (var i = 0; i < repetitions + 1; i++)
            {
                // Alternate which goes first, so whatever the first build of a pair pays (or saves) hits both alike.
                double a, b;
                if (i % 2 == 0)
                {
                    a = Time(() => DotNet(workspace, packages, "build", withPackage, "--no-restore"));
                    b = Time(() => DotNet(workspace, packages, "build", baseline, "--no-restore"));
                }
                else
                {
                    b = Time(() => DotNet(workspace, packages, "build", baseline, "--no-restore"));
                    a = Time(() => DotNet(workspace, packages, "build", withPackage, "--no-restore"));
                }

                if (i == 0)
                    continue; // warm-up
                withTimes.Add(a);
                baselineTimes.Add(b);
            }

            var withMedian = Median(withTimes);
            var baselineMedian = Median(baselineTimes);
            report.Add(Name, "no-op build with package", withMedian, "s", "-", true);
            report.Add(Name, "no-op build without package", baselineMedian, "s", "-", true);
            var ratio = withMedian / baselineMedian;
            report.Add(Name, "no-op build ratio (with / without)", ratio, "x", "<= 1.05", ratio <= 1.05);
        }
        finally
        {
            try
            {
                Directory.Delete(root, recursive: true);
            }
            catch (IOException)
            {
                // A leftover temp folder is harmless.
            }
        }
    }

    private static double Time(Action action)
    {
        var stopwatch = Stopwatch.StartNew();
        action();
        return stopwatch.Elapsed.TotalSeconds;
    }

    private static double Median(List<double> values)
    {
        values.Sort();
        return values[values.Count / 2];
    }

    internal static void DotNet(string workingDirectory, string? packages, params string[] arguments)
    {
        var startInfo = new ProcessStartInfo("dotnet") { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
            startInfo.ArgumentList.Add(argument);
        if (packages is not null)
            startInfo.Environment["NUGET_PACKAGES"] = packages;
        startInfo.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        startInfo.Environment["DOTNET_NOLOGO"] = "1";
        using var process = Process.Start(startInfo)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"dotnet {string.Join(' ', arguments)} failed ({process.ExitCode}):\n{stdout.Result}\n{stderr}");
    }

    private static void CopyDirectory(string source, string target)
    {
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(source, file);
            if (relative.StartsWith("bin" + Path.DirectorySeparatorChar, StringComparison.Ordinal) || relative.StartsWith("obj" + Path.DirectorySeparatorChar, StringComparison.Ordinal))
                continue;
            var destination = Path.Combine(target, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            File.Copy(file, destination);
        }
    }

    internal static string FindRepoRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "ProvenanceGate.sln")))
            directory = directory.Parent;
        return directory?.FullName ?? throw new InvalidOperationException("ProvenanceGate.sln not found above " + AppContext.BaseDirectory);
    }
}
