namespace ProvenanceGate.Tests.Infrastructure;

/// <summary>Locates files inside this repository (never outside it).</summary>
public static class RepoPaths
{
    public static string Root { get; } = FindRoot();

    public static string TestData(params string[] parts) => Path.Combine([TestContext.CurrentContext.TestDirectory, "TestData", .. parts]);

    public static string InRepo(params string[] parts) => Path.Combine([Root, .. parts]);

    private static string FindRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "ProvenanceGate.sln")))
            directory = directory.Parent;
        return directory?.FullName ?? throw new InvalidOperationException("ProvenanceGate.sln not found above " + AppContext.BaseDirectory);
    }
}
