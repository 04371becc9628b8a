using System.CommandLine;
using System.Text.Json;
using Octokit;
using ProvenanceGate.Tool.Cli;
using ProvenanceGate.Tool.GitHub;

namespace ProvenanceGate.Tool.Commands;

/// <summary>
/// `dotnet provenance github`: posts a verify report to GitHub as the pull-request comment and/or a check run.
/// The CI wrappers call it after verify; it never decides the gate (verify's exit code does).
/// The token comes from GITHUB_TOKEN only, never from the command line (which logs and process lists show).
/// </summary>
internal static class GitHubCommand
{
    public const string TokenVariable = "GITHUB_TOKEN";

    public static Command Create()
    {
        var report = new Option<string>("--report") { Description = "The verify JSON report (--report json=PATH of verify); without it verify could not run and the check run says so" };
        var markdown = new Option<string>("--markdown") { Description = "The verify Markdown report (--report markdown=PATH of verify)", Required = true };
        var prComment = new Option<bool>("--pr-comment") { Description = "Create or update ProvenanceGate's comment on the pull request (needs pull-requests: write)" };
        var check = new Option<bool>("--check") { Description = "Publish a check run with an annotation per finding (needs checks: write)" };
        var checkName = new Option<string>("--check-name") { Description = "Name of the check run", DefaultValueFactory = _ => "ProvenanceGate" };
        var repository = new Option<string>("--repository") { Description = "OWNER/REPO; default GITHUB_REPOSITORY" };
        var pullRequest = new Option<int?>("--pull-request") { Description = "Pull request number; default the pull_request event's (GITHUB_EVENT_PATH)" };
        var sha = new Option<string>("--sha") { Description = "Commit for the check run; default the pull request's head, else GITHUB_SHA" };
        var apiUrl = new Option<string>("--api-url") { Description = "REST API base URL; default GITHUB_API_URL, else https://api.github.com (a GitHub Enterprise Server URL works too)" };
        var author = new Option<string>("--comment-author") { Description = "Login whose marked comment is updated; default the token's user, or github-actions[bot] for an Actions token" };
        var workspace = new Option<string>("--workspace") { Description = "Repository root that annotation paths are relative to; default GITHUB_WORKSPACE, else the current directory" };

        var command = new Command("github", "Post a verify report to GitHub: one pull-request comment updated in place, and a check run with annotations. A token without write access skips it with a notice (PG6007).")
        {
            report, markdown, prComment, check, checkName, repository, pullRequest, sha, apiUrl, author, workspace,
        };
        command.SetHandler(context =>
        {
            if (!context.Get(prComment) && !context.Get(check))
                throw Diagnostics.Diagnostics.UsageError.Exception("pass --pr-comment, --check or both");
            var verifyReport = context.Get(report) is { } reportPath ? VerifyReport.Load(reportPath) : null;
            var markdownPath = context.Get(markdown)!;
            if (!File.Exists(markdownPath))
                throw Diagnostics.Diagnostics.FileNotFound.Exception("Markdown report not found", markdownPath);
            var markdownText = File.ReadAllText(markdownPath);
            var target = ResolveTarget(context.Get(repository), context.Get(pullRequest), context.Get(sha), context.Get(apiUrl));
            var feedback = new GitHubFeedback(target);

            var done = new List<string>();
            try
            {
                if (context.Get(prComment))
                    done.Add(feedback.UpsertPullRequestCommentAsync(markdownText, context.Get(author)).GetAwaiter().GetResult());
                if (context.Get(check))
                    done.Add(feedback.PublishCheckRunAsync(verifyReport, markdownText, context.Get(checkName)!, context.Get(workspace) ?? Environment.GetEnvironmentVariable("GITHUB_WORKSPACE")).GetAwaiter().GetResult());
            }
            catch (RateLimitExceededException ex)
            {
                throw Diagnostics.Diagnostics.GitHubRequestFailed.Exception($"rate limit exceeded (resets {ex.Reset:u})", inner: ex);
            }
            catch (ForbiddenException ex)
            {
                // A fork's or Dependabot's pull request runs with a read-only token: say so once and leave the gate to verify.
                context.Report(Diagnostics.Diagnostics.GitHubWriteDenied.Info($"the token may not write to {target.Owner}/{target.Repository} ({ex.Message}); the PR comment and check run are skipped, the gate still applies. For pull requests from forks see the README's fork recipe."));
                return Diagnostics.ExitCodes.Ok;
            }
            catch (ApiException ex)
            {
                throw Diagnostics.Diagnostics.GitHubRequestFailed.Exception($"{(int)ex.StatusCode} {ex.Message}", inner: ex);
            }
            catch (HttpRequestException ex)
            {
                throw Diagnostics.Diagnostics.GitHubRequestFailed.Exception($"{target.ApiUrl} unreachable: {ex.Message}", inner: ex);
            }

            foreach (var line in done)
                context.Out.WriteLine(line);
            return Diagnostics.ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>The target from the options, falling back to what a GitHub Actions runner sets.</summary>
    private static GitHubTarget ResolveTarget(string? repository, int? pullRequest, string? sha, string? apiUrl)
    {
        var token = Environment.GetEnvironmentVariable(TokenVariable);
        if (string.IsNullOrEmpty(token))
            throw Diagnostics.Diagnostics.GitHubContextMissing.Exception($"no token: set {TokenVariable}");
        repository ??= Environment.GetEnvironmentVariable("GITHUB_REPOSITORY");
        var parts = repository?.Split('/') ?? [];
        if (parts.Length != 2 || parts.Any(string.IsNullOrWhiteSpace))
            throw Diagnostics.Diagnostics.GitHubContextMissing.Exception($"repository '{repository}' is not OWNER/REPO (pass --repository or set GITHUB_REPOSITORY)");

        var (eventNumber, eventHead) = PullRequestFromEvent(Environment.GetEnvironmentVariable("GITHUB_EVENT_PATH"));
        apiUrl ??= Environment.GetEnvironmentVariable("GITHUB_API_URL");
        if (!Uri.TryCreate(string.IsNullOrEmpty(apiUrl) ? "https://api.github.com" : apiUrl, UriKind.Absolute, out var api))
            throw Diagnostics.Diagnostics.UsageError.Exception($"--api-url '{apiUrl}' is not an absolute URL");
        return new GitHubTarget(api, parts[0], parts[1], pullRequest ?? eventNumber, sha ?? eventHead ?? Environment.GetEnvironmentVariable("GITHUB_SHA"), token);
    }

    /// <summary>The pull request's number and head commit from the event payload (GITHUB_SHA is the merge commit there).</summary>
    private static (int? Number, string? HeadSha) PullRequestFromEvent(string? eventPath)
    {
        if (string.IsNullOrEmpty(eventPath) || !File.Exists(eventPath))
            return (null, null);
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(eventPath));
            if (!document.RootElement.TryGetProperty("pull_request", out var pr) || pr.ValueKind != JsonValueKind.Object)
                return (null, null);
            int? number = pr.TryGetProperty("number", out var n) && n.ValueKind == JsonValueKind.Number ? n.GetInt32() : null;
            string? head = pr.TryGetProperty("head", out var h) && h.TryGetProperty("sha", out var s) ? s.GetString() : null;
            return (number, head);
        }
        catch (JsonException ex)
        {
            throw Diagnostics.Diagnostics.GitHubContextMissing.Exception($"event payload unreadable: {ex.Message}", eventPath, inner: ex);
        }
    }
}
