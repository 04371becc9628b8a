using System.Text.Json.Nodes;
using ProvenanceGate.Bom;
using ProvenanceGate.Diagnostics;
using ProvenanceGate.Fingerprinting;
using ProvenanceGate.Licensing;
using ProvenanceGate.Signing;

namespace ProvenanceGate.Verification;

/// <summary>
/// The gate's only contact points with the BOM, signing and fingerprinting areas: thin forwards, so each check reads
/// in the gate's terms and no other area's feature is implemented twice.
/// </summary>
internal static class ExternalApis
{
    public sealed record SignatureOutcome(bool Verified, string? MatchedKey, IReadOnlyList<Diagnostic> Diagnostics);

    public sealed record AttestationOutcome(bool Verified, IReadOnlyList<Diagnostic> Diagnostics, IReadOnlyList<(string Name, string? Sha256)> Subjects, JsonNode? Predicate);

    public sealed record LineageOutcome(string Verdict, double? Score, string Reason);

    /// <summary>Schema for the specVersion, unique bom-refs, no dangling refs, SPDX syntax (BOM area).</summary>
    public static IReadOnlyList<Diagnostic> ValidateBom(byte[] utf8, string path) => BomValidator.Validate(utf8, path);

    public static bool IsSpdxLicenseId(string id) => SpdxLicenses.IsKnownId(id);

    /// <summary>The licence ids and LicenseRefs of a valid SPDX expression, or why it is invalid (BOM area's parser).</summary>
    public static (IReadOnlyList<string>? Leaves, string? Error) ParseSpdxExpression(string expression) =>
        SpdxExpression.TryParse(expression, out var parsed, out var error)
            ? (parsed.Licenses.Select(l => l.Id).ToList(), null)
            : (null, error);

    public static SignatureOutcome VerifyBlob(string artifactPath, IReadOnlyList<string> keyReferences, string? signaturePath, string? bundlePath)
    {
        var result = SignatureVerifier.VerifyBlob(artifactPath, PublicKeyLoader.LoadAll(keyReferences), signaturePath, bundlePath);
        return new SignatureOutcome(result.Verified, result.MatchedKey?.Name, result.Diagnostics);
    }

    /// <summary>A DSSE attestation whose predicate is a CycloneDX BOM; subjects are returned for the gate to match against the BOM.</summary>
    public static AttestationOutcome VerifyAttestation(string bundlePath, IReadOnlyList<string> keyReferences)
    {
        var result = AttestationVerifier.Verify(bundlePath, PublicKeyLoader.LoadAll(keyReferences), [], PredicateTypes.CycloneDx);
        var subjects = result.Statement?.Subjects.Select(s => (s.Name, s.Sha256)).ToList() ?? [];
        return new AttestationOutcome(result.Verified, result.Diagnostics, subjects, result.Statement?.Predicate);
    }

    /// <summary>True when the bundle carries a DSSE attestation rather than a plain message signature.</summary>
    public static bool IsAttestationBundle(string bundlePath)
    {
        try
        {
            return JsonNode.Parse(IO.JsonInput.Read(bundlePath, IO.InputLimit.Bundle, Diagnostics.Diagnostics.BundleMalformed).Span, documentOptions: Signing.SignatureBundle.StrictJson) is JsonObject bundle && (bundle["dsseEnvelope"] is not null || bundle["payloadType"] is not null);
        }
        catch (System.Text.Json.JsonException)
        {
            return false;
        }
    }

    public static ModelFingerprint Fingerprint(string modelDirectoryOrFingerprintFile) => FingerprintLoader.Load(modelDirectoryOrFingerprintFile);

    /// <summary>A model directory, merged with <paramref name="adapterBase"/> first when it is a PEFT adapter and a base is given.</summary>
    public static ModelFingerprint Fingerprint(string modelDirectory, string? adapterBase) =>
        adapterBase is not null && Formats.Peft.PeftAdapter.IsAdapter(modelDirectory) ? Fingerprinter.FromAdapter(modelDirectory, adapterBase) : Fingerprint(modelDirectory);

    public static LineageOutcome Compare(ModelFingerprint model, ModelFingerprint declaredBase)
    {
        var comparison = LineageComparer.Compare(model, declaredBase);
        return new LineageOutcome(comparison.VerdictName, double.IsNaN(comparison.Score) ? null : comparison.Score, comparison.Reason);
    }

    /// <summary>Weight-level matches of the model among candidate fingerprints (the scanner's fingerprint-db matches), best first.</summary>
    public static IReadOnlyList<(string Name, double Score)> WeightMatches(ModelFingerprint model, IReadOnlyList<ModelFingerprint> candidates) =>
        Scanner.Scan(model, new ReferenceCatalogue([]), ScanIndex.Build(candidates), top: 5)
            .Where(m => m.Source == "fingerprint-db")
            .Select(m => (m.Name, m.Score))
            .ToList();

    /// <summary>
    /// What the bundled reference catalogue (metadata only) says about a declared base the gate has no fingerprint
    /// for: whether the model's architecture matches the catalogued one. A hint, never a verdict.
    /// </summary>
    public static string? CatalogueHint(ModelFingerprint model, string baseName)
    {
        var last = baseName[(baseName.LastIndexOf('/') + 1)..];
        var entry = ReferenceCatalogue.LoadBundled().Entries.FirstOrDefault(e =>
            string.Equals(e.ModelId, last, StringComparison.OrdinalIgnoreCase) || string.Equals(e.ModelId, baseName, StringComparison.OrdinalIgnoreCase));
        if (entry is null)
            return null;
        if (model.Config is not { } config)
            return $"the bundled catalogue knows '{entry.ModelId}' ({entry.FamilyName}, {entry.Publisher}), but the model has no config.json to compare with it";
        if (config.ArchHash == entry.ArchHash)
            return $"its architecture matches the catalogued '{entry.ModelId}' ({entry.FamilyName}, {entry.Publisher}); metadata only, weights not compared";
        var differences = new List<string>();
        void Compare(string name, long ours, long? theirs)
        {
            if (theirs is { } value && value != ours)
                differences.Add(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{name} {ours} vs {value}"));
        }

        Compare("hidden_size", config.HiddenSize, entry.HiddenSize);
        Compare("layers", config.Layers, entry.Layers);
        Compare("heads", config.AttentionHeads, entry.AttentionHeads);
        Compare("intermediate_size", config.IntermediateSize, entry.IntermediateSize);
        Compare("vocab_size", config.VocabSize, entry.VocabSize);
        return $"its architecture differs from the catalogued '{entry.ModelId}' ({entry.FamilyName}, {entry.Publisher}){(differences.Count == 0 ? "" : ": " + string.Join(", ", differences))}; a fine-tune or adapter keeps its base's shape";
    }

    /// <summary>SHA-256 of each file, in parallel (hashing dominates verification of a multi-GB model).</summary>
    public static IReadOnlyDictionary<string, string> Sha256Files(IReadOnlyList<string> paths) => FileHasher.Sha256(paths);
}
