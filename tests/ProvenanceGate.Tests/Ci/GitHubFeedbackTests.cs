using System.Net;
using System.Text.Json.Nodes;

namespace ProvenanceGate.Tests.Ci;

/// <summary>
/// `dotnet provenance github` as the Action and the Azure task run it: the real executable, GitHub Actions'
/// environment, and a fake GitHub REST API on 127.0.0.1 that Octokit talks to as a GitHub Enterprise Server.
/// </summary>
[NonParallelizable]
public sealed class GitHubFeedbackTests : IDisposable
{
    private const string Marker = "<!-- provenancegate -->";
    private TempDirectory _temp = null!;
    private FakeGitHubApi _api = null!;

    [SetUp]
    public void SetUp()
    {
        _temp = new TempDirectory();
        _api = new FakeGitHubApi();
    }

    [TearDown]
    public void TearDown() => Dispose();

    public void Dispose()
    {
        _api?.Dispose();
        _temp?.Dispose();
    }

    [Test]
    public void First_run_creates_one_marked_comment_as_the_bot()
    {
        var result = Run("--pr-comment");

        Assert.That(result.ExitCode, Is.EqualTo(0), result.ToString());
        Assert.That(_api.Comments, Has.Count.EqualTo(1));
        Assert.That(_api.Comments[0].Login, Is.EqualTo("github-actions[bot]"));
        Assert.That(_api.Comments[0].Body, Does.StartWith(Marker + "\n## ProvenanceGate: FAIL"));
        Assert.That(result.Stdout, Does.StartWith("created comment "));
    }

    [Test]
    public void The_bots_comment_on_a_later_page_is_updated_in_place_and_a_planted_marker_is_left_alone()
    {
        // Someone else's comment carrying the marker comes first: updating it would let anyone choose which comment the
        // bot edits. The bot's own comment sits on the second page: found only by following the Link header.
        var planted = _api.AddComment("mallory", Marker + "\nplease edit me");
        for (var i = 0; i < 40; i++)
            _api.AddComment("reviewer", $"comment {i}");
        var ours = _api.AddComment("github-actions[bot]", Marker + "\n## ProvenanceGate: PASS (old)");

        var result = Run("--pr-comment");

        Assert.That(result.ExitCode, Is.EqualTo(0), result.ToString());
        Assert.That(_api.Requests.Count(r => r.StartsWith("GET /api/v3/repos/octo/model/issues/7/comments", StringComparison.Ordinal)), Is.GreaterThanOrEqualTo(2), string.Join("\n", _api.Requests));
        Assert.That(_api.Comments, Has.Count.EqualTo(42), "no new comment");
        Assert.That(_api.Comments.Single(c => c.Id == ours).Body, Does.StartWith(Marker + "\n## ProvenanceGate: FAIL"));
        Assert.That(_api.Comments.Single(c => c.Id == planted).Body, Is.EqualTo(Marker + "\nplease edit me"));
        Assert.That(result.Stdout.Trim(), Is.EqualTo($"updated comment {ours}"));
    }

    [Test]
    public void Only_a_planted_marker_means_a_new_comment_not_an_edit_of_someone_elses()
    {
        var planted = _api.AddComment("mallory", Marker + "\nplease edit me");

        var result = Run("--pr-comment");

        Assert.That(result.ExitCode, Is.EqualTo(0), result.ToString());
        Assert.That(_api.Comments, Has.Count.EqualTo(2));
        Assert.That(_api.Comments.Single(c => c.Id == planted).Body, Is.EqualTo(Marker + "\nplease edit me"));
        Assert.That(_api.Requests, Has.None.StartsWith("PATCH"));
    }

    [Test]
    public void A_token_with_a_user_finds_its_own_comment_by_that_login()
    {
        _api.CurrentUser = "provenance-bot";
        var ours = _api.AddComment("provenance-bot", Marker + "\nold");
        _api.AddComment("github-actions[bot]", Marker + "\nnot this identity's");

        var result = Run("--pr-comment");

        Assert.That(result.ExitCode, Is.EqualTo(0), result.ToString());
        Assert.That(_api.Comments.Single(c => c.Id == ours).Body, Does.StartWith(Marker + "\n## ProvenanceGate"));
        Assert.That(_api.Comments.Single(c => c.Login == "github-actions[bot]").Body, Does.EndWith("not this identity's"));
    }

    [Test]
    public void A_read_only_token_skips_the_feedback_with_one_notice_and_exit_0()
    {
        _api.RefuseWrites = HttpStatusCode.Forbidden;

        var result = Run("--pr-comment", "--check");

        Assert.That(result.ExitCode, Is.EqualTo(0), result.ToString());
        var notices = result.Stderr.Split('\n').Where(l => l.StartsWith("::notice", StringComparison.Ordinal)).ToList();
        Assert.That(notices, Has.Count.EqualTo(1), result.Stderr);
        Assert.That(notices[0], Does.Contain("PG6007"));
        Assert.That(result.Stderr, Does.Not.Contain("::error"));
        Assert.That(_api.Comments, Is.Empty);
    }

    [Test]
    public void Other_api_failures_are_PG6008_and_exit_2()
    {
        _api.RefuseWrites = HttpStatusCode.InternalServerError;

        var result = Run("--pr-comment");

        Assert.That(result.ExitCode, Is.EqualTo(2), result.ToString());
        Assert.That(result.Stderr, Does.Contain("error PG6008: "));
        Assert.That(result.Stderr, Does.Not.Contain("   at "), "no stack trace");
    }

    [Test]
    public void Check_run_on_the_head_commit_carries_every_finding_in_batches_of_50()
    {
        var findings = Enumerable.Range(1, 60).Select(i => new JsonObject
        {
            ["code"] = "PG4003",
            ["severity"] = i <= 55 ? "error" : "warning",
            ["check"] = "digests",
            ["message"] = $"digest {i} differs",
            ["file"] = Path.Combine(_temp.Path, "models", "bom.cdx.json"),
            ["line"] = i,
            ["column"] = 3,
        });

        var result = Run(["--check"], new JsonArray([.. findings]), null);

        Assert.That(result.ExitCode, Is.EqualTo(0), result.ToString());
        Assert.That(_api.CheckRuns, Has.Count.EqualTo(2), "one create with 50 annotations, one update with the other 10");
        var created = _api.CheckRuns[0];
        Assert.That(created["name"]!.GetValue<string>(), Is.EqualTo("ProvenanceGate"));
        Assert.That(created["head_sha"]!.GetValue<string>(), Is.EqualTo("abc123head"), "the PR head, not GITHUB_SHA's merge commit");
        Assert.That(created["conclusion"]!.GetValue<string>(), Is.EqualTo("failure"));
        var annotations = created["output"]!["annotations"]!.AsArray();
        Assert.That(annotations, Has.Count.EqualTo(50));
        Assert.That(annotations[0]!["path"]!.GetValue<string>(), Is.EqualTo("models/bom.cdx.json"), "repository-relative");
        Assert.That(annotations[0]!["annotation_level"]!.GetValue<string>(), Is.EqualTo("failure"));
        Assert.That(annotations[0]!["start_line"]!.GetValue<int>(), Is.EqualTo(1));
        var rest = _api.CheckRuns[1]["output"]!["annotations"]!.AsArray();
        Assert.That(rest, Has.Count.EqualTo(10));
        Assert.That(rest[^1]!["annotation_level"]!.GetValue<string>(), Is.EqualTo("warning"));
    }

    [Test]
    public void Missing_token_or_report_are_input_errors()
    {
        var noToken = Run(["--pr-comment"], null, new() { ["GITHUB_TOKEN"] = null });
        Assert.That(noToken.ExitCode, Is.EqualTo(2));
        Assert.That(noToken.Stderr, Does.Contain("error PG6009: no token"));

        var noReport = ExternalProcess.RunTool(["github", "--pr-comment", "--report", _temp.Combine("missing.json"), "--markdown", _temp.Combine("missing.md")], RunnerEnvironment());
        Assert.That(noReport.ExitCode, Is.EqualTo(2));
        Assert.That(noReport.Stderr, Does.Contain("error PG0002"));
    }

    private ProcessResult Run(params string[] args) => Run(args, null, null);

    private ProcessResult Run(string[] args, JsonArray? diagnostics, Dictionary<string, string?>? environment)
    {
        var findings = diagnostics ?? new JsonArray(new JsonObject
        {
            ["code"] = "PG4003", ["severity"] = "error", ["check"] = "digests", ["message"] = "model.safetensors differs", ["file"] = "model.cdx.json", ["line"] = 12,
        });
        var report = new JsonObject
        {
            ["schemaVersion"] = 1,
            ["bom"] = "model.cdx.json",
            ["result"] = "fail",
            ["summary"] = new JsonObject { ["errors"] = findings.Count, ["warnings"] = 0 },
            ["diagnostics"] = findings,
        };
        File.WriteAllText(_temp.Combine("report.json"), report.ToJsonString());
        File.WriteAllText(_temp.Combine("report.md"), "## ProvenanceGate: FAIL — model.cdx.json\n");
        var variables = RunnerEnvironment();
        foreach (var (name, value) in environment ?? [])
            variables[name] = value;
        return ExternalProcess.RunTool(["github", "--report", _temp.Combine("report.json"), "--markdown", _temp.Combine("report.md"), .. args], variables);
    }

    /// <summary>What a GitHub Actions runner gives a step on a pull_request event.</summary>
    private Dictionary<string, string?> RunnerEnvironment()
    {
        var eventPath = _temp.Combine("event.json");
        File.WriteAllText(eventPath, """{"pull_request":{"number":7,"head":{"sha":"abc123head"},"base":{"sha":"def456base"}}}""");
        return new()
        {
            ["GITHUB_ACTIONS"] = "true",
            ["GITHUB_TOKEN"] = "test-token",
            ["GITHUB_REPOSITORY"] = "octo/model",
            ["GITHUB_API_URL"] = _api.BaseUrl,
            ["GITHUB_EVENT_PATH"] = eventPath,
            ["GITHUB_SHA"] = "merge0commit",
            ["GITHUB_WORKSPACE"] = _temp.Path,
            ["PROVENANCEGATE_ANNOTATIONS"] = null,
        };
    }
}
