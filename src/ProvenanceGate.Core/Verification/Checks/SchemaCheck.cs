using System.Text;
using ProvenanceGate.Diagnostics;

namespace ProvenanceGate.Verification.Checks;

/// <summary>CycloneDX schema for the BOM's specVersion, unique bom-refs, no dangling refs: the BOM area's validator, reported as PG4010.</summary>
internal static class SchemaCheck
{
    public static void Run(GateContext context)
    {
        var bom = context.Bom;
        if (BomDocument.Text(bom.Root["bomFormat"]) != "CycloneDX")
        {
            context.Add(CheckIds.Schema, DiagnosticSeverity.Error, Diagnostics.Diagnostics.GateSchemaInvalid, "/bomFormat",
                $"'{bom.Path}' is not a CycloneDX BOM (bomFormat must be \"CycloneDX\")");
            return;
        }

        var diagnostics = ExternalApis.ValidateBom(Encoding.UTF8.GetString(bom.Bytes), bom.Path);
        if (diagnostics is null)
        {
            context.Skip(CheckIds.Schema, "schema validator not available in this build");
            return;
        }

        foreach (var diagnostic in diagnostics)
        {
            // Re-coded so the gate's own code says which check failed; the validator's code stays in the message.
            var severity = diagnostic.Severity == DiagnosticSeverity.Info ? DiagnosticSeverity.Info : diagnostic.Severity;
            context.Add(CheckIds.Schema, new Diagnostic(Diagnostics.Diagnostics.GateSchemaInvalid, severity,
                $"{diagnostic.Code}: {diagnostic.Message}", diagnostic.File ?? bom.Path, diagnostic.Line, diagnostic.Column));
        }

        context.Note(CheckIds.Schema, $"valid CycloneDX {bom.SpecVersion}, bom-refs unique and resolved");
    }
}
