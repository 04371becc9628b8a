using System.Collections.Concurrent;
using ProvenanceGate.Fingerprinting;
using ProvenanceGate.Formats.Safetensors;
using ProvenanceGate.Formats.Weights;

namespace ProvenanceGate.Tests.Fingerprinting;

/// <summary>
/// PyTorch checkpoints written by real torch.save (TestData/pytorch, made by its generate.py from the trained dev
/// models): the tensors we read are the source's to the bit, and lineage holds across formats.
/// </summary>
public sealed class PyTorchCheckpointTests
{
    private static readonly ConcurrentDictionary<string, ModelFingerprint> Fingerprints = new();

    private static readonly string[] ViewNames = ["transposed", "rows", "columns", "every_other", "half", "bfloat", "double", "scalar", "ints", "param"];

    private static readonly long[] TransposedShape = [10, 6];

    private static string Fixture(params string[] parts) => RepoPaths.TestData(["pytorch", .. parts]);

    private static string Trained(string model) => RepoPaths.TestData("trained", "models", model);

    private static ModelFingerprint Fingerprint(string path) => Fingerprints.GetOrAdd(path, p => Fingerprinter.FromModelDirectory(p));

    /// <summary>Each tensor's logical values, read through the same block reader the fingerprint uses.</summary>
    private static Dictionary<string, float[]> Values(WeightSet weights)
    {
        var result = new Dictionary<string, float[]>(StringComparer.Ordinal);
        using var reader = new TensorReader();
        foreach (var tensor in weights.Tensors.Where(t => TensorReader.IsDecodable(t.DType)))
        {
            var values = new float[tensor.ElementCount];
            reader.ReadBlocks(tensor, block => block.Values.CopyTo(values.AsSpan((int)(block.FirstRow * block.RowLength))));
            result[tensor.Name] = values;
        }

        return result;
    }

    private static byte[] StoredBytes(WeightTensor tensor)
    {
        using var stream = File.OpenRead(tensor.FilePath);
        stream.Position = tensor.FileOffset;
        var bytes = new byte[tensor.ByteLength];
        stream.ReadExactly(bytes);
        return bytes;
    }

    [TestCase("dev-ft", "dev-ft", "zip")]
    [TestCase("dev-ft-bf16-sharded", "dev-ft-bf16", "zip, sharded")]
    public void Zip_checkpoint_tensors_are_the_safetensors_source_bytes(string fixture, string source, string what)
    {
        var checkpoint = WeightFormats.Open(Fixture(fixture))!;
        var original = WeightFormats.Open(Trained(source))!;

        Assert.That(checkpoint.Format, Is.EqualTo("pytorch"), what);
        Assert.That(checkpoint.Tensors.Select(t => t.Name).Order(), Is.EqualTo(original.Tensors.Select(t => t.Name).Order()));
        var byName = original.Tensors.ToDictionary(t => t.Name);
        foreach (var tensor in checkpoint.Tensors)
        {
            var expected = byName[tensor.Name];
            Assert.That(tensor.DType, Is.EqualTo(expected.DType), tensor.Name);
            Assert.That(tensor.Shape, Is.EqualTo(expected.Shape), tensor.Name);
            Assert.That(tensor.Decoder, Is.Null, "torch.save writes contiguous tensors: read in place");
            Assert.That(StoredBytes(tensor), Is.EqualTo(StoredBytes(expected)), tensor.Name);
        }
    }

    [Test]
    public void Legacy_checkpoint_tensors_equal_torchs_float16_cast_of_the_source_to_the_bit()
    {
        var checkpoint = WeightFormats.Open(Fixture("dev-twin-legacy", "pytorch_model.bin"))!;
        var source = Values(WeightFormats.Open(Trained("dev-twin"))!);

        Assert.That(checkpoint.Tensors, Has.Count.EqualTo(source.Count));
        foreach (var tensor in checkpoint.Tensors)
        {
            Assert.That(tensor.DType, Is.EqualTo(SafetensorsDType.F16));
            var bits = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ushort>(StoredBytes(tensor)).ToArray();
            // torch's float -> half cast rounds to nearest even, as .NET's does.
            var expected = source[tensor.Name].Select(v => BitConverter.HalfToUInt16Bits((Half)v)).ToArray();
            Assert.That(bits, Is.EqualTo(expected), tensor.Name);
        }
    }

    [TestCase("views.pt")]
    [TestCase("views-legacy.pt")]
    public void Views_offsets_strides_and_wrappers_are_read_as_torch_holds_them(string file)
    {
        var weights = WeightFormats.Open(Fixture("views", file))!;
        var values = Values(weights);
        // base = arange(60).reshape(6, 10) * 0.25 - 3, as generate.py builds it.
        float Base(int row, int column) => ((row * 10) + column) * 0.25f - 3f;

        Assert.That(weights.Tensors.Select(t => t.Name), Is.EquivalentTo(ViewNames),
            "the {'state_dict': ...} wrapper is unwrapped; the optimizer's and epoch's values are not tensors");
        var transposed = weights.Tensors.Single(t => t.Name == "transposed");
        Assert.That(transposed.Shape, Is.EqualTo(TransposedShape));
        Assert.That(transposed.Decoder, Is.Not.Null, "a transposed view is gathered by its strides");
        Assert.That(values["transposed"], Is.EqualTo(Enumerable.Range(0, 60).Select(i => Base(i % 6, i / 6))));
        Assert.That(values["rows"], Is.EqualTo(Enumerable.Range(20, 30).Select(i => Base(i / 10, i % 10))));
        Assert.That(values["columns"], Is.EqualTo(Enumerable.Range(0, 24).Select(i => Base(i / 4, 3 + (i % 4)))));
        Assert.That(values["every_other"], Is.EqualTo(Enumerable.Range(0, 12).Select(i => Base(2 * (i / 4), 3 * (i % 4)))));
        var all = Enumerable.Range(0, 60).Select(i => Base(i / 10, i % 10)).ToArray();
        Assert.That(values["half"], Is.EqualTo(all));
        Assert.That(values["bfloat"], Is.EqualTo(all));
        Assert.That(values["double"], Is.EqualTo(all));
        Assert.That(values["scalar"], Is.EqualTo(Enumerable.Repeat(1.5f, 1)));
        Assert.That(values["param"], Is.EqualTo(all.Skip(10).Take(10)));
        Assert.That(weights.Tensors.Single(t => t.Name == "ints").DType, Is.EqualTo(SafetensorsDType.I64));
        Assert.That(weights.Tensors.Single(t => t.Name == "bfloat").DType, Is.EqualTo(SafetensorsDType.BF16));
    }

    /// <summary>A directory to copy into, whoever owns it.</summary>
    private sealed class TempDirectoryView(string path)
    {
        public string Path { get; } = path;

        public string Combine(string name) => System.IO.Path.Combine(Path, name);
    }

    private static string WithMetadata(TempDirectory temp, string fixture, string metadataFrom) => WithMetadata(new TempDirectoryView(temp.Path), fixture, metadataFrom);

    private static string WithMetadata(TempDirectoryView temp, string fixture, string metadataFrom)
    {
        // The checkpoint beside the config and tokenizer of its source, as a Hugging Face repository ships it.
        foreach (var file in Directory.EnumerateFiles(Trained(metadataFrom)).Where(f => !f.EndsWith(".safetensors", StringComparison.Ordinal)))
            File.Copy(file, temp.Combine(Path.GetFileName(file)));
        // The fixture folder carries the same tokenizer files (a model file is fingerprinted with those beside it).
        foreach (var file in Directory.EnumerateFiles(Fixture(fixture)))
            File.Copy(file, temp.Combine(Path.GetFileName(file)), overwrite: true);
        return temp.Path;
    }

    [Test]
    public void A_bin_fine_tune_is_derived_from_its_safetensors_base_with_margin_and_hashes_match_the_source()
    {
        using var temp = new TempDirectory();
        var directory = WithMetadata(temp, "dev-ft", "dev-ft");
        var bin = Fingerprinter.FromModelDirectory(directory);
        var single = Fingerprint(Fixture("dev-ft", "pytorch_model.bin"));

        Assert.That(bin.Model.Format, Is.EqualTo("pytorch"));
        // The file is identified by its pickle and member checksums, like a safetensors header: not hashed whole.
        Assert.That(bin.Files.Single(f => f.Path == "pytorch_model.bin").Kind, Is.EqualTo("weights-header"));
        Assert.That(bin.Files.Single(f => f.Path == "pytorch_model.bin").Sha256, Is.Not.EqualTo(Fingerprinter.Sha256File(Fixture("dev-ft", "pytorch_model.bin"))));
        Assert.That(bin.Weights!.TensorHashes, Is.EqualTo(Fingerprint(Trained("dev-ft")).Weights!.TensorHashes), "same values, same content hashes, whatever the container");
        foreach (var candidate in new[] { bin, single })
        {
            var result = LineageComparer.Compare(candidate, Fingerprint(Trained("dev-base")));
            Assert.That(result.Verdict, Is.EqualTo(LineageVerdict.Derived), result.Reason);
            Assert.That(result.Score, Is.GreaterThanOrEqualTo(LineageComparer.DerivedThreshold + 0.3), result.Reason);
        }
    }

    [Test]
    public void A_legacy_bin_of_the_twin_stays_independent_with_margin()
    {
        using var temp = new TempDirectory();
        var directory = WithMetadata(temp, "dev-twin-legacy", "dev-twin");
        foreach (var candidate in new[] { Fingerprinter.FromModelDirectory(directory), Fingerprint(Fixture("dev-twin-legacy", "pytorch_model.bin")) })
        {
            foreach (var other in new[] { "dev-base", "dev-ft" })
            {
                var result = LineageComparer.Compare(candidate, Fingerprint(Trained(other)));
                Assert.That(result.Verdict, Is.EqualTo(LineageVerdict.Independent), $"{other}: {result.Reason}");
                Assert.That(result.Score, Is.LessThanOrEqualTo(LineageComparer.DerivedThreshold - 0.3), $"{other}: {result.Reason}");
            }
        }

        var withItself = LineageComparer.Compare(Fingerprinter.FromModelDirectory(directory), Fingerprint(Trained("dev-twin")));
        Assert.That(withItself.Verdict, Is.EqualTo(LineageVerdict.Derived), "the twin's own F16 cast descends from it: " + withItself.Reason);
    }

    [Test]
    public void A_sharded_bf16_bin_is_derived_from_dev_base_and_lists_its_index()
    {
        var sharded = Fingerprint(Fixture("dev-ft-bf16-sharded"));
        var result = LineageComparer.Compare(sharded, Fingerprint(Trained("dev-base")));

        Assert.That(sharded.Files.Select(f => f.Path), Does.Contain("pytorch_model.bin.index.json"));
        Assert.That(sharded.Weights!.TensorHashes, Is.EqualTo(Fingerprint(Trained("dev-ft-bf16")).Weights!.TensorHashes));
        Assert.That(result.Verdict, Is.EqualTo(LineageVerdict.Derived), result.Reason);
        Assert.That(result.Score, Is.GreaterThanOrEqualTo(LineageComparer.DerivedThreshold + 0.3), result.Reason);
    }

    [Test]
    public void Safetensors_win_when_a_directory_holds_both_formats()
    {
        using var temp = new TempDirectory();
        var directory = WithMetadata(temp, "dev-ft", "dev-ft");
        File.Copy(Path.Combine(Trained("dev-ft"), "model.safetensors"), temp.Combine("model.safetensors"));
        Assert.That(WeightFormats.Open(directory)!.Format, Is.EqualTo("safetensors"));
    }

    [Test]
    public void Cli_fingerprints_compares_and_scans_single_bin_files()
    {
        using var temp = new TempDirectory();
        var output = temp.Combine("ft.fingerprint.json");
        var fingerprint = Cli.Run("fingerprint", Fixture("dev-ft", "pytorch_model.bin"), "-o", output, "--no-cache");
        Assert.That(fingerprint.ExitCode, Is.EqualTo(0), fingerprint.Stderr);
        Assert.That(FingerprintFile.Read(output).Model.Format, Is.EqualTo("pytorch"));

        var compare = Cli.Run("compare", Fixture("dev-ft", "pytorch_model.bin"), Trained("dev-base"), "--format", "json", "--no-cache");
        Assert.That(compare.ExitCode, Is.EqualTo(0), compare.Stderr);
        Assert.That(compare.Stdout, Does.Contain("\"verdict\": \"derived\""));

        var independent = Cli.Run("compare", Fixture("dev-twin-legacy", "pytorch_model.bin"), Trained("dev-base"), "--no-cache");
        Assert.That(independent.ExitCode, Is.EqualTo(1), independent.Stdout);
        Assert.That(independent.Stderr, Does.Contain("PG3008"));

        Directory.CreateDirectory(temp.Combine("db"));
        Assert.That(Cli.Run("fingerprint", Trained("dev-base"), "-o", temp.Combine("db", "dev-base.fingerprint.json"), "--no-cache").ExitCode, Is.EqualTo(0));
        var scan = Cli.Run("scan", Fixture("dev-ft", "pytorch_model.bin"), "--db", temp.Combine("db"), "--format", "json", "--no-cache");
        Assert.That(scan.ExitCode, Is.EqualTo(0), scan.Stderr);
        Assert.That(scan.Stdout, Does.Contain("\"name\": \"dev-base\"").And.Contain("\"kind\": \"derived\""));
    }

    [Test]
    public void The_gate_checks_a_bin_model_against_a_single_base_model_file()
    {
        using var temp = new TempDirectory();
        var model = Directory.CreateDirectory(temp.Combine("model")).FullName;
        WithMetadata(new TempDirectoryView(model), "dev-ft", "dev-ft");
        var bases = Directory.CreateDirectory(temp.Combine("bases")).FullName;
        File.Copy(Path.Combine(Trained("dev-base"), "model.safetensors"), Path.Combine(bases, "dev-base.safetensors"));
        File.Copy(Path.Combine(Trained("dev-twin"), "model.safetensors"), Path.Combine(bases, "dev-twin.safetensors"));
        // A bare weights file is anchored through the tokenizer beside it (the two share one vocabulary).
        File.Copy(Path.Combine(Trained("dev-base"), "tokenizer.json"), Path.Combine(bases, "tokenizer.json"));
        File.WriteAllText(temp.Combine("provenance.yaml"), """
            schemaVersion: 1
            model:
              id: acme/dev-ft-bin
              license: Apache-2.0
            baseModels:
              - id: acme/dev-base
                relation: fine-tune
                license: Apache-2.0
            """);
        var bom = temp.Combine("model.cdx.json");
        var generated = Cli.Run("bom", model, "--declaration", temp.Combine("provenance.yaml"), "-o", bom, "--timestamp", "2026-11-01T00:00:00Z");
        Assert.That(generated.ExitCode, Is.EqualTo(0), generated.Stderr);

        var verify = Cli.Run("verify", bom, "--model-dir", model, "--base-fingerprints", bases, "--format", "json", "--timestamp", "2026-11-21T00:00:00Z");
        var lineage = System.Text.Json.Nodes.JsonNode.Parse(verify.Stdout)!["lineage"]!.AsArray().Single()!;
        Assert.That(lineage["verdict"]!.GetValue<string>(), Is.EqualTo("derived"), verify.Stdout);
        Assert.That(verify.Stderr, Does.Not.Contain("PG4073").And.Not.Contain("PG4072"), "the twin's file is read as a candidate and does not match better");
    }

    [Test]
    public void The_cache_keys_a_single_model_file_and_serves_it_again()
    {
        using var temp = new TempDirectory();
        var file = temp.Combine("ft.bin");
        File.Copy(Fixture("dev-ft", "pytorch_model.bin"), file);
        // No racy window: the copy is seconds old, and this test is about the single-file key.
        var cache = new FingerprintCache(temp.Combine("cache")) { RacyWindow = TimeSpan.Zero };

        var first = cache.GetOrCompute(file);
        Assert.That(Directory.EnumerateFiles(temp.Combine("cache")).Count(), Is.EqualTo(1));
        var second = cache.GetOrCompute(file);
        Assert.That(FingerprintFile.Serialize(second), Is.EqualTo(FingerprintFile.Serialize(first)));

        // Another file with other bytes gets another key.
        File.Copy(Fixture("dev-twin-legacy", "pytorch_model.bin"), temp.Combine("twin.bin"));
        Assert.That(cache.EntryPathFor(temp.Combine("twin.bin")), Is.Not.EqualTo(cache.EntryPathFor(file)));
    }
}

/// <summary>BOM facts of checkpoint files and adapters, from the real `bom` command.</summary>
public sealed class PyTorchBomTests
{
    private static System.Text.Json.Nodes.JsonObject Bom(TempDirectory temp, string directory)
    {
        var path = temp.Combine("bom-" + Guid.NewGuid().ToString("N")[..6] + ".cdx.json");
        var result = Cli.Run("bom", directory, "-o", path, "--timestamp", "2026-11-01T00:00:00Z");
        Assert.That(result.ExitCode, Is.EqualTo(0), result.Stderr);
        return System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(path))!.AsObject();
    }

    private static Dictionary<string, string> Properties(System.Text.Json.Nodes.JsonNode component) =>
        component["properties"]!.AsArray().GroupBy(p => p!["name"]!.GetValue<string>()).ToDictionary(g => g.Key, g => string.Join("|", g.Select(p => p!["value"]!.GetValue<string>())));

    [Test]
    public void A_bin_model_gets_format_dtypes_and_counts_with_their_source()
    {
        using var temp = new TempDirectory();
        var model = Directory.CreateDirectory(temp.Combine("dev-ft-bin")).FullName;
        foreach (var file in Directory.EnumerateFiles(RepoPaths.TestData("pytorch", "dev-ft-bf16-sharded")))
            File.Copy(file, Path.Combine(model, Path.GetFileName(file)));
        var component = Bom(temp, model)["components"]!.AsArray().Single(c => c!["type"]!.GetValue<string>() == "machine-learning-model")!;
        var properties = Properties(component);
        var expected = WeightFormats.Open(RepoPaths.TestData("trained", "models", "dev-ft-bf16"))!;

        Assert.That(properties["provenancegate:weights:format"], Is.EqualTo("pytorch-pickle"));
        Assert.That(properties["provenancegate:weights:parameter-count"], Is.EqualTo(expected.Tensors.Sum(t => t.ElementCount).ToString(System.Globalization.CultureInfo.InvariantCulture)));
        Assert.That(properties["provenancegate:weights:dtypes"], Is.EqualTo("BF16"));
        Assert.That(properties["provenancegate:source:parameter-count"], Does.Contain("pytorch checkpoint pickle"));
        var shard = component["components"]!.AsArray().Single(c => c!["name"]!.GetValue<string>() == "pytorch_model-00002-of-00002.bin")!;
        var shardProperties = Properties(shard);
        Assert.That(shardProperties["provenancegate:pytorch:serialization"], Is.EqualTo("zip"));
        Assert.That(int.Parse(shardProperties["provenancegate:pytorch:tensor-count"], System.Globalization.CultureInfo.InvariantCulture), Is.GreaterThan(0));
    }

    [Test]
    public void A_refused_checkpoint_is_described_not_read_and_the_bom_still_written()
    {
        using var temp = new TempDirectory();
        var model = Directory.CreateDirectory(temp.Combine("evil")).FullName;
        File.Copy(RepoPaths.TestData("trained", "models", "dev-ft", "config.json"), Path.Combine(model, "config.json"));
        var evil = new Verify.PickleBuilder().Proto(2).Global("os", "system").Op('X').Raw(BitConverter.GetBytes(2)).Raw("id"u8.ToArray()).Op(0x85).Op('R').Stop().ToArray();
        File.WriteAllBytes(Path.Combine(model, "pytorch_model.bin"), Verify.PickleBuilder.TorchZip(evil));

        var component = Bom(temp, model)["components"]!.AsArray().Single(c => c!["type"]!.GetValue<string>() == "machine-learning-model")!;
        var file = component["components"]!.AsArray().Single(c => c!["name"]!.GetValue<string>() == "pytorch_model.bin")!;
        Assert.That(Properties(file)["provenancegate:pytorch:unread"], Does.StartWith("PG3041").And.Contain("os.system"));
        Assert.That(Properties(component).ContainsKey("provenancegate:weights:parameter-count"), Is.False);
    }

    [Test]
    public void An_adapter_gets_its_rank_alpha_targets_and_base_with_their_source()
    {
        using var temp = new TempDirectory();
        var bom = Bom(temp, RepoPaths.TestData("pytorch", "lora-dev-base-bin"));
        var component = bom["components"]!.AsArray().Single(c => c!["type"]!.GetValue<string>() == "machine-learning-model")!;
        var properties = Properties(component);

        Assert.That(properties["provenancegate:adapter:peft_type"], Is.EqualTo("LORA"));
        Assert.That(properties["provenancegate:adapter:r"], Is.EqualTo("8"));
        Assert.That(properties["provenancegate:adapter:lora_alpha"], Is.EqualTo("16"));
        Assert.That(properties["provenancegate:adapter:target_modules"], Is.EqualTo("q_proj,v_proj"));
        Assert.That(properties["provenancegate:source:adapter"], Is.EqualTo("adapter_config.json"));
        Assert.That(component["pedigree"]!["ancestors"]!.AsArray().Single()!["name"]!.GetValue<string>(), Is.EqualTo("dev-base"));
        Assert.That(properties["provenancegate:weights:dtypes"], Is.EqualTo("F32"), "adapter_model.bin is read like any checkpoint");
    }
}
