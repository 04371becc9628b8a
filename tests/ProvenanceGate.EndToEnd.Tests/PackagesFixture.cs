using ProvenanceGate.EndToEnd.Tests;

// No namespace: the fixture runs once for the whole assembly.
#pragma warning disable CA1050 // Declare types in namespaces: NUnit runs a namespace-less SetUpFixture once per assembly.

/// <summary>
/// Packs ProvenanceGate.Build once into a local feed and lays out one workspace with copies of the samples, so every
/// test restores from the same feed into the same isolated packages folder (one restore cache for the whole run).
/// </summary>
[SetUpFixture]
public sealed class PackagesFixture
{
    public static string Root { get; private set; } = "";

    public static string Feed => Path.Combine(Root, "feed");

    public static string Packages => Path.Combine(Root, "packages");

    public static string Workspace => Path.Combine(Root, "workspace");

    public static string PackageVersion { get; private set; } = "";

    [OneTimeSetUp]
    public void PackOnce()
    {
        Root = Path.Combine(Path.GetTempPath(), "pg-e2e-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(Feed);
        Directory.CreateDirectory(Packages);

        var pack = DotNet.Run(RepoPaths.Root, packagesDirectory: null, "pack", RepoPaths.InRepo("src", "ProvenanceGate.Build", "ProvenanceGate.Build.csproj"),
            "-c", "Release", "-o", Feed, "-p:ContinuousIntegrationBuild=true");
        Assert.That(pack.ExitCode, Is.Zero, pack.ToString());
        var nupkg = Directory.GetFiles(Feed, "ProvenanceGate.Build.*.nupkg").Single();
        PackageVersion = Path.GetFileNameWithoutExtension(nupkg)["ProvenanceGate.Build.".Length..];

        Workspace.CopySamples(Feed);
    }

    [OneTimeTearDown]
    public void DeleteRoot()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder is harmless; failing here would hide the test results.
        }
    }
}
