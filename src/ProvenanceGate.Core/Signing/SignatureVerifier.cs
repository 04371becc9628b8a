using System.Security.Cryptography;
using System.Text;
using ProvenanceGate.Diagnostics;

namespace ProvenanceGate.Signing;

/// <summary>Outcome of a blob verification. Failures are diagnostics, not exceptions.</summary>
public sealed record SignatureVerificationResult(bool Verified, TrustedKey? MatchedKey, IReadOnlyList<Diagnostic> Diagnostics);

/// <summary>
/// `cosign verify-blob --key --insecure-ignore-tlog=true`: a raw signature (base64 or DER), a legacy cosign bundle or a
/// Sigstore bundle v0.1–v0.3 over a file. Any one of the trusted keys verifying is enough; the bundle's key hint
/// never chooses the key. A bundle's messageDigest must equal the file's digest too, as sigstore-go requires.
/// </summary>
public static class SignatureVerifier
{

    /// <summary>
    /// Throws <see cref="ProvenanceException"/> (exit 2) only for missing, unreadable or malformed input;
    /// a signature that does not verify is a result with <c>Verified = false</c> and a PG2xxx error.
    /// </summary>
    public static SignatureVerificationResult VerifyBlob(string artifactPath, IReadOnlyList<TrustedKey> keys, string? signaturePath, string? bundlePath)
    {
        if (keys.Count == 0)
            throw Diagnostics.Diagnostics.UsageError.Exception("at least one public key is needed to verify");
        if ((signaturePath is null) == (bundlePath is null))
            throw Diagnostics.Diagnostics.UsageError.Exception("give exactly one of a signature file and a bundle");
        if (!File.Exists(artifactPath))
            throw Diagnostics.Diagnostics.FileNotFound.Exception($"artifact '{artifactPath}' does not exist", artifactPath);

        var diagnostics = new List<Diagnostic>();
        byte[] signature;
        byte[]? claimedDigest = null;
        string? hint = null;
        var algorithm = HashAlgorithmName.SHA256;
        var signatureFile = (signaturePath ?? bundlePath)!;
        if (signaturePath is not null)
        {
            signature = ReadSignatureFile(signaturePath);
        }
        else
        {
            var bundle = SignatureBundle.Read(bundlePath!);
            if (bundle.HasUnverifiedTransparencyData)
                diagnostics.Add(TransparencyWarning(bundlePath!));
            hint = bundle.KeyHint;
            switch (bundle)
            {
                case { Kind: SignatureFileKind.LegacyCosignBundle, LegacySignature: { } legacy }:
                    signature = legacy;
                    break;
                case { MessageSignature: { } message }:
                    signature = message.Signature;
                    claimedDigest = message.Digest;
                    algorithm = message.Algorithm switch
                    {
                        "SHA2_384" => HashAlgorithmName.SHA384,
                        "SHA2_512" => HashAlgorithmName.SHA512,
                        _ => HashAlgorithmName.SHA256,
                    };
                    break;
                default:
                    throw Diagnostics.Diagnostics.BundleMalformed.Exception(
                        $"'{bundlePath}' holds a DSSE attestation, not a blob signature; use verify-attestation", bundlePath);
            }
        }

        var digest = EcdsaSignatures.DigestFile(algorithm, artifactPath);
        var matched = keys.FirstOrDefault(key =>
        {
            using var ecdsa = key.CreateEcdsa();
            return EcdsaSignatures.VerifyHash(ecdsa, digest, signature);
        });
        if (matched is null)
        {
            diagnostics.Add(Diagnostics.Diagnostics.SignatureInvalid.Error(
                $"the signature in '{signatureFile}' does not verify over '{artifactPath}' with {DescribeKeys(keys)}", artifactPath));
            return new SignatureVerificationResult(false, null, diagnostics);
        }

        if (claimedDigest is not null && !CryptographicOperations.FixedTimeEquals(claimedDigest, digest))
        {
            diagnostics.Add(Diagnostics.Diagnostics.MessageDigestMismatch.Error(
                $"artifact digest does not match message digest: '{signatureFile}' claims {Convert.ToHexStringLower(claimedDigest)}, " +
                $"'{artifactPath}' has {Convert.ToHexStringLower(digest)}", signatureFile));
            return new SignatureVerificationResult(false, matched, diagnostics);
        }

        AddHintWarning(diagnostics, hint, matched, signatureFile);
        return new SignatureVerificationResult(true, matched, diagnostics);
    }

    /// <summary>A signature file as cosign reads it: base64 text (line breaks allowed), else raw DER bytes.</summary>
    internal static byte[] ReadSignatureFile(string path)
    {
        var bytes = IO.InputFile.ReadAllBytes(path, IO.InputLimit.Signature);
        var text = Encoding.ASCII.GetString(bytes).Trim();
        if (text.Length == 0)
            throw Diagnostics.Diagnostics.SignatureMalformed.Exception($"'{path}' is empty", path);
        try
        {
            return Convert.FromBase64String(text);
        }
        catch (FormatException)
        {
            return bytes;
        }
    }

    internal static string DescribeKeys(IReadOnlyList<TrustedKey> keys) =>
        keys.Count == 1 ? $"key '{keys[0].Name}'" : $"any of the {keys.Count} keys ({string.Join(", ", keys.Select(k => k.Name))})";

    internal static Diagnostic TransparencyWarning(string bundlePath) =>
        Diagnostics.Diagnostics.TransparencyLogNotVerified.Warning(
            $"'{bundlePath}' carries transparency-log entries or timestamps; ProvenanceGate verifies with keys only and did not check them " +
            "(cosign: --insecure-ignore-tlog=true)", bundlePath);

    // The hint is unauthenticated; a mismatch changes nothing, but it usually means the bundle was made for another key.
    internal static void AddHintWarning(List<Diagnostic> diagnostics, string? hint, TrustedKey matched, string bundlePath)
    {
        if (hint is null || hint == matched.Hint)
            return;
        byte[] decoded;
        try
        {
            decoded = Convert.FromBase64String(hint);
        }
        catch (FormatException)
        {
            return; // Not cosign's form (model_signing writes hex of the PEM's SHA-256): nothing to compare.
        }

        if (decoded.Length == 32)
        {
            diagnostics.Add(Diagnostics.Diagnostics.KeyHintMismatch.Warning(
                $"'{bundlePath}' names key hint {hint}, but it verified with '{matched.Name}' (hint {matched.Hint}); the hint is ignored", bundlePath));
        }
    }
}
