namespace ProvenanceGate.EndToEnd.Tests;

/// <summary>A folder outside the repository holding copies of the samples, set up as a user's machine would be.</summary>
internal static class WorkspaceLayout
{
    /// <summary>
    /// Copies samples/ (without its in-repo Directory.Build.* files, which point at src/) and adds what a user's repo has:
    /// a NuGet.Config adding the local feed to the machine's usual sources, and the repo's global.json.
    /// </summary>
    public static void CopySamples(this string workspace, string feed)
    {
        var samples = RepoPaths.InRepo("samples");
        foreach (var file in Directory.EnumerateFiles(samples, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(samples, file);
            var topLevel = relative.Split(Path.DirectorySeparatorChar)[0];
            if (relative.StartsWith("Directory.", StringComparison.Ordinal) || topLevel is "bin" or "obj"
                || relative.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                || relative.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
                continue;
            var target = Path.Combine(workspace, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }

        File.Copy(RepoPaths.InRepo("global.json"), Path.Combine(workspace, "global.json"));
        File.WriteAllText(Path.Combine(workspace, "Directory.Build.props"), "<Project />\n");
        File.WriteAllText(Path.Combine(workspace, "Directory.Build.targets"), "<Project />\n");
        File.WriteAllText(Path.Combine(workspace, "Directory.Packages.props"),
            "<Project><PropertyGroup><ManagePackageVersionsCentrally>false</ManagePackageVersionsCentrally></PropertyGroup></Project>\n");
        // No <clear />: the machine's own sources (user and machine NuGet.Config) still serve every other package.
        File.WriteAllText(Path.Combine(workspace, "NuGet.Config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="provenancegate-e2e" value="{feed}" />
              </packageSources>
            </configuration>
            """);
    }
}
