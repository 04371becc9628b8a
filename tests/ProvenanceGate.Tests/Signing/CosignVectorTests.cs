using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using ProvenanceGate.Diagnostics;
using ProvenanceGate.Signing;

namespace ProvenanceGate.Tests.Signing;

/// <summary>
/// Every case of TestData/cosign/vectors.json (the cosign / sigstore interop vectors) through the Core API:
/// positives verify (keys decrypt to the exact PKCS#8 and public key), negatives fail with the PG code mapped below
/// and, where the vector names one, the upstream error wording.
/// </summary>
public sealed class CosignVectorTests
{
    // The PG code each negative vector must produce.
    private static readonly Dictionary<string, string> ExpectedCodes = new(StringComparer.Ordinal)
    {
        ["key-gen-wrong-password"] = "PG2002",
        ["key-gen-empty-vs-nonempty"] = "PG2002",
        ["key-neg-scrypt-params"] = "PG2001",
        ["key-neg-tampered-ct"] = "PG2002",
        ["key-neg-short-nonce"] = "PG2001",
        ["key-neg-unknown-kdf"] = "PG2001",
        ["key-neg-pem-label"] = "PG2001",
        ["key-up-sec1-plaintext"] = "PG2001",
        ["key-up-wrong-password"] = "PG2002",
        ["sig-gen-tampered-blob"] = "PG2008",
        ["sig-gen-wrong-key"] = "PG2008",
        ["sig-up-sigstore-tampered"] = "PG2008",
        ["legacy-blob-bundle-tampered"] = "PG2008",
        ["dsse-v3-envelope-wrong-artifact"] = "PG2010",
        ["bundle-msg-tampered-blob"] = "PG2008",
        ["bundle-msg-wrong-key"] = "PG2008",
        ["bundle-msg-bad-sig"] = "PG2008",
        ["bundle-msg-digest-mismatch"] = "PG2009",
        ["bundle-unknown-mediatype"] = "PG2007",
        ["bundle-dsse-tampered-payload"] = "PG2008",
        ["bundle-dsse-subject-mismatch"] = "PG2010",
        ["bundle-dsse-wrong-predicate"] = "PG2011",
        ["bundle-dsse-wrong-payloadtype"] = "PG2012",
        ["bundle-dsse-two-sigs"] = "PG2013",
        ["bundle-dsse-no-pae"] = "PG2008",
        ["bundle-up-conformance-badkey"] = "PG2004",
        ["bundle-up-conformance-wrong-artifact"] = "PG2008",
    };

    // The cosign DSSE reference bundle is signed by a Fulcio certificate, not a key; its statement is a `custom` one.
    private const string CertificateBundlePredicateType = "https://cosign.sigstore.dev/attestation/v1";

    public static IEnumerable<TestCaseData> Vectors()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "TestData", "cosign", "vectors.json");
        foreach (var vector in JsonNode.Parse(File.ReadAllText(path))!["vectors"]!.AsArray())
            yield return new TestCaseData(vector!.ToJsonString()).SetName("Vector " + (string)vector["id"]!);
    }

    [Test]
    public void Vector_file_has_all_48_cases_and_every_negative_is_mapped()
    {
        var vectors = Vectors().Select(v => JsonNode.Parse((string)v.Arguments[0]!)!).ToList();
        Assert.That(vectors, Has.Count.EqualTo(48));
        var negatives = vectors.Where(v => (string)v["expect"]! != "ok").Select(v => (string)v["id"]!).ToList();
        Assert.That(negatives, Has.Count.EqualTo(27));
        Assert.That(negatives, Is.EquivalentTo(ExpectedCodes.Keys));
    }

    [TestCaseSource(nameof(Vectors))]
    public void Vector(string vectorJson)
    {
        var vector = JsonNode.Parse(vectorJson)!;
        var id = (string)vector["id"]!;
        var expect = (string)vector["expect"]!;

        var (ok, diagnostics) = Run(vector);

        if (expect == "ok")
        {
            Assert.That(ok, Is.True, $"{id} should verify: {string.Join("; ", diagnostics)}");
            Assert.That(diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error), Is.Empty);
            if (vector["ignoreTlog"] is not null)
                Assert.That(diagnostics.Select(d => d.Code), Does.Contain("PG2015"), "tlog entries present but unverified must be reported");
            return;
        }

        Assert.That(ok, Is.False, $"{id} must not verify");
        var error = diagnostics.FirstOrDefault(d => d.Severity == DiagnosticSeverity.Error);
        Assert.That(error, Is.Not.Null, $"{id} must report an error");
        Assert.That(error!.Code, Is.EqualTo(ExpectedCodes[id]), error.ToString());
        if (vector["error"] is JsonValue expectedWording)
            Assert.That(error.Message, Does.Contain((string)expectedWording!).IgnoreCase);
    }

    private static (bool Ok, IReadOnlyList<Diagnostic> Diagnostics) Run(JsonNode vector)
    {
        try
        {
            return (string)vector["kind"]! switch
            {
                "encrypted-key" => RunKey(vector),
                "raw-signature" => Blob(vector, signature: Data(vector, "signature"), bundle: null),
                "legacy-bundle-blob" => Blob(vector, signature: null, bundle: Data(vector, "bundle")),
                "legacy-bundle-attestation" => Attestation(vector, Data(vector, "bundle")),
                "dsse-envelope" => Attestation(vector, Data(vector, "envelope")),
                "sigstore-bundle" when vector["predicateType"] is not null => Attestation(vector, Data(vector, "bundle")),
                "sigstore-bundle" => Blob(vector, signature: null, bundle: Data(vector, "bundle")),
                "dsse-cert-format-reference" => CertificateReference(vector),
                var kind => throw new AssertionException("unknown vector kind " + kind),
            };
        }
        catch (ProvenanceException ex)
        {
            return (false, [ex.Diagnostic]);
        }
    }

    private static (bool, IReadOnlyList<Diagnostic>) RunKey(JsonNode vector)
    {
        using var key = PrivateKeyLoader.Load(Data(vector, "key"), () => (string)vector["password"]!);
        if (vector["pkcs8"] is not null)
            Assert.That(key.ExportPkcs8PrivateKey(), Is.EqualTo(File.ReadAllBytes(Data(vector, "pkcs8"))), "decrypted PKCS#8 differs");
        if (vector["publicKey"] is not null)
            Assert.That(TrustedKey.FromEcdsa("k", key).ToPem(), Is.EqualTo(File.ReadAllText(Data(vector, "publicKey"))), "derived public key PEM differs");
        return (true, []);
    }

    private static (bool, IReadOnlyList<Diagnostic>) Blob(JsonNode vector, string? signature, string? bundle)
    {
        var result = SignatureVerifier.VerifyBlob(Data(vector, "artifact"), [PublicKeyLoader.Load(Data(vector, "publicKey"))], signature, bundle);
        if (result.Verified)
            Assert.That(result.MatchedKey!.Name, Is.EqualTo(Data(vector, "publicKey")));
        return (result.Verified, result.Diagnostics);
    }

    private static (bool, IReadOnlyList<Diagnostic>) Attestation(JsonNode vector, string path)
    {
        string[] artifacts = vector["artifact"] is null ? [] : [Data(vector, "artifact")];
        var result = AttestationVerifier.Verify(path, [PublicKeyLoader.Load(Data(vector, "publicKey"))], artifacts, (string)vector["predicateType"]!);
        if (result.Verified)
        {
            Assert.That(result.Statement, Is.Not.Null);
            Assert.That(result.Statement!.PredicateType, Is.EqualTo((string)vector["predicateType"]!));
        }

        return (result.Verified, result.Diagnostics);
    }

    private static (bool, IReadOnlyList<Diagnostic>) CertificateReference(JsonNode vector)
    {
        var path = Data(vector, "bundle");
        var rawCertificate = Convert.FromBase64String((string)JsonNode.Parse(File.ReadAllText(path))!["verificationMaterial"]!["certificate"]!["rawBytes"]!);
        using var certificate = X509CertificateLoader.LoadCertificate(rawCertificate);
        using var publicKey = certificate.GetECDsaPublicKey()!;
        var result = AttestationVerifier.Verify(path, [TrustedKey.FromEcdsa("fulcio leaf", publicKey)], [], CertificateBundlePredicateType);
        return (result.Verified, result.Diagnostics);
    }

    private static string Data(JsonNode vector, string field) => RepoPaths.TestData("cosign", (string)vector[field]!);
}
