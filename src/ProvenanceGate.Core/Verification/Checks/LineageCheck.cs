using System.Globalization;
using System.Text.Json.Nodes;
using ProvenanceGate.Diagnostics;
using ProvenanceGate.Fingerprinting;

namespace ProvenanceGate.Verification.Checks;

/// <summary>
/// Fingerprints the weights and compares them with the declared base model: fails when they do not derive from it, warns
/// when they are identical (a re-upload claimed as a fine-tune) or when the catalogue knows a closer undeclared base.
/// </summary>
internal static class LineageCheck
{
    public static void Run(GateContext context)
    {
        var check = CheckIds.Lineage;
        var policy = context.Policy.Lineage;
        var models = context.Bom.Models.ToList();
        AddGraph(context, models);

        var derived = models.Select(m => (Model: m, Ancestors: LicenseCheck.Ancestors(m).ToList())).Where(m => m.Ancestors.Count > 0).ToList();
        if (!policy.Enabled)
        {
            context.Skip(check, $"disabled by policy '{context.Policy.Name}'");
            return;
        }

        if (derived.Count == 0)
        {
            context.Skip(check, "no model declares a base model (pedigree.ancestors)");
            return;
        }

        if (context.Scopes.Count == 0)
        {
            context.Skip(check, "no --model-dir given: weights not fingerprinted");
            return;
        }

        var candidatesBySource = new Dictionary<string, List<(string Path, ModelFingerprint? Fingerprint)>>(StringComparer.Ordinal);
        foreach (var (model, ancestors) in derived)
        {
            // Each model's weights are in its own directory and compared with its own base fingerprints.
            var scope = context.Scopes.FirstOrDefault(s => s.Model is not null && ReferenceEquals(s.Model.Node, model.Node));
            if (scope is null)
            {
                foreach (var (ancestor, pointer) in ancestors)
                {
                    var baseName = BomDocument.ModelName(ancestor);
                    context.Add(check, GatePolicySeverity(policy.OnInsufficientEvidence), Diagnostics.Diagnostics.GateLineageUnchecked, pointer,
                        $"cannot check that '{model.DisplayName}' derives from '{baseName}': no model directory given for it", model.Id);
                    context.Lineage.Add(new LineageResult(model.Id, baseName, "insufficient-evidence", null, "no model directory given"));
                }

                continue;
            }

            var modelDirectory = scope.ModelPath;
            ModelFingerprint modelFingerprint;
            try
            {
                modelFingerprint = ExternalApis.Fingerprint(modelDirectory, AdapterBase(scope.BaseFingerprints, ancestors));
            }
            catch (ProvenanceException ex)
            {
                context.Add(check, DiagnosticSeverity.Error, Diagnostics.Diagnostics.GateLineageUnchecked, ancestors[0].JsonPath,
                    $"cannot fingerprint the weights{scope.OfModel} in '{modelDirectory}': {ex.Diagnostic.Code} {ex.Message}", model.Id);
                continue;
            }

            var baseFingerprints = scope.BaseFingerprints;
            if (baseFingerprints is not null && !candidatesBySource.ContainsKey(baseFingerprints))
                candidatesBySource[baseFingerprints] = LoadCandidates(baseFingerprints);
            var candidates = baseFingerprints is null ? [] : candidatesBySource[baseFingerprints];
            var declaredNames = new List<string>();
            double? declaredScore = null;
            foreach (var (ancestor, pointer) in ancestors)
            {
                var baseName = BomDocument.ModelName(ancestor);
                var fingerprintPath = FindBaseFingerprint(baseFingerprints, ancestor);
                if (fingerprintPath is null)
                {
                    var where = baseFingerprints is null ? "no --base-fingerprints given" : $"nothing in '{baseFingerprints}' matches its name or purl";
                    if (ExternalApis.CatalogueHint(modelFingerprint, baseName) is { } hint)
                        where += "; " + hint;
                    context.Add(check, GatePolicySeverity(policy.OnInsufficientEvidence), Diagnostics.Diagnostics.GateLineageUnchecked, pointer,
                        $"cannot check that '{model.DisplayName}' derives from '{baseName}': {where}", model.Id);
                    context.Lineage.Add(new LineageResult(model.Id, baseName, "insufficient-evidence", null, where));
                    continue;
                }

                var baseFingerprint = candidates.FirstOrDefault(c => c.Path == fingerprintPath).Fingerprint;
                if (baseFingerprint is null)
                {
                    context.Add(check, DiagnosticSeverity.Error, Diagnostics.Diagnostics.GateLineageUnchecked, pointer,
                        $"the fingerprint '{fingerprintPath}' of declared base '{baseName}' cannot be read", model.Id);
                    continue;
                }

                declaredNames.Add(baseFingerprint.Name);
                var outcome = ExternalApis.Compare(modelFingerprint, baseFingerprint);
                context.Lineage.Add(new LineageResult(model.Id, baseName, outcome.Verdict, outcome.Score, outcome.Reason));
                if (outcome.Verdict is "derived" or "identical-weights")
                    declaredScore = Math.Max(declaredScore ?? 0, outcome.Score ?? 0);
                Judge(context, policy, model, baseName, pointer, outcome);
            }

            // A closer base: another candidate's weights match better than every declared base's.
            if (policy.OnCloserBase != Policy.PolicyAction.Off && candidates.Count > 0)
            {
                var best = ExternalApis.WeightMatches(modelFingerprint, candidates.Where(c => c.Fingerprint is not null).Select(c => c.Fingerprint!).ToList())
                    .FirstOrDefault(m => !declaredNames.Contains(m.Name, StringComparer.Ordinal));
                if (best.Name is not null && best.Score > (declaredScore ?? 0))
                    context.Add(check, GatePolicySeverity(policy.OnCloserBase), Diagnostics.Diagnostics.GateLineageCloserBase, model.JsonPath + "/pedigree",
                        $"the weights of '{model.DisplayName}' match '{best.Name}' (score {best.Score:0.###}) better than any declared base ({(declaredScore is { } d ? d.ToString("0.###", CultureInfo.InvariantCulture) : "none derived")}); '{best.Name}' is not declared",
                        model.Id);
            }
        }

        context.Note(check, string.Join("; ", context.Lineage.Select(l => $"{l.Model} derives from {l.DeclaredBase} ({l.Verdict}{(l.Score is { } s ? ", " + s.ToString("0.###", CultureInfo.InvariantCulture) : "")})")));
    }

    private static void Judge(GateContext context, Policy.LineagePolicy policy, BomComponent model, string baseName, string pointer, ExternalApis.LineageOutcome outcome)
    {
        var check = CheckIds.Lineage;
        var score = outcome.Score is { } s ? s.ToString("0.###", CultureInfo.InvariantCulture) : "n/a";
        switch (outcome.Verdict)
        {
            case "derived" when policy.MinimumDerivedScore is { } minimum && (outcome.Score ?? 0) < minimum:
                context.Add(check, GatePolicySeverity(policy.OnIndependent), Diagnostics.Diagnostics.GateLineageNotDerived, pointer,
                    $"'{model.DisplayName}' resembles its declared base '{baseName}' only weakly (score {score} < policy minimum {minimum:0.###}): {outcome.Reason}", model.Id);
                break;
            case "derived":
                break;
            case "identical-weights":
                context.Add(check, GatePolicySeverity(policy.OnIdentical), Diagnostics.Diagnostics.GateLineageIdentical, pointer,
                    $"the weights of '{model.DisplayName}' are identical to its declared base '{baseName}': a re-upload, not a fine-tune ({outcome.Reason})", model.Id);
                break;
            case "independent":
                context.Add(check, GatePolicySeverity(policy.OnIndependent), Diagnostics.Diagnostics.GateLineageNotDerived, pointer,
                    $"the weights of '{model.DisplayName}' do not derive from its declared base '{baseName}' (score {score}): {outcome.Reason}", model.Id);
                break;
            default:
                context.Add(check, GatePolicySeverity(policy.OnInsufficientEvidence), Diagnostics.Diagnostics.GateLineageUnchecked, pointer,
                    $"lineage of '{model.DisplayName}' from '{baseName}' is inconclusive (score {score}): {outcome.Reason}", model.Id);
                break;
        }
    }

    /// <summary>Every fingerprint file or model directory in --base-fingerprints, fingerprinted once (null when unreadable).</summary>
    private static List<(string Path, ModelFingerprint? Fingerprint)> LoadCandidates(string directory)
    {
        var entries = File.Exists(directory) ? [directory] : Directory.EnumerateFileSystemEntries(directory).Order(StringComparer.Ordinal).ToList();
        var result = new List<(string, ModelFingerprint?)>();
        foreach (var entry in entries)
        {
            if (File.Exists(entry) && !entry.EndsWith(".json", StringComparison.OrdinalIgnoreCase) && !Formats.Weights.WeightFormats.IsModelFile(entry))
                continue;
            try
            {
                result.Add((entry, ExternalApis.Fingerprint(entry)));
            }
            catch (ProvenanceException)
            {
                result.Add((entry, null));
            }
        }

        return result;
    }

    /// <summary>
    /// For a PEFT adapter: the first declared base found in --base-fingerprints as weights (a model directory or file),
    /// which the adapter is merged with before it is compared. Null where there is none; a fingerprint alone cannot be merged.
    /// </summary>
    private static string? AdapterBase(string? baseFingerprints, List<(JsonObject Node, string JsonPath)> ancestors) =>
        ancestors.Select(a => FindBaseFingerprint(baseFingerprints, a.Node))
            .FirstOrDefault(path => path is not null && (Directory.Exists(path) || Formats.Weights.WeightFormats.IsModelFile(path)));

    private static DiagnosticSeverity? GatePolicySeverity(Policy.PolicyAction action) => Policy.GatePolicy.SeverityOf(action);

    /// <summary>
    /// The fingerprint file or model directory in --base-fingerprints for a declared base, matched by bom-ref, purl name or
    /// name (full 'org/name' as 'org--name' or 'org_name', or the last segment), ignoring case and extensions.
    /// </summary>
    public static string? FindBaseFingerprint(string? directory, JsonObject ancestor)
    {
        if (directory is null)
            return null;
        if (File.Exists(directory))
            return directory;
        var keys = Keys(ancestor).ToHashSet(StringComparer.OrdinalIgnoreCase);
        return Directory.EnumerateFileSystemEntries(directory)
            .Order(StringComparer.Ordinal)
            .FirstOrDefault(entry => keys.Contains(Stem(Path.GetFileName(entry)))
                // A single model file (dev-base.bin, dev-base.safetensors) is matched by its name without the extension.
                || (Formats.Weights.WeightFormats.IsModelFile(entry) && keys.Contains(Path.GetFileNameWithoutExtension(entry))));
    }

    private static IEnumerable<string> Keys(JsonObject ancestor)
    {
        foreach (var value in new[] { BomDocument.ModelName(ancestor), BomDocument.Text(ancestor["name"]), BomDocument.Text(ancestor["bom-ref"]), PurlName(BomDocument.Text(ancestor["purl"])) }.OfType<string>())
        {
            var name = value.Trim();
            yield return name.Replace("/", "--", StringComparison.Ordinal);
            yield return name.Replace('/', '_');
            yield return name[(name.LastIndexOf('/') + 1)..];
        }
    }

    private static string? PurlName(string? purl)
    {
        if (purl is null || !purl.StartsWith("pkg:", StringComparison.Ordinal))
            return null;
        var path = purl[4..].Split('?', '#')[0].Split('@')[0];
        var slash = path.IndexOf('/', StringComparison.Ordinal);
        return slash < 0 ? null : Uri.UnescapeDataString(path[(slash + 1)..]);
    }

    private static string Stem(string fileName)
    {
        foreach (var suffix in new[] { ".fingerprint.json", ".pgfp.json", ".fp.json", ".json" })
        {
            if (fileName.EndsWith(suffix, StringComparison.OrdinalIgnoreCase))
                return fileName[..^suffix.Length];
        }

        return fileName;
    }

    /// <summary>Edges for the report graph: base -> model, dataset -> model.</summary>
    private static void AddGraph(GateContext context, List<BomComponent> models)
    {
        foreach (var model in models)
        {
            var label = model.Version is null ? model.Name : $"{model.Name}@{model.Version}";
            foreach (var (ancestor, _) in LicenseCheck.Ancestors(model))
            {
                var baseName = BomDocument.ModelName(ancestor);
                var baseVersion = BomDocument.Text(ancestor["version"]);
                var relation = model.Property("cdx:ai-ml:model:parameter:tune_method") ?? "derived";
                context.Graph.Add(new LineageEdge(baseVersion is null ? baseName : $"{baseName}@{baseVersion}", label, relation));
            }

            if (BomDocument.Member(model.Node, "modelCard", "modelParameters", "datasets") is JsonArray datasets)
            {
                foreach (var dataset in datasets.OfType<JsonObject>())
                {
                    var name = BomDocument.Text(dataset["ref"]) is { } reference
                        ? context.Bom.FindByRef(reference)?.Name ?? reference
                        : BomDocument.Text(dataset["name"]) ?? "dataset";
                    context.Graph.Add(new LineageEdge(name, label, "trained on"));
                }
            }
        }
    }
}
