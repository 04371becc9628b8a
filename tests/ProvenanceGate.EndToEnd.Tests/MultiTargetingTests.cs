using System.IO.Compression;

namespace ProvenanceGate.EndToEnd.Tests;

/// <summary>
/// A multi-targeted copy of SignedModelApp (TargetFrameworks, so an outer build and inner builds run, as with several
/// frameworks): each inner build writes its own BOM, and pack, running in the outer build, collects them per framework.
/// </summary>
[NonParallelizable]
public sealed class MultiTargetingTests
{
    [Test]
    public void Inner_builds_write_the_bom_and_pack_collects_it_per_framework()
    {
        var directory = Path.Combine(PackagesFixture.Workspace, "MultiTargetApp");
        Directory.CreateDirectory(directory);
        var source = Path.Combine(PackagesFixture.Workspace, "SignedModelApp");
        foreach (var file in new[] { "Program.cs", "keys/sample-signing.key", "keys/sample-signing.pub", "base/dev-base.fingerprint.json" })
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(directory, file))!);
            File.Copy(Path.Combine(source, file), Path.Combine(directory, file), overwrite: true);
        }

        var csproj = File.ReadAllText(Path.Combine(source, "SignedModelApp.csproj"))
            .Replace("<TargetFramework>net10.0</TargetFramework>", "<TargetFrameworks>net10.0</TargetFrameworks>", StringComparison.Ordinal);
        File.WriteAllText(Path.Combine(directory, "MultiTargetApp.csproj"), csproj);
        var output = Path.Combine(PackagesFixture.Root, "multi-target-package");

        var pack = DotNet.Run(directory, PackagesFixture.Packages, "pack", "MultiTargetApp.csproj", "-c", "Debug", "-o", output);

        Assert.That(pack.ExitCode, Is.Zero, pack.ToString());
        Assert.That(Path.Combine(directory, "bin", "Debug", "net10.0", "MultiTargetApp.cdx.json"), Does.Exist);
        Assert.That(Path.Combine(directory, "bin", "Debug", "MultiTargetApp.cdx.json"), Does.Not.Exist, "the outer build writes nothing");
        using var nupkg = ZipFile.OpenRead(Directory.GetFiles(output, "MultiTargetApp.*.nupkg").Single());
        Assert.That(nupkg.Entries.Select(e => e.FullName), Does.Contain("provenance/net10.0/MultiTargetApp.cdx.json"));
    }
}
