using System.CommandLine;
using System.Text.Json;
using ProvenanceGate.Fingerprinting;
using ProvenanceGate.Tool.Cli;

namespace ProvenanceGate.Tool.Commands;

/// <summary>`dotnet provenance scan &lt;model&gt; [--db dir] [--top N]`: find known relatives of a model.</summary>
internal static class ScanCommand
{
    public static Command Create()
    {
        var model = new Argument<string>("model") { Description = "Model directory, model file (.safetensors, .gguf, .onnx, .bin, ...) or .fingerprint.json" };
        var db = new Option<string>("--db") { Description = "Directory of *.fingerprint.json files to match at weight level" };
        var top = new Option<int>("--top") { Description = "Number of matches to show", DefaultValueFactory = _ => 5 };
        var format = new Option<string>("--format") { Description = "text or json", DefaultValueFactory = _ => "text" };
        format.AcceptOnlyFromAmong("text", "json");
        var noCache = new Option<bool>("--no-cache") { Description = "Do not read or write the fingerprint cache" };
        var command = new Command("scan", "Rank known models related to this one: weight-level matches from --db first, then the bundled base-model catalogue (metadata only).") { model, db, top, format, noCache };
        var accelerator = AcceleratorOptions.AddTo(command);
        command.SetHandler(context =>
        {
            using var selected = accelerator.Apply(context);
            var count = context.Get(top);
            if (count <= 0)
                throw Diagnostics.Diagnostics.UsageError.Exception("--top must be a positive number");
            var query = FingerprintLoader.Load(context.Get(model)!, context.Get(noCache) ? null : FingerprintCache.Default);
            var matches = Scanner.Scan(query, ReferenceCatalogue.LoadBundled(), context.Get(db), count);
            if (context.Get(format) == "json")
            {
                context.Out.WriteLine(JsonSerializer.Serialize(new
                {
                    model = query.Name,
                    matches = matches.Select(m => new { name = m.Name, source = m.Source, kind = m.Kind, score = Math.Round(m.Score, 4), detail = m.Detail }),
                }, JsonOptions));
                return 0;
            }

            context.Out.WriteLine($"{query.Name}: {matches.Count} match(es)");
            foreach (var match in matches)
                context.Out.WriteLine($"  {CompareCommand.Format(match.Score)}  {match.Kind,-20} {match.Name}  [{match.Source}] {match.Detail}");
            return 0;
        });
        return command;
    }

    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
}
