using System.Diagnostics;

namespace ProvenanceGate.Bench;

/// <summary>
/// Fingerprinting as a user sees it: the tool packed and installed exactly as <c>dotnet tool install</c> gives it
/// (this platform's self-contained composite ReadyToRun package), a fresh <c>dotnet-provenance fingerprint --no-cache</c> process per run (start-up,
/// JIT and all; <c>--no-cache</c> because this measures the engine, not the cache), against <c>cat</c> of the same
/// weight files to /dev/null. Page cache warm for both; rounds alternate and the ratio is taken between medians. On
/// linux-x64 the same engine built Native AOT (not shipped) runs in the same rounds, to show how much of the gap is the JIT.
/// </summary>
internal sealed class FingerprintProcessScenario : IBenchScenario
{
    public string Name => "fingerprint-process";

    public void Run(BenchReport report, bool quick)
    {
        var root = Path.Combine(Path.GetTempPath(), "pg-bench-tool-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            var tool = InstallTool(root);
            var aot = PublishAotProbe(root);
            var model = BenchModel.Get(quick);
            var gigabytes = BenchModel.WeightBytes(model) / 1e9;
            var weights = Directory.EnumerateFiles(model, "*.safetensors").Order(StringComparer.Ordinal).ToArray();
            var output = Path.Combine(root, "model.fingerprint.json");
            string[] cat = ["-c", "cat \"$@\" > /dev/null", "cat", .. weights];
            string[] fingerprint = ["fingerprint", "--no-cache", model, "-o", output];
            var aotOutput = Path.Combine(root, "aot.fingerprint.json");

            var rounds = quick ? 3 : 7;
            var catTimes = new List<double>();
            var toolTimes = new List<double>();
            var startTimes = new List<double>();
            var aotTimes = new List<double>();
            for (var round = 0; round <= rounds; round++)
            {
                var c = Time("/bin/sh", cat);
                var t = Time(tool, fingerprint);
                var s = Time(tool, ["codes"]);
                var a = aot is null ? 0 : Time(aot, [model, aotOutput]);
                if (round == 0)
                    continue; // warm-up: page cache, disk cache of the tool's own files
                catTimes.Add(c);
                toolTimes.Add(t);
                startTimes.Add(s);
                aotTimes.Add(a);
            }

            var ratio = Median(catTimes) / Median(toolTimes);
            var load = File.ReadAllText("/proc/loadavg").Split(' ')[0];
            report.Add(Name, "model size", gigabytes, "GB", quick ? "(quick)" : ">= 2 GB", quick || gigabytes >= 2);
            report.Add(Name, $"cat of the weights to /dev/null (median of {rounds})", Median(catTimes), "s", "baseline", true);
            report.Add(Name, $"dotnet-provenance fingerprint --no-cache, fresh process (median of {rounds})", Median(toolTimes), "s", "-", true);
            report.Add(Name, $"whole-process throughput vs cat (load average {load} on {Environment.ProcessorCount} cores)", ratio, "x", ">= 0.6x", ratio >= 0.6);
            report.Add(Name, $"start-up: dotnet-provenance codes (median of {rounds})", Median(startTimes) * 1000, "ms", "-", true);
            if (aot is not null)
            {
                // Not the product: the same engine without the JIT, to show what of the gap is start-up and compilation.
                var same = File.ReadAllBytes(aotOutput).AsSpan().SequenceEqual(File.ReadAllBytes(output));
                report.Add(Name, "Native AOT build of the same engine (not shipped) vs cat", Median(catTimes) / Median(aotTimes), "x", "-", true);
                report.Add(Name, "Native AOT fingerprint file identical to the tool's", same ? 1 : 0, "", "identical", same);
            }
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

    /// <summary>Packs src/ProvenanceGate.Tool and installs it into a tool path, with a private packages folder so no older package of the same version is reused.</summary>
    private static string InstallTool(string root)
    {
        var repo = MSBuildIncrementalScenario.FindRepoRoot();
        var feed = Path.Combine(root, "feed");
        // This machine's package and the portable one, as `dotnet pack -c Release` makes them: the other platforms'
        // composite images would only lengthen the run (about two minutes each).
        var rid = System.Runtime.InteropServices.RuntimeInformation.RuntimeIdentifier;
        MSBuildIncrementalScenario.DotNet(repo, null, "pack", Path.Combine(repo, "src", "ProvenanceGate.Tool", "ProvenanceGate.Tool.csproj"), "-c", "Release", "-o", feed,
            $"-p:ToolPlatforms={rid}");
        // The top-level package (ProvenanceGate.Tool.<version>), not the per-platform ones (ProvenanceGate.Tool.<rid>.<version>).
        var version = Directory.GetFiles(feed, "ProvenanceGate.Tool.*.nupkg").Select(f => Path.GetFileNameWithoutExtension(f)["ProvenanceGate.Tool.".Length..])
            .Single(v => char.IsAsciiDigit(v[0]));
        var tools = Path.Combine(root, "tools");
        MSBuildIncrementalScenario.DotNet(root, Path.Combine(root, "packages"), "tool", "install", "ProvenanceGate.Tool", "--tool-path", tools, "--add-source", feed, "--version", version);
        return Path.Combine(tools, "dotnet-provenance");
    }

    /// <summary>
    /// The AOT probe (bench/ProvenanceGate.Bench.AotProbe) published for this machine, or null where Native AOT cannot be
    /// built here (another OS or architecture than linux-x64, or no native toolchain): the scenario then reports the tool only.
    /// </summary>
    private static string? PublishAotProbe(string root)
    {
        if (System.Runtime.InteropServices.RuntimeInformation.RuntimeIdentifier != "linux-x64")
            return null;
        var repo = MSBuildIncrementalScenario.FindRepoRoot();
        var output = Path.Combine(root, "aot");
        try
        {
            MSBuildIncrementalScenario.DotNet(repo, null, "publish", Path.Combine(repo, "bench", "ProvenanceGate.Bench.AotProbe", "ProvenanceGate.Bench.AotProbe.csproj"),
                "-c", "Release", "-r", "linux-x64", "-o", output);
        }
        catch (InvalidOperationException ex)
        {
            Console.Error.WriteLine($"fingerprint-process: Native AOT probe not built ({ex.Message.Split('\n')[0]})");
            return null;
        }

        return Path.Combine(output, "ProvenanceGate.Bench.AotProbe");
    }

    private static double Time(string fileName, string[] arguments)
    {
        var start = new ProcessStartInfo(fileName) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        var stopwatch = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        var elapsed = stopwatch.Elapsed.TotalSeconds;
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{fileName} {string.Join(' ', arguments)} failed ({process.ExitCode}):\n{stdout.Result}\n{stderr}");
        return elapsed;
    }

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);
}
