using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using ProvenanceGate.Diagnostics;

namespace ProvenanceGate.Signing;

/// <summary>
/// Outcome of an attestation check. <see cref="Statement"/> is set once the envelope's signature verified (even when
/// a later claim check failed), so a caller can report on it; it is never set from unauthenticated bytes.
/// </summary>
public sealed record AttestationVerificationResult(
    bool Verified,
    TrustedKey? MatchedKey,
    IReadOnlyList<Diagnostic> Diagnostics,
    InTotoStatement? Statement);

/// <summary>
/// `cosign verify-blob-attestation --key --insecure-ignore-tlog=true`: a Sigstore bundle with a DSSE envelope, a legacy
/// cosign bundle, or a bare envelope. Checks exactly one signature, the signature over PAE, the in-toto payload
/// type, the statement `_type`, the predicate type, and that every artifact's SHA-256 is one of the subjects.
/// </summary>
public static class AttestationVerifier
{
    /// <param name="artifactPaths">Files whose SHA-256 must each appear among the subjects; empty skips the subject check.</param>
    public static AttestationVerificationResult Verify(
        string bundleOrEnvelopePath, IReadOnlyList<TrustedKey> keys, IReadOnlyList<string> artifactPaths, string expectedPredicateType)
    {
        if (keys.Count == 0)
            throw Diagnostics.Diagnostics.UsageError.Exception("at least one public key is needed to verify");
        foreach (var artifact in artifactPaths)
        {
            if (!File.Exists(artifact))
                throw Diagnostics.Diagnostics.FileNotFound.Exception($"artifact '{artifact}' does not exist", artifact);
        }

        var path = bundleOrEnvelopePath;
        var bundle = SignatureBundle.Read(path);
        var envelope = EnvelopeOf(bundle, path);
        var diagnostics = new List<Diagnostic>();
        if (bundle.HasUnverifiedTransparencyData)
            diagnostics.Add(SignatureVerifier.TransparencyWarning(path));

        if (envelope.Signatures.Count != 1)
        {
            diagnostics.Add(Diagnostics.Diagnostics.SignatureCountInvalid.Error(
                $"'{path}': the DSSE envelope carries {envelope.Signatures.Count} signatures; exactly one is accepted", path));
            return new AttestationVerificationResult(false, null, diagnostics, null);
        }

        var pae = envelope.Pae();
        var matched = keys.FirstOrDefault(key =>
        {
            using var ecdsa = key.CreateEcdsa();
            return EcdsaSignatures.VerifyMessage(ecdsa, pae, envelope.Signatures[0]);
        });
        if (matched is null)
        {
            diagnostics.Add(Diagnostics.Diagnostics.SignatureInvalid.Error(
                $"'{path}': the DSSE signature does not verify over PAE(payloadType, payload) with {SignatureVerifier.DescribeKeys(keys)}", path));
            return new AttestationVerificationResult(false, null, diagnostics, null);
        }

        SignatureVerifier.AddHintWarning(diagnostics, bundle.KeyHint, matched, path);
        if (envelope.PayloadType != DsseEnvelope.InTotoPayloadType)
        {
            diagnostics.Add(Diagnostics.Diagnostics.PayloadTypeMismatch.Error(
                $"'{path}': payloadType is '{envelope.PayloadType}', expected '{DsseEnvelope.InTotoPayloadType}'", path));
            return new AttestationVerificationResult(false, matched, diagnostics, null);
        }

        var statement = InTotoStatement.TryParse(envelope.Payload, out var problem);
        if (statement is null)
        {
            diagnostics.Add(Diagnostics.Diagnostics.StatementInvalid.Error($"'{path}': {problem}", path));
            return new AttestationVerificationResult(false, matched, diagnostics, null);
        }

        if (!string.Equals(statement.PredicateType, expectedPredicateType, StringComparison.Ordinal))
        {
            diagnostics.Add(Diagnostics.Diagnostics.PredicateTypeMismatch.Error(
                $"'{path}': predicateType is '{statement.PredicateType}', expected '{expectedPredicateType}'", path));
        }

        foreach (var artifact in artifactPaths)
        {
            var sha256 = Convert.ToHexStringLower(EcdsaSignatures.DigestFile(HashAlgorithmName.SHA256, artifact));
            if (!statement.Subjects.Any(s => string.Equals(s.Sha256, sha256, StringComparison.OrdinalIgnoreCase)))
            {
                diagnostics.Add(Diagnostics.Diagnostics.SubjectMismatch.Error(
                    $"'{artifact}' (sha256 {sha256}) is not a subject of '{path}' (subjects: " +
                    $"{string.Join(", ", statement.Subjects.Select(s => $"{s.Name} {s.Sha256}"))})", artifact));
            }
        }

        var verified = !diagnostics.Any(d => d.Severity == DiagnosticSeverity.Error);
        return new AttestationVerificationResult(verified, matched, diagnostics, statement);
    }

    private static DsseEnvelope EnvelopeOf(SignatureBundle bundle, string path)
    {
        var malformed = Diagnostics.Diagnostics.BundleMalformed;
        switch (bundle)
        {
            case { Envelope: { } envelope }:
                return envelope;
            case { Kind: SignatureFileKind.LegacyCosignBundle, LegacySignature: { } legacy }:
                // cosign's legacy attestation bundle: base64Signature is the base64 of the envelope JSON.
                try
                {
                    IO.JsonInput.Check(legacy, path, "envelope in base64Signature", malformed);
                    if (JsonNode.Parse(legacy, documentOptions: SignatureBundle.StrictJson) is JsonObject json)
                        return DsseEnvelope.FromJson(json, path);
                }
                catch (Exception ex) when (ex is JsonException or Diagnostics.ProvenanceException)
                {
                    // Reported below.
                }

                throw malformed.Exception($"'{path}': base64Signature does not hold a DSSE envelope; is this a blob signature bundle?", path);
            default:
                throw malformed.Exception($"'{path}' holds a blob signature, not an attestation; use verify-signature", path);
        }
    }
}
