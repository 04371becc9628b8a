using System.Globalization;
using System.Text.RegularExpressions;

namespace ProvenanceGate.Fingerprinting;

public enum TensorRole
{
    Other,
    Embedding,
    PositionEmbedding,
    LmHead,
    Norm,
    Query,
    Key,
    Value,
    QueryKeyValue,
    AttentionOutput,
    Gate,
    Up,
    GateUp,
    Down,
}

/// <summary>What a tensor is, independent of the naming scheme: its role, and its layer (stack + index) if any.</summary>
public sealed record TensorRoleInfo(TensorRole Role, string? Stack, int? Layer)
{
    /// <summary>Matrices that read from the residual stream (their input axis is the residual width).</summary>
    public bool ReadsResidual => Role is TensorRole.Query or TensorRole.Key or TensorRole.Value or TensorRole.QueryKeyValue or TensorRole.Gate or TensorRole.Up or TensorRole.GateUp;

    /// <summary>Matrices that write to the residual stream (their output axis is the residual width).</summary>
    public bool WritesResidual => Role is TensorRole.AttentionOutput or TensorRole.Down;

    public string? LayerKey => Layer is { } layer ? (Stack is null ? "" : Stack + ":") + layer.ToString(CultureInfo.InvariantCulture) : null;
}

/// <summary>
/// Resolves tensor names across naming schemes: Hugging Face llama/mistral/qwen/gemma/phi, gpt2 (Conv1D),
/// gpt_neox, bloom, falcon, bert, t5, llama.cpp/GGUF-style (blk.N.attn_q, token_embd) and unknown prefixes.
/// Rules are substring matches on the part after the layer index, most specific first.
/// </summary>
public static partial class TensorRoles
{
    [GeneratedRegex(@"(?:^|\.)(?:layers?|h|blocks?|blk|decoder_layers|encoder_layers)\.(\d{1,6})\.", RegexOptions.CultureInvariant)]
    private static partial Regex LayerPattern();

    private static readonly (string Pattern, TensorRole Role)[] LayerRules =
    [
        ("norm", TensorRole.Norm),
        ("ln_", TensorRole.Norm),
        ("ln1", TensorRole.Norm),
        ("ln2", TensorRole.Norm),
        ("layer_norm", TensorRole.Norm),
        ("router", TensorRole.Other),
        ("mlp.gate.", TensorRole.Other),
        ("query_key_value", TensorRole.QueryKeyValue),
        ("qkv", TensorRole.QueryKeyValue),
        ("c_attn", TensorRole.QueryKeyValue),
        ("wqkv", TensorRole.QueryKeyValue),
        ("gate_up", TensorRole.GateUp),
        ("q_proj", TensorRole.Query),
        ("attn_q.", TensorRole.Query),
        ("self.query", TensorRole.Query),
        (".query.", TensorRole.Query),
        ("attention.wq", TensorRole.Query),
        ("selfattention.q.", TensorRole.Query),
        ("k_proj", TensorRole.Key),
        ("attn_k.", TensorRole.Key),
        ("self.key", TensorRole.Key),
        (".key.", TensorRole.Key),
        ("attention.wk", TensorRole.Key),
        ("selfattention.k.", TensorRole.Key),
        ("v_proj", TensorRole.Value),
        ("attn_v.", TensorRole.Value),
        ("self.value", TensorRole.Value),
        (".value.", TensorRole.Value),
        ("attention.wv", TensorRole.Value),
        ("selfattention.v.", TensorRole.Value),
        ("o_proj", TensorRole.AttentionOutput),
        ("attn_output", TensorRole.AttentionOutput),
        ("out_proj", TensorRole.AttentionOutput),
        ("attention.output.dense", TensorRole.AttentionOutput),
        ("attention.dense", TensorRole.AttentionOutput),
        ("self_attn.dense", TensorRole.AttentionOutput),
        ("attn.c_proj", TensorRole.AttentionOutput),
        ("attention.wo", TensorRole.AttentionOutput),
        ("selfattention.o.", TensorRole.AttentionOutput),
        ("gate_proj", TensorRole.Gate),
        ("ffn_gate", TensorRole.Gate),
        ("feed_forward.w1", TensorRole.Gate),
        ("wi_0", TensorRole.Gate),
        ("up_proj", TensorRole.Up),
        ("ffn_up", TensorRole.Up),
        ("fc1", TensorRole.Up),
        ("dense_h_to_4h", TensorRole.Up),
        ("c_fc", TensorRole.Up),
        ("feed_forward.w3", TensorRole.Up),
        ("wi_1", TensorRole.Up),
        ("densereludense.wi", TensorRole.Up),
        ("intermediate.dense", TensorRole.Up),
        ("down_proj", TensorRole.Down),
        ("ffn_down", TensorRole.Down),
        ("fc2", TensorRole.Down),
        ("dense_4h_to_h", TensorRole.Down),
        ("mlp.c_proj", TensorRole.Down),
        ("feed_forward.w2", TensorRole.Down),
        ("densereludense.wo", TensorRole.Down),
        ("output.dense", TensorRole.Down),
    ];

    private static readonly string[] EmbeddingNames = ["embed_tokens", "wte", "word_embeddings", "embed_in", "token_embd", "tok_embeddings", "shared.weight", "embeddings.weight"];

    private static readonly string[] LmHeadNames = ["lm_head", "embed_out", "cls.predictions.decoder"];

    public static TensorRoleInfo Resolve(string name)
    {
        var lower = name.ToLowerInvariant();
        var match = LayerPattern().Match(lower);
        if (match.Success)
        {
            var stack = lower.Contains("encoder", StringComparison.Ordinal) && !lower.Contains("decoder", StringComparison.Ordinal) ? "encoder"
                : lower.Contains("vision", StringComparison.Ordinal) || lower.Contains("visual", StringComparison.Ordinal) ? "vision"
                : null;
            if (lower.Contains("decoder", StringComparison.Ordinal) && lower.Contains("encoder", StringComparison.Ordinal))
                stack = "decoder";
            var layer = int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
            var rest = "." + lower[(match.Index + match.Length)..];
            foreach (var (pattern, role) in LayerRules)
            {
                if (rest.Contains(pattern, StringComparison.Ordinal))
                    return new TensorRoleInfo(role, stack, layer);
            }

            return new TensorRoleInfo(TensorRole.Other, stack, layer);
        }

        if (lower.Contains("position", StringComparison.Ordinal) || lower.Contains("wpe", StringComparison.Ordinal))
            return new TensorRoleInfo(TensorRole.PositionEmbedding, null, null);
        if (LmHeadNames.Any(n => lower.Contains(n, StringComparison.Ordinal)) || lower is "output.weight")
            return new TensorRoleInfo(TensorRole.LmHead, null, null);
        if (EmbeddingNames.Any(n => lower.Contains(n, StringComparison.Ordinal)) || lower.Contains("embed", StringComparison.Ordinal))
            return new TensorRoleInfo(TensorRole.Embedding, null, null);
        if (lower.Contains("norm", StringComparison.Ordinal) || lower.Contains("ln_f", StringComparison.Ordinal))
            return new TensorRoleInfo(TensorRole.Norm, null, null);
        return new TensorRoleInfo(TensorRole.Other, null, null);
    }

    private static readonly string[] PreMlpNormNames = ["post_attention_layernorm", "ffn_norm", "ln_2", "ln2", "pre_feedforward", "final_layer_norm", "ffn_layernorm", "post_attention_norm"];

    /// <summary>
    /// A layer's norm that feeds the MLP rather than attention (Llama post_attention_layernorm, GGUF ffn_norm, GPT-2
    /// ln_2, T5 final_layer_norm): the key and value matrices read the residual through the layer's other norm.
    /// </summary>
    public static bool IsPreMlpNorm(string name)
    {
        var lower = name.ToLowerInvariant();
        return PreMlpNormNames.Any(n => lower.Contains(n, StringComparison.Ordinal));
    }

    /// <summary>GPT-2 style Conv1D stores [in, out] instead of Linear's [out, in].</summary>
    public static bool IsConv1D(string name)
    {
        var lower = name.ToLowerInvariant();
        return lower.Contains("c_attn", StringComparison.Ordinal) || lower.Contains("c_fc", StringComparison.Ordinal) || lower.Contains("c_proj", StringComparison.Ordinal);
    }
}
