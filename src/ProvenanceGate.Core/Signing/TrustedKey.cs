using System.Formats.Asn1;
using System.Security.Cryptography;

namespace ProvenanceGate.Signing;

/// <summary>
/// A public key the caller trusts, by name (its path or env:// reference). Holds the SPKI DER, not a live ECDsa,
/// so it can be kept and shared freely; <see cref="CreateEcdsa"/> makes one per use.
/// </summary>
public sealed class TrustedKey
{
    public const string EcPublicKeyOid = "1.2.840.10045.2.1";

    private readonly byte[] _subjectPublicKeyInfo;

    public TrustedKey(string name, ReadOnlySpan<byte> subjectPublicKeyInfo)
    {
        Name = name;
        _subjectPublicKeyInfo = subjectPublicKeyInfo.ToArray();
        using var ecdsa = CreateEcdsa();
        KeySizeBits = ecdsa.KeySize;
        Hint = Convert.ToBase64String(SHA256.HashData(_subjectPublicKeyInfo));
    }

    public string Name { get; }

    /// <summary>cosign's `publicKey.hint`: base64(SHA-256(SPKI DER)). Informational only; it never selects a key.</summary>
    public string Hint { get; }

    public int KeySizeBits { get; }

    public ReadOnlySpan<byte> SubjectPublicKeyInfo => _subjectPublicKeyInfo;

    /// <summary>The PKIX `PUBLIC KEY` PEM cosign writes to cosign.pub.</summary>
    public string ToPem() => KeyReference.ToPem("PUBLIC KEY", _subjectPublicKeyInfo);

    public ECDsa CreateEcdsa()
    {
        var ecdsa = ECDsa.Create();
        try
        {
            ecdsa.ImportSubjectPublicKeyInfo(_subjectPublicKeyInfo, out var read);
            if (read != _subjectPublicKeyInfo.Length)
                throw new CryptographicException("trailing data after the SubjectPublicKeyInfo");
            return ecdsa;
        }
        catch
        {
            ecdsa.Dispose();
            throw;
        }
    }

    public static TrustedKey FromEcdsa(string name, ECDsa key) => new(name, key.ExportSubjectPublicKeyInfo());

    /// <summary>The algorithm OID of a SubjectPublicKeyInfo or PKCS#8 structure, or null when it is neither.</summary>
    public static string? AlgorithmOid(ReadOnlySpan<byte> der, bool pkcs8)
    {
        try
        {
            var sequence = new AsnReader(der.ToArray(), AsnEncodingRules.DER).ReadSequence();
            if (pkcs8)
                sequence.ReadInteger();
            var algorithm = sequence.ReadSequence();
            return algorithm.ReadObjectIdentifier();
        }
        catch (AsnContentException)
        {
            return null;
        }
    }

    public static string DescribeAlgorithm(string oid) => oid switch
    {
        "1.2.840.113549.1.1.1" => "RSA",
        "1.3.101.112" => "Ed25519",
        EcPublicKeyOid => "ECDSA",
        _ => "OID " + oid,
    };
}
