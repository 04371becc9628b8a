using System.Security.Cryptography;
using System.Text.Json.Nodes;
using ProvenanceGate.Fingerprinting;
using ProvenanceGate.Models;
using ProvenanceGate.Signing;

namespace ProvenanceGate.Tests.Verify;

/// <summary>
/// A real release, end to end: a fine-tune made from a synthetic base (base + small perturbation), its BOM from the
/// real `bom` command, a cosign-style signature from the real signing API, and the base fingerprinted by the real
/// fingerprinter. <see cref="Release"/> builds one fresh copy per test so each tamper starts from a clean state.
/// </summary>
internal sealed class TamperFixture : IDisposable
{
    public static readonly DateTimeOffset Now = new(2026, 11, 21, 12, 0, 0, TimeSpan.Zero);

    public const string Declaration = """
        schemaVersion: 1
        model:
          id: acme/tiny-chat
          version: 1.0.0
          license: Apache-2.0
          task: text-generation
          supplier: {name: ACME, url: https://acme.example}
        baseModels:
          - id: acme/tiny-base
            relation: fine-tune
            license: Apache-2.0
        approvals:
          - approver: alice@acme.example
            role: model owner
            date: 2026-10-10
            reviewBy: 2027-04-10
        """;

    private readonly TempDirectory _temp = new();

    public TamperFixture()
    {
        var spec = Spec(seed: 11);
        BaseTensors = SyntheticModel.CreateTensors(spec);
        SyntheticModel.WriteDirectory(_temp.Combine("base"), spec, BaseTensors);
        var unrelated = Spec(seed: 97);
        SyntheticModel.WriteDirectory(_temp.Combine("unrelated"), unrelated, SyntheticModel.CreateTensors(unrelated));

        BaseFingerprints = Directory.CreateDirectory(_temp.Combine("base-fingerprints")).FullName;
        FingerprintFile.Write(Path.Combine(BaseFingerprints, "acme--tiny-base" + FingerprintFile.Extension), Fingerprinter.FromModelDirectory(_temp.Combine("base")));
        FingerprintFile.Write(Path.Combine(BaseFingerprints, "acme--other-base" + FingerprintFile.Extension), Fingerprinter.FromModelDirectory(_temp.Combine("unrelated")));

        SigningKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        TrustedKeyPath = _temp.Combine("cosign.pub");
        File.WriteAllText(TrustedKeyPath, SigningKey.ExportSubjectPublicKeyInfoPem());
    }

    public IReadOnlyList<Formats.Safetensors.NamedTensor> BaseTensors { get; }

    public string BaseFingerprints { get; }

    public ECDsa SigningKey { get; }

    public string TrustedKeyPath { get; }

    public static SyntheticModelSpec Spec(int seed) => new() { Seed = seed };

    /// <summary>A fresh signed release in its own directory: model files, declaration, BOM, signature.</summary>
    public Release Release(string? declaration = null, Action<string>? beforeBom = null, double perturbation = 0.004)
    {
        var root = Directory.CreateDirectory(_temp.Combine("release-" + Guid.NewGuid().ToString("N")[..8])).FullName;
        var model = Path.Combine(root, "model");
        var random = new Random(5);
        var tuned = BaseTensors.Select(t => t with { Values = t.Values.Select(v => v + (float)((random.NextDouble() - 0.5) * perturbation)).ToArray() }).ToList();
        SyntheticModel.WriteDirectory(model, Spec(seed: 11), tuned, shards: 2);
        beforeBom?.Invoke(model);
        var release = new Release(this, root, model);
        File.WriteAllText(release.DeclarationPath, declaration ?? Declaration);
        var result = Cli.Run("bom", model, "--declaration", release.DeclarationPath, "--timestamp", "2026-11-01T00:00:00Z", "-o", release.BomPath);
        if (result.ExitCode != 0)
            throw new InvalidOperationException("bom failed: " + result.Stderr);
        release.Sign(SigningKey);
        return release;
    }

    public void Dispose()
    {
        SigningKey.Dispose();
        _temp.Dispose();
    }
}

internal sealed class Release(TamperFixture fixture, string root, string modelDirectory)
{
    public string Root { get; } = root;

    public string ModelDirectory { get; } = modelDirectory;

    public string DeclarationPath => Path.Combine(Root, "provenance.yaml");

    public string BomPath => Path.Combine(Root, "model.cdx.json");

    public string SignaturePath => Path.Combine(Root, "model.cdx.json.sig");

    public string BundlePath => Path.Combine(Root, "model.att.sigstore.json");

    public void Sign(ECDsa key) => BlobSigner.Write(BlobSigner.SignFile(key, BomPath), SignaturePath, null);

    /// <summary>An in-toto attestation with the BOM as CycloneDX predicate and the given model files as subjects.</summary>
    public void Attest(ECDsa key, IEnumerable<string> subjects)
    {
        var predicate = JsonNode.Parse(File.ReadAllText(BomPath))!;
        var attestation = Attestor.Attest(key, subjects.Select(s => Path.Combine(ModelDirectory, s)).ToList(), predicate, PredicateTypes.CycloneDx);
        Attestor.Write(attestation, BundlePath, null);
    }

    /// <summary>Edits the BOM JSON (then the caller decides whether to re-sign).</summary>
    public void EditBom(Action<JsonObject> edit)
    {
        var root = (JsonObject)JsonNode.Parse(File.ReadAllText(BomPath))!;
        edit(root);
        File.WriteAllText(BomPath, root.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
    }

    public static JsonObject Model(JsonObject bom) =>
        (JsonObject)(bom["metadata"]?["component"] as JsonObject is { } main && main["type"]?.GetValue<string>() == "machine-learning-model"
            ? main
            : bom["components"]!.AsArray().First(c => c!["type"]!.GetValue<string>() == "machine-learning-model")!);

    public Verification.GateOptions Options(string? policy = null) => new()
    {
        BomPath = BomPath,
        PolicyReference = policy,
        TrustedKeyReferences = [fixture.TrustedKeyPath],
        SignaturePath = SignaturePath,
        ModelDirectory = ModelDirectory,
        BaseFingerprintsDirectory = fixture.BaseFingerprints,
        Now = TamperFixture.Now,
    };
}
