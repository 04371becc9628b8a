using System.Text;
using ProvenanceGate.Bom;
using ProvenanceGate.Fingerprinting;
using ProvenanceGate.Formats.Config;
using ProvenanceGate.Formats.Safetensors;
using ProvenanceGate.Formats.Tokenizers;
using ProvenanceGate.Signing;
using ProvenanceGate.Verification;
using ProvenanceGate.Verification.Pickle;
using ProvenanceGate.Verification.Policy;

namespace ProvenanceGate.Tests.Fuzz;

/// <summary>
/// One input family: its seeds (seeds/&lt;name&gt;/), how its inputs are laid out, its share of the case budget, and
/// the harness that hands one input to the readers the CLI would use on it (the same public entry points, in the
/// same order), in a fresh work directory.
/// </summary>
public sealed record FuzzFamily(string Name, InputKind Kind, double Weight, Action<byte[], string> Run)
{
    public override string ToString() => Name;
}

public static class FuzzFamilies
{
    private const string CosignPassword = "provenancegate-test";

    private static readonly DateTimeOffset Now = new(2026, 6, 1, 0, 0, 0, TimeSpan.Zero);

    public static string SeedsRoot { get; } = RepoPaths.InRepo("tests", "ProvenanceGate.Tests", "Fuzz", "seeds");

    public static string Seeds(params string[] parts) => Path.Combine([SeedsRoot, .. parts]);

    public static IReadOnlyList<byte[]> SeedInputs(string family) =>
        Directory.GetFiles(Seeds(family)).Order(StringComparer.Ordinal).Select(File.ReadAllBytes).ToArray();

    /// <summary>The modification time the scan-index seed was written against, so its entries are used, not rebuilt.</summary>
    public static DateTime ScanIndexSeedTime { get; } = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    private static readonly Lazy<BomDocument> SeedBom = new(() => BomDocument.Load(Seeds("bom-verify", "model.cdx.json")));

    private static readonly Lazy<ModelFingerprint> SeedFingerprint = new(() => FingerprintFile.Read(Seeds("fingerprint-file", "model" + FingerprintFile.Extension)));

    private static readonly Lazy<IReadOnlyList<TrustedKey>> SigningKeys = new(() => [PublicKeyLoader.Load(Seeds("_signing", "cosign.pub"))]);

    /// <summary>The seed model, copied once with the checkout's own timestamps; only read by the harnesses that share it.</summary>
    public static readonly Lazy<string> SharedModel = new(() =>
    {
        var directory = Path.Combine(Path.GetTempPath(), "pg-fuzz-model-" + Environment.ProcessId);
        CopyDirectory(Seeds("_model"), directory);
        return directory;
    });

    public static IReadOnlyList<FuzzFamily> All { get; } =
    [
        new("safetensors-header", InputKind.Binary, 1, (input, work) => SafetensorsHeader.Read(Write(work, "model.safetensors", input))),
        new("safetensors-body", InputKind.Binary, 0.7, (input, work) =>
        {
            var model = ModelCopy(work, "_model", "model.safetensors", input);
            Fingerprinter.FromModelDirectory(model);
        }),
        new("shard-index", InputKind.Json, 0.7, (input, work) =>
        {
            var model = ModelCopy(work, "_shards", "model.safetensors.index.json", input);
            Fingerprinter.FromModelDirectory(model);
            ModelBomGenerator.Generate(model);
        }),
        new("config-json", InputKind.Json, 0.8, (input, work) =>
        {
            var model = ModelCopy(work, "_model", "config.json", input);
            ModelConfig.Read(Path.Combine(model, "config.json"));
            Bom(model);
            Fingerprinter.FromModelDirectory(model);
        }),
        new("tokenizer-json", InputKind.Json, 1, (input, work) =>
        {
            var model = ModelCopy(work, "_model", "tokenizer.json", input);
            TokenizerReader.ReadTokenizerJson(Path.Combine(model, "tokenizer.json"));
            ModelDirectory.Read(model);
        }),
        new("tokenizer-model", InputKind.Binary, 1, (input, work) =>
        {
            var model = ModelCopy(work, "_model", "tokenizer.model", input, without: "tokenizer.json");
            TokenizerReader.ReadSentencePiece(Path.Combine(model, "tokenizer.model"));
            ModelDirectory.Read(model);
        }),
        new("vocab-json", InputKind.Json, 0.6, (input, work) =>
        {
            var model = ModelCopy(work, "_model", "vocab.json", input, without: "tokenizer.json");
            TokenizerReader.ReadDirectory(model);
        }),
        new("merges-txt", InputKind.Text, 0.5, (input, work) =>
        {
            var model = ModelCopy(work, "_model", "merges.txt", input, without: "tokenizer.json");
            TokenizerReader.ReadDirectory(model);
        }),
        new("bom-validate", InputKind.Json, 1.2, (input, work) =>
        {
            var path = Write(work, "bom.cdx.json", input);
            BomValidator.Validate(input, path);
            var document = BomDocument.Parse(path, input);
            BomDiff.Compare(SeedBom.Value, document);
            BomDiff.Compare(document, SeedBom.Value);
            foreach (var view in ManifestViews.Views)
                ManifestViews.Build(document, view, Now);
        }),
        new("bom-verify", InputKind.Json, 1, (input, work) =>
        {
            var report = Gate.Verify(new GateOptions { BomPath = Write(work, "bom.cdx.json", input), ModelDirectory = SharedModel.Value, Now = Now });
            foreach (var format in ReportWriters.Formats)
                ReportWriters.Write(report, format);
        }),
        new("declaration", InputKind.Yaml, 1, (input, work) =>
        {
            var path = Write(work, LooksLikeJson(input) ? "provenance.json" : "provenance.yaml", input);
            ModelDeclaration.Load(path);
            Bom(SharedModel.Value, new ModelOptions { DeclarationPath = path });
        }),
        new("model-card", InputKind.Yaml, 0.6, (input, work) => Bom(ModelCopy(work, "_model", "README.md", input))),
        new("policy", InputKind.Yaml, 0.8, (input, work) =>
        {
            var path = Write(work, LooksLikeJson(input) ? "policy.json" : "policy.yaml", input);
            PolicyLoader.Load(path);
            Gate.Verify(new GateOptions { BomPath = Seeds("bom-verify", "model.cdx.json"), ModelDirectory = SharedModel.Value, PolicyReference = path, Now = Now });
        }),
        new("cosign-key", InputKind.Text, 0.25, (input, work) =>
        {
            using var key = PrivateKeyLoader.Load(Write(work, "cosign.key", input), () => CosignPassword);
            BlobSigner.SignBytes(key, "fuzz"u8);
        }),
        new("pkcs8-key", InputKind.Text, 0.5, (input, work) =>
        {
            using var key = PrivateKeyLoader.Load(Write(work, "signing.key", input), () => CosignPassword);
            BlobSigner.SignBytes(key, "fuzz"u8);
        }),
        new("public-key", InputKind.Text, 0.5, (input, work) =>
        {
            var key = PublicKeyLoader.Load(Write(work, "cosign.pub", input));
            SignatureVerifier.VerifyBlob(Seeds("_signing", "model.safetensors"), [key], Seeds("signature", "model.safetensors.sig"), null);
        }),
        new("signature", InputKind.Text, 0.6, (input, work) =>
            SignatureVerifier.VerifyBlob(Seeds("_signing", "model.safetensors"), SigningKeys.Value, Write(work, "model.safetensors.sig", input), null)),
        new("sigstore-bundle", InputKind.Json, 1, (input, work) =>
        {
            var path = Write(work, "bundle.sigstore.json", input);
            SignatureVerifier.VerifyBlob(Seeds("_signing", "model.safetensors"), SigningKeys.Value, null, path);
            if (ExternalApis.IsAttestationBundle(path))
                AttestationVerifier.Verify(path, SigningKeys.Value, [Seeds("_signing", "model.safetensors")], PredicateTypes.CycloneDx);
        }),
        new("dsse-envelope", InputKind.Json, 0.8, (input, work) =>
            AttestationVerifier.Verify(Write(work, "envelope.dsse.json", input), SigningKeys.Value, [Seeds("_signing", "model.safetensors")], PredicateTypes.CycloneDx)),
        new("pickle", InputKind.Binary, 1, (input, work) => PickleScanner.Scan(Write(work, "pytorch_model.bin", input))),
        // The other weight formats as the CLI takes them: the BOM of the folder holding the file, then the file's fingerprint.
        new("gguf", InputKind.Binary, 0.6, (input, work) => ModelFile(work, "model.gguf", input)),
        new("onnx", InputKind.Binary, 0.6, (input, work) => ModelFile(work, "model.onnx", input)),
        new("pytorch-checkpoint", InputKind.Binary, 0.6, (input, work) => ModelFile(work, "pytorch_model.bin", input)),
        new("fingerprint-file", InputKind.Json, 1, (input, work) =>
        {
            var fingerprint = FingerprintFile.Read(Write(work, "model" + FingerprintFile.Extension, input));
            LineageComparer.Compare(fingerprint, SeedFingerprint.Value);
            LineageComparer.Compare(SeedFingerprint.Value, fingerprint);
            Scanner.Scan(fingerprint, ReferenceCatalogue.LoadBundled(), (ScanIndex?)null, 5);
        }),
        new("fingerprint-cache", InputKind.Json, 0.5, (input, work) =>
        {
            var cache = new FingerprintCache(Path.Combine(work, "cache"));
            if (cache.EntryPathFor(SharedModel.Value) is { } entry)
                Write(Path.GetDirectoryName(entry)!, Path.GetFileName(entry), input);
            cache.GetOrCompute(SharedModel.Value);
        }),
        new("scan-index", InputKind.Binary, 0.5, (input, work) =>
        {
            var database = Path.Combine(work, "db");
            var file = Write(database, "model" + FingerprintFile.Extension, File.ReadAllBytes(Seeds("fingerprint-file", "model" + FingerprintFile.Extension)));
            File.SetLastWriteTimeUtc(file, ScanIndexSeedTime);
            Write(database, ScanIndex.IndexFileName, input);
            Scanner.Scan(SeedFingerprint.Value, ReferenceCatalogue.LoadBundled(), ScanIndex.LoadDirectory(database), 5);
        }),
        new("model-directory", InputKind.Text, 0.7, (input, work) =>
        {
            var model = ModelTree.Build(input, Path.Combine(work, "tree"));
            Bom(model);
            Gate.Verify(new GateOptions { BomPath = Seeds("bom-verify", "model.cdx.json"), ModelDirectory = model, Now = Now });
            FingerprintLoader.Load(model, new FingerprintCache(Path.Combine(work, "cache")));
        }),
    ];

    private static void Bom(string model, ModelOptions? options = null)
    {
        var builder = new AiBomBuilder(CycloneDxSchemas.DefaultSpecVersion);
        builder.AddModel(model, options);
        builder.Build("2026-01-01T00:00:00Z");
    }

    private static string ModelCopy(string work, string support, string fileName, byte[] input, string? without = null)
    {
        var model = Path.Combine(work, "model");
        CopyDirectory(Seeds(support), model);
        if (without is not null)
            File.Delete(Path.Combine(model, without));
        Write(model, fileName, input);
        return model;
    }

    private static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from))
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)), overwrite: true);
    }

    private static void ModelFile(string work, string name, byte[] input)
    {
        var folder = Path.Combine(work, "model");
        var file = Write(folder, name, input);
        Bom(folder);
        Fingerprinter.FromModelDirectory(file);
    }

    private static string Write(string directory, string name, byte[] input)
    {
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, name);
        File.WriteAllBytes(path, input);
        return path;
    }

    private static bool LooksLikeJson(byte[] input) => Encoding.UTF8.GetString(input).TrimStart().StartsWith('{');
}
