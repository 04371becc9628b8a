using System.IO.Compression;
using System.Runtime.InteropServices;

namespace ProvenanceGate.EndToEnd.Tests;

/// <summary>
/// The tool as `dotnet tool install` users get it: the Release pack for this platform (self-contained, one composite
/// ReadyToRun image of runtime, libraries and tool) and the portable package, installed from a local feed and run.
/// </summary>
[NonParallelizable]
public sealed class ToolPackageTests
{
    private static readonly string[] PlatformPackages = ["linux-x64", "linux-arm64", "osx-arm64", "win-x64"];

    [Test]
    public void Release_package_is_self_contained_precompiled_and_fingerprints_byte_for_byte_as_the_sample_records()
    {
        var rid = RuntimeInformation.RuntimeIdentifier;
        if (!PlatformPackages.Contains(rid))
            Assert.Ignore($"no platform package for {rid}: users there get the portable package");

        var root = Path.Combine(PackagesFixture.Root, "tool-package");
        var feed = Path.Combine(root, "feed");
        // One platform (this one) and the portable package: the others' composite images take minutes each to compile.
        // Its own artifacts folder: the platform restore must not rewrite the obj/ that other test projects build from
        // at the same time.
        var pack = DotNet.Run(RepoPaths.Root, packagesDirectory: null, "pack", RepoPaths.InRepo("src", "ProvenanceGate.Tool", "ProvenanceGate.Tool.csproj"),
            "-c", "Release", "-o", feed, "--artifacts-path", Path.Combine(root, "artifacts"), $"-p:ToolPlatforms={rid}", "-p:ContinuousIntegrationBuild=true");
        Assert.That(pack.ExitCode, Is.Zero, pack.ToString());
        var version = Directory.GetFiles(feed, "ProvenanceGate.Tool.*.nupkg").Select(f => Path.GetFileNameWithoutExtension(f)["ProvenanceGate.Tool.".Length..])
            .Single(v => char.IsAsciiDigit(v[0]));

        var runtime = rid.StartsWith("win", StringComparison.Ordinal) ? "coreclr.dll" : rid.StartsWith("osx", StringComparison.Ordinal) ? "libcoreclr.dylib" : "libcoreclr.so";
        var platformEntries = Entries(Path.Combine(feed, $"ProvenanceGate.Tool.{rid}.{version}.nupkg"));
        Assert.That(platformEntries.Any(e => e.EndsWith("/" + runtime, StringComparison.Ordinal)), Is.True, "the platform package carries its runtime");
        Assert.That(platformEntries.Count(e => e.EndsWith(".r2r.dll", StringComparison.Ordinal)), Is.EqualTo(1), "one composite image");
        var portableEntries = Entries(Path.Combine(feed, $"ProvenanceGate.Tool.any.{version}.nupkg"));
        Assert.That(portableEntries.Any(e => e.EndsWith("/dotnet-provenance.dll", StringComparison.Ordinal)), Is.True);
        Assert.That(portableEntries.Any(e => e.EndsWith("/" + runtime, StringComparison.Ordinal)), Is.False, "the portable package runs on the machine's runtime");

        var tools = Path.Combine(root, "tools");
        var install = DotNet.Run(root, Path.Combine(root, "packages"), "tool", "install", "ProvenanceGate.Tool", "--tool-path", tools, "--add-source", feed, "--version", version);
        Assert.That(install.ExitCode, Is.Zero, install.ToString());
        var tool = Path.Combine(tools, OperatingSystem.IsWindows() ? "dotnet-provenance.exe" : "dotnet-provenance");

        // As a user runs it: cache on (a private one), the trained base the sample's committed fingerprint was made from.
        var cache = Path.Combine(root, "cache");
        var output = Path.Combine(root, "dev-base.fingerprint.json");
        var model = RepoPaths.InRepo("tests", "ProvenanceGate.Tests", "TestData", "trained", "models", "dev-base");
        var recorded = File.ReadAllBytes(RepoPaths.InRepo("samples", "SignedModelApp", "base", "dev-base.fingerprint.json"));
        for (var run = 0; run < 2; run++)
        {
            // The second run is the cache hit.
            var fingerprint = Run(tool, cache, "fingerprint", model, "-o", output);
            Assert.That(fingerprint.ExitCode, Is.Zero, fingerprint.ToString());
            Assert.That(File.ReadAllBytes(output), Is.EqualTo(recorded), "the precompiled tool computes what the library computes");
        }

        var compare = Run(tool, cache, "compare", output, RepoPaths.InRepo("samples", "SignedModelApp", "base", "dev-base.fingerprint.json"));
        Assert.That(compare.ExitCode, Is.Zero, compare.ToString());
        Assert.That(compare.Output, Does.Contain("identical-weights"));

        // The GPU backend is loaded by name and generates its kernels at run time: it must load and compile inside the
        // precompiled, self-contained layout too. ILGPU's CPU device runs the same backend where no GPU is present.
        var ilgpuOutput = Path.Combine(root, "ilgpu.fingerprint.json");
        var ilgpu = Run(tool, cache, "fingerprint", model, "-o", ilgpuOutput, "--no-cache", "--accelerator", "ilgpu-cpu", "--verbose");
        Assert.That(ilgpu.ExitCode, Is.Zero, ilgpu.ToString());
        Assert.That(ilgpu.Output, Does.Contain("PG3052").And.Contain("ilgpu-cpu"));
        var sameModel = Run(tool, cache, "compare", ilgpuOutput, output);
        Assert.That(sameModel.Output, Does.Contain("identical-weights"), sameModel.ToString());
    }

    private static List<string> Entries(string nupkg)
    {
        using var archive = ZipFile.OpenRead(nupkg);
        return archive.Entries.Select(e => e.FullName).ToList();
    }

    private static DotNetResult Run(string tool, string cache, params string[] arguments) =>
        DotNet.RunProgram(tool, new Dictionary<string, string> { ["PROVENANCEGATE_CACHE"] = cache }, arguments);
}
