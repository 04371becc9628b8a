using System.Security.Cryptography;

namespace ProvenanceGate.Signing;

/// <summary>
/// Loads a signing key from a file or env://VAR: a cosign encrypted key (both labels), or a PKCS#8 PEM
/// (`PRIVATE KEY`, or `ENCRYPTED PRIVATE KEY` with the same password rules). ECDSA P-256/P-384/P-521 only.
/// </summary>
public static class PrivateKeyLoader
{
    /// <summary>
    /// Returns the key (the caller disposes it). <paramref name="passwordProvider"/> is called at most once, and only
    /// when the key is encrypted.
    /// </summary>
    public static ECDsa Load(string keyReference, Func<string> passwordProvider)
    {
        var invalid = Diagnostics.Diagnostics.PrivateKeyInvalid;
        var file = KeyReference.FileFor(keyReference);
        var text = KeyReference.ReadText(keyReference, invalid);
        var (label, body) = KeyReference.ReadPem(text, keyReference, invalid);

        if (CosignEncryptedKey.IsCosignLabel(label))
        {
            var pkcs8 = CosignEncryptedKey.Decrypt(body, passwordProvider, keyReference);
            try
            {
                return ImportPkcs8(pkcs8, keyReference);
            }
            finally
            {
                CryptographicOperations.ZeroMemory(pkcs8);
            }
        }

        switch (label)
        {
            case "PRIVATE KEY":
                return ImportPkcs8(body, keyReference);
            case "ENCRYPTED PRIVATE KEY" when body.Length > 0 && body[0] == (byte)'{':
                // A cosign JSON body under the PKCS#8 label: cosign itself refuses this label.
                throw invalid.Exception(
                    $"'{keyReference}': unsupported pem type: {label} holds a cosign key body; its label must be {CosignEncryptedKey.Label}", file);
            case "ENCRYPTED PRIVATE KEY":
                return ImportEncryptedPkcs8(body, passwordProvider, keyReference);
            default:
                throw invalid.Exception(
                    $"'{keyReference}': unsupported pem type: {label} (expected {CosignEncryptedKey.Label}, {CosignEncryptedKey.LegacyLabel}, " +
                    "PRIVATE KEY or ENCRYPTED PRIVATE KEY; convert SEC1 keys with `openssl pkcs8 -topk8`)", file);
        }
    }

    private static ECDsa ImportPkcs8(byte[] pkcs8, string keyReference)
    {
        var invalid = Diagnostics.Diagnostics.PrivateKeyInvalid;
        var file = KeyReference.FileFor(keyReference);
        var oid = TrustedKey.AlgorithmOid(pkcs8, pkcs8: true)
                  ?? throw invalid.Exception($"'{keyReference}': the key is not PKCS#8 (cosign keys hold a PKCS#8 private key; a SEC1 EC key is refused, as cosign does)", file);
        if (oid != TrustedKey.EcPublicKeyOid)
            throw invalid.Exception($"'{keyReference}': {TrustedKey.DescribeAlgorithm(oid)} keys are not supported; use an ECDSA P-256 key", file);

        var ecdsa = ECDsa.Create();
        try
        {
            ecdsa.ImportPkcs8PrivateKey(pkcs8, out var read);
            if (read != pkcs8.Length)
                throw new CryptographicException("trailing data");
            return CheckCurve(ecdsa, keyReference);
        }
        catch (CryptographicException)
        {
            ecdsa.Dispose();
            throw invalid.Exception($"'{keyReference}': the PKCS#8 data is not a valid ECDSA key on P-256, P-384 or P-521", file);
        }
    }

    private static ECDsa ImportEncryptedPkcs8(byte[] body, Func<string> passwordProvider, string keyReference)
    {
        var ecdsa = ECDsa.Create();
        try
        {
            ecdsa.ImportEncryptedPkcs8PrivateKey(passwordProvider(), body, out _);
            return CheckCurve(ecdsa, keyReference);
        }
        catch (CryptographicException)
        {
            ecdsa.Dispose();
            throw Diagnostics.Diagnostics.PrivateKeyDecryptionFailed.Exception(
                $"'{keyReference}': decryption failed: wrong password, a corrupted key, or not an ECDSA key", KeyReference.FileFor(keyReference));
        }
    }

    private static ECDsa CheckCurve(ECDsa ecdsa, string keyReference)
    {
        if (ecdsa.KeySize is 256 or 384 or 521)
            return ecdsa;
        ecdsa.Dispose();
        throw Diagnostics.Diagnostics.PrivateKeyInvalid.Exception(
            $"'{keyReference}': ECDSA keys of {ecdsa.KeySize} bits are not supported (P-256, P-384, P-521)", KeyReference.FileFor(keyReference));
    }
}
