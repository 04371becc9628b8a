using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ProvenanceGate.Formats.Safetensors;

namespace ProvenanceGate.Models;

/// <summary>Shape of a small Llama-layout decoder model.</summary>
public sealed record SyntheticModelSpec
{
    public int VocabSize { get; init; } = 256;
    public int HiddenSize { get; init; } = 64;
    public int Layers { get; init; } = 2;
    public int AttentionHeads { get; init; } = 4;
    public int KeyValueHeads { get; init; } = 2;
    public int IntermediateSize { get; init; } = 128;
    public int MaxPositionEmbeddings { get; init; } = 512;
    public int Seed { get; init; } = 1;

    public int HeadDim => HiddenSize / AttentionHeads;
}

/// <summary>
/// Deterministic generator of small Hugging Face-style model directories (Llama layout), used by the tests,
/// the sample and the benchmarks: tensors, config.json, a tiny BPE tokenizer.json, optionally sharded.
/// Same spec and seed, same bytes.
/// </summary>
public static class SyntheticModel
{
    public static List<NamedTensor> CreateTensors(SyntheticModelSpec spec)
    {
        var random = new Random(spec.Seed);
        var h = spec.HiddenSize;
        var kv = spec.KeyValueHeads * spec.HeadDim;
        var tensors = new List<NamedTensor> { Matrix("model.embed_tokens.weight", spec.VocabSize, h, random) };
        for (var layer = 0; layer < spec.Layers; layer++)
        {
            var prefix = $"model.layers.{layer}.";
            tensors.Add(Norm(prefix + "input_layernorm.weight", h, random));
            tensors.Add(Matrix(prefix + "self_attn.q_proj.weight", h, h, random));
            tensors.Add(Matrix(prefix + "self_attn.k_proj.weight", kv, h, random));
            tensors.Add(Matrix(prefix + "self_attn.v_proj.weight", kv, h, random));
            tensors.Add(Matrix(prefix + "self_attn.o_proj.weight", h, h, random));
            tensors.Add(Norm(prefix + "post_attention_layernorm.weight", h, random));
            tensors.Add(Matrix(prefix + "mlp.gate_proj.weight", spec.IntermediateSize, h, random));
            tensors.Add(Matrix(prefix + "mlp.up_proj.weight", spec.IntermediateSize, h, random));
            tensors.Add(Matrix(prefix + "mlp.down_proj.weight", h, spec.IntermediateSize, random));
        }

        tensors.Add(Norm("model.norm.weight", h, random));
        tensors.Add(Matrix("lm_head.weight", spec.VocabSize, h, random));
        return tensors;
    }

    /// <summary>Writes config.json, tokenizer files and the weights (one file, or <paramref name="shards"/> plus an index).</summary>
    public static void WriteDirectory(string directory, SyntheticModelSpec spec, IReadOnlyList<NamedTensor> tensors, SafetensorsDType dtype = SafetensorsDType.F32, int shards = 1)
    {
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, "config.json"), CreateConfig(spec, dtype).ToJsonString(Indented));
        File.WriteAllText(Path.Combine(directory, "tokenizer.json"), CreateTokenizerJson(spec.VocabSize));
        File.WriteAllText(Path.Combine(directory, "tokenizer_config.json"), "{\n  \"tokenizer_class\": \"PreTrainedTokenizerFast\",\n  \"bos_token\": \"<s>\",\n  \"eos_token\": \"</s>\"\n}\n");
        File.WriteAllText(Path.Combine(directory, "generation_config.json"), "{\n  \"bos_token_id\": 1,\n  \"eos_token_id\": 2,\n  \"max_new_tokens\": 64\n}\n");

        if (shards <= 1)
        {
            File.WriteAllBytes(Path.Combine(directory, "model.safetensors"), SafetensorsWriter.Serialize(tensors, dtype));
            return;
        }

        var weightMap = new JsonObject();
        long totalSize = 0;
        var perShard = (tensors.Count + shards - 1) / shards;
        for (var shard = 0; shard < shards; shard++)
        {
            var name = string.Create(CultureInfo.InvariantCulture, $"model-{shard + 1:D5}-of-{shards:D5}.safetensors");
            var slice = tensors.Skip(shard * perShard).Take(perShard).ToList();
            foreach (var tensor in slice)
            {
                weightMap[tensor.Name] = name;
                totalSize += tensor.ElementCount * SafetensorsDTypes.SizeOf(dtype);
            }

            File.WriteAllBytes(Path.Combine(directory, name), SafetensorsWriter.Serialize(slice, dtype));
        }

        var index = new JsonObject
        {
            ["metadata"] = new JsonObject { ["total_size"] = totalSize },
            ["weight_map"] = weightMap,
        };
        File.WriteAllText(Path.Combine(directory, "model.safetensors.index.json"), index.ToJsonString(Indented));
    }

    public static JsonObject CreateConfig(SyntheticModelSpec spec, SafetensorsDType dtype) => new()
    {
        ["architectures"] = new JsonArray("LlamaForCausalLM"),
        ["model_type"] = "llama",
        ["hidden_size"] = spec.HiddenSize,
        ["intermediate_size"] = spec.IntermediateSize,
        ["num_hidden_layers"] = spec.Layers,
        ["num_attention_heads"] = spec.AttentionHeads,
        ["num_key_value_heads"] = spec.KeyValueHeads,
        ["head_dim"] = spec.HeadDim,
        ["vocab_size"] = spec.VocabSize,
        ["max_position_embeddings"] = spec.MaxPositionEmbeddings,
        ["hidden_act"] = "silu",
        ["rms_norm_eps"] = 1e-5,
        ["rope_theta"] = 10000.0,
        ["tie_word_embeddings"] = false,
        ["bos_token_id"] = 1,
        ["eos_token_id"] = 2,
        ["torch_dtype"] = dtype switch
        {
            SafetensorsDType.F16 => "float16",
            SafetensorsDType.BF16 => "bfloat16",
            _ => "float32",
        },
    };

    /// <summary>
    /// A byte-level BPE tokenizer.json: special tokens, the 256 byte tokens as printable strings and
    /// merged two-letter tokens up to the vocabulary size. Small, valid, and shaped like the real thing.
    /// </summary>
    public static string CreateTokenizerJson(int vocabSize)
    {
        var vocab = new JsonObject { ["<unk>"] = 0, ["<s>"] = 1, ["</s>"] = 2 };
        var merges = new JsonArray();
        var id = 3;
        const string letters = "etaoinshrdlcumwfgypbvkjxqz ";
        foreach (var c in letters)
        {
            if (id >= vocabSize)
                break;
            vocab[c.ToString()] = id++;
        }

        foreach (var a in letters)
        {
            foreach (var b in letters)
            {
                if (id >= vocabSize)
                    break;
                var token = string.Concat(a, b);
                if (vocab.ContainsKey(token))
                    continue;
                vocab[token] = id++;
                merges.Add($"{a} {b}");
            }
        }

        for (var i = 0; id < vocabSize; i++)
            vocab[string.Create(CultureInfo.InvariantCulture, $"<0x{i:X2}>")] = id++;

        var tokenizer = new JsonObject
        {
            ["version"] = "1.0",
            ["added_tokens"] = new JsonArray(
                new JsonObject { ["id"] = 0, ["content"] = "<unk>", ["special"] = true },
                new JsonObject { ["id"] = 1, ["content"] = "<s>", ["special"] = true },
                new JsonObject { ["id"] = 2, ["content"] = "</s>", ["special"] = true }),
            ["model"] = new JsonObject
            {
                ["type"] = "BPE",
                ["unk_token"] = "<unk>",
                ["vocab"] = vocab,
                ["merges"] = merges,
            },
        };
        return tokenizer.ToJsonString(Indented);
    }

    private static NamedTensor Matrix(string name, int rows, int columns, Random random)
    {
        var values = new float[rows * columns];
        for (var i = 0; i < values.Length; i++)
            values[i] = (float)(Gaussian(random) * 0.02);
        return new NamedTensor(name, [rows, columns], values);
    }

    private static NamedTensor Norm(string name, int size, Random random)
    {
        var values = new float[size];
        for (var i = 0; i < size; i++)
            values[i] = (float)(1.0 + (Gaussian(random) * 0.05));
        return new NamedTensor(name, [size], values);
    }

    private static double Gaussian(Random random)
    {
        // Box-Muller: deterministic for a seeded System.Random.
        var u1 = 1.0 - random.NextDouble();
        var u2 = random.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    internal static Encoding Utf8 => SafetensorsWriter.Utf8;
}
