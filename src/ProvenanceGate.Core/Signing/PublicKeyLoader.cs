using System.Security.Cryptography;

namespace ProvenanceGate.Signing;

/// <summary>Loads a PKIX `PUBLIC KEY` PEM (cosign.pub) from a file or env://VAR. ECDSA only.</summary>
public static class PublicKeyLoader
{
    public static TrustedKey Load(string keyReference)
    {
        var invalid = Diagnostics.Diagnostics.PublicKeyInvalid;
        var file = KeyReference.FileFor(keyReference);
        var text = KeyReference.ReadText(keyReference, invalid);
        var (label, body) = KeyReference.ReadPem(text, keyReference, invalid);
        if (label != "PUBLIC KEY")
            throw invalid.Exception($"'{keyReference}': unsupported pem type: {label} (expected PUBLIC KEY, as in cosign.pub)", file);

        var oid = TrustedKey.AlgorithmOid(body, pkcs8: false)
                  ?? throw invalid.Exception($"'{keyReference}': not a SubjectPublicKeyInfo structure", file);
        if (oid != TrustedKey.EcPublicKeyOid)
            throw invalid.Exception($"'{keyReference}': {TrustedKey.DescribeAlgorithm(oid)} public keys are not supported; use an ECDSA key", file);

        try
        {
            var key = new TrustedKey(keyReference, body);
            if (key.KeySizeBits is not (256 or 384 or 521))
                throw invalid.Exception($"'{keyReference}': ECDSA keys of {key.KeySizeBits} bits are not supported (P-256, P-384, P-521)", file);
            return key;
        }
        catch (CryptographicException)
        {
            throw invalid.Exception($"'{keyReference}': not a valid ECDSA public key", file);
        }
        catch (PlatformNotSupportedException)
        {
            // A curve OpenSSL does not know (the fuzzer found named curves outside P-256/384/521 land here).
            throw invalid.Exception($"'{keyReference}': the key's curve is not supported (P-256, P-384, P-521)", file);
        }
    }

    public static IReadOnlyList<TrustedKey> LoadAll(IEnumerable<string> keyReferences) => keyReferences.Select(Load).ToArray();
}
