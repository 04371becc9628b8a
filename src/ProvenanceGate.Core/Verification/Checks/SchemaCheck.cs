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

        var diagnostics = ExternalApis.ValidateBom(bom.Bytes, bom.Path);
        foreach (var diagnostic in diagnostics)
        {
            // Re-coded so the gate's own code says which check failed; the validator's code stays in the message.
            context.Add(CheckIds.Schema, new Diagnostic(Diagnostics.Diagnostics.GateSchemaInvalid, diagnostic.Severity,
                $"{diagnostic.Code}: {diagnostic.Message}", diagnostic.File ?? bom.Path, diagnostic.Line, diagnostic.Column));
        }

        context.Note(CheckIds.Schema, $"valid CycloneDX {bom.SpecVersion}, bom-refs unique and resolved");
    }
}
