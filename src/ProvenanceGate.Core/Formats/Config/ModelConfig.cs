using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace ProvenanceGate.Formats.Config;

/// <summary>
/// The architecture facts of a Hugging Face config.json (text backbone: <c>text_config</c> or <c>decoder</c>
/// when the top level has no hidden size). Used to narrow candidates and to report, never to decide lineage.
/// </summary>
public sealed record ModelConfig
{
    public string? ModelType { get; init; }
    public IReadOnlyList<string> Architectures { get; init; } = [];
    public long HiddenSize { get; init; }
    public long Layers { get; init; }
    public long AttentionHeads { get; init; }
    public long? KeyValueHeads { get; init; }
    public long IntermediateSize { get; init; }
    public long VocabSize { get; init; }
    public long MaxPositionEmbeddings { get; init; }
    public string? HiddenAct { get; init; }
    public bool? TieWordEmbeddings { get; init; }

    /// <summary>
    /// Model Provenance Kit's arch_hash: SHA-256 of Python's json.dumps of
    /// [model_type, architectures, hidden, layers, heads, kv, intermediate, vocab, max_pos] (separators ", ").
    /// Reproducing it lets a scan match the bundled catalogue exactly at metadata level.
    /// </summary>
    public string ArchHash
    {
        get
        {
            var parts = new[]
            {
                JsonString(ModelType),
                "[" + string.Join(", ", Architectures.Select(a => JsonString(a))) + "]",
                Number(HiddenSize), Number(Layers), Number(AttentionHeads),
                KeyValueHeads is { } kv ? Number(kv) : "null",
                Number(IntermediateSize), Number(VocabSize), Number(MaxPositionEmbeddings),
            };
            var text = "[" + string.Join(", ", parts) + "]";
            return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
        }
    }

    private static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>Python json.dumps string form (ensure_ascii): non-ASCII characters as \uXXXX.</summary>
    internal static string JsonString(string? value)
    {
        if (value is null)
            return "null";
        var builder = new StringBuilder("\"");
        foreach (var c in value)
        {
            switch (c)
            {
                case '"': builder.Append("\\\""); break;
                case '\\': builder.Append("\\\\"); break;
                case '\n': builder.Append("\\n"); break;
                case '\r': builder.Append("\\r"); break;
                case '\t': builder.Append("\\t"); break;
                default:
                    if (c < 0x20 || c > 0x7E)
                        builder.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
                    else
                        builder.Append(c);
                    break;
            }
        }

        return builder.Append('"').ToString();
    }

    public static ModelConfig Read(string path)
    {
        // Read within its limit and only if a regular file: a config.json linked to /dev/zero once grew past 4 GB.
        var bytes = IO.JsonInput.Read(path, IO.InputLimit.ModelConfig, Diagnostics.Diagnostics.ModelConfigMalformed);
        try
        {
            using var document = JsonDocument.Parse(bytes, new JsonDocumentOptions { MaxDepth = IO.JsonInput.MaxDepth });
            var top = document.RootElement;
            if (top.ValueKind != JsonValueKind.Object)
                throw Malformed(path, "not a JSON object");
            var text = top;
            if (Long(top, "hidden_size", "n_embd", "d_model") == 0)
            {
                foreach (var nested in new[] { "text_config", "decoder", "llm_config", "language_config" })
                {
                    if (top.TryGetProperty(nested, out var candidate) && candidate.ValueKind == JsonValueKind.Object && Long(candidate, "hidden_size", "n_embd", "d_model") != 0)
                    {
                        text = candidate;
                        break;
                    }
                }
            }

            var hidden = Long(text, "hidden_size", "n_embd", "d_model");
            var intermediate = Long(text, "intermediate_size", "d_ff", "encoder_ffn_dim", "decoder_ffn_dim", "ffn_dim", "n_inner");
            if (intermediate == 0 && Long(text, "hidden_dim") is var hiddenDim && hiddenDim != hidden)
                intermediate = hiddenDim;
            long? kv = text.TryGetProperty("num_key_value_heads", out var kvElement) && kvElement.ValueKind == JsonValueKind.Number && kvElement.TryGetInt64(out var kvValue) ? kvValue : null;
            return new ModelConfig
            {
                ModelType = String(top, "model_type"),
                Architectures = top.TryGetProperty("architectures", out var architectures) && architectures.ValueKind == JsonValueKind.Array
                    ? architectures.EnumerateArray().Where(a => a.ValueKind == JsonValueKind.String).Select(a => a.GetString()!).ToArray()
                    : [],
                HiddenSize = hidden,
                Layers = Long(text, "num_hidden_layers", "n_layer", "num_layers", "n_layers"),
                AttentionHeads = Long(text, "num_attention_heads", "n_head", "num_heads"),
                KeyValueHeads = kv,
                IntermediateSize = intermediate,
                VocabSize = Long(text, "vocab_size"),
                MaxPositionEmbeddings = Long(text, "max_position_embeddings", "n_positions", "max_seq_len"),
                HiddenAct = String(text, "hidden_act") ?? String(text, "hidden_activation") ?? String(text, "activation_function"),
                TieWordEmbeddings = top.TryGetProperty("tie_word_embeddings", out var tie) && tie.ValueKind is JsonValueKind.True or JsonValueKind.False ? tie.GetBoolean() : null,
            };
        }
        catch (JsonException ex)
        {
            throw Malformed(path, $"not valid JSON: {ex.Message}");
        }
    }

    private static long Long(JsonElement element, params string[] names)
    {
        foreach (var name in names)
        {
            if (element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var number) && number != 0)
                return number;
        }

        return 0;
    }

    private static string? String(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static Diagnostics.ProvenanceException Malformed(string path, string reason) =>
        Diagnostics.Diagnostics.ModelConfigMalformed.Exception($"{path}: {reason}", path);
}
