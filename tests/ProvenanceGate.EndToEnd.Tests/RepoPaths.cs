namespace ProvenanceGate.EndToEnd.Tests;

internal static class RepoPaths
{
    public static string Root { get; } = FindRoot();

    public static string InRepo(params string[] parts) => Path.Combine([Root, .. parts]);

    private static string FindRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "ProvenanceGate.sln")))
            directory = directory.Parent;
        return directory?.FullName ?? throw new InvalidOperationException("ProvenanceGate.sln not found above " + AppContext.BaseDirectory);
    }
}
