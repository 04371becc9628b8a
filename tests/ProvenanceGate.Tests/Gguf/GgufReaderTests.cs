using ProvenanceGate.Diagnostics;
using ProvenanceGate.Formats.Config;
using ProvenanceGate.Formats.Gguf;
using ProvenanceGate.Formats.Tokenizers;
using ProvenanceGate.Formats.Weights;

namespace ProvenanceGate.Tests.Gguf;

/// <summary>The GGUF of a trained model read back: metadata, tensor infos, config, tokenizer and values.</summary>
public sealed class GgufReaderTests
{
    private static readonly string[] SpecialTokens = ["<s>", "</s>", "<unk>"];

    private static string Model(string name) => RepoPaths.TestData("trained", "models", name);

    [Test]
    public void Metadata_and_tensor_infos_are_read_with_shapes_in_row_major_order()
    {
        var gguf = GgufFile.Read(GgufFixtures.Trained("dev-ft", GgmlType.Q8_0, baseModel: "dev-base"));

        Assert.That(gguf.Version, Is.EqualTo(3));
        Assert.That(gguf.Text("general.architecture"), Is.EqualTo("llama"));
        Assert.That(gguf.Text("general.name"), Is.EqualTo("dev-ft"));
        Assert.That(gguf.Number("general.base_model.count"), Is.EqualTo(1));
        Assert.That(gguf.Text("general.base_model.0.name"), Is.EqualTo("dev-base"));
        Assert.That(gguf.Number("llama.embedding_length"), Is.EqualTo(112));
        Assert.That(gguf.KeyOrder[0], Is.EqualTo("general.architecture"));
        Assert.That(gguf.Alignment, Is.EqualTo(32));
        Assert.That(gguf.DataOffset % 32, Is.EqualTo(0));

        var embedding = gguf.Tensors.Single(t => t.Name == "token_embd.weight");
        Assert.That(embedding.Dimensions, Is.EqualTo(new long[] { 112, 3000 }), "GGUF stores ne[0] (the row length) first");
        Assert.That(embedding.Shape, Is.EqualTo(new long[] { 3000, 112 }));
        // Rows of 112 are not whole Q8_0 blocks (32): the converter falls back to F16, as llama.cpp's does.
        Assert.That(embedding.Type, Is.EqualTo(GgmlType.F16));
        Assert.That(gguf.Tensors.Single(t => t.Name == "blk.0.attn_norm.weight").Type, Is.EqualTo(GgmlType.F32));
        Assert.That(gguf.Tensors, Has.Count.EqualTo(30));
    }

    [Test]
    public void Config_and_tokenizer_come_from_the_metadata_and_match_the_checkpoints_own()
    {
        var weights = WeightFormats.Open(GgufFixtures.Trained("dev-base", GgmlType.F16))!;
        var config = ModelConfig.Read(Path.Combine(Model("dev-base"), "config.json"));

        Assert.That(weights.Format, Is.EqualTo("gguf"));
        Assert.That(weights.Config, Is.Not.Null);
        Assert.That(weights.Config!.ModelType, Is.EqualTo(config.ModelType));
        Assert.That(weights.Config.Architectures, Is.EqualTo(config.Architectures));
        Assert.That(weights.Config.HiddenSize, Is.EqualTo(config.HiddenSize));
        Assert.That(weights.Config.Layers, Is.EqualTo(config.Layers));
        Assert.That(weights.Config.AttentionHeads, Is.EqualTo(config.AttentionHeads));
        Assert.That(weights.Config.KeyValueHeads, Is.EqualTo(config.KeyValueHeads));
        Assert.That(weights.Config.IntermediateSize, Is.EqualTo(config.IntermediateSize));
        Assert.That(weights.Config.VocabSize, Is.EqualTo(config.VocabSize));
        Assert.That(weights.Config.MaxPositionEmbeddings, Is.EqualTo(config.MaxPositionEmbeddings));
        Assert.That(weights.Config.ArchHash, Is.EqualTo(config.ArchHash), "the same architecture facts hash the same, whatever the file");

        var tokenizer = TokenizerReader.ReadDirectory(Model("dev-base"))!;
        Assert.That(weights.Tokenizer, Is.Not.Null);
        Assert.That(weights.Tokenizer!.Tokens, Is.EqualTo(tokenizer.Tokens), "the GGUF vocabulary is the checkpoint's, token for token");
        Assert.That(weights.Tokenizer.SpecialTokens, Is.SupersetOf(SpecialTokens));
    }

    [Test]
    public void Tensors_get_hugging_face_names_and_the_q_k_permutation_is_undone()
    {
        var safetensors = WeightFormats.Open(Model("dev-base"))!.Tensors.ToDictionary(t => t.Name);
        var gguf = WeightFormats.Open(GgufFixtures.Trained("dev-base", GgmlType.F16))!;

        Assert.That(gguf.Tensors.Select(t => t.Name), Is.EquivalentTo(safetensors.Keys));
        foreach (var tensor in gguf.Tensors)
        {
            var original = safetensors[tensor.Name];
            Assert.That(tensor.Shape, Is.EqualTo(original.Shape), tensor.Name);
            var expected = GgufFixtures.ReadValues(original).Select(v => tensor.Shape.Count == 1 ? v : (float)(Half)v).ToArray();
            Assert.That(GgufFixtures.ReadValues(tensor), Is.EqualTo(expected), $"{tensor.StoredName} decodes to {tensor.Name}'s values in its row order");
        }

        var query = gguf.Tensors.Single(t => t.StoredName == "blk.1.attn_q.weight");
        Assert.That(query.Name, Is.EqualTo("model.layers.1.self_attn.q_proj.weight"));
        Assert.That(query.Decoder, Is.Not.Null, "permuted rows are read through the decoder");
        Assert.That(query.StorageTypeName, Is.EqualTo("F16"));
        // The file really stores the rows permuted: read in stored order they differ from the checkpoint's.
        var stored = GgufFixtures.ReadValues(query with { Decoder = null, DType = Formats.Safetensors.SafetensorsDType.F16 });
        Assert.That(stored, Is.Not.EqualTo(GgufFixtures.ReadValues(query)));
    }

    [Test]
    public void Quantised_tensors_decode_to_their_blocks_values_in_row_order()
    {
        using var temp = new TempDirectory();
        var path = temp.Combine("wide.gguf");
        var random = new Random(3);
        var rows = 8;
        var columns = 512;
        var values = Enumerable.Range(0, rows * columns).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
        var tensors = new List<GgufTensorSource>();
        foreach (var type in new[] { GgmlType.Q8_0, GgmlType.Q4_K, GgmlType.Q5_1 })
        {
            var data = GgufQuantizer.Quantize(type, values);
            tensors.Add(new GgufTensorSource($"blk.0.ffn_up_{type}.weight", [rows, columns], type, s => s.Write(data)));
        }

        GgufWriter.Write(path, [new("general.architecture", GgufWriter.Value("llama"))], tensors);
        foreach (var tensor in WeightFormats.Open(path)!.Tensors)
        {
            var type = Enum.Parse<GgmlType>(tensor.StoredType!);
            var expected = new float[values.Length];
            GgufDequantizer.Dequantize(type, GgufQuantizer.Quantize(type, values), expected);
            Assert.That(GgufFixtures.ReadValues(tensor), Is.EqualTo(expected), tensor.Name);
            Assert.That(tensor.ByteLength, Is.EqualTo(GgmlTypes.Layout(type).RowBytes(columns) * rows));
        }
    }

    [Test]
    public void A_directory_with_two_gguf_files_is_ambiguous()
    {
        using var temp = new TempDirectory();
        File.Copy(GgufFixtures.Trained("dev-base", GgmlType.F16), temp.Combine("a.gguf"));
        File.Copy(GgufFixtures.Trained("dev-base", GgmlType.F16), temp.Combine("b.gguf"));
        var error = Assert.Throws<ProvenanceException>(() => WeightFormats.Open(temp.Path));
        Assert.That(error!.Diagnostic.Code, Is.EqualTo("PG3031"));
        Assert.That(error.Message, Does.Contain("a.gguf, b.gguf"));
    }

    [Test]
    public void A_directory_with_one_gguf_file_is_that_model()
    {
        using var temp = new TempDirectory();
        File.Copy(GgufFixtures.Trained("dev-base", GgmlType.F16), temp.Combine("dev-base.F16.gguf"));
        var weights = WeightFormats.Open(temp.Path)!;
        Assert.That(weights.Format, Is.EqualTo("gguf"));
        Assert.That(weights.WeightFiles, Is.EqualTo(new[] { temp.Combine("dev-base.F16.gguf") }));
    }
}
