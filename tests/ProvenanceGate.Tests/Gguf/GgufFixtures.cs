using System.Collections.Concurrent;
using System.Text;
using ProvenanceGate.Formats.Gguf;
using ProvenanceGate.Formats.Weights;

namespace ProvenanceGate.Tests.Gguf;

/// <summary>
/// The GGUF fixture generator: converts a Hugging Face Llama directory (safetensors + config.json +
/// tokenizer.model) to GGUF as llama.cpp's convert_hf_to_gguf.py does: GGUF tensor names, q/k rows permuted for
/// llama.cpp's RoPE layout (<c>permute(w, n_head, n_head_kv)</c>), 1-D tensors F32, 2-D tensors in the requested type,
/// falling back to F16 where a row is not a whole number of blocks (the converter's and llama-quantize's rule), the
/// hyperparameters as <c>llama.*</c> and the SentencePiece vocabulary as <c>tokenizer.ggml.*</c>. Files are written
/// once per test run into a temporary folder (they are 2-7 MB each: too large to commit).
/// </summary>
public static class GgufFixtures
{
    private static readonly string Root = Path.Combine(Path.GetTempPath(), "pg-gguf-fixtures-" + Environment.ProcessId);
    private static readonly ConcurrentDictionary<string, Lazy<string>> Files = new(StringComparer.Ordinal);

    /// <summary>The GGUF of the trained fixture <paramref name="model"/> with its matrices in <paramref name="type"/>.</summary>
    public static string Trained(string model, GgmlType type, string? baseModel = null) =>
        Files.GetOrAdd($"{model}.{type}", key => new Lazy<string>(() =>
        {
            Directory.CreateDirectory(Root);
            var path = Path.Combine(Root, key + ".gguf");
            Convert(RepoPaths.TestData("trained", "models", model), path, type, model, baseModel);
            return path;
        })).Value;

    /// <summary>Removes this run's fixture files (called once, after every test of the namespace).</summary>
    public static void Clean()
    {
        Files.Clear(); // a later caller writes them again instead of getting deleted paths
        if (Directory.Exists(Root))
            Directory.Delete(Root, recursive: true);
    }

    public static void Convert(string modelDirectory, string outputPath, GgmlType type, string name, string? baseModel, string license = "apache-2.0")
    {
        using var config = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(modelDirectory, "config.json")));
        var c = config.RootElement;
        int Int(string key) => c.GetProperty(key).GetInt32();
        var heads = Int("num_attention_heads");
        var kvHeads = c.TryGetProperty("num_key_value_heads", out var kv) ? kv.GetInt32() : heads;
        var hidden = Int("hidden_size");

        var metadata = new List<KeyValuePair<string, GgufValue>>
        {
            new("general.architecture", GgufWriter.Value("llama")),
            new("general.type", GgufWriter.Value("model")),
            new("general.name", GgufWriter.Value(name)),
            new("general.license", GgufWriter.Value(license)),
            new("general.file_type", GgufWriter.Value(FileType(type))),
            new("general.quantization_version", GgufWriter.Value(2u)),
        };
        if (baseModel is not null)
        {
            metadata.Add(new("general.base_model.count", GgufWriter.Value(1u)));
            metadata.Add(new("general.base_model.0.name", GgufWriter.Value(baseModel)));
            metadata.Add(new("general.base_model.0.organization", GgufWriter.Value("ProvenanceGate")));
            metadata.Add(new("general.base_model.0.repo_url", GgufWriter.Value("https://huggingface.co/provenancegate/" + baseModel)));
        }

        metadata.AddRange(
        [
            new("llama.context_length", GgufWriter.Value((uint)Int("max_position_embeddings"))),
            new("llama.embedding_length", GgufWriter.Value((uint)hidden)),
            new("llama.block_count", GgufWriter.Value((uint)Int("num_hidden_layers"))),
            new("llama.feed_forward_length", GgufWriter.Value((uint)Int("intermediate_size"))),
            new("llama.rope.dimension_count", GgufWriter.Value((uint)(hidden / heads))),
            new("llama.attention.head_count", GgufWriter.Value((uint)heads)),
            new("llama.attention.head_count_kv", GgufWriter.Value((uint)kvHeads)),
            new("llama.attention.layer_norm_rms_epsilon", GgufWriter.Value((float)c.GetProperty("rms_norm_eps").GetDouble())),
            new("llama.rope.freq_base", GgufWriter.Value((float)c.GetProperty("rope_theta").GetDouble())),
            new("llama.vocab_size", GgufWriter.Value((uint)Int("vocab_size"))),
        ]);
        var sentencePiece = Path.Combine(modelDirectory, "tokenizer.model");
        metadata.AddRange(File.Exists(sentencePiece) ? SentencePieceMetadata(sentencePiece) : BpeMetadata(Path.Combine(modelDirectory, "tokenizer.json")));

        var weights = WeightFormats.Open(modelDirectory)!;
        var tensors = new List<GgufTensorSource>();
        foreach (var tensor in weights.Tensors)
        {
            var values = ReadValues(tensor);
            var ggufName = ProvenanceGate.Models.SyntheticDerivatives.GgufName(tensor.Name);
            if (tensor.Name.EndsWith("q_proj.weight", StringComparison.Ordinal))
                values = Permute(values, (int)tensor.Shape[1], heads);
            else if (tensor.Name.EndsWith("k_proj.weight", StringComparison.Ordinal))
                values = Permute(values, (int)tensor.Shape[1], kvHeads);
            var tensorType = tensor.Shape.Count == 1 ? GgmlType.F32
                : tensor.Shape[^1] % GgmlTypes.Layout(type).BlockSize == 0 ? type : GgmlType.F16;
            var data = tensorType == GgmlType.F16
                ? values.SelectMany(v => BitConverter.GetBytes((Half)v)).ToArray()
                : GgufQuantizer.Quantize(tensorType, values);
            tensors.Add(new GgufTensorSource(ggufName, tensor.Shape, tensorType, stream => stream.Write(data)));
        }

        GgufWriter.Write(outputPath, metadata, tensors);
    }

    /// <summary>llama_ftype of a model whose matrices are <paramref name="type"/>.</summary>
    private static uint FileType(GgmlType type) => type switch
    {
        GgmlType.F32 => 0,
        GgmlType.F16 => 1,
        GgmlType.Q4_0 => 2,
        GgmlType.Q4_1 => 3,
        GgmlType.Q8_0 => 7,
        GgmlType.Q5_0 => 8,
        GgmlType.Q5_1 => 9,
        GgmlType.Q4_K => 15, // Q4_K_M
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    public static float[] ReadValues(WeightTensor tensor)
    {
        var values = new float[tensor.ElementCount];
        using var reader = new TensorReader();
        reader.ReadBlocks(tensor, block => block.Values.CopyTo(values.AsSpan((int)(block.FirstRow * block.RowLength))));
        return values;
    }

    /// <summary>convert_hf_to_gguf.py's LlamaModel.permute: reshape(n_head, 2, rows/n_head/2, cols).swapaxes(1, 2).</summary>
    public static float[] Permute(float[] values, int columns, int heads)
    {
        var rows = values.Length / columns;
        var headDim = rows / heads;
        var half = headDim / 2;
        var permuted = new float[values.Length];
        for (var h = 0; h < heads; h++)
        {
            for (var part = 0; part < 2; part++)
            {
                for (var i = 0; i < half; i++)
                {
                    var source = (h * headDim) + (part * half) + i;
                    var target = (h * headDim) + (i * 2) + part;
                    Array.Copy(values, source * columns, permuted, target * columns, columns);
                }
            }
        }

        return permuted;
    }


    /// <summary>
    /// tokenizer.ggml.* from a SentencePiece model, as the converter's _create_vocab_sentencepiece writes them:
    /// pieces, scores, token types (1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte) and the special ids.
    /// </summary>
    public static List<KeyValuePair<string, GgufValue>> SentencePieceMetadata(string tokenizerModel)
    {
        var bytes = File.ReadAllBytes(tokenizerModel);
        var pieces = new List<string>();
        var scores = new List<float>();
        var types = new List<int>();
        var position = 0;
        while (position < bytes.Length)
        {
            var (field, wire) = Tag(bytes, ref position);
            if (field == 1 && wire == 2)
            {
                var length = (int)Varint(bytes, ref position);
                var pieceEnd = position + length;
                string piece = "";
                float score = 0;
                var type = 1;
                while (position < pieceEnd)
                {
                    var (f, w) = Tag(bytes, ref position);
                    if (f == 1 && w == 2)
                    {
                        var n = (int)Varint(bytes, ref position);
                        piece = Encoding.UTF8.GetString(bytes, position, n);
                        position += n;
                    }
                    else if (f == 2 && w == 5)
                    {
                        score = BitConverter.ToSingle(bytes, position);
                        position += 4;
                    }
                    else if (f == 3 && w == 0)
                    {
                        type = (int)Varint(bytes, ref position);
                    }
                    else
                    {
                        Skip(bytes, ref position, w);
                    }
                }

                pieces.Add(piece);
                scores.Add(score);
                types.Add(type);
            }
            else
            {
                Skip(bytes, ref position, wire);
            }
        }

        return
        [
            new("tokenizer.ggml.model", GgufWriter.Value("llama")),
            new("tokenizer.ggml.pre", GgufWriter.Value("default")),
            new("tokenizer.ggml.tokens", GgufWriter.Array(pieces)),
            new("tokenizer.ggml.scores", GgufWriter.Array(scores)),
            new("tokenizer.ggml.token_type", GgufWriter.Array(types)),
            new("tokenizer.ggml.bos_token_id", GgufWriter.Value((uint)pieces.IndexOf("<s>"))),
            new("tokenizer.ggml.eos_token_id", GgufWriter.Value((uint)pieces.IndexOf("</s>"))),
            new("tokenizer.ggml.unknown_token_id", GgufWriter.Value((uint)pieces.IndexOf("<unk>"))),
            new("tokenizer.ggml.add_bos_token", GgufWriter.Value(true)),
            new("tokenizer.ggml.add_eos_token", GgufWriter.Value(false)),
        ];
    }

    /// <summary>tokenizer.ggml.* from a BPE tokenizer.json, as the converter's _set_vocab_gpt2 writes them (tokens, types, merges).</summary>
    public static List<KeyValuePair<string, GgufValue>> BpeMetadata(string tokenizerJson)
    {
        using var document = System.Text.Json.JsonDocument.Parse(File.ReadAllText(tokenizerJson));
        var model = document.RootElement.GetProperty("model");
        var byId = new SortedDictionary<int, string>();
        foreach (var entry in model.GetProperty("vocab").EnumerateObject())
            byId[entry.Value.GetInt32()] = entry.Name;
        var special = new HashSet<int>();
        if (document.RootElement.TryGetProperty("added_tokens", out var added))
        {
            foreach (var token in added.EnumerateArray())
            {
                byId[token.GetProperty("id").GetInt32()] = token.GetProperty("content").GetString()!;
                special.Add(token.GetProperty("id").GetInt32());
            }
        }

        var tokens = byId.Values.ToList();
        return
        [
            new("tokenizer.ggml.model", GgufWriter.Value("gpt2")),
            new("tokenizer.ggml.tokens", GgufWriter.Array(tokens)),
            new("tokenizer.ggml.token_type", GgufWriter.Array(byId.Keys.Select(id => special.Contains(id) ? 3 : 1).ToList())),
            new("tokenizer.ggml.merges", GgufWriter.Array(model.GetProperty("merges").EnumerateArray().Select(m => m.GetString()!).ToList())),
        ];
    }

    private static (int Field, int Wire) Tag(byte[] bytes, ref int position)
    {
        var tag = Varint(bytes, ref position);
        return ((int)(tag >> 3), (int)(tag & 7));
    }

    private static ulong Varint(byte[] bytes, ref int position)
    {
        ulong result = 0;
        for (var shift = 0; ; shift += 7)
        {
            var b = bytes[position++];
            result |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
                return result;
        }
    }

    private static void Skip(byte[] bytes, ref int position, int wire)
    {
        switch (wire)
        {
            case 0: Varint(bytes, ref position); break;
            case 1: position += 8; break;
            case 2:
                var length = (int)Varint(bytes, ref position);
                position += length;
                break;
            case 5: position += 4; break;
            default: throw new InvalidDataException($"wire type {wire}");
        }
    }
}

[SetUpFixture]
public sealed class GgufFixturesCleanup
{
    [OneTimeTearDown]
    public void Clean() => GgufFixtures.Clean();
}
