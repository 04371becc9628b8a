using System.Globalization;
using System.Text.RegularExpressions;
using ProvenanceGate.Formats.Config;
using ProvenanceGate.Formats.Safetensors;
using ProvenanceGate.Formats.Tokenizers;
using ProvenanceGate.Formats.Weights;

namespace ProvenanceGate.Formats.Gguf;

/// <summary>
/// GGUF model files (llama.cpp, LLamaSharp, Ollama): one <c>*.gguf</c> file given by path, or a directory holding
/// exactly one. Tensors get Hugging Face-style names (their GGUF names kept as <see cref="WeightTensor.StoredName"/>),
/// F32/F16/BF16 tensors in stored order are read as plain rows, everything else through <see cref="GgufTensorDecoder"/>,
/// and the file's hyperparameters and tokenizer become the set's <see cref="WeightSet.Config"/> and <see cref="WeightSet.Tokenizer"/>.
/// </summary>
internal sealed partial class GgufWeightFormat : IWeightFormat
{
    /// <summary>
    /// Architectures whose llama.cpp converter (LlamaModel and its subclasses in convert_hf_to_gguf.py) permutes
    /// the q/k rows for its RoPE layout; others (qwen2, gemma, phi3, ...) keep Hugging Face's order.
    /// </summary>
    private static readonly HashSet<string> PermutedArchitectures = new(StringComparer.Ordinal) { "llama", "granite", "granitemoe", "deci" };

    /// <summary>The Hugging Face class llama.cpp's converter maps to each architecture (for the config's <c>architectures</c>).</summary>
    private static readonly Dictionary<string, string> HuggingFaceArchitectures = new(StringComparer.Ordinal)
    {
        ["llama"] = "LlamaForCausalLM",
        ["qwen2"] = "Qwen2ForCausalLM",
        ["qwen3"] = "Qwen3ForCausalLM",
        ["gemma"] = "GemmaForCausalLM",
        ["gemma2"] = "Gemma2ForCausalLM",
        ["gemma3"] = "Gemma3ForCausalLM",
        ["phi3"] = "Phi3ForCausalLM",
        ["gpt2"] = "GPT2LMHeadModel",
        ["gptneox"] = "GPTNeoXForCausalLM",
        ["falcon"] = "FalconForCausalLM",
        ["starcoder2"] = "Starcoder2ForCausalLM",
        ["granite"] = "GraniteForCausalLM",
    };

    private static readonly (string Gguf, string HuggingFace)[] LayerNames =
    [
        ("attn_norm", "input_layernorm"),
        ("ffn_norm", "post_attention_layernorm"),
        ("attn_q", "self_attn.q_proj"),
        ("attn_k", "self_attn.k_proj"),
        ("attn_v", "self_attn.v_proj"),
        ("attn_output", "self_attn.o_proj"),
        ("ffn_gate", "mlp.gate_proj"),
        ("ffn_up", "mlp.up_proj"),
        ("ffn_down", "mlp.down_proj"),
    ];

    [GeneratedRegex(@"^blk\.(\d{1,6})\.([a-z_]+)\.(weight|bias)$", RegexOptions.CultureInvariant)]
    private static partial Regex LayerTensor();

    public string Name => "gguf";

    public bool Detect(string path) => File.Exists(path)
        ? path.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase) || GgufFile.HasMagic(path)
        : Directory.Exists(path) && Directory.EnumerateFiles(path, "*.gguf").Any();

    public WeightSet Open(string path)
    {
        var file = File.Exists(path) ? path : SingleFileIn(path);
        var gguf = GgufFile.Read(file);
        var architecture = gguf.Text("general.architecture") ?? "";
        var headCount = Hyperparameter(gguf, architecture, "attention.head_count");
        var kvHeadCount = Hyperparameter(gguf, architecture, "attention.head_count_kv") ?? headCount;
        var permuted = PermutedArchitectures.Contains(architecture);

        var tensors = new List<WeightTensor>(gguf.Tensors.Count);
        foreach (var info in gguf.Tensors)
        {
            var name = HuggingFaceName(info.Name);
            var shape = info.Shape;
            var offset = gguf.DataOffset + info.RelativeOffset;
            var byteLength = GgmlTypes.Layout(info.Type).RowBytes(info.Dimensions[0]) * (info.ElementCount / Math.Max(1, info.Dimensions[0]));
            var headDim = permuted && shape.Count == 2 ? RopeHeadDim(file, info, info.Name.EndsWith(".attn_q.weight", StringComparison.Ordinal) ? headCount
                : info.Name.EndsWith(".attn_k.weight", StringComparison.Ordinal) ? kvHeadCount : null) : 0;
            var plain = PlainDType(info.Type);
            WeightTensor tensor;
            if (plain is { } dtype && headDim == 0)
                tensor = new WeightTensor(name, dtype, shape, file, offset, byteLength);
            else if (GgmlTypes.IsDecodable(info.Type))
                tensor = new WeightTensor(name, SafetensorsDType.F32, shape, file, offset, byteLength) { Decoder = new GgufTensorDecoder(info.Type, headDim) };
            else
                // Counted (parameters, types) but not read: a wide integer dtype is what the weight pass skips.
                tensor = new WeightTensor(name, SafetensorsDType.I32, shape, file, offset, byteLength);
            tensors.Add(tensor with { StoredName = info.Name, StoredType = info.Type.ToString() });
        }

        return new WeightSet(Name, tensors, [file], [])
        {
            Config = ReadConfig(gguf, architecture),
            Tokenizer = ReadTokenizer(gguf),
            HeaderLengths = new Dictionary<string, long> { [file] = gguf.DataOffset },
        };
    }

    /// <summary>The one GGUF file a directory holds (several are usually quantisations of one model: name the file).</summary>
    private static string SingleFileIn(string directory)
    {
        var files = Directory.EnumerateFiles(directory, "*.gguf").Order(StringComparer.Ordinal).ToList();
        if (files.Count != 1)
            throw Diagnostics.Diagnostics.GgufAmbiguous.Exception(
                $"'{directory}' holds {files.Count} GGUF files ({string.Join(", ", files.Select(Path.GetFileName))}); name the one to read", directory);
        return files[0];
    }

    private static SafetensorsDType? PlainDType(GgmlType type) => type switch
    {
        GgmlType.F32 => SafetensorsDType.F32,
        GgmlType.F16 => SafetensorsDType.F16,
        GgmlType.BF16 => SafetensorsDType.BF16,
        GgmlType.I8 => SafetensorsDType.I8,
        _ => null,
    };

    /// <summary>Rows per head of a permuted q/k tensor, or 0 when there is no permutation to undo.</summary>
    private static int RopeHeadDim(string file, GgufTensorInfo info, long? heads)
    {
        if (heads is not { } count || count <= 0)
            return 0;
        var rows = info.Dimensions[1];
        if (rows % count != 0 || (rows / count) % 2 != 0)
            throw GgufFile.Malformed(file, $"tensor '{info.Name}' has {rows} rows, not {count} heads of an even size");
        return (int)(rows / count);
    }

    internal static string HuggingFaceName(string name)
    {
        switch (name)
        {
            case "token_embd.weight": return "model.embed_tokens.weight";
            case "output_norm.weight": return "model.norm.weight";
            case "output.weight": return "lm_head.weight";
        }

        var match = LayerTensor().Match(name);
        if (!match.Success)
            return name;
        foreach (var (gguf, huggingFace) in LayerNames)
        {
            if (match.Groups[2].Value == gguf)
                return string.Create(CultureInfo.InvariantCulture, $"model.layers.{match.Groups[1].Value}.{huggingFace}.{match.Groups[3].Value}");
        }

        return name;
    }

    private static long? Hyperparameter(GgufFile gguf, string architecture, string key) =>
        architecture.Length == 0 ? null : gguf.Number(architecture + "." + key);

    private static ModelConfig? ReadConfig(GgufFile gguf, string architecture)
    {
        if (architecture.Length == 0)
            return null;
        long Value(string key) => Hyperparameter(gguf, architecture, key) ?? 0;
        var vocabulary = Value("vocab_size");
        if (vocabulary == 0 && gguf["tokenizer.ggml.tokens"]?.AsArray is { } tokens)
            vocabulary = tokens.Count;
        return new ModelConfig
        {
            ModelType = architecture,
            Architectures = HuggingFaceArchitectures.TryGetValue(architecture, out var hf) ? [hf] : [],
            HiddenSize = Value("embedding_length"),
            Layers = Value("block_count"),
            AttentionHeads = Value("attention.head_count"),
            KeyValueHeads = Hyperparameter(gguf, architecture, "attention.head_count_kv"),
            IntermediateSize = Value("feed_forward_length"),
            VocabSize = vocabulary,
            MaxPositionEmbeddings = Value("context_length"),
            TieWordEmbeddings = gguf.Tensors.Any(t => t.Name == "token_embd.weight") ? !gguf.Tensors.Any(t => t.Name == "output.weight") : null,
        };
    }

    /// <summary>
    /// <c>tokenizer.ggml.*</c> as <see cref="TokenizerData"/>: tokens by id, control/unknown tokens (types 2, 3)
    /// as special, byte-level BPE (<c>gpt2</c>) decoded like vocab.json, SentencePiece (<c>llama</c>) like tokenizer.model.
    /// </summary>
    private static TokenizerData? ReadTokenizer(GgufFile gguf)
    {
        if (gguf["tokenizer.ggml.tokens"]?.AsArray is not { ElementType: GgufValueType.String } tokens)
            return null;
        var model = gguf.Text("tokenizer.ggml.model") ?? "";
        var types = gguf["tokenizer.ggml.token_type"]?.AsArray;
        if (types is not null && types.Count != tokens.Count)
            throw GgufFile.Malformed(gguf.Path, $"tokenizer.ggml.token_type has {types.Count} entries for {tokens.Count} tokens");
        var special = new HashSet<string>(StringComparer.Ordinal);
        for (var id = 0; types is not null && id < tokens.Count; id++)
        {
            if (types.Number(id) is 2 or 3)
                special.Add(tokens.Strings[id]);
        }

        var merges = gguf["tokenizer.ggml.merges"]?.AsArray?.Strings ?? [];
        var (kind, byteLevel) = model switch
        {
            "gpt2" => ("bpe-byte-level", true),
            "llama" => ("sentencepiece", false),
            "bert" => ("wordpiece", false),
            "t5" => ("unigram", false),
            _ => (model.Length == 0 ? "unknown" : model, false),
        };
        return TokenizerReader.FromVocabulary(kind, gguf.Path, tokens.Strings, merges, special, byteLevel);
    }
}
