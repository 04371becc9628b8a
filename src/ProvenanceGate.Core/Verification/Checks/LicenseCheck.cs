using System.Text.Json.Nodes;
using ProvenanceGate.Diagnostics;

namespace ProvenanceGate.Verification.Checks;

/// <summary>A licence as declared: the raw text, its leaves (ids and LicenseRefs), and where it sits in the BOM.</summary>
internal sealed record DeclaredLicense(string Text, IReadOnlyList<string> Leaves, string JsonPath);

/// <summary>
/// SPDX ids and expressions are valid; allow and deny lists hold; a derived model keeps the obligations of its base
/// model's licence (a fine-tune of a non-commercial base declared Apache-2.0 is flagged).
/// </summary>
internal static class LicenseCheck
{
    public static void Run(GateContext context)
    {
        var check = CheckIds.Licenses;
        var policy = context.Policy.Licenses;
        var subjects = context.Bom.Components.Where(c => (c.IsModel && !c.IsUndeclaredModel) || c.IsDataset).ToList();
        var count = 0;
        foreach (var component in subjects)
        {
            var licences = Declared(context, component.Node, component.JsonPath, component.Id, report: true);
            foreach (var licence in licences)
            {
                count++;
                foreach (var leaf in licence.Leaves)
                {
                    if (policy.Deny.Any(d => string.Equals(d, leaf, StringComparison.OrdinalIgnoreCase)))
                        context.Add(check, DiagnosticSeverity.Error, Diagnostics.Diagnostics.GateLicenseDenied, licence.JsonPath,
                            $"{component.Type} '{component.DisplayName}' is licensed '{licence.Text}'; policy '{context.Policy.Name}' denies {leaf}", component.Id);
                    else if (policy.Allow.Count > 0 && !policy.Allow.Any(a => string.Equals(a, leaf, StringComparison.OrdinalIgnoreCase)))
                        context.Add(check, DiagnosticSeverity.Error, Diagnostics.Diagnostics.GateLicenseNotAllowed, licence.JsonPath,
                            $"{component.Type} '{component.DisplayName}' is licensed '{licence.Text}'; {leaf} is not on the allow list of policy '{context.Policy.Name}' ({string.Join(", ", policy.Allow)})", component.Id);
                }
            }

            if (component.IsModel && policy.InheritFromBase)
                CheckInheritance(context, component, licences);
        }

        context.Note(check, $"{count} licence declaration(s) valid and allowed");
    }

    private static void CheckInheritance(GateContext context, BomComponent model, IReadOnlyList<DeclaredLicense> declared)
    {
        var declaredLeaves = declared.SelectMany(l => l.Leaves).ToList();
        foreach (var (ancestor, pointer) in Ancestors(model))
        {
            var baseName = BomDocument.ModelName(ancestor);
            // The base's licence: as the BOM declares it on the ancestor, else as its name reveals (meta-llama/..., google/gemma-...).
            var baseLeaves = Declared(context, ancestor, pointer, model.Id, report: false).SelectMany(l => l.Leaves).ToList();
            if (baseLeaves.Count == 0)
                baseLeaves = [baseName];
            foreach (var family in baseLeaves.Select(RestrictedLicenses.FamilyOf).OfType<RestrictedLicenseFamily>().Distinct())
            {
                if (declaredLeaves.Any(leaf => RestrictedLicenses.FamilyOf(leaf) == family))
                    continue;
                var shown = declared.Count == 0 ? "no licence" : "'" + string.Join(" / ", declared.Select(d => d.Text)) + "'";
                context.Add(CheckIds.Licenses, DiagnosticSeverity.Error, Diagnostics.Diagnostics.GateLicenseInheritance,
                    declared.Count > 0 ? declared[0].JsonPath : model.JsonPath,
                    $"model '{model.DisplayName}' declares {shown} but derives from '{baseName}' under a {family.Name} licence ({string.Join(", ", baseLeaves)}): {family.Obligation}",
                    model.Id);
            }
        }
    }

    /// <summary>The declared bases of a model: pedigree.ancestors, with their pointers.</summary>
    public static IEnumerable<(JsonObject Node, string JsonPath)> Ancestors(BomComponent model)
    {
        if (model.Node["pedigree"] is JsonObject pedigree && pedigree["ancestors"] is JsonArray ancestors)
        {
            for (var i = 0; i < ancestors.Count; i++)
            {
                if (ancestors[i] is JsonObject ancestor)
                    yield return (ancestor, $"{model.JsonPath}/pedigree/ancestors/{i}");
            }
        }
    }

    /// <summary>Reads a licenseChoice array; with <paramref name="report"/>, invalid ids and expressions become PG4050.</summary>
    public static IReadOnlyList<DeclaredLicense> Declared(GateContext? context, JsonObject node, string pointer, string component, bool report)
    {
        var result = new List<DeclaredLicense>();
        if (node["licenses"] is not JsonArray licences)
            return result;
        for (var i = 0; i < licences.Count; i++)
        {
            var entryPointer = $"{pointer}/licenses/{i}";
            if (licences[i] is not JsonObject entry)
                continue;
            if (BomDocument.Text(entry["expression"]) is { } expression)
            {
                var (leaves, error) = ExternalApis.ParseSpdxExpression(expression);
                if (leaves is null)
                {
                    if (report && context is not null)
                        context.Add(CheckIds.Licenses, DiagnosticSeverity.Error, Diagnostics.Diagnostics.GateLicenseInvalid, entryPointer + "/expression",
                            $"licence expression '{expression}' of '{component}' is not a valid SPDX expression: {error}", component);
                    continue;
                }

                foreach (var leaf in leaves.Where(l => !l.StartsWith("LicenseRef-", StringComparison.Ordinal) && !l.StartsWith("DocumentRef-", StringComparison.Ordinal)))
                {
                    if (report && context is not null && ExternalApis.IsSpdxLicenseId(leaf) == false)
                        context.Add(CheckIds.Licenses, DiagnosticSeverity.Error, Diagnostics.Diagnostics.GateLicenseInvalid, entryPointer + "/expression",
                            $"'{leaf}' in licence expression '{expression}' of '{component}' is not an SPDX licence id (use LicenseRef-... for others)", component);
                }

                result.Add(new DeclaredLicense(expression, leaves, entryPointer + "/expression"));
            }
            else if (entry["license"] is JsonObject licence)
            {
                if (BomDocument.Text(licence["id"]) is { } id)
                {
                    if (report && context is not null && ExternalApis.IsSpdxLicenseId(id) == false)
                        context.Add(CheckIds.Licenses, DiagnosticSeverity.Error, Diagnostics.Diagnostics.GateLicenseInvalid, entryPointer + "/license/id",
                            $"'{id}' of '{component}' is not an SPDX licence id (use license.name or a LicenseRef- expression for others)", component);
                    result.Add(new DeclaredLicense(id, [id], entryPointer + "/license/id"));
                }
                else if (BomDocument.Text(licence["name"]) is { } name)
                {
                    result.Add(new DeclaredLicense(name, [name], entryPointer + "/license/name"));
                }
            }
        }

        return result;
    }
}
