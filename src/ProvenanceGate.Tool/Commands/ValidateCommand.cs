using System.CommandLine;
using System.Text.Json;
using ProvenanceGate.Bom;
using ProvenanceGate.Diagnostics;
using ProvenanceGate.Tool.Cli;

namespace ProvenanceGate.Tool.Commands;

/// <summary>`dotnet provenance validate`: official CycloneDX schema plus the checks no schema makes.</summary>
internal static class ValidateCommand
{
    public static Command Create()
    {
        var bom = new Argument<string>("bom") { Description = "CycloneDX JSON BOM (spec 1.5, 1.6 or 1.7)" };
        var format = new Option<string>("--format") { Description = "text or json", DefaultValueFactory = _ => "text" };
        format.AcceptOnlyFromAmong("text", "json");
        var command = new Command("validate", "Validate a CycloneDX JSON BOM against its official schema and ProvenanceGate's semantic checks.") { bom, format };
        command.SetHandler(context =>
        {
            var path = context.Get(bom)!;
            var bytes = IO.InputFile.ReadAllBytes(path, IO.InputLimit.Bom);

            var diagnostics = BomValidator.Validate(bytes, path);
            var exitCode = diagnostics.Count == 0 ? ExitCodes.Ok : diagnostics.Max(d => d.Descriptor.ExitCode);
            if (context.Get(format) == "json")
            {
                context.Out.WriteLine(JsonSerializer.Serialize(new
                {
                    file = path,
                    valid = diagnostics.Count == 0,
                    diagnostics = diagnostics.Select(d => new { code = d.Code, severity = d.Severity.ToString().ToLowerInvariant(), message = d.Message, line = d.Line }),
                }, JsonOptions));
            }
            else
            {
                foreach (var diagnostic in diagnostics)
                    context.Report(diagnostic);
                if (diagnostics.Count == 0)
                    context.Out.WriteLine($"{path}: valid CycloneDX BOM");
            }

            return exitCode;
        });
        return command;
    }

    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true };
}
