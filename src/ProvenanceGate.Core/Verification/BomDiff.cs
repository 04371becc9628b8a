using System.Text.Json;
using System.Text.Json.Nodes;
using ProvenanceGate.Verification.Checks;

namespace ProvenanceGate.Verification;

/// <summary>One difference between two releases' BOMs.</summary>
public sealed record BomChange(string Kind, string Subject, string Field, string? Old, string? New);

/// <summary>
/// What changed between two BOMs: models, file digests, base models, datasets, licences and the fields policies
/// require. Components are matched by name (bom-refs may be regenerated); files by path.
/// </summary>
public static class BomDiff
{
    /// <summary>Model fields that policies and reviewers care about, compared as JSON.</summary>
    private static readonly string[] ModelFields =
    [
        "version", "purl", "supplier", "manufacturer", "authors", "modelCard.modelParameters.task", "modelCard.modelParameters.architectureFamily",
        "modelCard.modelParameters.modelArchitecture", "modelCard.considerations.useCases", "modelCard.considerations.technicalLimitations",
        "modelCard.quantitativeAnalysis.performanceMetrics", "modelCard.considerations.environmentalConsiderations",
    ];

    public static IReadOnlyList<BomChange> Compare(BomDocument oldBom, BomDocument newBom)
    {
        var changes = new List<BomChange>();
        Field(changes, "BOM", "specVersion", oldBom.SpecVersion, newBom.SpecVersion);

        var oldModels = ByName(oldBom.Models);
        var newModels = ByName(newBom.Models);
        foreach (var name in oldModels.Keys.Union(newModels.Keys).Order(StringComparer.Ordinal))
        {
            var subject = $"model '{name}'";
            if (!newModels.TryGetValue(name, out var after))
            {
                changes.Add(new BomChange("removed", subject, "model", oldModels[name].Version, null));
                continue;
            }

            if (!oldModels.TryGetValue(name, out var before))
            {
                changes.Add(new BomChange("added", subject, "model", null, after.Version));
                continue;
            }

            foreach (var field in ModelFields)
                Field(changes, subject, field, Json(Select(before.Node, field)), Json(Select(after.Node, field)));
            Field(changes, subject, "licenses", Licences(before), Licences(after));
            Sets(changes, subject, "base model", Bases(before), Bases(after));
            Sets(changes, subject, "dataset", Datasets(oldBom, before), Datasets(newBom, after));
            Field(changes, subject, "tune method", before.Property("cdx:ai-ml:model:parameter:tune_method"), after.Property("cdx:ai-ml:model:parameter:tune_method"));
            Sets(changes, subject, "approval", Approvals(oldBom, before), Approvals(newBom, after));
        }

        var oldData = ByName(oldBom.Components.Where(c => c.IsDataset));
        var newData = ByName(newBom.Components.Where(c => c.IsDataset));
        foreach (var name in oldData.Keys.Union(newData.Keys).Order(StringComparer.Ordinal))
        {
            var subject = $"dataset '{name}'";
            if (!newData.TryGetValue(name, out var after))
                changes.Add(new BomChange("removed", subject, "dataset", oldData[name].Version, null));
            else if (!oldData.TryGetValue(name, out var before))
                changes.Add(new BomChange("added", subject, "dataset", null, after.Version));
            else
            {
                Field(changes, subject, "version", before.Version, after.Version);
                Field(changes, subject, "licenses", Licences(before), Licences(after));
                Field(changes, subject, "hashes", Json(before.Node["hashes"]), Json(after.Node["hashes"]));
            }
        }

        var oldFiles = DigestCheck.ListedFiles(oldBom).GroupBy(f => f.Path).ToDictionary(g => g.Key, g => g.First().Sha256, StringComparer.Ordinal);
        var newFiles = DigestCheck.ListedFiles(newBom).GroupBy(f => f.Path).ToDictionary(g => g.Key, g => g.First().Sha256, StringComparer.Ordinal);
        foreach (var path in oldFiles.Keys.Union(newFiles.Keys).Order(StringComparer.Ordinal))
        {
            var subject = $"file '{path}'";
            if (!newFiles.TryGetValue(path, out var after))
                changes.Add(new BomChange("removed", subject, "sha256", oldFiles[path], null));
            else if (!oldFiles.TryGetValue(path, out var before))
                changes.Add(new BomChange("added", subject, "sha256", null, after));
            else
                Field(changes, subject, "sha256", before, after);
        }

        return changes;
    }

    private static Dictionary<string, BomComponent> ByName(IEnumerable<BomComponent> components) =>
        components.GroupBy(c => c.Name, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);

    private static void Field(List<BomChange> changes, string subject, string field, string? before, string? after)
    {
        if (!string.Equals(before, after, StringComparison.Ordinal))
            changes.Add(new BomChange(before is null ? "added" : after is null ? "removed" : "changed", subject, field, before, after));
    }

    private static void Sets(List<BomChange> changes, string subject, string field, IReadOnlyCollection<string> before, IReadOnlyCollection<string> after)
    {
        foreach (var removed in before.Except(after, StringComparer.Ordinal).Order(StringComparer.Ordinal))
            changes.Add(new BomChange("removed", subject, field, removed, null));
        foreach (var added in after.Except(before, StringComparer.Ordinal).Order(StringComparer.Ordinal))
            changes.Add(new BomChange("added", subject, field, null, added));
    }

    private static string? Licences(BomComponent component)
    {
        var licences = LicenseCheck.Declared(null, component.Node, component.JsonPath, component.Id, report: false);
        return licences.Count == 0 ? null : string.Join(" / ", licences.Select(l => l.Text));
    }

    private static List<string> Bases(BomComponent model) =>
        LicenseCheck.Ancestors(model).Select(a =>
        {
            var name = BomDocument.ModelName(a.Node);
            return BomDocument.Text(a.Node["version"]) is { } version ? $"{name}@{version}" : name;
        }).ToList();

    private static List<string> Datasets(BomDocument bom, BomComponent model) =>
        BomDocument.Member(model.Node, "modelCard", "modelParameters", "datasets") is JsonArray datasets
            ? datasets.OfType<JsonObject>().Select(d => BomDocument.Text(d["ref"]) is { } reference
                ? bom.FindByRef(reference)?.Name ?? reference
                : BomDocument.Text(d["name"]) ?? "dataset").ToList()
            : [];

    private static List<string> Approvals(BomDocument bom, BomComponent model) =>
        GovernanceCheck.ReadApprovals(bom).Where(a => a.Component is null || a.Component == model.Id)
            .Select(a => $"{a.Role}{(a.By is null ? "" : " by " + a.By)}{(a.ReviewBy is { } r ? $" (review by {r:yyyy-MM-dd})" : "")}").ToList();

    private static JsonNode? Select(JsonNode? node, string path)
    {
        foreach (var segment in path.Split('.'))
            node = node is JsonObject obj ? obj[segment] : null;
        return node;
    }

    private static string? Json(JsonNode? node) => node switch
    {
        null => null,
        JsonValue value when value.GetValueKind() == JsonValueKind.String => value.GetValue<string>(),
        _ => node.ToJsonString(),
    };
}
