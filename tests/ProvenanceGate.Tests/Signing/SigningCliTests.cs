using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using ProvenanceGate.Signing;

namespace ProvenanceGate.Tests.Signing;

/// <summary>
/// keygen / sign / attest / verify-signature / verify-attestation through the real CLI. One key pair is generated
/// for the fixture (scrypt costs about half a second per key operation).
/// </summary>
[NonParallelizable]
public sealed class SigningCliTests : IDisposable
{
    private static readonly string[] SubjectNames = ["model.safetensors", "tokenizer.json"];

    // Distinctive, so a leak into any output is unmistakable.
    private const string Password = "pg-Secret-7f3c-never-print";

    private TempDirectory? _temp;
    private string? _savedPassword;
    private string _key = null!;
    private string _pub = null!;
    private string _model = null!;
    private string _bom = null!;

    private static string OtherPub => RepoPaths.TestData("cosign", "generated", "keys", "other.pub");

    [OneTimeSetUp]
    public void GenerateKeyPair()
    {
        _savedPassword = Environment.GetEnvironmentVariable(PasswordSource.EnvironmentVariable);
        Environment.SetEnvironmentVariable(PasswordSource.EnvironmentVariable, Password);
        _temp = new TempDirectory();
        var result = Cli.Run("keygen", "--output-key-prefix", _temp.Combine("cosign"));
        Assert.That(result.ExitCode, Is.EqualTo(0), result.Stderr);
        AssertNoSecret(result);
        _key = _temp.Combine("cosign.key");
        _pub = _temp.Combine("cosign.pub");
        _model = _temp.Combine("model.safetensors");
        File.Copy(RepoPaths.TestData("cosign", "generated", "blob", "model.safetensors"), _model);
        _bom = RepoPaths.TestData("cosign", "generated", "blob", "ml-bom.cdx.json");
    }

    [OneTimeTearDown]
    public void Cleanup()
    {
        Environment.SetEnvironmentVariable(PasswordSource.EnvironmentVariable, _savedPassword);
    }

    public void Dispose() => _temp?.Dispose();

    [SetUp]
    public void RestorePassword() => Environment.SetEnvironmentVariable(PasswordSource.EnvironmentVariable, Password);

    [Test]
    public void Keygen_writes_cosign_layout_with_private_key_mode_0600()
    {
        var key = File.ReadAllText(_key);
        Assert.That(key, Does.StartWith("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n"));
        Assert.That(key, Does.EndWith("-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n"));
        Assert.That(key.Split('\n').Where(l => !l.StartsWith("-----", StringComparison.Ordinal) && l.Length > 0), Has.All.Length.LessThanOrEqualTo(64));
        var body = JsonNode.Parse(Convert.FromBase64String(string.Concat(key.Split('\n').Where(l => !l.StartsWith("-----", StringComparison.Ordinal)))))!;
        Assert.That(body.ToJsonString(), Does.StartWith("{\"kdf\":{\"name\":\"scrypt\",\"params\":{\"N\":65536,\"r\":8,\"p\":1},\"salt\":\""));
        Assert.That(Convert.FromBase64String((string)body["cipher"]!["nonce"]!), Has.Length.EqualTo(24));
        Assert.That((string)body["cipher"]!["name"]!, Is.EqualTo("nacl/secretbox"));
        Assert.That(File.ReadAllText(_pub), Does.StartWith("-----BEGIN PUBLIC KEY-----\n").And.EndWith("-----END PUBLIC KEY-----\n"));
        if (!OperatingSystem.IsWindows())
            Assert.That(File.GetUnixFileMode(_key), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite));

        using var loaded = PrivateKeyLoader.Load(_key, () => Password);
        Assert.That(loaded.KeySize, Is.EqualTo(256));
        Assert.That(TrustedKey.FromEcdsa("k", loaded).ToPem(), Is.EqualTo(File.ReadAllText(_pub)));
    }

    [Test]
    public void Keygen_refuses_to_overwrite_and_writes_neither_file_when_one_exists()
    {
        using var temp = new TempDirectory();
        var prefix = temp.Combine("team");
        File.WriteAllText(prefix + ".pub", "existing");

        var refused = Cli.Run("keygen", "--output-key-prefix", prefix);
        AssertCleanFailure(refused, 2, "PG0005");
        Assert.That(File.Exists(prefix + ".key"), Is.False);
        Assert.That(File.ReadAllText(prefix + ".pub"), Is.EqualTo("existing"));

        var forced = Cli.Run("keygen", "--output-key-prefix", prefix, "--force");
        Assert.That(forced.ExitCode, Is.EqualTo(0), forced.Stderr);
        Assert.That(File.ReadAllText(prefix + ".pub"), Does.StartWith("-----BEGIN PUBLIC KEY-----"));
        Assert.That(File.Exists(prefix + ".key"));
    }

    [Test]
    public void Sign_prints_base64_signature_and_the_cosign_command_and_verifies()
    {
        var result = Cli.Run("sign", _model, "--key", _key);
        Assert.That(result.ExitCode, Is.EqualTo(0), result.Stderr);
        Assert.That(result.Stdout, Does.EndWith("\n"));
        Assert.That(result.Stderr, Does.Contain($"cosign verify-blob --key {_pub} --signature"));
        var signature = Convert.FromBase64String(result.Stdout.Trim());
        using var pub = PublicKeyLoader.Load(_pub).CreateEcdsa();
        Assert.That(pub.VerifyData(File.ReadAllBytes(_model), signature, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence));
        AssertNoSecret(result);
    }

    [Test]
    public void Sign_writes_signature_and_v03_bundle_that_verify_and_are_deterministic()
    {
        using var temp = new TempDirectory();
        var sig = temp.Combine("model.sig");
        var bundle = temp.Combine("model.sigstore.json");
        var result = Cli.Run("sign", _model, "--key", _key, "--output-signature", sig, "--bundle", bundle);
        Assert.That(result.ExitCode, Is.EqualTo(0), result.Stderr);
        Assert.That(result.Stdout, Is.Empty);
        Assert.That(result.Stderr, Does.Contain($"cosign verify-blob --key {_pub} --bundle {bundle} --insecure-ignore-tlog=true {_model}"));
        Assert.That(File.ReadAllText(sig), Does.Not.EndWith("\n"));

        var json = JsonNode.Parse(File.ReadAllText(bundle))!;
        Assert.That((string)json["mediaType"]!, Is.EqualTo("application/vnd.dev.sigstore.bundle.v0.3+json"));
        Assert.That((string)json["verificationMaterial"]!["publicKey"]!["hint"]!, Is.EqualTo(PublicKeyLoader.Load(_pub).Hint));
        Assert.That((string)json["messageSignature"]!["messageDigest"]!["digest"]!,
            Is.EqualTo(Convert.ToBase64String(SHA256.HashData(File.ReadAllBytes(_model)))));
        Assert.That(json["verificationMaterial"]!["tlogEntries"], Is.Null);

        Assert.That(Cli.Run("verify-signature", _model, "--key", _pub, "--signature", sig).ExitCode, Is.EqualTo(0));
        var verified = Cli.Run("verify-signature", _model, "--key", _pub, "--bundle", bundle);
        Assert.That(verified.ExitCode, Is.EqualTo(0), verified.Stderr);
        Assert.That(verified.Stdout, Does.Contain("Verified OK"));

        // RFC 6979: same key and file, same bytes.
        var again = temp.Combine("again.sig");
        Cli.Run("sign", _model, "--key", _key, "--output-signature", again);
        Assert.That(File.ReadAllText(again), Is.EqualTo(File.ReadAllText(sig)));
    }

    [Test]
    public void Verify_signature_with_several_keys_reports_the_one_that_verified()
    {
        var bundle = RepoPaths.TestData("cosign", "generated", "blob", "model.safetensors.sigstore.json");
        var artifact = RepoPaths.TestData("cosign", "generated", "blob", "model.safetensors");
        var good = RepoPaths.TestData("cosign", "generated", "keys", "cosign.pub");
        var result = Cli.Run("verify-signature", artifact, "--key", OtherPub, "--key", good, "--bundle", bundle);
        Assert.That(result.ExitCode, Is.EqualTo(0), result.Stderr);
        Assert.That(result.Stdout, Does.Contain($"key {good}"));

        var none = Cli.Run("verify-signature", artifact, "--key", OtherPub, "--key", _pub, "--bundle", bundle);
        AssertCleanFailure(none, 1, "PG2008");
        Assert.That(none.Stderr, Does.Contain("any of the 2 keys"));
    }

    [Test]
    public void Attest_writes_a_dsse_bundle_and_envelope_about_each_artifact_that_verify()
    {
        using var temp = new TempDirectory();
        var second = temp.Combine("tokenizer.json");
        File.WriteAllText(second, "{\"version\":\"1.0\"}");
        var bundle = temp.Combine("att.sigstore.json");
        var envelope = temp.Combine("att.dsse.json");
        var result = Cli.Run("attest", _model, second, "--predicate", _bom, "--type", "cyclonedx", "--key", _key, "--bundle", bundle, "--envelope", envelope);
        Assert.That(result.ExitCode, Is.EqualTo(0), result.Stderr);
        Assert.That(result.Stderr, Does.Contain($"cosign verify-blob-attestation --key {_pub} --bundle {bundle} --type cyclonedx --insecure-ignore-tlog=true {_model}"));

        var json = JsonNode.Parse(File.ReadAllText(bundle))!;
        var dsse = json["dsseEnvelope"]!;
        Assert.That((string)dsse["payloadType"]!, Is.EqualTo("application/vnd.in-toto+json"));
        Assert.That(dsse["signatures"]!.AsArray(), Has.Count.EqualTo(1));
        var statement = JsonNode.Parse(Convert.FromBase64String((string)dsse["payload"]!))!;
        Assert.That((string)statement["_type"]!, Is.EqualTo("https://in-toto.io/Statement/v0.1"));
        Assert.That((string)statement["predicateType"]!, Is.EqualTo("https://cyclonedx.org/bom"));
        Assert.That(statement["subject"]!.AsArray().Select(s => (string)s!["name"]!), Is.EqualTo(SubjectNames));
        Assert.That((string)statement["subject"]![0]!["digest"]!["sha256"]!, Is.EqualTo(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(_model)))));
        Assert.That(JsonNode.DeepEquals(statement["predicate"], JsonNode.Parse(File.ReadAllText(_bom))));
        Assert.That(string.Join(",", statement.AsObject().Select(p => p.Key)), Is.EqualTo("_type,subject,predicateType,predicate"));
        Assert.That(JsonNode.DeepEquals(JsonNode.Parse(File.ReadAllText(envelope)), dsse));

        foreach (var file in new[] { bundle, envelope })
        {
            var verified = Cli.Run("verify-attestation", _model, second, "--key", _pub, "--bundle", file, "--type", "cyclonedx");
            Assert.That(verified.ExitCode, Is.EqualTo(0), verified.Stderr);
        }

        var attestation = AttestationVerifier.Verify(bundle, [PublicKeyLoader.Load(_pub)], [_model], PredicateTypes.CycloneDx);
        Assert.That(attestation.Verified);
        Assert.That(attestation.Statement!.Subjects.Select(s => s.Name), Is.EqualTo(SubjectNames));
        Assert.That((string)attestation.Statement.Predicate!["bomFormat"]!, Is.EqualTo("CycloneDX"));
    }

    [Test]
    public void Attest_accepts_a_full_predicate_type_uri()
    {
        using var temp = new TempDirectory();
        var bundle = temp.Combine("att.json");
        const string uri = "https://example.com/provenance/ml-bom/v1";
        Assert.That(Cli.Run("attest", _model, "--predicate", _bom, "--type", uri, "--key", _key, "--bundle", bundle).ExitCode, Is.EqualTo(0));
        Assert.That(Cli.Run("verify-attestation", _model, "--key", _pub, "--bundle", bundle, "--type", uri).ExitCode, Is.EqualTo(0));
        AssertCleanFailure(Cli.Run("verify-attestation", _model, "--key", _pub, "--bundle", bundle), 1, "PG2011");
        AssertCleanFailure(Cli.Run("attest", _model, "--predicate", _bom, "--type", "not a type", "--key", _key, "--bundle", bundle), 2, "PG0001");
    }

    [Test]
    public void Wrong_password_is_a_clear_input_error_without_the_password()
    {
        Environment.SetEnvironmentVariable(PasswordSource.EnvironmentVariable, Password + "-wrong");
        var result = Cli.Run("sign", _model, "--key", _key);
        AssertCleanFailure(result, 2, "PG2002");
        Assert.That(result.Stderr, Does.Contain("decryption failed").And.Contain(_key));
        Assert.That(result.Stdout, Is.Empty);
        Assert.That(result.Stderr, Does.Not.Contain(Password));
    }

    [Test]
    public void Tampered_key_file_is_refused()
    {
        using var temp = new TempDirectory();
        var tampered = temp.Combine("tampered.key");
        var lines = File.ReadAllLines(_key);
        var body = JsonNode.Parse(Convert.FromBase64String(string.Concat(lines[1..^1])))!;
        var ciphertext = Convert.FromBase64String((string)body["ciphertext"]!);
        ciphertext[40] ^= 1;
        body["ciphertext"] = Convert.ToBase64String(ciphertext);
        File.WriteAllText(tampered, KeyReference.ToPem("ENCRYPTED SIGSTORE PRIVATE KEY", Encoding.UTF8.GetBytes(body.ToJsonString())));
        AssertCleanFailure(Cli.Run("sign", _model, "--key", tampered), 2, "PG2002");

        File.WriteAllText(tampered, "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\nbm90IGpzb24=\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n");
        AssertCleanFailure(Cli.Run("sign", _model, "--key", tampered), 2, "PG2001");
        File.WriteAllText(tampered, "garbage");
        AssertCleanFailure(Cli.Run("sign", _model, "--key", tampered), 2, "PG2001");
        AssertCleanFailure(Cli.Run("sign", _model, "--key", temp.Combine("missing.key")), 2, "PG0002");
        AssertCleanFailure(Cli.Run("sign", _model, "--key", "awskms://alias/cosign"), 2, "PG2001");
    }

    [Test]
    public void Tampered_file_and_wrong_key_fail_verification_with_exit_1()
    {
        using var temp = new TempDirectory();
        var bundle = temp.Combine("b.json");
        Assert.That(Cli.Run("sign", _model, "--key", _key, "--bundle", bundle).ExitCode, Is.EqualTo(0));
        var tampered = temp.Combine("model.safetensors");
        var bytes = File.ReadAllBytes(_model);
        bytes[^1] ^= 1;
        File.WriteAllBytes(tampered, bytes);

        AssertCleanFailure(Cli.Run("verify-signature", tampered, "--key", _pub, "--bundle", bundle), 1, "PG2008");
        AssertCleanFailure(Cli.Run("verify-signature", _model, "--key", OtherPub, "--bundle", bundle), 1, "PG2008");

        var attestation = temp.Combine("att.json");
        Assert.That(Cli.Run("attest", _model, "--predicate", _bom, "--key", _key, "--bundle", attestation).ExitCode, Is.EqualTo(0));
        AssertCleanFailure(Cli.Run("verify-attestation", tampered, "--key", _pub, "--bundle", attestation), 1, "PG2010");
        AssertCleanFailure(Cli.Run("verify-attestation", _model, "--key", OtherPub, "--bundle", attestation), 1, "PG2008");
    }

    [Test]
    public void Wrong_predicate_type_two_signatures_and_v04_media_type_are_clear_errors()
    {
        var artifact = RepoPaths.TestData("cosign", "generated", "blob", "model.safetensors");
        var pub = RepoPaths.TestData("cosign", "generated", "keys", "cosign.pub");
        string Negative(string name) => RepoPaths.TestData("cosign", "generated", "negative", name);

        AssertCleanFailure(Cli.Run("verify-attestation", artifact, "--key", pub, "--bundle", Negative("dsse-wrong-predicate-type.sigstore.json")), 1, "PG2011");
        AssertCleanFailure(Cli.Run("verify-attestation", artifact, "--key", pub, "--bundle", Negative("dsse-two-signatures.sigstore.json")), 1, "PG2013");
        AssertCleanFailure(Cli.Run("verify-signature", artifact, "--key", pub, "--bundle", Negative("bundle-unknown-mediatype.sigstore.json")), 2, "PG2007");
        AssertCleanFailure(Cli.Run("verify-signature", artifact, "--key", pub, "--bundle", Negative("bundle-digest-mismatch.sigstore.json")), 1, "PG2009");
        // cosign's default type is `custom`; ours is cyclonedx, and an explicit other type must not match.
        AssertCleanFailure(
            Cli.Run("verify-attestation", artifact, "--key", pub, "--bundle", RepoPaths.TestData("cosign", "generated", "attest", "model.safetensors.att.sigstore.json"), "--type", "spdxjson"),
            1, "PG2011");
    }

    [Test]
    public void Malformed_inputs_are_exit_2_never_a_stack_trace()
    {
        using var temp = new TempDirectory();
        var notJson = temp.Combine("bundle.json");
        File.WriteAllText(notJson, "{ not json");
        AssertCleanFailure(Cli.Run("verify-signature", _model, "--key", _pub, "--bundle", notJson), 2, "PG2006");
        var empty = temp.Combine("empty.sig");
        File.WriteAllText(empty, "");
        AssertCleanFailure(Cli.Run("verify-signature", _model, "--key", _pub, "--signature", empty), 2, "PG2005");
        AssertCleanFailure(Cli.Run("verify-signature", _model, "--key", _pub), 2, "PG0001");
        AssertCleanFailure(Cli.Run("verify-signature", _model, "--key", _key, "--signature", empty), 2, "PG2004");
        var attestationAsBlob = RepoPaths.TestData("cosign", "generated", "attest", "model.safetensors.att.sigstore.json");
        AssertCleanFailure(Cli.Run("verify-signature", _model, "--key", _pub, "--bundle", attestationAsBlob), 2, "PG2006");
        var predicate = temp.Combine("bom.json");
        File.WriteAllText(predicate, "[1,2]");
        AssertCleanFailure(Cli.Run("attest", _model, "--predicate", predicate, "--key", _key, "--bundle", temp.Combine("a.json")), 2, "PG2017");
        Assert.That(File.Exists(temp.Combine("a.json")), Is.False);
    }

    [Test]
    public void Keys_can_come_from_environment_variables_and_pkcs8_pem()
    {
        using var temp = new TempDirectory();
        using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var pub = temp.Combine("pkcs8.pub");
        File.WriteAllText(pub, TrustedKey.FromEcdsa("k", ecdsa).ToPem());

        var plain = temp.Combine("plain.pem");
        File.WriteAllText(plain, ecdsa.ExportPkcs8PrivateKeyPem());
        var encrypted = temp.Combine("encrypted.pem");
        File.WriteAllText(encrypted, ecdsa.ExportEncryptedPkcs8PrivateKeyPem(Password,
            new PbeParameters(PbeEncryptionAlgorithm.Aes256Cbc, HashAlgorithmName.SHA256, 100_000)));

        try
        {
            Environment.SetEnvironmentVariable("PG_TEST_PRIVATE_KEY", File.ReadAllText(_key));
            Environment.SetEnvironmentVariable("PG_TEST_PUBLIC_KEY", File.ReadAllText(_pub));
            var bundle = temp.Combine("env.json");
            Assert.That(Cli.Run("sign", _model, "--key", "env://PG_TEST_PRIVATE_KEY", "--bundle", bundle).ExitCode, Is.EqualTo(0));
            var verified = Cli.Run("verify-signature", _model, "--key", "env://PG_TEST_PUBLIC_KEY", "--bundle", bundle);
            Assert.That(verified.ExitCode, Is.EqualTo(0), verified.Stderr);
            AssertCleanFailure(Cli.Run("sign", _model, "--key", "env://PG_TEST_UNSET_VARIABLE"), 2, "PG2001");
        }
        finally
        {
            Environment.SetEnvironmentVariable("PG_TEST_PRIVATE_KEY", null);
            Environment.SetEnvironmentVariable("PG_TEST_PUBLIC_KEY", null);
        }

        foreach (var key in new[] { plain, encrypted })
        {
            var bundle = temp.Combine(Path.GetFileName(key) + ".json");
            var signed = Cli.Run("sign", _model, "--key", key, "--bundle", bundle);
            Assert.That(signed.ExitCode, Is.EqualTo(0), signed.Stderr);
            Assert.That(Cli.Run("verify-signature", _model, "--key", pub, "--bundle", bundle).ExitCode, Is.EqualTo(0));
        }

        Environment.SetEnvironmentVariable(PasswordSource.EnvironmentVariable, "wrong");
        AssertCleanFailure(Cli.Run("sign", _model, "--key", encrypted), 2, "PG2002");
    }

    [Test]
    public void Password_never_appears_in_output_or_exceptions()
    {
        using var temp = new TempDirectory();
        var results = new List<CliResult>
        {
            Cli.Run("keygen", "--output-key-prefix", temp.Combine("k")),
            Cli.Run("keygen", "--output-key-prefix", temp.Combine("k")),
            Cli.Run("sign", _model, "--key", _key, "--bundle", temp.Combine("b.json")),
            Cli.Run("attest", _model, "--predicate", _bom, "--key", _key, "--bundle", temp.Combine("a.json")),
        };
        Environment.SetEnvironmentVariable(PasswordSource.EnvironmentVariable, Password + "x");
        results.Add(Cli.Run("sign", _model, "--key", _key));
        results.Add(Cli.Run("attest", _model, "--predicate", _bom, "--key", _key, "--bundle", temp.Combine("c.json")));
        foreach (var result in results)
            AssertNoSecret(result);

        var exception = Assert.Throws<Diagnostics.ProvenanceException>(() => PrivateKeyLoader.Load(_key, () => Password + "x"));
        Assert.That(exception!.ToString(), Does.Not.Contain(Password));
        Assert.That(File.ReadAllText(_key), Does.Not.Contain(Password));
    }

    private static void AssertCleanFailure(CliResult result, int exitCode, string code)
    {
        Assert.That(result.ExitCode, Is.EqualTo(exitCode), result.Stderr);
        Assert.That(result.Stderr, Does.Contain($"error {code}:"));
        Assert.That(result.Stderr, Does.Not.Contain("   at ").And.Not.Contain("Exception"));
        AssertNoSecret(result);
    }

    private static void AssertNoSecret(CliResult result)
    {
        Assert.That(result.Stdout, Does.Not.Contain(Password));
        Assert.That(result.Stderr, Does.Not.Contain(Password));
    }
}
