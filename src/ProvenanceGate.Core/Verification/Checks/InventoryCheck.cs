using System.Globalization;
using System.Text.Json.Nodes;
using ProvenanceGate.Diagnostics;
using ProvenanceGate.Discovery;

namespace ProvenanceGate.Verification.Checks;

/// <summary>
/// Every model the app ships has provenance: no model component marked undeclared, and, with --scan-output, no model
/// file in the output whose content is not a file of a declared model. Optionally, models must come from signed packages.
/// </summary>
internal static class InventoryCheck
{
    public static void Run(GateContext context)
    {
        var check = CheckIds.Inventory;
        var policy = context.Policy.Inventory;
        var undeclaredSeverity = Policy.GatePolicy.SeverityOf(policy.UndeclaredModels);
        var reported = new HashSet<string>(StringComparer.Ordinal);

        foreach (var model in context.Bom.UndeclaredModels)
        {
            var sha256 = Sha256Of(model.Node);
            if (sha256 is not null)
                reported.Add(sha256);
            var path = model.Property("provenancegate:shipped:path") ?? model.Name;
            var size = long.TryParse(model.Property("provenancegate:file:size"), NumberStyles.None, CultureInfo.InvariantCulture, out var bytes) ? bytes : (long?)null;
            context.Add(check, undeclaredSeverity, Diagnostics.Diagnostics.GateModelUndeclared, model.JsonPath,
                Describe(path, size, model.Property("provenancegate:weights:format"), model.Property("provenancegate:nuget:package")), model.Id);
        }

        var declared = DeclaredFileHashes(context.Bom);
        var scanned = 0;
        foreach (var directory in context.Options.ScanOutputDirectories)
        {
            foreach (var file in ShippedModelScanner.Scan(directory))
            {
                scanned++;
                if (declared.Contains(file.Sha256) || !reported.Add(file.Sha256))
                    continue;
                if (undeclaredSeverity is { } severity)
                {
                    context.Add(check, new Diagnostic(Diagnostics.Diagnostics.GateModelUndeclared, severity,
                        Describe(file.RelativePath, file.Size, file.Format, null) + " (found in the output, not in the BOM)", file.FullPath), file.RelativePath);
                }
            }
        }

        if (Policy.GatePolicy.SeverityOf(policy.UnsignedModelPackages) is { } unsignedSeverity)
            CheckPackageSignatures(context, unsignedSeverity);

        var models = context.Bom.Models.Count(m => m.Parent is null);
        context.Note(check, context.Options.ScanOutputDirectories.Count == 0
            ? $"{models} declared model(s), none undeclared in the BOM"
            : $"{scanned} model file(s) in the output, all declared");
    }

    private static string Describe(string path, long? size, string? format, string? packagePurl)
    {
        var facts = string.Join(", ", new[]
        {
            size is { } bytes ? bytes.ToString("N0", CultureInfo.InvariantCulture) + " bytes" : null,
            format,
            packagePurl is null ? null : "from NuGet package " + packagePurl,
        }.OfType<string>());
        return $"model file '{path}'{(facts.Length > 0 ? $" ({facts})" : "")} ships without provenance: declare it with a ProvenanceModel item " +
               "(Package=\"<id>\" for a packaged model), ship it in a model package with a signed ML-BOM, or add a policy exception for PG4090 with an expiry";
    }

    /// <summary>SHA-256 of every file of every declared model, nested package models included.</summary>
    private static HashSet<string> DeclaredFileHashes(BomDocument bom)
    {
        var hashes = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var component in bom.Components)
        {
            if (component.OwningModel is { IsUndeclaredModel: false } && (component.IsFile || component.IsModel) && Sha256Of(component.Node) is { } sha256)
                hashes.Add(sha256);
        }

        return hashes;
    }

    /// <summary>Models from a package (declared or not) need that package signed when the policy says so.</summary>
    private static void CheckPackageSignatures(GateContext context, DiagnosticSeverity severity)
    {
        var packages = context.Bom.Components.Where(c => c.Type == "library" && c.Purl is not null).ToDictionary(c => c.Purl!, StringComparer.Ordinal);
        foreach (var model in context.Bom.Components.Where(c => c.IsModel && c.Parent is null))
        {
            if (model.Property("provenancegate:nuget:package") is not { } purl || !packages.TryGetValue(purl, out var package))
                continue;
            if (package.Property("provenancegate:nuget:signed") != "true")
                context.Add(CheckIds.Inventory, severity, Diagnostics.Diagnostics.GateModelPackageUnsigned, model.JsonPath,
                    $"model '{model.DisplayName}' comes from NuGet package {purl}, which carries no package signature", model.Id);
        }
    }

    internal static string? Sha256Of(JsonObject node) =>
        node["hashes"] is JsonArray hashes
            ? hashes.OfType<JsonObject>().Where(h => BomDocument.Text(h["alg"]) == "SHA-256").Select(h => BomDocument.Text(h["content"])).FirstOrDefault()
            : null;
}
