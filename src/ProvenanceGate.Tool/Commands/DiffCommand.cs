using System.CommandLine;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using ProvenanceGate.IO;
using ProvenanceGate.Tool.Cli;
using ProvenanceGate.Verification;

namespace ProvenanceGate.Tool.Commands;

/// <summary>
/// `dotnet provenance diff`: what changed between two releases. Reporting differences is its job, so it exits 0 whether
/// or not they differ; `--exit-code` makes differences exit 1 (like `git diff --exit-code`) for scripts that gate on change.
/// </summary>
internal static class DiffCommand
{
    public static Command Create()
    {
        var oldBom = new Argument<string>("old") { Description = "The earlier release's BOM" };
        var newBom = new Argument<string>("new") { Description = "The later release's BOM" };
        var format = new Option<string>("--format") { Description = "text, json or markdown", DefaultValueFactory = _ => "text" };
        format.AcceptOnlyFromAmong("text", "json", "markdown");
        var output = new Option<string>("--output", "-o") { Description = "Write the report here instead of stdout" };
        var exitCode = new Option<bool>("--exit-code") { Description = "Exit 1 when the BOMs differ (default: exit 0 and report)" };
        var command = new Command("diff", "Show what changed between two BOMs: models, weight digests, base models, datasets, licences, approvals and policy fields.")
        {
            oldBom, newBom, format, output, exitCode,
        };
        command.SetHandler(context =>
        {
            var before = BomDocument.Load(context.Get(oldBom)!);
            var after = BomDocument.Load(context.Get(newBom)!);
            var changes = BomDiff.Compare(before, after);
            var text = context.Get(format) switch
            {
                "json" => Json(before, after, changes),
                "markdown" => Markdown(before, after, changes),
                _ => Text(before, after, changes),
            };
            if (context.Get(output) is { } path)
                AtomicFile.WriteAllText(path, text);
            else
                context.Out.Write(text);
            return changes.Count > 0 && context.Get(exitCode) ? Diagnostics.ExitCodes.GateFailed : Diagnostics.ExitCodes.Ok;
        });
        return command;
    }

    private static string Symbol(string kind) => kind switch { "added" => "+", "removed" => "-", _ => "~" };

    private static string Text(BomDocument before, BomDocument after, IReadOnlyList<BomChange> changes)
    {
        if (changes.Count == 0)
            return $"{before.Path} and {after.Path}: no differences\n";
        var lines = changes.Select(c => c.Kind switch
        {
            "added" => $"+ {c.Subject} {c.Field}: {c.New}",
            "removed" => $"- {c.Subject} {c.Field}: {c.Old}",
            _ => $"~ {c.Subject} {c.Field}: {c.Old} -> {c.New}",
        });
        return $"{before.Path} -> {after.Path}: {changes.Count} difference(s)\n" + string.Join("\n", lines) + "\n";
    }

    private static string Markdown(BomDocument before, BomDocument after, IReadOnlyList<BomChange> changes)
    {
        var document = new ManifestDocument().Heading(2, $"BOM diff: `{before.Path}` → `{after.Path}`");
        if (changes.Count == 0)
            document.Paragraph("No differences.");
        else
            document.Table(["", "subject", "field", "before", "after"], changes.Select(c => (IReadOnlyList<string>)[Symbol(c.Kind), c.Subject, c.Field, c.Old ?? "", c.New ?? ""]));
        return document.ToMarkdown();
    }

    private static string Json(BomDocument before, BomDocument after, IReadOnlyList<BomChange> changes)
    {
        var json = new JsonObject
        {
            ["schemaVersion"] = 1,
            ["old"] = before.Path,
            ["new"] = after.Path,
            ["identical"] = changes.Count == 0,
            ["changes"] = new JsonArray(changes.Select(c => (JsonNode)new JsonObject
            {
                ["kind"] = c.Kind,
                ["subject"] = c.Subject,
                ["field"] = c.Field,
                ["old"] = c.Old,
                ["new"] = c.New,
            }).ToArray()),
        };
        return json.ToJsonString(Options) + "\n";
    }

    private static readonly JsonSerializerOptions Options = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
}
