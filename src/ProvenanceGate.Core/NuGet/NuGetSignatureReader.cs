using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace ProvenanceGate.NuGet;

/// <summary>One signature of a package: who signed it (certificate SHA-256 and subject) and when a timestamp authority saw it.</summary>
public sealed record NuGetSigner(string Kind, string CertificateSha256, string Subject, DateTimeOffset? Timestamp);

/// <summary>
/// What a package's <c>.signature.p7s</c> records. <see cref="Signers"/> is empty for an unsigned package. These are
/// facts read from the file, not a verification: <c>dotnet nuget verify</c> and restore's own signature validation
/// check the chain and the package hash.
/// </summary>
public sealed record NuGetSignatureInfo(IReadOnlyList<NuGetSigner> Signers)
{
    public bool IsSigned => Signers.Count > 0;

    public NuGetSigner? Author => Signers.FirstOrDefault(s => s.Kind == NuGetSignatureReader.AuthorKind);

    public NuGetSigner? Repository => Signers.FirstOrDefault(s => s.Kind == NuGetSignatureReader.RepositoryKind);
}

/// <summary>
/// Reads the CMS SignedData of a NuGet package signature with the BCL's ASN.1 reader. NuGet.Packaging would do this,
/// but the MSBuild tasks run inside the SDK, which already loads its own NuGet assemblies; reading the few fields the
/// BOM records keeps the task free of that version conflict.
/// </summary>
public static class NuGetSignatureReader
{
    public const string SignatureFileName = ".signature.p7s";
    public const string AuthorKind = "author";
    public const string RepositoryKind = "repository";

    /// <summary>A package signature is a few KiB; anything far larger is not one.</summary>
    public const int MaxSignatureBytes = 1 << 20;

    private const string SignedDataOid = "1.2.840.113549.1.7.2";
    private const string CommitmentTypeOid = "1.2.840.113549.1.9.16.2.16";
    private const string ProofOfOriginOid = "1.2.840.113549.1.9.16.6.1";
    private const string ProofOfReceiptOid = "1.2.840.113549.1.9.16.6.2";
    private const string TimestampTokenOid = "1.2.840.113549.1.9.16.2.14";
    private const string CounterSignatureOid = "1.2.840.113549.1.9.6";

    /// <summary>The signature facts of the extracted package in <paramref name="packageDirectory"/>.</summary>
    /// <remarks>A malformed signature file is reported as unsigned-with-reason rather than failing the build: restore already accepted the package.</remarks>
    public static NuGetSignatureInfo Read(string packageDirectory)
    {
        var path = Path.Combine(packageDirectory, SignatureFileName);
        if (!File.Exists(path) || new FileInfo(path).Length > MaxSignatureBytes)
            return new NuGetSignatureInfo([]);
        try
        {
            return Parse(File.ReadAllBytes(path));
        }
        catch (Exception ex) when (ex is AsnContentException or CryptographicException or ArgumentException or InvalidOperationException)
        {
            return new NuGetSignatureInfo([]);
        }
    }

    public static NuGetSignatureInfo Parse(byte[] der)
    {
        var (certificates, signerInfos) = ReadSignedData(der);
        var signers = new List<NuGetSigner>();
        foreach (var signerInfo in signerInfos)
            ReadSigner(signerInfo, certificates, signers, counterSignature: false);
        return new NuGetSignatureInfo(signers);
    }

    private static (List<byte[]> Certificates, List<ReadOnlyMemory<byte>> SignerInfos) ReadSignedData(ReadOnlyMemory<byte> der)
    {
        var contentInfo = new AsnReader(der, AsnEncodingRules.BER).ReadSequence();
        if (contentInfo.ReadObjectIdentifier() != SignedDataOid)
            throw new InvalidOperationException("not a CMS SignedData");
        var signedData = contentInfo.ReadSequence(new Asn1Tag(TagClass.ContextSpecific, 0)).ReadSequence();
        signedData.ReadInteger();      // version
        signedData.ReadSetOf();        // digestAlgorithms
        signedData.ReadSequence();     // encapContentInfo
        var certificates = new List<byte[]>();
        if (signedData.PeekTag().HasSameClassAndValue(new Asn1Tag(TagClass.ContextSpecific, 0)))
        {
            var set = signedData.ReadSetOf(new Asn1Tag(TagClass.ContextSpecific, 0));
            while (set.HasData)
                certificates.Add(set.ReadEncodedValue().ToArray());
        }

        if (signedData.PeekTag().HasSameClassAndValue(new Asn1Tag(TagClass.ContextSpecific, 1)))
            signedData.ReadEncodedValue(); // crls
        var signerInfos = new List<ReadOnlyMemory<byte>>();
        var infos = signedData.ReadSetOf();
        while (infos.HasData)
            signerInfos.Add(infos.ReadEncodedValue());
        return (certificates, signerInfos);
    }

    private static void ReadSigner(ReadOnlyMemory<byte> encoded, List<byte[]> certificates, List<NuGetSigner> signers, bool counterSignature)
    {
        var signerInfo = new AsnReader(encoded, AsnEncodingRules.BER).ReadSequence();
        signerInfo.ReadInteger();
        var signerId = signerInfo.ReadEncodedValue();
        signerInfo.ReadSequence(); // digestAlgorithm
        var kind = counterSignature ? RepositoryKind : AuthorKind;
        if (signerInfo.PeekTag().HasSameClassAndValue(new Asn1Tag(TagClass.ContextSpecific, 0)))
        {
            foreach (var (oid, values) in Attributes(signerInfo.ReadSetOf(new Asn1Tag(TagClass.ContextSpecific, 0))))
            {
                if (oid == CommitmentTypeOid && values.Count > 0)
                {
                    var commitment = new AsnReader(values[0], AsnEncodingRules.BER).ReadSequence().ReadObjectIdentifier();
                    kind = commitment == ProofOfReceiptOid ? RepositoryKind : commitment == ProofOfOriginOid ? AuthorKind : kind;
                }
            }
        }

        signerInfo.ReadSequence();      // signatureAlgorithm
        signerInfo.ReadOctetString();   // signature
        DateTimeOffset? timestamp = null;
        var counterSigners = new List<ReadOnlyMemory<byte>>();
        if (signerInfo.HasData && signerInfo.PeekTag().HasSameClassAndValue(new Asn1Tag(TagClass.ContextSpecific, 1)))
        {
            foreach (var (oid, values) in Attributes(signerInfo.ReadSetOf(new Asn1Tag(TagClass.ContextSpecific, 1))))
            {
                if (oid == TimestampTokenOid && values.Count > 0)
                    timestamp = TimestampOf(values[0]);
                else if (oid == CounterSignatureOid)
                    counterSigners.AddRange(values);
            }
        }

        var certificate = certificates.FirstOrDefault(c => Identifies(signerId, c));
        if (certificate is not null)
        {
            using var x509 = X509CertificateLoader.LoadCertificate(certificate);
            signers.Add(new NuGetSigner(kind, Convert.ToHexStringLower(SHA256.HashData(certificate)), x509.Subject, timestamp));
        }

        foreach (var counter in counterSigners)
            ReadSigner(counter, certificates, signers, counterSignature: true);
    }

    private static IEnumerable<(string Oid, List<ReadOnlyMemory<byte>> Values)> Attributes(AsnReader set)
    {
        while (set.HasData)
        {
            var attribute = set.ReadSequence();
            var oid = attribute.ReadObjectIdentifier();
            var values = new List<ReadOnlyMemory<byte>>();
            var valueSet = attribute.ReadSetOf();
            while (valueSet.HasData)
                values.Add(valueSet.ReadEncodedValue());
            yield return (oid, values);
        }
    }

    /// <summary>
    /// Whether a SignerIdentifier names <paramref name="certificate"/>: IssuerAndSerialNumber (issuer and serial) or
    /// [0] SubjectKeyIdentifier (nuget.org's signatures use the latter).
    /// </summary>
    private static bool Identifies(ReadOnlyMemory<byte> signerId, byte[] certificate)
    {
        var reader = new AsnReader(signerId, AsnEncodingRules.BER);
        var tbs = new AsnReader(certificate, AsnEncodingRules.DER).ReadSequence().ReadSequence();
        if (tbs.PeekTag().HasSameClassAndValue(new Asn1Tag(TagClass.ContextSpecific, 0)))
            tbs.ReadEncodedValue(); // version
        var serial = tbs.ReadIntegerBytes();
        tbs.ReadSequence();          // signature algorithm
        var issuer = tbs.ReadEncodedValue();
        if (reader.PeekTag().HasSameClassAndValue(Asn1Tag.Sequence))
        {
            var issuerAndSerial = reader.ReadSequence();
            return issuerAndSerial.ReadEncodedValue().Span.SequenceEqual(issuer.Span) && issuerAndSerial.ReadIntegerBytes().Span.SequenceEqual(serial.Span);
        }

        var keyId = reader.ReadOctetString(new Asn1Tag(TagClass.ContextSpecific, 0));
        using var x509 = X509CertificateLoader.LoadCertificate(certificate);
        return x509.Extensions.OfType<X509SubjectKeyIdentifierExtension>().FirstOrDefault()?.SubjectKeyIdentifierBytes.Span.SequenceEqual(keyId) == true;
    }

    /// <summary>genTime of an RFC 3161 timestamp token (a SignedData over a TSTInfo).</summary>
    private static DateTimeOffset? TimestampOf(ReadOnlyMemory<byte> token)
    {
        var contentInfo = new AsnReader(token, AsnEncodingRules.BER).ReadSequence();
        contentInfo.ReadObjectIdentifier();
        var signedData = contentInfo.ReadSequence(new Asn1Tag(TagClass.ContextSpecific, 0)).ReadSequence();
        signedData.ReadInteger();
        signedData.ReadSetOf();
        var encapsulated = signedData.ReadSequence();
        encapsulated.ReadObjectIdentifier();
        var content = encapsulated.ReadSequence(new Asn1Tag(TagClass.ContextSpecific, 0)).ReadOctetString();
        var tstInfo = new AsnReader(content, AsnEncodingRules.DER).ReadSequence();
        tstInfo.ReadInteger();               // version
        tstInfo.ReadObjectIdentifier();      // policy
        tstInfo.ReadSequence();              // messageImprint
        tstInfo.ReadIntegerBytes();          // serialNumber
        return tstInfo.ReadGeneralizedTime();
    }
}
