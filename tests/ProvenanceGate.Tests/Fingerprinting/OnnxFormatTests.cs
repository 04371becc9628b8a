// CA1861: expected values read best inline, next to the assertion; these tests run once.
#pragma warning disable CA1861
using System.Text.Json;
using System.Text.Json.Nodes;
using ProvenanceGate.Fingerprinting;
using ProvenanceGate.Formats.Onnx;
using ProvenanceGate.Formats.Safetensors;
using ProvenanceGate.Formats.Weights;

namespace ProvenanceGate.Tests.Fingerprinting;

/// <summary>
/// ONNX models read as weights: the fixtures are real torch.onnx.export output of the trained dev models
/// (TestData/onnx/generate.py), whose Linear weights the exporter renamed to onnx::MatMul_N and stored transposed.
/// </summary>
public sealed class OnnxFormatTests
{
    private static string Onnx(params string[] parts) => RepoPaths.TestData(["onnx", .. parts]);

    private static string Trained(string name) => RepoPaths.TestData("trained", "models", name);

    private static float[] ReadAll(WeightTensor tensor)
    {
        var values = new List<float>();
        using var reader = new TensorReader();
        reader.ReadBlocks(tensor, block => values.AddRange(block.Values.ToArray()));
        return values.ToArray();
    }

    [Test]
    public void Model_facts_are_read_from_the_protobuf()
    {
        var model = OnnxModel.Read(Onnx("dev-ft", "model.onnx"));
        Assert.That(model.IrVersion, Is.EqualTo(7));
        Assert.That(model.DefaultOpset, Is.EqualTo(14));
        Assert.That((model.ProducerName, model.ProducerVersion), Is.EqualTo(("pytorch", "1.13.0")));
        Assert.That(model.Inputs.Select(i => i.ToString()), Is.EqualTo(new[] { "input_ids: INT64[batch,sequence]" }));
        Assert.That(model.Outputs.Select(o => o.ToString()), Is.EqualTo(new[] { "logits: FLOAT[batch,sequence,3000]" }));
        Assert.That(model.MetadataProps, Does.Contain(new KeyValuePair<string, string>("source_model", "dev-ft")));
        Assert.That(model.Initializers, Has.Count.EqualTo(30));
        Assert.That(model.ParameterCount, Is.EqualTo(1_092_112));
        Assert.That(model.Initializers.Count(i => i.Name.StartsWith("onnx::MatMul_", StringComparison.Ordinal)), Is.EqualTo(22));
    }

    [Test]
    public void Renamed_MatMul_weights_get_their_roles_from_the_graph_and_equal_the_safetensors_values()
    {
        var onnx = WeightFormats.Open(Onnx("dev-ft", "model.onnx"))!;
        var safetensors = WeightFormats.Open(Trained("dev-ft"))!;
        Assert.That(onnx.Format, Is.EqualTo("onnx"));
        Assert.That(onnx.Tensors.Select(t => t.Name).Order(), Is.EqualTo(safetensors.Tensors.Select(t => t.Name).Order()), "every tensor gets its Hugging Face name");
        var expected = safetensors.Tensors.ToDictionary(t => t.Name);
        foreach (var tensor in onnx.Tensors)
        {
            var reference = expected[tensor.Name];
            Assert.That(tensor.Shape, Is.EqualTo(reference.Shape), tensor.Name);
            if (tensor.StoredName is not null)
            {
                Assert.That(tensor.StoredName, Does.StartWith("onnx::MatMul_"));
                Assert.That(tensor.Decoder, Is.InstanceOf<TransposedDecoder>(), "a MatMul initializer is stored [in, out]");
            }

            // dev-ft stores float16; the export holds the same values as float32, so they must be equal to the bit.
            Assert.That(ReadAll(tensor), Is.EqualTo(ReadAll(reference)), tensor.Name);
        }
    }

    [Test]
    public void Typed_fields_and_raw_bfloat16_decode_to_the_values_onnx_wrote()
    {
        var weights = WeightFormats.Open(Onnx("typed.onnx"))!;
        using var document = JsonDocument.Parse(File.ReadAllText(Onnx("typed.json")));
        var byStoredName = weights.Tensors.ToDictionary(t => t.StoredName ?? t.Name);
        foreach (var entry in document.RootElement.EnumerateObject())
        {
            var tensor = byStoredName[entry.Name];
            Assert.That(tensor.Shape, Is.EqualTo(entry.Value.GetProperty("shape").EnumerateArray().Select(v => v.GetInt64())), entry.Name);
            var expected = entry.Value.GetProperty("values").EnumerateArray().Select(v => (float)v.GetDouble()).ToArray();
            Assert.That(ReadAll(tensor), Is.EqualTo(expected), entry.Name);
        }

        Assert.That(byStoredName["f16_int32_data"].StoredType, Is.EqualTo("F16"));
        Assert.That(byStoredName["bf16_raw"].DType, Is.EqualTo(SafetensorsDType.BF16));
    }

    [TestCase(TransposedDecoder.WholeBytes, TransposedDecoder.PanelBytes, TestName = "Transposed matrix read whole")]
    [TestCase(0, 300 * 2 * 64, TestName = "Transposed matrix read in panels of 64 columns")]
    [TestCase(0, 1, TestName = "Transposed matrix read one column at a time")]
    public void Transposed_decoder_presents_stored_columns_as_rows(int wholeBytes, int panelBytes)
    {
        const int Rows = 300, Columns = 701;
        using var temp = new TempDirectory();
        var path = temp.Combine("matrix.bin");
        var stored = new ushort[Rows * Columns];
        var random = new Random(5);
        for (var i = 0; i < stored.Length; i++)
            stored[i] = (ushort)random.Next(0x3000, 0x4000);
        File.WriteAllBytes(path, [0, 0, 0, .. System.Runtime.InteropServices.MemoryMarshal.AsBytes(stored.AsSpan()).ToArray()]);
        var tensor = new WeightTensor("m", SafetensorsDType.BF16, [Columns, Rows], path, 3, stored.Length * 2L)
        {
            Decoder = new TransposedDecoder(2, Rows, Columns, wholeBytes, panelBytes),
        };
        var expected = new float[stored.Length];
        for (var r = 0; r < Rows; r++)
        {
            for (var c = 0; c < Columns; c++)
                expected[(c * Rows) + r] = BitConverter.UInt32BitsToSingle((uint)stored[(r * Columns) + c] << 16);
        }

        Assert.That(ReadAll(tensor), Is.EqualTo(expected));
        Assert.That(ReadAll(tensor), Is.EqualTo(expected), "a second pass starts again from the first row");
    }

    private static IEnumerable<TestCaseData> CrossFormatPairs()
    {
        yield return new TestCaseData(new[] { "onnx", "dev-ft", "model.onnx" }, "dev-base", true).SetName("ONNX file of dev-ft is derived from safetensors dev-base");
        yield return new TestCaseData(new[] { "onnx", "dev-ft" }, "dev-base", true).SetName("ONNX Runtime GenAI folder of dev-ft is derived from safetensors dev-base");
        yield return new TestCaseData(new[] { "onnx", "dev-ft", "model.onnx" }, "dev-ft-bf16", true).SetName("ONNX file of dev-ft is related to the BF16 cast of dev-ft");
        yield return new TestCaseData(new[] { "onnx", "dev-twin", "model.onnx" }, "dev-base", false).SetName("ONNX file of dev-twin (external data) stays independent of dev-base");
        yield return new TestCaseData(new[] { "onnx", "dev-twin", "model.onnx" }, "dev-ft", false).SetName("ONNX file of dev-twin stays independent of dev-ft");
        yield return new TestCaseData(new[] { "onnx", "dev-ft" }, "dev-neox", false).SetName("ONNX folder of dev-ft stays independent of dev-neox");
    }

    [TestCaseSource(nameof(CrossFormatPairs))]
    public void Cross_format_pairs_get_their_verdict_with_margin(string[] onnxPath, string safetensorsModel, bool related)
    {
        var onnx = Fingerprinter.FromModelDirectory(RepoPaths.TestData(onnxPath));
        var other = TrainedFixtureTests.Fingerprint(safetensorsModel);
        var result = LineageComparer.Compare(onnx, other);
        if (related)
        {
            Assert.That(result.Verdict, Is.AnyOf(LineageVerdict.Derived, LineageVerdict.IdenticalWeights), result.Reason);
            Assert.That(result.Score, Is.GreaterThanOrEqualTo(LineageComparer.DerivedThreshold + 0.3), result.Reason);
        }
        else
        {
            Assert.That(result.Verdict, Is.EqualTo(LineageVerdict.Independent), result.Reason);
            Assert.That(result.Score, Is.LessThanOrEqualTo(LineageComparer.DerivedThreshold - 0.3), result.Reason);
        }

        Assert.That(LineageComparer.Compare(other, onnx).Verdict, Is.EqualTo(result.Verdict));
    }

    [Test]
    public void Export_has_the_same_weights_as_its_source_and_the_GenAI_layout_supplies_config_and_tokenizer()
    {
        var folder = Fingerprinter.FromModelDirectory(Onnx("dev-ft"));
        Assert.That(LineageComparer.Compare(folder, TrainedFixtureTests.Fingerprint("dev-ft")).Verdict, Is.EqualTo(LineageVerdict.IdenticalWeights));
        Assert.That(folder.Model.Format, Is.EqualTo("onnx"));
        Assert.That(folder.Config, Is.Not.Null);
        Assert.That((folder.Config!.ModelType, folder.Config.HiddenSize, folder.Config.Layers, folder.Config.VocabSize), Is.EqualTo(("llama", 112L, 3L, 3000L)));
        Assert.That(folder.Tokenizer, Is.Not.Null, "tokenizer.json beside the model is read");
        Assert.That(folder.Weights!.Layers, Has.Count.EqualTo(3));
        Assert.That(folder.Weights.Embedding, Is.Not.Null);
        Assert.That(folder.Weights.LmHead, Is.Not.Null);
    }

    [Test]
    public void Transposed_weights_give_the_same_fingerprint_mapped_or_read()
    {
        // Mapped under a read lease by default; a file open for writing elsewhere takes no lease and is read instead.
        var mapped = Fingerprinter.FromModelDirectory(Onnx("dev-ft"));
        var files = Directory.GetFiles(Onnx("dev-ft"), "*.onnx*");
        var writers = files.Select(f => new FileStream(f, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite)).ToList();
        try
        {
            var read = Fingerprinter.FromModelDirectory(Onnx("dev-ft"));
            Assert.That(FingerprintFile.Serialize(read), Is.EqualTo(FingerprintFile.Serialize(mapped)));
        }
        finally
        {
            writers.ForEach(w => w.Dispose());
        }

        Assert.That(mapped.Weights!.TensorHashes, Is.EqualTo(TrainedFixtureTests.Fingerprint("dev-ft").Weights!.TensorHashes),
            "every tensor of the export, transposed or not, hashes like its safetensors source");
    }

    [Test]
    public void CLI_fingerprints_and_compares_single_onnx_files_with_the_cache_on()
    {
        using var temp = new TempDirectory();
        var environment = new Dictionary<string, string?> { ["PROVENANCEGATE_CACHE"] = temp.Combine("cache") };
        var model = temp.Combine("twin");
        Directory.CreateDirectory(model);
        foreach (var file in Directory.GetFiles(Onnx("dev-twin")))
            File.Copy(file, Path.Combine(model, Path.GetFileName(file)));
        var onnx = Path.Combine(model, "model.onnx");

        var fingerprint = ExternalProcess.RunTool(["fingerprint", onnx, "-o", temp.Combine("twin.fingerprint.json")], environment);
        Assert.That(fingerprint.ExitCode, Is.EqualTo(0), fingerprint.Output);
        Assert.That(fingerprint.Stdout, Does.Contain("30 tensors, 3 layers, residual width 112"));

        var independent = ExternalProcess.RunTool(["compare", onnx, Trained("dev-base")], environment);
        Assert.That(independent.ExitCode, Is.EqualTo(1), independent.Output);
        Assert.That(independent.Stdout, Does.Contain("independent"));
        var identical = ExternalProcess.RunTool(["compare", onnx, Trained("dev-twin")], environment);
        Assert.That(identical.ExitCode, Is.EqualTo(0), identical.Output);
        Assert.That(identical.Stdout, Does.Contain("identical-weights"));

        // The cache must see a change to the external data beside the file, not only to the file itself.
        var data = Path.Combine(model, "model.onnx.data");
        var bytes = File.ReadAllBytes(data);
        Array.Clear(bytes, 0, bytes.Length / 2);
        File.WriteAllBytes(data, bytes);
        File.SetLastWriteTimeUtc(data, DateTime.UtcNow.AddMinutes(1));
        var changed = ExternalProcess.RunTool(["compare", onnx, Trained("dev-twin")], environment);
        Assert.That(changed.Stdout, Does.Not.Contain("identical-weights"), changed.Output);

        var scan = ExternalProcess.RunTool(["scan", onnx, "--format", "json"], environment);
        Assert.That(scan.ExitCode, Is.EqualTo(0), scan.Output);
    }

    [Test]
    public void BOM_of_an_onnx_folder_has_its_graph_facts_with_sources_and_counts_external_data_as_weights()
    {
        using var temp = new TempDirectory();
        var output = temp.Combine("bom.cdx.json");
        var result = Cli.Run("bom", Onnx("dev-twin"), "-o", output);
        Assert.That(result.ExitCode, Is.EqualTo(0), result.Stderr);
        var model = JsonNode.Parse(File.ReadAllText(output))!["components"]!.AsArray().Single(c => (string?)c!["type"] == "machine-learning-model")!;
        var properties = Properties(model);
        Assert.That(properties["provenancegate:weights:parameter-count"], Is.EqualTo(new[] { "1092112" }));
        Assert.That(properties["provenancegate:weights:dtypes"], Is.EqualTo(new[] { "F32" }));
        Assert.That(properties["provenancegate:weights:format"], Is.EqualTo(new[] { "onnx" }));
        Assert.That(properties["provenancegate:weights:file-count"], Is.EqualTo(new[] { "2" }));
        Assert.That(properties["provenancegate:source:parameter-count"], Is.EqualTo(new[] { "ONNX initializers" }));
        var files = model["components"]!.AsArray().ToDictionary(c => (string)c!["name"]!, c => Properties(c!));
        Assert.That(files["model.onnx.data"]["provenancegate:file:role"], Is.EqualTo(new[] { "weights" }));
        var onnx = files["model.onnx"];
        Assert.That(onnx["provenancegate:onnx:opset:ai.onnx"], Is.EqualTo(new[] { "14" }));
        Assert.That(onnx["provenancegate:onnx:producer"], Is.EqualTo(new[] { "pytorch 1.13.0" }));
        Assert.That(onnx["provenancegate:onnx:input"], Is.EqualTo(new[] { "input_ids: INT64[batch,sequence]" }));
        Assert.That(onnx["provenancegate:onnx:initializer-count"], Is.EqualTo(new[] { "30" }));
        Assert.That(onnx["provenancegate:onnx:metadata:source_model"], Is.EqualTo(new[] { "dev-twin" }));
        Assert.That(Cli.Run("validate", output).ExitCode, Is.EqualTo(0));

        var genAi = temp.Combine("genai.cdx.json");
        Assert.That(Cli.Run("bom", Onnx("dev-ft"), "-o", genAi).ExitCode, Is.EqualTo(0));
        var genAiModel = JsonNode.Parse(File.ReadAllText(genAi))!["components"]!.AsArray().Single(c => (string?)c!["type"] == "machine-learning-model")!;
        var genAiProperties = Properties(genAiModel);
        Assert.That(genAiProperties["cdx:ai-ml:model:hyperparameter:hidden_size"], Is.EqualTo(new[] { "112" }));
        Assert.That(genAiProperties["provenancegate:source:hyperparameters"], Is.EqualTo(new[] { "genai_config.json" }));
    }

    [TestCase("dev-base", "derived", TestName = "Verify gate: the ONNX export's declared base dev-base is confirmed")]
    [TestCase("dev-twin", "independent", TestName = "Verify gate: a false base claim (dev-twin) for the ONNX export is refuted")]
    public void Verify_gate_checks_the_lineage_of_an_onnx_model_directory(string declaredBase, string verdict)
    {
        using var temp = new TempDirectory();
        var model = temp.Combine("model");
        Directory.CreateDirectory(model);
        foreach (var file in Directory.GetFiles(Onnx("dev-ft")))
            File.Copy(file, Path.Combine(model, Path.GetFileName(file)));
        var declaration = temp.Combine("provenance.yaml");
        File.WriteAllText(declaration, $"schemaVersion: 1\nmodel:\n  id: acme/dev-ft-onnx\n  license: Apache-2.0\nbaseModels:\n  - id: acme/{declaredBase}\n    relation: fine-tune\n");
        var bom = temp.Combine("model.cdx.json");
        var generated = Cli.Run("bom", model, "--declaration", declaration, "--timestamp", "2026-11-01T00:00:00Z", "-o", bom);
        Assert.That(generated.ExitCode, Is.EqualTo(0), generated.Stderr);
        var bases = Directory.CreateDirectory(temp.Combine("bases")).FullName;
        FingerprintFile.Write(Path.Combine(bases, $"acme--{declaredBase}{FingerprintFile.Extension}"), TrainedFixtureTests.Fingerprint(declaredBase));

        var result = Cli.Run("verify", bom, "--model-dir", model, "--base-fingerprints", bases, "--timestamp", "2026-11-21T12:00:00Z", "--format", "json");
        var lineage = JsonNode.Parse(result.Stdout)!["lineage"]!.AsArray().Single()!;
        Assert.That((string?)lineage["verdict"], Is.EqualTo(verdict), result.Stdout + result.Stderr);
        if (verdict == "independent")
        {
            Assert.That(result.ExitCode, Is.EqualTo(1));
            Assert.That(result.Stderr, Does.Contain("error PG4"));
        }
    }

    internal static Dictionary<string, string[]> Properties(JsonNode component) =>
        (component["properties"]?.AsArray() ?? []).GroupBy(p => (string)p!["name"]!).ToDictionary(g => g.Key, g => g.Select(p => (string)p!["value"]!).ToArray());
}
