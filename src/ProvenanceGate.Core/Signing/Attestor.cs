using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using ProvenanceGate.IO;

namespace ProvenanceGate.Signing;

/// <summary>An attestation as written: the statement, its signed DSSE envelope, and the signer's public key.</summary>
public sealed record Attestation(InTotoStatement Statement, DsseEnvelope Envelope, TrustedKey SignerKey)
{
    public string BundleJson => SignatureBundle.CreateDsseBundle(SignerKey.Hint, Envelope);

    public string EnvelopeJson => SignatureBundle.CreateEnvelopeJson(Envelope);
}

/// <summary>
/// `cosign attest-blob --key`: an in-toto Statement v0.1 about the artifacts (basename + SHA-256 each), with the
/// predicate (the ML-BOM), in a DSSE envelope signed over PAE with ECDSA P-256.
/// </summary>
public static class Attestor
{
    public static Attestation Attest(ECDsa key, IReadOnlyList<string> artifactPaths, JsonNode predicate, string predicateType)
    {
        BlobSigner.RequireP256(key);
        if (artifactPaths.Count == 0)
            throw Diagnostics.Diagnostics.UsageError.Exception("an attestation needs at least one artifact");

        var subjects = new List<StatementSubject>();
        foreach (var path in artifactPaths)
        {
            if (!File.Exists(path))
                throw Diagnostics.Diagnostics.FileNotFound.Exception($"artifact '{path}' does not exist", path);
            subjects.Add(new StatementSubject(Path.GetFileName(path), Convert.ToHexStringLower(EcdsaSignatures.DigestFile(HashAlgorithmName.SHA256, path))));
        }

        var statement = new InTotoStatement(InTotoStatement.TypeV01, subjects, predicateType, predicate.DeepClone());
        var payload = statement.ToJsonBytes();
        var signature = BlobSigner.SignBytes(key, DsseEnvelope.Pae(DsseEnvelope.InTotoPayloadType, payload));
        return new Attestation(statement, new DsseEnvelope(DsseEnvelope.InTotoPayloadType, payload, [signature]), TrustedKey.FromEcdsa("signing key", key));
    }

    /// <summary>Reads the predicate file: a JSON object (cosign embeds it as a protobuf Struct, which must be an object).</summary>
    public static JsonNode ReadPredicate(string predicatePath)
    {
        var bytes = IO.JsonInput.Read(predicatePath, IO.InputLimit.Predicate, Diagnostics.Diagnostics.PredicateInvalid);
        try
        {
            return JsonNode.Parse(bytes.Span, documentOptions: SignatureBundle.StrictJson) as JsonObject
                   ?? throw Diagnostics.Diagnostics.PredicateInvalid.Exception($"'{predicatePath}' is not a JSON object", predicatePath);
        }
        catch (JsonException ex)
        {
            throw Diagnostics.Diagnostics.PredicateInvalid.Exception(
                $"'{predicatePath}' is not valid JSON: {ex.Message}", predicatePath, (int?)ex.LineNumber + 1, (int?)ex.BytePositionInLine + 1);
        }
    }

    /// <summary>Writes the bundle and, when asked, the bare envelope; both atomically.</summary>
    public static void Write(Attestation attestation, string bundlePath, string? envelopePath)
    {
        AtomicFile.WriteAllText(bundlePath, attestation.BundleJson);
        if (envelopePath is not null)
            AtomicFile.WriteAllText(envelopePath, attestation.EnvelopeJson);
    }
}
