using System.CommandLine;
using ProvenanceGate.IO;
using ProvenanceGate.Tool.Cli;
using ProvenanceGate.Verification;

namespace ProvenanceGate.Tool.Commands;

/// <summary>`dotnet provenance report`: an executive, legal or engineering reading of a BOM, as Markdown or HTML.</summary>
internal static class ReportCommand
{
    public static Command Create()
    {
        var bom = new Argument<string>("bom") { Description = "The CycloneDX ML-BOM (JSON)" };
        var view = new Option<string>("--view") { Description = "executive, legal or engineering", DefaultValueFactory = _ => "executive" };
        view.AcceptOnlyFromAmong([.. ManifestViews.Views]);
        var format = new Option<string>("--format") { Description = "markdown or html", DefaultValueFactory = _ => "markdown" };
        format.AcceptOnlyFromAmong("markdown", "html");
        var output = new Option<string>("--output", "-o") { Description = "Write the report here instead of stdout" };
        var timestamp = new Option<string>("--timestamp") { Description = "'Now' for review-by dates (RFC 3339 or epoch seconds); default SOURCE_DATE_EPOCH, else now" };
        var command = new Command("report", "Render a BOM for executives (what ships, risks, approvals), legal (licences, inherited obligations) or engineering (files, digests, lineage).")
        {
            bom, view, format, output, timestamp,
        };
        command.SetHandler(context =>
        {
            var document = BomDocument.Load(context.Get(bom)!);
            var selected = context.Get(view)!;
            var built = ManifestViews.Build(document, selected, SourceDate.Resolve(context.Get(timestamp)));
            var text = context.Get(format) == "html" ? built.ToHtml($"ProvenanceGate {selected} report: {Path.GetFileName(document.Path)}") : built.ToMarkdown();
            if (context.Get(output) is { } path)
                AtomicFile.WriteAllText(path, text);
            else
                context.Out.Write(text);
            return Diagnostics.ExitCodes.Ok;
        });
        return command;
    }
}
