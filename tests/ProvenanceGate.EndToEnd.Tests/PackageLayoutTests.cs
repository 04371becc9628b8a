using System.IO.Compression;

namespace ProvenanceGate.EndToEnd.Tests;

public sealed class PackageLayoutTests
{
    private static readonly string[] ExpectedEntries =
    [
        "build/ProvenanceGate.Build.props", "build/ProvenanceGate.Build.targets",
        "buildMultiTargeting/ProvenanceGate.Build.props", "buildMultiTargeting/ProvenanceGate.Build.targets",
        "tasks/net10.0/ProvenanceGate.Build.dll", "tasks/net10.0/ProvenanceGate.Core.dll",
        "tasks/net10.0/YamlDotNet.dll", "tasks/net10.0/BouncyCastle.Cryptography.dll", "tasks/net10.0/System.Numerics.Tensors.dll",
        "tasks/net10.0/ProvenanceGate.Accelerators.Ilgpu.dll", "tasks/net10.0/ILGPU.dll",
    ];

    [Test]
    public void Package_is_a_development_dependency_with_tasks_and_no_dependencies()
    {
        using var nupkg = ZipFile.OpenRead(Directory.GetFiles(PackagesFixture.Feed, "ProvenanceGate.Build.*.nupkg").Single());
        var entries = nupkg.Entries.Select(e => e.FullName).ToList();

        Assert.That(entries, Is.SupersetOf(ExpectedEntries));
        Assert.That(entries.Where(e => e.StartsWith("lib/", StringComparison.Ordinal)), Is.Empty, "nothing is referenced by the consuming project");
        Assert.That(entries.Where(e => e.Contains("Microsoft.Build", StringComparison.Ordinal)), Is.Empty, "MSBuild's own assemblies come from the host");

        var nuspec = new StreamReader(nupkg.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open()).ReadToEnd();
        Assert.That(nuspec, Does.Contain("<developmentDependency>true</developmentDependency>"));
        Assert.That(nuspec, Does.Not.Contain("<dependency "));
    }
}
