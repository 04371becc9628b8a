using System.Text.Json;
using ProvenanceGate.Formats.Safetensors;
using ProvenanceGate.Formats.Weights;

namespace ProvenanceGate.Tests.Fingerprinting;

/// <summary>
/// A tiny, plain Llama forward pass in double (RMSNorm, rotary embeddings in the Hugging Face half-split layout,
/// causal attention with grouped key/value heads, SwiGLU MLP), read from a model directory's safetensors and
/// config.json: enough to show that a transformed copy computes the same logits as its source.
/// </summary>
public sealed class LlamaForward
{
    private readonly Dictionary<string, float[]> _w;
    private readonly int _hidden, _layers, _heads, _kvHeads, _headDim, _intermediate, _vocab;
    private readonly double _theta, _eps;

    public LlamaForward(string directory)
        : this(LoadTensors(directory), directory)
    {
    }

    /// <summary>The model of <paramref name="tensors"/>, shaped by the config.json in <paramref name="configDirectory"/>.</summary>
    public LlamaForward(IEnumerable<NamedTensor> tensors, string configDirectory)
    {
        _w = tensors.ToDictionary(t => t.Name, t => t.Values, StringComparer.Ordinal);
        var directory = configDirectory;
        using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(directory, "config.json")));
        var root = config.RootElement;
        _hidden = root.GetProperty("hidden_size").GetInt32();
        _layers = root.GetProperty("num_hidden_layers").GetInt32();
        _heads = root.GetProperty("num_attention_heads").GetInt32();
        _kvHeads = root.GetProperty("num_key_value_heads").GetInt32();
        _headDim = root.TryGetProperty("head_dim", out var headDim) ? headDim.GetInt32() : _hidden / _heads;
        _intermediate = root.GetProperty("intermediate_size").GetInt32();
        _vocab = root.GetProperty("vocab_size").GetInt32();
        _theta = root.GetProperty("rope_theta").GetDouble();
        _eps = root.GetProperty("rms_norm_eps").GetDouble();
    }

    /// <summary>Every tensor of a model directory as float32, in stored order.</summary>
    public static List<NamedTensor> LoadTensors(string directory)
    {
        var weights = WeightFormats.Open(directory) ?? throw new InvalidOperationException($"no weights in {directory}");
        var result = new List<NamedTensor>();
        using var reader = new TensorReader();
        foreach (var tensor in weights.Tensors)
        {
            var values = new float[tensor.ElementCount];
            reader.ReadBlocks(tensor, block =>
            {
                for (var r = 0; r < block.RowCount; r++)
                    block.CopyRow(r, values.AsSpan((int)((block.FirstRow + r) * block.RowLength), block.RowLength));
            });
            result.Add(new NamedTensor(tensor.Name, tensor.Shape.ToArray(), values));
        }

        return result;
    }

    /// <summary>Logits (tokens × vocabulary) for one causal sequence.</summary>
    public double[][] Logits(int[] tokens)
    {
        var x = tokens.Select(t => _w["model.embed_tokens.weight"].AsSpan(t * _hidden, _hidden).ToArray().Select(v => (double)v).ToArray()).ToArray();
        for (var layer = 0; layer < _layers; layer++)
        {
            var p = $"model.layers.{layer}.";
            var normed = x.Select(v => RmsNorm(v, _w[p + "input_layernorm.weight"])).ToArray();
            var attention = Attention(normed, p);
            for (var t = 0; t < x.Length; t++)
                x[t] = Add(x[t], attention[t]);
            var mlpIn = x.Select(v => RmsNorm(v, _w[p + "post_attention_layernorm.weight"])).ToArray();
            for (var t = 0; t < x.Length; t++)
                x[t] = Add(x[t], Mlp(mlpIn[t], p));
        }

        return x.Select(v => MatVec(_w["lm_head.weight"], _vocab, _hidden, RmsNorm(v, _w["model.norm.weight"]))).ToArray();
    }

    private double[] RmsNorm(double[] x, float[] gain)
    {
        var meanSquare = x.Sum(v => v * v) / x.Length;
        var scale = 1 / Math.Sqrt(meanSquare + _eps);
        return x.Select((v, i) => v * scale * gain[i]).ToArray();
    }

    private double[][] Attention(double[][] x, string p)
    {
        var count = x.Length;
        var q = x.Select((v, t) => Rope(MatVec(_w[p + "self_attn.q_proj.weight"], _heads * _headDim, _hidden, v), _heads, t)).ToArray();
        var k = x.Select((v, t) => Rope(MatVec(_w[p + "self_attn.k_proj.weight"], _kvHeads * _headDim, _hidden, v), _kvHeads, t)).ToArray();
        var v = x.Select(v => MatVec(_w[p + "self_attn.v_proj.weight"], _kvHeads * _headDim, _hidden, v)).ToArray();
        var group = _heads / _kvHeads;
        var output = new double[count][];
        for (var t = 0; t < count; t++)
        {
            var context = new double[_heads * _headDim];
            for (var h = 0; h < _heads; h++)
            {
                var kv = h / group;
                var scores = new double[t + 1];
                for (var s = 0; s <= t; s++)
                {
                    double dot = 0;
                    for (var c = 0; c < _headDim; c++)
                        dot += q[t][(h * _headDim) + c] * k[s][(kv * _headDim) + c];
                    scores[s] = dot / Math.Sqrt(_headDim);
                }

                var max = scores.Max();
                var weights = scores.Select(z => Math.Exp(z - max)).ToArray();
                var total = weights.Sum();
                for (var s = 0; s <= t; s++)
                {
                    for (var c = 0; c < _headDim; c++)
                        context[(h * _headDim) + c] += weights[s] / total * v[s][(kv * _headDim) + c];
                }
            }

            output[t] = MatVec(_w[p + "self_attn.o_proj.weight"], _hidden, _heads * _headDim, context);
        }

        return output;
    }

    /// <summary>Rotary embedding, Hugging Face layout: channel c pairs with c + headDim/2 (rotate_half).</summary>
    private double[] Rope(double[] x, int heads, int position)
    {
        var half = _headDim / 2;
        var result = (double[])x.Clone();
        for (var h = 0; h < heads; h++)
        {
            for (var i = 0; i < half; i++)
            {
                var angle = position / Math.Pow(_theta, 2.0 * i / _headDim);
                double cos = Math.Cos(angle), sin = Math.Sin(angle);
                var a = x[(h * _headDim) + i];
                var b = x[(h * _headDim) + i + half];
                result[(h * _headDim) + i] = (a * cos) - (b * sin);
                result[(h * _headDim) + i + half] = (b * cos) + (a * sin);
            }
        }

        return result;
    }

    private double[] Mlp(double[] x, string p)
    {
        var gate = MatVec(_w[p + "mlp.gate_proj.weight"], _intermediate, _hidden, x);
        var up = MatVec(_w[p + "mlp.up_proj.weight"], _intermediate, _hidden, x);
        var hidden = gate.Select((g, i) => g / (1 + Math.Exp(-g)) * up[i]).ToArray();
        return MatVec(_w[p + "mlp.down_proj.weight"], _hidden, _intermediate, hidden);
    }

    private static double[] MatVec(float[] matrix, int rows, int columns, double[] x)
    {
        var result = new double[rows];
        for (var r = 0; r < rows; r++)
        {
            double sum = 0;
            for (var c = 0; c < columns; c++)
                sum += matrix[(r * columns) + c] * x[c];
            result[r] = sum;
        }

        return result;
    }

    private static double[] Add(double[] x, double[] y) => x.Select((v, i) => v + y[i]).ToArray();
}
