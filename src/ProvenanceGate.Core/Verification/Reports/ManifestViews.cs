using System.Globalization;
using System.Text.Json.Nodes;
using ProvenanceGate.Verification.Checks;
using ProvenanceGate.Verification.Pickle;

namespace ProvenanceGate.Verification;

/// <summary>
/// `dotnet provenance report`: three readings of one manifest. executive: what ships, from where, under which licence,
/// approved by whom. legal: every licence, inherited obligations, suppliers. engineering: files, digests, architecture,
/// lineage graph and datasets.
/// </summary>
public static class ManifestViews
{
    public static IReadOnlyList<string> Views { get; } = ["executive", "legal", "engineering"];

    public static ManifestDocument Build(BomDocument bom, string view, DateTimeOffset now) => view switch
    {
        "executive" => Executive(bom, now),
        "legal" => Legal(bom),
        "engineering" => Engineering(bom),
        _ => throw Diagnostics.Diagnostics.UsageError.Exception($"unknown view '{view}' (use {string.Join(", ", Views)})"),
    };

    private static ManifestDocument Executive(BomDocument bom, DateTimeOffset now)
    {
        var document = new ManifestDocument().Heading(1, $"Model provenance summary: {Path.GetFileName(bom.Path)}");
        var models = bom.Models.ToList();
        document.Paragraph($"{models.Count} model(s), {bom.Components.Count(c => c.IsDataset)} dataset(s), {DigestCheck.ListedFiles(bom).Count()} file(s) pinned by SHA-256. BOM produced {BomDocument.Text(BomDocument.Member(bom.Root, "metadata", "timestamp")) ?? "at an unrecorded time"}.");
        document.Table(["model", "version", "supplier", "licence", "derived from"], models.Select(m => (IReadOnlyList<string>)
        [
            m.Name, m.Version ?? "", Supplier(m.Node), Licences(m), string.Join(", ", Bases(m)),
        ]));

        var risks = Risks(bom).ToList();
        document.Heading(2, "Risks to decide on");
        if (risks.Count == 0)
            document.Paragraph("None found in the manifest: no restrictive base licence dropped, no pickle-based weights, approvals current.");
        else
            document.Table(["risk", "detail"], risks.Select(r => (IReadOnlyList<string>)[r.Risk, r.Detail]));

        var approvals = GovernanceCheck.ReadApprovals(bom).ToList();
        document.Heading(2, "Approvals");
        if (approvals.Count == 0)
            document.Paragraph("No approvals are recorded in the manifest.");
        else
            document.Table(["role", "by", "date", "review by", "status"], approvals.Select(a => (IReadOnlyList<string>)
            [
                a.Role, a.By ?? "", Date(a.Date), Date(a.ReviewBy), a.ReviewBy is { } due && due <= now ? "review overdue" : "current",
            ]));
        return document;
    }

    private static ManifestDocument Legal(BomDocument bom)
    {
        var document = new ManifestDocument().Heading(1, $"Licences and obligations: {Path.GetFileName(bom.Path)}");
        document.Table(["component", "type", "licence", "supplier", "copyright"], bom.Components.Where(c => c.IsModel || c.IsDataset || c.Node["licenses"] is not null)
            .Where(c => !c.IsFile).Select(c => (IReadOnlyList<string>)
            [
                c.Name, c.Type, Licences(c), Supplier(c.Node), BomDocument.Text(c.Node["copyright"]) ?? "",
            ]));

        document.Heading(2, "Obligations inherited from base models");
        var rows = new List<IReadOnlyList<string>>();
        foreach (var model in bom.Models)
        {
            foreach (var (ancestor, pointer) in LicenseCheck.Ancestors(model))
            {
                var baseName = BomDocument.ModelName(ancestor);
                var baseLicences = LicenseCheck.Declared(null, ancestor, pointer, model.Id, report: false).SelectMany(l => l.Leaves).DefaultIfEmpty(baseName).ToList();
                var families = baseLicences.Select(RestrictedLicenses.FamilyOf).OfType<RestrictedLicenseFamily>().Distinct().ToList();
                var declaredLeaves = LicenseCheck.Declared(null, model.Node, model.JsonPath, model.Id, report: false).SelectMany(l => l.Leaves).ToList();
                if (families.Count == 0)
                {
                    rows.Add([model.Name, baseName, string.Join(", ", baseLicences), "none known (permissive or unknown)", "-"]);
                    continue;
                }

                foreach (var family in families)
                {
                    var kept = declaredLeaves.Any(l => RestrictedLicenses.FamilyOf(l) == family);
                    rows.Add([model.Name, baseName, string.Join(", ", baseLicences), family.Obligation, kept ? "kept" : "DROPPED by the declared licence"]);
                }
            }
        }

        if (rows.Count == 0)
            document.Paragraph("No model declares a base model.");
        else
            document.Table(["model", "base", "base licence", "obligation", "status"], rows);
        return document;
    }

    private static ManifestDocument Engineering(BomDocument bom)
    {
        var document = new ManifestDocument().Heading(1, $"Engineering view: {Path.GetFileName(bom.Path)}");
        document.Paragraph($"CycloneDX {bom.SpecVersion}, serial {BomDocument.Text(bom.Root["serialNumber"]) ?? "(none)"}.");
        foreach (var model in bom.Models)
        {
            document.Heading(2, $"{model.Name} {model.Version}");
            var parameters = BomDocument.Member(model.Node, "modelCard", "modelParameters") as JsonObject;
            var rows = new List<IReadOnlyList<string>>
            {
                new[] { "task", BomDocument.Text(parameters?["task"]) ?? "" },
                new[] { "architecture", string.Join(" / ", new[] { BomDocument.Text(parameters?["architectureFamily"]), BomDocument.Text(parameters?["modelArchitecture"]) }.OfType<string>()) },
                new[] { "base models", string.Join(", ", Bases(model)) },
            };
            if (model.Node["properties"] is JsonArray properties)
                rows.AddRange(properties.OfType<JsonObject>().Select(p => (IReadOnlyList<string>)[BomDocument.Text(p["name"]) ?? "", BomDocument.Text(p["value"]) ?? ""]));
            document.Table(["field", "value"], rows);
        }

        document.Heading(2, "Files");
        document.Table(["path", "sha256", "format"], DigestCheck.ListedFiles(bom).Select(f => (IReadOnlyList<string>)
        [
            f.Path, f.Sha256 ?? "(none)", PickleScanner.IsPickleFormat(f.Path) ? "pickle (unsafe)" : Path.GetExtension(f.Path).TrimStart('.'),
        ]));

        var graph = Graph(bom);
        if (graph.Count > 0)
        {
            document.Heading(2, "Lineage");
            using var writer = new StringWriter(CultureInfo.InvariantCulture) { NewLine = "\n" };
            ReportWriters.WriteMermaid(graph, [], writer);
            document.Mermaid(writer.ToString());
        }

        return document;
    }

    private static List<LineageEdge> Graph(BomDocument bom)
    {
        var edges = new List<LineageEdge>();
        foreach (var model in bom.Models)
        {
            var label = model.Version is null ? model.Name : $"{model.Name}@{model.Version}";
            edges.AddRange(Bases(model).Select(b => new LineageEdge(b, label, model.Property("cdx:ai-ml:model:parameter:tune_method") ?? "derived")));
            if (BomDocument.Member(model.Node, "modelCard", "modelParameters", "datasets") is JsonArray datasets)
                edges.AddRange(datasets.OfType<JsonObject>().Select(d => new LineageEdge(
                    BomDocument.Text(d["ref"]) is { } r ? bom.FindByRef(r)?.Name ?? r : BomDocument.Text(d["name"]) ?? "dataset", label, "trained on")));
        }

        return edges;
    }

    private static IEnumerable<(string Risk, string Detail)> Risks(BomDocument bom)
    {
        foreach (var model in bom.Models)
        {
            var declared = LicenseCheck.Declared(null, model.Node, model.JsonPath, model.Id, report: false).SelectMany(l => l.Leaves).ToList();
            foreach (var (ancestor, pointer) in LicenseCheck.Ancestors(model))
            {
                var baseName = BomDocument.ModelName(ancestor);
                var baseLeaves = LicenseCheck.Declared(null, ancestor, pointer, model.Id, report: false).SelectMany(l => l.Leaves).DefaultIfEmpty(baseName);
                foreach (var family in baseLeaves.Select(RestrictedLicenses.FamilyOf).OfType<RestrictedLicenseFamily>().Distinct())
                {
                    if (!declared.Any(l => RestrictedLicenses.FamilyOf(l) == family))
                        yield return ("licence obligation dropped", $"{model.Name} derives from {baseName} ({family.Name}) but declares {string.Join(", ", declared)}");
                }
            }
        }

        foreach (var file in DigestCheck.ListedPickles(bom))
            yield return ("unsafe weight format", $"{file.Path} is pickle-based and runs code when loaded");
    }

    private static IEnumerable<string> Bases(BomComponent model) => LicenseCheck.Ancestors(model).Select(a =>
    {
        var name = BomDocument.ModelName(a.Node);
        return BomDocument.Text(a.Node["version"]) is { } version ? $"{name}@{version}" : name;
    });

    private static string Licences(BomComponent component) =>
        string.Join(" / ", LicenseCheck.Declared(null, component.Node, component.JsonPath, component.Id, report: false).Select(l => l.Text)) is { Length: > 0 } text ? text : "(none declared)";

    private static string Supplier(JsonObject node) =>
        BomDocument.Text(BomDocument.Member(node, "supplier", "name")) ?? BomDocument.Text(BomDocument.Member(node, "manufacturer", "name")) ?? BomDocument.Text(node["publisher"]) ??
        BomDocument.Text(node["author"]) ?? (node["authors"] is JsonArray authors ? string.Join(", ", authors.Select(a => BomDocument.Text(BomDocument.Member(a, "name"))).OfType<string>()) : "");

    private static string Date(DateTimeOffset? date) => date is { } d ? d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) : "";
}
