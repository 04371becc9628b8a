using System.Globalization;
using System.Text.Json;
using Octokit;
using ProvenanceGate.Diagnostics;

namespace ProvenanceGate.Tool.GitHub;

/// <summary>Where the feedback goes: the API (github.com or a GitHub Enterprise Server), the repository, the PR and commit.</summary>
internal sealed record GitHubTarget(Uri ApiUrl, string Owner, string Repository, int? PullRequest, string? HeadSha, string Token);

/// <summary>One finding of a verify JSON report (schemaVersion 1), as the check run annotates it.</summary>
internal sealed record ReportFinding(string Code, string Severity, string Message, string? File, int? Line, int? Column);

/// <summary>The parts of a verify JSON report that the PR comment and the check run need.</summary>
internal sealed record VerifyReport(string Bom, bool Passed, int Errors, int Warnings, IReadOnlyList<ReportFinding> Findings)
{
    public static VerifyReport Load(string path)
    {
        if (!System.IO.File.Exists(path))
            throw Diagnostics.Diagnostics.FileNotFound.Exception("verify report not found", path);
        try
        {
            using var document = JsonDocument.Parse(System.IO.File.ReadAllBytes(path));
            var root = document.RootElement;
            if (!root.TryGetProperty("schemaVersion", out var schema) || schema.GetInt32() != 1)
                throw Diagnostics.Diagnostics.CiReportUnusable.Exception("not a ProvenanceGate verify report (schemaVersion 1 expected)", path);
            var summary = root.GetProperty("summary");
            var findings = root.GetProperty("diagnostics").EnumerateArray().Select(d => new ReportFinding(
                d.GetProperty("code").GetString()!,
                d.GetProperty("severity").GetString()!,
                d.GetProperty("message").GetString()!,
                OptionalString(d, "file"),
                OptionalInt(d, "line"),
                OptionalInt(d, "column"))).ToList();
            return new VerifyReport(root.GetProperty("bom").GetString()!, root.GetProperty("result").GetString() == "pass", summary.GetProperty("errors").GetInt32(), summary.GetProperty("warnings").GetInt32(), findings);
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw Diagnostics.Diagnostics.CiReportUnusable.Exception($"not a ProvenanceGate verify report: {ex.Message}", path, inner: ex);
        }
    }

    private static string? OptionalString(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static int? OptionalInt(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetInt32() : null;
}

/// <summary>
/// The one GitHub client of both CI wrappers (the Action and the Azure task when it builds a GitHub repository):
/// a single ProvenanceGate comment per pull request, updated in place, and a check run with annotations.
/// A token that may not write (a fork's or Dependabot's read-only GITHUB_TOKEN) is not an error: the feedback
/// is skipped with one PG6007 notice, because the gate itself is applied by the verify step's exit code.
/// </summary>
internal sealed class GitHubFeedback
{
    /// <summary>Hidden in the comment body; a comment is ours only if it carries it AND its author is the token's identity.</summary>
    public const string Marker = "<!-- provenancegate -->";

    /// <summary>GitHub rejects comment bodies and check-run summaries over 65,536 characters.</summary>
    public const int BodyLimit = 65536;

    /// <summary>GitHub takes at most 50 annotations per check-run request; more go in follow-up updates.</summary>
    public const int AnnotationsPerRequest = 50;

    /// <summary>What GitHub Actions' GITHUB_TOKEN (an installation token that cannot read /user) posts as.</summary>
    public const string ActionsBotLogin = "github-actions[bot]";

    private readonly GitHubClient _client;
    private readonly GitHubTarget _target;

    public GitHubFeedback(GitHubTarget target)
    {
        _target = target;
        // A base URL other than github.com is addressed as a GitHub Enterprise Server (Octokit adds api/v3/).
        _client = new GitHubClient(new ProductHeaderValue("ProvenanceGate", ToolVersion()), target.ApiUrl)
        {
            Credentials = new Credentials(target.Token),
        };
    }

    /// <summary>Creates the PR comment or updates the one this identity posted before; returns what it did.</summary>
    public async Task<string> UpsertPullRequestCommentAsync(string markdown, string? author)
    {
        if (_target.PullRequest is not { } number)
            throw Diagnostics.Diagnostics.GitHubContextMissing.Exception("no pull request number (not a pull_request event? pass --pull-request)");
        var body = CommentBody(markdown);
        var login = author ?? await CurrentLoginAsync();
        // Octokit follows the Link headers, so a PR with hundreds of comments is searched completely.
        var comments = await _client.Issue.Comment.GetAllForIssue(_target.Owner, _target.Repository, number, new ApiOptions { PageSize = 100 });
        var ours = comments.FirstOrDefault(c => c.Body is { } text && text.StartsWith(Marker, StringComparison.Ordinal)
            && string.Equals(c.User?.Login, login, StringComparison.OrdinalIgnoreCase));
        if (ours is not null)
        {
            await _client.Issue.Comment.Update(_target.Owner, _target.Repository, ours.Id, body);
            return $"updated comment {ours.Id.ToString(CultureInfo.InvariantCulture)}";
        }

        var created = await _client.Issue.Comment.Create(_target.Owner, _target.Repository, number, body);
        return $"created comment {created.Id.ToString(CultureInfo.InvariantCulture)}";
    }

    /// <summary>Publishes a completed check run on the head commit, with every finding as an annotation.</summary>
    /// <param name="report">Null when verify could not run (exit 2): the check fails with the Markdown explaining why.</param>
    public async Task<string> PublishCheckRunAsync(VerifyReport? report, string markdown, string name, string? workspace)
    {
        if (string.IsNullOrEmpty(_target.HeadSha))
            throw Diagnostics.Diagnostics.GitHubContextMissing.Exception("no head commit (pass --sha)");
        var title = report is null ? "ERROR: verify could not check the BOM"
            : report.Passed ? $"PASS: {report.Warnings} warning(s)"
            : $"FAIL: {report.Errors} error(s), {report.Warnings} warning(s)";
        var summary = Truncate(markdown, "_Truncated: the full report is in the job summary._");
        var annotations = report?.Findings.Select(f => Annotation(f, report.Bom, workspace)).ToList() ?? [];
        var batches = annotations.Chunk(AnnotationsPerRequest).ToList();

        var run = await _client.Check.Run.Create(_target.Owner, _target.Repository, new NewCheckRun(name, _target.HeadSha)
        {
            Status = CheckStatus.Completed,
            Conclusion = report is { Passed: true } ? CheckConclusion.Success : CheckConclusion.Failure,
            CompletedAt = DateTimeOffset.UtcNow,
            Output = new NewCheckRunOutput(title, summary) { Annotations = batches.Count > 0 ? batches[0] : [] },
        });
        foreach (var batch in batches.Skip(1))
        {
            await _client.Check.Run.Update(_target.Owner, _target.Repository, run.Id, new CheckRunUpdate
            {
                Output = new NewCheckRunOutput(title, summary) { Annotations = batch },
            });
        }

        return $"check run {run.Id.ToString(CultureInfo.InvariantCulture)} ({annotations.Count} annotation(s))";
    }

    public static string CommentBody(string markdown) => Truncate(Marker + "\n" + markdown, "_Truncated: the full report is in the job summary._");

    private static string Truncate(string text, string note)
    {
        if (text.Length <= BodyLimit)
            return text;
        var cut = text[..(BodyLimit - note.Length - 2)];
        var lastLine = cut.LastIndexOf('\n');
        return cut[..Math.Max(0, lastLine)] + "\n\n" + note;
    }

    /// <summary>The token's login; GitHub Actions' installation token may not read /user and posts as github-actions[bot].</summary>
    private async Task<string> CurrentLoginAsync()
    {
        try
        {
            return (await _client.User.Current()).Login;
        }
        catch (ForbiddenException)
        {
            return ActionsBotLogin;
        }
        catch (AuthorizationException)
        {
            return ActionsBotLogin;
        }
    }

    private static NewCheckRunAnnotation Annotation(ReportFinding finding, string bom, string? workspace)
    {
        var level = finding.Severity switch
        {
            "error" => CheckAnnotationLevel.Failure,
            "warning" => CheckAnnotationLevel.Warning,
            _ => CheckAnnotationLevel.Notice,
        };
        var line = finding.Line ?? 1;
        return new NewCheckRunAnnotation(RepositoryPath(finding.File ?? bom, workspace), line, line, level, $"{finding.Code}: {finding.Message}")
        {
            Title = finding.Code,
            StartColumn = finding.Column,
            EndColumn = finding.Column,
        };
    }

    /// <summary>Check-run annotations need a repository-relative path with forward slashes.</summary>
    private static string RepositoryPath(string file, string? workspace)
    {
        var root = workspace ?? Directory.GetCurrentDirectory();
        var full = Path.GetFullPath(file, root);
        var relative = Path.GetRelativePath(root, full);
        var chosen = relative.StartsWith("..", StringComparison.Ordinal) || Path.IsPathRooted(relative) ? file : relative;
        return chosen.Replace('\\', '/');
    }

    private static string ToolVersion() =>
        typeof(GitHubFeedback).Assembly.GetName().Version is { } v ? string.Create(CultureInfo.InvariantCulture, $"{v.Major}.{v.Minor}.{Math.Max(0, v.Build)}") : "0.0.0";
}
