using System.Text.Json.Nodes;
using ProvenanceGate.Diagnostics;
using ProvenanceGate.Signing;

namespace ProvenanceGate.Tests.Signing;

/// <summary>
/// Structurally wrong bundles, envelopes and keys must end as a verification failure or a PG input error — never as
/// another exception (which the CLI would report as PG0006 Internal error).
/// </summary>
public sealed class MalformedInputTests
{
    private static string Generated(params string[] parts) => RepoPaths.TestData(["cosign", "generated", .. parts]);

    public static IEnumerable<TestCaseData> BrokenBundles()
    {
        var blob = File.ReadAllText(Generated("blob", "model.safetensors.sigstore.json"));
        var attestation = File.ReadAllText(Generated("attest", "model.safetensors.att.sigstore.json"));
        var cases = new (string Name, string Json)[]
        {
            ("array", "[]"),
            ("string", "\"x\""),
            ("empty object", "{}"),
            ("bom prefixed", "\uFEFF" + blob),
            ("duplicate keys", blob.Insert(1, "\"mediaType\":\"x\",")),
            ("mediaType number", Replace(blob, b => b["mediaType"] = 3)),
            ("publicKey string", Replace(blob, b => b["verificationMaterial"]!["publicKey"] = "k")),
            ("verificationMaterial array", Replace(blob, b => b["verificationMaterial"] = new JsonArray())),
            ("timestamps string", Replace(blob, b => b["verificationMaterial"]!["timestampVerificationData"] = "t")),
            ("messageDigest array", Replace(blob, b => b["messageSignature"]!["messageDigest"] = new JsonArray())),
            ("digest not base64", Replace(blob, b => b["messageSignature"]!["messageDigest"]!["digest"] = "%%%")),
            ("signature number", Replace(blob, b => b["messageSignature"]!["signature"] = 1)),
            ("unknown algorithm", Replace(blob, b => b["messageSignature"]!["messageDigest"]!["algorithm"] = "MD5")),
            ("both contents", Replace(blob, b => b["dsseEnvelope"] = JsonNode.Parse(attestation)!["dsseEnvelope"]!.DeepClone())),
            ("v03 with chain", Replace(blob, b => b["verificationMaterial"]!["x509CertificateChain"] = new JsonObject())),
            ("signatures string", Replace(attestation, b => b["dsseEnvelope"]!["signatures"] = "s")),
            ("signature entry string", Replace(attestation, b => b["dsseEnvelope"]!["signatures"] = new JsonArray("s"))),
            ("payload not json", Replace(attestation, b => b["dsseEnvelope"]!["payload"] = Convert.ToBase64String("not json"u8.ToArray()))),
            ("legacy signature garbage", "{\"base64Signature\":\"AAAA\"}"),
            ("legacy signature not string", "{\"base64Signature\":[]}"),
            ("deep nesting", new string('[', 500) + new string(']', 500)),
        };
        // Only the BOM-prefixed copy is still a valid blob bundle; every other case must fail one way or the other.
        return cases.Select(c => new TestCaseData(c.Json, c.Name == "bom prefixed").SetName("Broken bundle: " + c.Name));
    }

    [TestCaseSource(nameof(BrokenBundles))]
    public void Broken_bundle_is_a_failure_or_a_PG_error_for_both_verifiers(string json, bool blobVerifies)
    {
        using var temp = new TempDirectory();
        var path = temp.Combine("bundle.json");
        File.WriteAllText(path, json);
        var keys = new[] { PublicKeyLoader.Load(Generated("keys", "cosign.pub")) };
        var artifact = Generated("blob", "model.safetensors");

        Assert.That(Controlled(() => SignatureVerifier.VerifyBlob(artifact, keys, null, path).Verified), Is.EqualTo(blobVerifies));
        Assert.That(Controlled(() => AttestationVerifier.Verify(path, keys, [artifact], PredicateTypes.CycloneDx).Verified), Is.False);
    }

    [TestCase("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\nW10=\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n")]
    [TestCase("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\neyJrZGYiOjF9\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n")]
    [TestCase("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")]
    [TestCase("-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n")]
    [TestCase("-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n")]
    [TestCase("")]
    public void Broken_private_key_is_a_PG_error(string pem)
    {
        using var temp = new TempDirectory();
        var path = temp.Combine("k.key");
        File.WriteAllText(path, pem);
        var error = Assert.Throws<ProvenanceException>(() => PrivateKeyLoader.Load(path, () => "pw").Dispose());
        Assert.That(error!.Diagnostic.Code, Is.AnyOf("PG2001", "PG2002"));
    }

    [TestCase("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")]
    [TestCase("-----BEGIN RSA PUBLIC KEY-----\nAAAA\n-----END RSA PUBLIC KEY-----\n")]
    [TestCase("not a key")]
    public void Broken_public_key_is_a_PG_error(string pem)
    {
        using var temp = new TempDirectory();
        var path = temp.Combine("k.pub");
        File.WriteAllText(path, pem);
        var error = Assert.Throws<ProvenanceException>(() => PublicKeyLoader.Load(path));
        Assert.That(error!.Diagnostic.Code, Is.EqualTo("PG2004"));
    }

    /// <summary>The verification outcome; a PG input error counts as "not verified". Any other exception fails the test.</summary>
    private static bool Controlled(Func<bool> verify)
    {
        try
        {
            return verify();
        }
        catch (ProvenanceException ex)
        {
            Assert.That(ex.Diagnostic.Code, Is.Not.EqualTo("PG0006"));
            return false;
        }
    }

    private static string Replace(string json, Action<JsonNode> change)
    {
        var node = JsonNode.Parse(json)!;
        change(node);
        return node.ToJsonString();
    }
}
