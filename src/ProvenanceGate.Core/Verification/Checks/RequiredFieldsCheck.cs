using System.Text.Json.Nodes;
using ProvenanceGate.Diagnostics;
using ProvenanceGate.Verification.Policy;

namespace ProvenanceGate.Verification.Checks;

/// <summary>The fields the policy requires, each failure naming the framework clauses the field serves.</summary>
internal static class RequiredFieldsCheck
{
    public static void Run(GateContext context)
    {
        var check = CheckIds.RequiredFields;
        var fields = context.Policy.RequiredFields;
        if (fields.Count == 0)
        {
            context.Skip(check, $"policy '{context.Policy.Name}' requires no fields");
            return;
        }

        var bom = context.Bom;
        var models = bom.Models.ToList();
        if (models.Count == 0 && fields.Any(f => f.Scope == "model"))
            context.Add(check, DiagnosticSeverity.Error, Diagnostics.Diagnostics.GateRequiredFieldMissing, "/components",
                "the BOM describes no machine-learning-model component, so no model field can be checked");

        var checkedCount = 0;
        foreach (var field in fields)
        {
            IEnumerable<(JsonObject Node, string JsonPath, string Subject, string? Component)> targets = field.Scope switch
            {
                "bom" => [(bom.Root, "", "the BOM", null)],
                "dataset" => bom.Components.Where(c => c.IsDataset).Select(c => (c.Node, c.JsonPath, $"dataset '{c.DisplayName}'", (string?)c.Id)),
                _ => models.Select(c => (c.Node, c.JsonPath, $"model '{c.DisplayName}'", (string?)c.Id)),
            };
            foreach (var (node, pointer, subject, component) in targets)
            {
                checkedCount++;
                if (!IsPresent(node, field.Path))
                    context.Add(check, DiagnosticSeverity.Error, Diagnostics.Diagnostics.GateRequiredFieldMissing, pointer,
                        $"{subject} lacks {field.Path} ({field.Description}); unmet: {Clauses(field)} [policy '{context.Policy.Name}', field '{field.Id}']",
                        component);
            }
        }

        context.Note(check, $"{fields.Count} required field(s) present ({checkedCount} checked)");
    }

    private static string Clauses(RequiredField field) => field.Clauses.Count == 0 ? "no clause listed" : string.Join("; ", field.Clauses);

    /// <summary>
    /// True when the path leads to a non-empty value. <c>a|b</c>: either path; <c>property:NAME</c>: a CycloneDX property
    /// with that name; an array along the path: any element will do.
    /// </summary>
    public static bool IsPresent(JsonNode? node, string path) =>
        path.Split('|').Any(alternative => Resolve(node, alternative.Trim().Split('.'), 0));

    private static bool Resolve(JsonNode? node, string[] segments, int index)
    {
        if (node is JsonArray array)
            return array.Any(item => Resolve(item, segments, index));
        if (index == segments.Length)
            return IsNonEmpty(node);
        if (node is not JsonObject obj)
            return false;
        var segment = segments[index];
        if (segment.StartsWith("property:", StringComparison.Ordinal))
        {
            var value = BomDocument.PropertyValue(obj, segment["property:".Length..]);
            return index == segments.Length - 1 && !string.IsNullOrWhiteSpace(value);
        }

        return Resolve(obj[segment], segments, index + 1);
    }

    private static bool IsNonEmpty(JsonNode? node) => node switch
    {
        null => false,
        JsonArray a => a.Count > 0,
        JsonObject o => o.Count > 0,
        JsonValue v => v.GetValueKind() != System.Text.Json.JsonValueKind.String || !string.IsNullOrWhiteSpace(v.GetValue<string>()),
        _ => true,
    };
}
