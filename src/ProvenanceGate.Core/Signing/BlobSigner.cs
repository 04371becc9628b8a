using System.Security.Cryptography;
using ProvenanceGate.IO;

namespace ProvenanceGate.Signing;

/// <summary>A signed file: its SHA-256 and the DER ECDSA signature over it, plus the signer's public key.</summary>
public sealed record SignedBlob(string ArtifactPath, byte[] Sha256, byte[] Signature, TrustedKey SignerKey)
{
    /// <summary>What `cosign sign-blob` prints or writes with --output-signature: base64 of the DER signature.</summary>
    public string SignatureBase64 => Convert.ToBase64String(Signature);

    public string BundleJson => SignatureBundle.CreateMessageSignatureBundle(SignerKey.Hint, Sha256, Signature);
}

/// <summary>`cosign sign-blob --key`: ECDSA P-256 over SHA-256 of the file, as a raw signature and a Sigstore v0.3 bundle.</summary>
public static class BlobSigner
{
    public static SignedBlob SignFile(ECDsa key, string artifactPath)
    {
        RequireP256(key);
        if (!File.Exists(artifactPath))
            throw Diagnostics.Diagnostics.FileNotFound.Exception($"'{artifactPath}' does not exist", artifactPath);
        var digest = EcdsaSignatures.DigestFile(HashAlgorithmName.SHA256, artifactPath);
        return new SignedBlob(artifactPath, digest, EcdsaSignatures.SignHash(key, digest), TrustedKey.FromEcdsa("signing key", key));
    }

    public static byte[] SignBytes(ECDsa key, ReadOnlySpan<byte> data)
    {
        RequireP256(key);
        return EcdsaSignatures.SignHash(key, SHA256.HashData(data));
    }

    /// <summary>Writes the base64 signature (no newline, as cosign's --output-signature) and/or the bundle, atomically.</summary>
    public static void Write(SignedBlob signedBlob, string? signaturePath, string? bundlePath)
    {
        if (signaturePath is not null)
            AtomicFile.WriteAllText(signaturePath, signedBlob.SignatureBase64);
        if (bundlePath is not null)
            AtomicFile.WriteAllText(bundlePath, signedBlob.BundleJson);
    }

    // cosign signs blobs with P-256/SHA-256 by default, and the bundle's messageDigest is SHA2_256; other curves would
    // need a different digest on both sides, so they are refused rather than signed in a way verifiers disagree on.
    internal static void RequireP256(ECDsa key)
    {
        if (key.KeySize != 256)
            throw Diagnostics.Diagnostics.PrivateKeyInvalid.Exception($"signing needs an ECDSA P-256 key (cosign's default); this key has {key.KeySize} bits");
    }
}
