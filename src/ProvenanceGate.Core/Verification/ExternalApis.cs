using System.Security.Cryptography;
using System.Text.Json.Nodes;
using ProvenanceGate.Diagnostics;

namespace ProvenanceGate.Verification;

/// <summary>
/// The gate's only contact points with the BOM, signing and fingerprinting areas. Each member forwards to that
/// area's API; until an API is merged its member says so (the check that needs it is skipped, never passed).
/// </summary>
internal static class ExternalApis
{
    public sealed record SignatureOutcome(bool Verified, string? MatchedKey, IReadOnlyList<Diagnostic> Diagnostics);

    public sealed record AttestationOutcome(bool Verified, IReadOnlyList<Diagnostic> Diagnostics, IReadOnlyList<(string Name, string Sha256)> Subjects);

    public sealed record LineageOutcome(string Verdict, double? Score, string Reason);

    /// <summary>Full schema and integrity validation (BOM area). Null while that API is not available.</summary>
    public static IReadOnlyList<Diagnostic>? ValidateBom(string json, string path)
    {
        _ = json;
        _ = path;
        return null;
    }

    /// <summary>True when <paramref name="id"/> is on the SPDX licence list (BOM area); null while that API is not available.</summary>
    public static bool? IsSpdxLicenseId(string id)
    {
        _ = id;
        return null;
    }

    /// <summary>The licence ids and LicenseRefs of a valid SPDX expression, or the reason it is invalid (BOM area).</summary>
    public static (IReadOnlyList<string>? Leaves, string? Error) ParseSpdxExpression(string expression) =>
        SpdxLeaves(expression);

    public static bool SigningAvailable => false;

    public static SignatureOutcome VerifyBlob(string artifactPath, IReadOnlyList<string> keyReferences, string? signaturePath, string? bundlePath)
    {
        _ = artifactPath;
        _ = keyReferences;
        _ = signaturePath;
        _ = bundlePath;
        throw new NotSupportedException("signing API not merged");
    }

    public static AttestationOutcome VerifyAttestation(string bundlePath, IReadOnlyList<string> keyReferences, IReadOnlyList<string> artifactPaths)
    {
        _ = bundlePath;
        _ = keyReferences;
        _ = artifactPaths;
        throw new NotSupportedException("signing API not merged");
    }

    /// <summary>True when the bundle carries a DSSE attestation rather than a plain message signature.</summary>
    public static bool IsAttestationBundle(string bundlePath)
    {
        try
        {
            return JsonNode.Parse(File.ReadAllText(bundlePath)) is JsonObject bundle && bundle["dsseEnvelope"] is not null;
        }
        catch (System.Text.Json.JsonException)
        {
            return false;
        }
    }

    public static bool FingerprintingAvailable => false;

    /// <summary>Fingerprints the weights in <paramref name="modelDirectory"/> and compares them with a base fingerprint file or directory.</summary>
    public static LineageOutcome CompareWithBase(string modelDirectory, string baseFingerprintPath)
    {
        _ = modelDirectory;
        _ = baseFingerprintPath;
        throw new NotSupportedException("fingerprinting API not merged");
    }

    /// <summary>The closest model of the bundled reference catalogue, when it is closer than the declared base.</summary>
    public static (string Name, double Score)? ClosestCatalogueModel(string modelDirectory)
    {
        _ = modelDirectory;
        return null;
    }

    /// <summary>SHA-256 of each file, in parallel (hashing dominates verification of a multi-GB model).</summary>
    public static IReadOnlyDictionary<string, string> Sha256Files(IReadOnlyList<string> paths)
    {
        var results = new System.Collections.Concurrent.ConcurrentDictionary<string, string>(StringComparer.Ordinal);
        Parallel.ForEach(paths, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, path =>
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan);
            results[path] = Convert.ToHexStringLower(SHA256.HashData(stream));
        });
        return results;
    }

    // Until the BOM area's SpdxExpression lands: split on operators and parentheses, enough to find the leaves.
    private static (IReadOnlyList<string>? Leaves, string? Error) SpdxLeaves(string expression)
    {
        var tokens = expression.Replace("(", " ( ", StringComparison.Ordinal).Replace(")", " ) ", StringComparison.Ordinal)
            .Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var leaves = new List<string>();
        foreach (var token in tokens)
        {
            if (token is "(" or ")" or "AND" or "OR" or "WITH")
                continue;
            leaves.Add(token.TrimEnd('+'));
        }

        return leaves.Count == 0 ? (null, "empty expression") : (leaves, null);
    }
}
