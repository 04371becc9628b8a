using System.Formats.Asn1;
using System.Security.Cryptography;
using Org.BouncyCastle.Asn1.Nist;
using Org.BouncyCastle.Crypto.Digests;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;
using BigInteger = Org.BouncyCastle.Math.BigInteger;

namespace ProvenanceGate.Signing;

/// <summary>ECDSA as cosign and sigstore use it: ASN.1 DER signatures over a digest, P1363 accepted on verify.</summary>
internal static class EcdsaSignatures
{
    /// <summary>The digest sigstore pairs with a curve (P-256: SHA-256, P-384: SHA-384, P-521: SHA-512).</summary>
    public static HashAlgorithmName HashFor(int keySizeBits) => keySizeBits switch
    {
        384 => HashAlgorithmName.SHA384,
        521 => HashAlgorithmName.SHA512,
        _ => HashAlgorithmName.SHA256,
    };

    /// <summary>
    /// A DER signature with a deterministic nonce (RFC 6979), so the same key and file give the same .sig and bundle —
    /// reproducible outputs, and no dependence on the RNG at signing time. Any ECDSA verifier accepts it.
    /// </summary>
    public static byte[] SignHash(ECDsa key, ReadOnlySpan<byte> hash)
    {
        var parameters = key.ExportParameters(includePrivateParameters: true);
        try
        {
            var curve = NistNamedCurves.GetByName(key.KeySize switch { 256 => "P-256", 384 => "P-384", _ => "P-521" });
            var domain = new ECDomainParameters(curve.Curve, curve.G, curve.N, curve.H);
            var privateKey = new ECPrivateKeyParameters(new BigInteger(1, parameters.D), domain);
            var signer = new ECDsaSigner(new HMacDsaKCalculator(key.KeySize switch
            {
                384 => new Sha384Digest(),
                521 => new Sha512Digest(),
                _ => new Sha256Digest(),
            }));
            signer.Init(true, privateKey);
            var rs = signer.GenerateSignature(hash.ToArray());

            var writer = new AsnWriter(AsnEncodingRules.DER);
            using (writer.PushSequence())
            {
                writer.WriteIntegerUnsigned(rs[0].ToByteArrayUnsigned());
                writer.WriteIntegerUnsigned(rs[1].ToByteArrayUnsigned());
            }

            var signature = writer.Encode();
            // A fault or a bug must never leave the building as a signature that does not verify.
            if (!key.VerifyHash(hash, signature, DSASignatureFormat.Rfc3279DerSequence))
                throw new CryptographicException("the signature just made does not verify");
            return signature;
        }
        finally
        {
            if (parameters.D is not null)
                CryptographicOperations.ZeroMemory(parameters.D);
        }
    }

    /// <summary>
    /// Verifies a DER signature; like sigstore's ECDSAVerifier, a signature that is not DER but has the length of
    /// IEEE P1363 r‖s is tried as that.
    /// </summary>
    public static bool VerifyHash(ECDsa key, ReadOnlySpan<byte> hash, ReadOnlySpan<byte> signature)
    {
        if (IsDerSequence(signature))
            return TryVerify(key, hash, signature, DSASignatureFormat.Rfc3279DerSequence);
        var fieldBytes = (key.KeySize + 7) / 8;
        return signature.Length == 2 * fieldBytes && TryVerify(key, hash, signature, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
    }

    /// <summary>Verifies <paramref name="message"/> with the curve's digest, and with SHA-256 when that differs.</summary>
    public static bool VerifyMessage(ECDsa key, ReadOnlySpan<byte> message, ReadOnlySpan<byte> signature)
    {
        var hash = HashFor(key.KeySize);
        if (VerifyHash(key, Digest(hash, message), signature))
            return true;
        return hash != HashAlgorithmName.SHA256 && VerifyHash(key, SHA256.HashData(message), signature);
    }

    public static byte[] Digest(HashAlgorithmName algorithm, ReadOnlySpan<byte> data)
    {
        if (algorithm == HashAlgorithmName.SHA384)
            return SHA384.HashData(data);
        if (algorithm == HashAlgorithmName.SHA512)
            return SHA512.HashData(data);
        return SHA256.HashData(data);
    }

    /// <summary>Streams a file through the digest: model weights can be many gigabytes.</summary>
    public static byte[] DigestFile(HashAlgorithmName algorithm, string path)
    {
        IO.InputFile.EnsureRegularFile(path, "artifact");
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan);
        using var hash = IncrementalHash.CreateHash(algorithm);
        var buffer = new byte[1 << 20];
        int read;
        while ((read = stream.Read(buffer, 0, buffer.Length)) > 0)
            hash.AppendData(buffer, 0, read);
        return hash.GetHashAndReset();
    }

    private static bool TryVerify(ECDsa key, ReadOnlySpan<byte> hash, ReadOnlySpan<byte> signature, DSASignatureFormat format)
    {
        try
        {
            return key.VerifyHash(hash, signature, format);
        }
        catch (CryptographicException)
        {
            return false;
        }
    }

    private static bool IsDerSequence(ReadOnlySpan<byte> signature)
    {
        try
        {
            var reader = new AsnReader(signature.ToArray(), AsnEncodingRules.DER);
            var sequence = reader.ReadSequence();
            sequence.ReadInteger();
            sequence.ReadInteger();
            return !sequence.HasData && !reader.HasData;
        }
        catch (AsnContentException)
        {
            return false;
        }
    }
}
