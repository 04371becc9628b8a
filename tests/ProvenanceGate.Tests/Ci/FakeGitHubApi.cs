using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ProvenanceGate.Tests.Ci;

/// <summary>
/// A GitHub REST API stand-in on the loopback interface, enough for the tool's PR comment and check run. Octokit
/// addresses it as a GitHub Enterprise Server (base URL + api/v3/). It keeps the comments and check runs it was
/// sent, pages comment lists with Link headers like GitHub, and can refuse writes with 403 like a read-only token.
/// </summary>
internal sealed class FakeGitHubApi : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Thread _loop;
    private readonly Lock _gate = new();
    private long _nextId = 1000;

    public FakeGitHubApi()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        BaseUrl = $"http://127.0.0.1:{port}/";
        _listener.Prefixes.Add(BaseUrl);
        _listener.Start();
        _loop = new Thread(Serve) { IsBackground = true, Name = "fake GitHub API" };
        _loop.Start();
    }

    public string BaseUrl { get; }

    /// <summary>The login GET /user answers with; null answers 403 as for GitHub Actions' installation token.</summary>
    public string? CurrentUser { get; set; }

    /// <summary>Answer every write (POST/PATCH) with this status instead of performing it.</summary>
    public HttpStatusCode? RefuseWrites { get; set; }

    public int PageSize { get; set; } = 30;

    public List<(long Id, string Login, string Body)> Comments { get; } = [];

    public List<JsonObject> CheckRuns { get; } = [];

    public List<string> Requests { get; } = [];

    public long AddComment(string login, string body)
    {
        lock (_gate)
        {
            var id = ++_nextId;
            Comments.Add((id, login, body));
            return id;
        }
    }

    private void Serve()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = _listener.GetContext();
            }
            catch (HttpListenerException)
            {
                return;
            }
            catch (ObjectDisposedException)
            {
                return;
            }

            try
            {
                lock (_gate)
                    Handle(context);
            }
            finally
            {
                context.Response.Close();
            }
        }
    }

    private void Handle(HttpListenerContext context)
    {
        var request = context.Request;
        var path = request.Url!.AbsolutePath;
        Requests.Add($"{request.HttpMethod} {request.Url.PathAndQuery}");
        // Like GitHub: the scheme is case-insensitive ("token" or "Bearer"), the token is not.
        var authorization = request.Headers["Authorization"]?.Split(' ', 2);
        if (authorization is not [var scheme, "test-token"] || !(scheme.Equals("token", StringComparison.OrdinalIgnoreCase) || scheme.Equals("bearer", StringComparison.OrdinalIgnoreCase)))
        {
            Reply(context, HttpStatusCode.Unauthorized, new JsonObject { ["message"] = "Bad credentials" });
            return;
        }

        if (request.HttpMethod is "POST" or "PATCH" && RefuseWrites is { } refusal)
        {
            Reply(context, refusal, new JsonObject { ["message"] = refusal == HttpStatusCode.Forbidden ? "Resource not accessible by integration" : "Server Error" });
            return;
        }

        var body = request.HasEntityBody ? JsonNode.Parse(new StreamReader(request.InputStream, Encoding.UTF8).ReadToEnd())!.AsObject() : null;
        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        // api/v3/...
        var route = string.Join('/', segments.Skip(2));
        switch (request.HttpMethod, segments.Skip(2).ToArray())
        {
            case ("GET", ["user"]):
                if (CurrentUser is null)
                    Reply(context, HttpStatusCode.Forbidden, new JsonObject { ["message"] = "Resource not accessible by integration" });
                else
                    Reply(context, HttpStatusCode.OK, User(CurrentUser));
                return;
            case ("GET", ["repos", _, _, "issues", _, "comments"]):
                ListComments(context);
                return;
            case ("POST", ["repos", _, _, "issues", _, "comments"]):
                var id = ++_nextId;
                var login = CurrentUser ?? "github-actions[bot]";
                Comments.Add((id, login, body!["body"]!.GetValue<string>()));
                Reply(context, HttpStatusCode.Created, Comment(id, login, body["body"]!.GetValue<string>()));
                return;
            case ("PATCH", ["repos", _, _, "issues", "comments", var commentId]):
                var index = Comments.FindIndex(c => c.Id == long.Parse(commentId, System.Globalization.CultureInfo.InvariantCulture));
                if (index < 0)
                {
                    Reply(context, HttpStatusCode.NotFound, new JsonObject { ["message"] = "Not Found" });
                    return;
                }

                Comments[index] = Comments[index] with { Body = body!["body"]!.GetValue<string>() };
                Reply(context, HttpStatusCode.OK, Comment(Comments[index].Id, Comments[index].Login, Comments[index].Body));
                return;
            case ("POST", ["repos", _, _, "check-runs"]):
                body!["id"] = ++_nextId;
                CheckRuns.Add(body);
                Reply(context, HttpStatusCode.Created, CheckRun(body));
                return;
            case ("PATCH", ["repos", _, _, "check-runs", var runId]):
                CheckRuns.Add(body!.DeepClone().AsObject());
                CheckRuns[^1]["id"] = long.Parse(runId, System.Globalization.CultureInfo.InvariantCulture);
                Reply(context, HttpStatusCode.OK, CheckRun(CheckRuns[^1]));
                return;
            default:
                Reply(context, HttpStatusCode.NotFound, new JsonObject { ["message"] = $"Not Found: {route}" });
                return;
        }
    }

    /// <summary>Pages like GitHub: per_page and page from the query, and a Link header with next and last.</summary>
    private void ListComments(HttpListenerContext context)
    {
        var query = context.Request.QueryString;
        var perPage = Math.Min(int.TryParse(query["per_page"], out var p) ? p : PageSize, PageSize);
        var page = int.TryParse(query["page"], out var n) ? n : 1;
        var pages = Math.Max(1, (Comments.Count + perPage - 1) / perPage);
        var slice = Comments.Skip((page - 1) * perPage).Take(perPage).Select(c => (JsonNode)Comment(c.Id, c.Login, c.Body)).ToArray();
        if (page < pages)
        {
            var url = new UriBuilder(context.Request.Url!) { Query = $"per_page={perPage}&page=" };
            context.Response.Headers["Link"] = $"<{url}{page + 1}>; rel=\"next\", <{url}{pages}>; rel=\"last\"";
        }

        Reply(context, HttpStatusCode.OK, new JsonArray(slice));
    }

    private static JsonObject User(string login) => new() { ["login"] = login, ["id"] = login.Length, ["type"] = login.EndsWith("[bot]", StringComparison.Ordinal) ? "Bot" : "User" };

    private static JsonObject Comment(long id, string login, string body) => new()
    {
        ["id"] = id,
        ["node_id"] = $"IC_{id}",
        ["body"] = body,
        ["user"] = User(login),
        ["created_at"] = "2026-01-01T00:00:00Z",
        ["updated_at"] = "2026-01-01T00:00:00Z",
    };

    private static JsonObject CheckRun(JsonObject sent) => new()
    {
        ["id"] = sent["id"]!.GetValue<long>(),
        ["head_sha"] = sent["head_sha"]?.GetValue<string>() ?? "",
        ["name"] = sent["name"]?.GetValue<string>() ?? "",
        ["status"] = "completed",
        ["conclusion"] = sent["conclusion"]?.GetValue<string>(),
    };

    private static void Reply(HttpListenerContext context, HttpStatusCode status, JsonNode body)
    {
        var bytes = Encoding.UTF8.GetBytes(body.ToJsonString());
        context.Response.StatusCode = (int)status;
        context.Response.ContentType = "application/json; charset=utf-8";
        context.Response.ContentLength64 = bytes.Length;
        context.Response.OutputStream.Write(bytes);
    }

    public void Dispose()
    {
        if (!_listener.IsListening)
            return;
        _listener.Stop();
        _listener.Close();
        _loop.Join(TimeSpan.FromSeconds(5));
    }
}
