using ProvenanceGate.Signing;

namespace ProvenanceGate.Tests.Signing;

/// <summary>
/// Independent implementations check what we write: OpenSSL verifies our raw signature, sigstore-js (@sigstore/verify,
/// offline) verifies our v0.3 blob and DSSE bundles, and node:crypto scrypt + tweetnacl decrypt our cosign key to the
/// same PKCS#8. A missing peer fails the test under CI (env CI set) and skips it elsewhere.
/// Peers: `openssl` on PATH; `node` and `npm ci` in tests/peer/sigstore (.ci/install-deps.sh does it).
/// </summary>
[NonParallelizable]
public sealed class PeerInteropTests : IDisposable
{
    private const string Password = "peer-test-password";

    private TempDirectory? _temp;
    private string _key = null!;
    private string _pub = null!;
    private string _model = null!;

    private static string PeerDirectory => RepoPaths.InRepo("tests", "peer", "sigstore");

    private static string OtherPub => RepoPaths.TestData("cosign", "generated", "keys", "other.pub");

    [OneTimeSetUp]
    public void GenerateKeyPair()
    {
        _temp = new TempDirectory();
        var (privatePem, publicPem) = CosignKeyPair.Generate(Password);
        _key = _temp.Combine("cosign.key");
        _pub = _temp.Combine("cosign.pub");
        File.WriteAllText(_key, privatePem);
        File.WriteAllText(_pub, publicPem);
        _model = _temp.Combine("model.safetensors");
        File.Copy(RepoPaths.TestData("cosign", "generated", "blob", "model.safetensors"), _model);
    }

    public void Dispose() => _temp?.Dispose();

    [Test]
    public void OpenSsl_verifies_our_signature_with_our_public_key()
    {
        var signature = _temp!.Combine("model.sig");
        using (var key = PrivateKeyLoader.Load(_key, () => Password))
            BlobSigner.Write(BlobSigner.SignFile(key, _model), signature, bundlePath: null);
        var der = _temp.Combine("model.sig.der");
        File.WriteAllBytes(der, Convert.FromBase64String(File.ReadAllText(signature)));

        var verified = RunPeer("openssl", ["dgst", "-sha256", "-verify", _pub, "-signature", der, _model]);
        Assert.That(verified.ExitCode, Is.EqualTo(0), verified.Output);
        Assert.That(verified.Output, Does.Contain("Verified OK"));

        var wrongKey = RunPeer("openssl", ["dgst", "-sha256", "-verify", OtherPub, "-signature", der, _model]);
        Assert.That(wrongKey.ExitCode, Is.Not.EqualTo(0), "the peer must be able to say no");
    }

    [Test]
    public void SigstoreJs_verifies_our_v03_blob_bundle()
    {
        RequireNodeModules();
        var bundle = _temp!.Combine("model.sigstore.json");
        using (var key = PrivateKeyLoader.Load(_key, () => Password))
            BlobSigner.Write(BlobSigner.SignFile(key, _model), signaturePath: null, bundle);

        var verified = RunPeer("node", [Path.Combine(PeerDirectory, "verify-bundle.js"), _pub, bundle, _model]);
        Assert.That(verified.ExitCode, Is.EqualTo(0), verified.Output);
        Assert.That(verified.Output, Does.Contain("OK"));

        var wrongKey = RunPeer("node", [Path.Combine(PeerDirectory, "verify-bundle.js"), OtherPub, bundle, _model]);
        Assert.That(wrongKey.ExitCode, Is.EqualTo(1), wrongKey.Output);
    }

    [Test]
    public void SigstoreJs_verifies_our_dsse_attestation_bundle()
    {
        RequireNodeModules();
        var bundle = _temp!.Combine("att.sigstore.json");
        var predicate = Attestor.ReadPredicate(RepoPaths.TestData("cosign", "generated", "blob", "ml-bom.cdx.json"));
        using (var key = PrivateKeyLoader.Load(_key, () => Password))
            Attestor.Write(Attestor.Attest(key, [_model], predicate, PredicateTypes.CycloneDx), bundle, envelopePath: null);

        var verified = RunPeer("node", [Path.Combine(PeerDirectory, "verify-bundle.js"), _pub, bundle]);
        Assert.That(verified.ExitCode, Is.EqualTo(0), verified.Output);

        var wrongKey = RunPeer("node", [Path.Combine(PeerDirectory, "verify-bundle.js"), OtherPub, bundle]);
        Assert.That(wrongKey.ExitCode, Is.EqualTo(1), wrongKey.Output);
    }

    [Test]
    public void Tweetnacl_and_node_scrypt_decrypt_our_key_to_the_same_pkcs8()
    {
        RequireNodeModules();
        var decrypted = RunPeer("node", [Path.Combine(PeerDirectory, "decrypt-cosign-key.js"), _key], Password);
        Assert.That(decrypted.ExitCode, Is.EqualTo(0), decrypted.Output);

        using var key = PrivateKeyLoader.Load(_key, () => Password);
        Assert.That(Convert.FromBase64String(decrypted.Stdout.Trim()), Is.EqualTo(key.ExportPkcs8PrivateKey()));

        var wrong = RunPeer("node", [Path.Combine(PeerDirectory, "decrypt-cosign-key.js"), _key], Password + "-wrong");
        Assert.That(wrong.ExitCode, Is.EqualTo(1), wrong.Output);
    }

    private static void RequireNodeModules() =>
        Prerequisite.Require(
            Directory.Exists(Path.Combine(PeerDirectory, "node_modules", "@sigstore", "verify")) &&
            Directory.Exists(Path.Combine(PeerDirectory, "node_modules", "tweetnacl")),
            "tests/peer/sigstore/node_modules (run `npm ci` there, or .ci/install-deps.sh)");

    private static ProcessResult RunPeer(string program, string[] arguments, string? cosignPassword = null) =>
        ExternalProcess.Run(program, arguments, PeerDirectory, new Dictionary<string, string?> { ["COSIGN_PASSWORD"] = cosignPassword }, timeout: TimeSpan.FromSeconds(60));
}
