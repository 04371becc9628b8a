using System.Text.Json.Nodes;
using ProvenanceGate.Diagnostics;
using ProvenanceGate.Signing;

namespace ProvenanceGate.Tests.Signing;

/// <summary>Verifier details the vectors do not pin down: hints, signature file forms, DSSE and statement parsing.</summary>
public sealed class SignatureVerifierTests
{
    private static string Generated(params string[] parts) => RepoPaths.TestData(["cosign", "generated", .. parts]);

    private static TrustedKey CosignPub => PublicKeyLoader.Load(Generated("keys", "cosign.pub"));

    [Test]
    public void Hint_never_selects_the_key_and_a_foreign_hint_is_a_warning()
    {
        using var temp = new TempDirectory();
        var bundle = JsonNode.Parse(File.ReadAllText(Generated("blob", "model.safetensors.sigstore.json")))!;
        bundle["verificationMaterial"]!["publicKey"]!["hint"] = Convert.ToBase64String(new byte[32]);
        var path = temp.Combine("b.json");
        File.WriteAllText(path, bundle.ToJsonString());

        var result = SignatureVerifier.VerifyBlob(Generated("blob", "model.safetensors"), [PublicKeyLoader.Load(Generated("keys", "other.pub")), CosignPub], null, path);
        Assert.That(result.Verified);
        Assert.That(result.MatchedKey!.Name, Does.EndWith("cosign.pub"));
        Assert.That(result.Diagnostics.Single().Code, Is.EqualTo("PG2016"));
        Assert.That(result.Diagnostics.Single().Severity, Is.EqualTo(DiagnosticSeverity.Warning));
    }

    [Test]
    public void Our_hint_is_base64_sha256_of_the_spki_as_in_the_vectors()
    {
        Assert.That(CosignPub.Hint, Is.EqualTo("DEGHZUIa3oX14ubpmVMO4XUGmDJ+5qxSvbRgV/4F7Qw="));
    }

    [Test]
    public void Signature_file_with_line_breaks_as_saved_from_stdout_verifies()
    {
        using var temp = new TempDirectory();
        var text = File.ReadAllText(Generated("blob", "model.safetensors.sig"));
        var path = temp.Combine("wrapped.sig");
        File.WriteAllText(path, text[..20] + "\r\n" + text[20..] + "\n");
        Assert.That(SignatureVerifier.VerifyBlob(Generated("blob", "model.safetensors"), [CosignPub], path, null).Verified);
    }

    [Test]
    public void Pae_is_byte_identical_to_the_vector()
    {
        var statement = File.ReadAllBytes(Generated("attest", "model.safetensors.intoto.json"));
        Assert.That(DsseEnvelope.Pae(DsseEnvelope.InTotoPayloadType, statement), Is.EqualTo(File.ReadAllBytes(Generated("attest", "model.safetensors.pae.bin"))));
    }

    [Test]
    public void Verified_attestation_exposes_subjects_and_the_bom_predicate()
    {
        var result = AttestationVerifier.Verify(Generated("attest", "model.safetensors.att.sigstore.json"), [CosignPub],
            [Generated("blob", "model.safetensors")], PredicateTypes.CycloneDx);
        Assert.That(result.Verified, string.Join("; ", result.Diagnostics));
        Assert.That(result.Statement!.Type, Is.EqualTo(InTotoStatement.TypeV01));
        Assert.That(result.Statement.Subjects.Single(), Is.EqualTo(new StatementSubject("model.safetensors", "e5a55390868aaa4d571e8e41ce0f426afe6804e2b084ec3e06224c1994dc837a")));
        Assert.That(JsonNode.DeepEquals(result.Statement.Predicate, JsonNode.Parse(File.ReadAllText(Generated("blob", "ml-bom.cdx.json")))));
    }

    [Test]
    public void Url_safe_base64_in_an_envelope_is_accepted()
    {
        using var temp = new TempDirectory();
        var envelope = JsonNode.Parse(File.ReadAllText(Generated("attest", "model.safetensors.dsse.v3.json")))!;
        static string UrlSafe(string s) => s.Replace('+', '-').Replace('/', '_').TrimEnd('=');
        envelope["payload"] = UrlSafe((string)envelope["payload"]!);
        envelope["signatures"]![0]!["sig"] = UrlSafe((string)envelope["signatures"]![0]!["sig"]!);
        var path = temp.Combine("e.json");
        File.WriteAllText(path, envelope.ToJsonString());
        Assert.That(AttestationVerifier.Verify(path, [CosignPub], [Generated("blob", "model.safetensors")], PredicateTypes.CycloneDx).Verified);
    }
}
