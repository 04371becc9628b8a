using System.Globalization;
using ProvenanceGate.Formats.Safetensors;

namespace ProvenanceGate.Models;

/// <summary>
/// Transformations of <see cref="SyntheticModel"/> tensors that model how real derivatives are made: fine-tuning
/// (perturbations scaled like training updates), quantisation round trips, merged LoRA, vocabulary extension,
/// layer pruning, function-preserving neuron/head permutation and renaming. Deterministic for a given seed.
/// </summary>
public static class SyntheticDerivatives
{
    /// <summary>Adds Gaussian noise of <paramref name="relativeScale"/> times each matrix's own standard deviation.</summary>
    public static List<NamedTensor> FineTune(IEnumerable<NamedTensor> tensors, int seed, double relativeScale)
    {
        var random = new Random(seed);
        return tensors.Select(t =>
        {
            var sd = Math.Sqrt(t.Values.Select(v => (double)v * v).Average() - Math.Pow(t.Values.Average(v => (double)v), 2));
            var scale = t.Shape.Length == 1 ? relativeScale * 0.05 : relativeScale * sd;
            return t with { Values = t.Values.Select(v => (float)(v + (scale * Gaussian(random)))).ToArray() };
        }).ToList();
    }

    /// <summary>Symmetric per-row int8 quantisation and back (what an int8 checkpoint dequantises to).</summary>
    public static List<NamedTensor> Int8RoundTrip(IEnumerable<NamedTensor> tensors) => tensors.Select(t =>
    {
        var rowLength = (int)t.Shape[^1];
        var values = (float[])t.Values.Clone();
        for (var start = 0; start < values.Length; start += rowLength)
        {
            var row = values.AsSpan(start, rowLength);
            var max = 0f;
            foreach (var v in row)
                max = Math.Max(max, Math.Abs(v));
            var scale = max / 127f;
            if (scale == 0)
                continue;
            for (var i = 0; i < row.Length; i++)
                row[i] = MathF.Round(row[i] / scale) * scale;
        }

        return t with { Values = values };
    }).ToList();

    /// <summary>W + B·A (rank <paramref name="rank"/>) on every attention and MLP matrix, as a merged adapter.</summary>
    public static List<NamedTensor> MergeLora(IEnumerable<NamedTensor> tensors, int seed, int rank, double relativeScale)
    {
        var random = new Random(seed);
        return tensors.Select(t =>
        {
            if (t.Shape.Length != 2 || !t.Name.Contains(".layers.", StringComparison.Ordinal))
                return t;
            int rows = (int)t.Shape[0], columns = (int)t.Shape[1];
            var b = Enumerable.Range(0, rows * rank).Select(_ => (float)Gaussian(random)).ToArray();
            var a = Enumerable.Range(0, rank * columns).Select(_ => (float)Gaussian(random)).ToArray();
            var sd = Math.Sqrt(t.Values.Select(v => (double)v * v).Average());
            var scale = (float)(relativeScale * sd / Math.Sqrt(rank));
            var values = (float[])t.Values.Clone();
            for (var r = 0; r < rows; r++)
            {
                for (var c = 0; c < columns; c++)
                {
                    float sum = 0;
                    for (var k = 0; k < rank; k++)
                        sum += b[(r * rank) + k] * a[(k * columns) + c];
                    values[(r * columns) + c] += scale * sum;
                }
            }

            return t with { Values = values };
        }).ToList();
    }

    /// <summary>Appends <paramref name="extraTokens"/> freshly initialised rows to the embedding and the LM head.</summary>
    public static List<NamedTensor> ExtendVocabulary(IEnumerable<NamedTensor> tensors, int extraTokens, int seed)
    {
        var random = new Random(seed);
        return tensors.Select(t =>
        {
            if (t.Name is not ("model.embed_tokens.weight" or "lm_head.weight"))
                return t;
            var extra = Enumerable.Range(0, extraTokens * (int)t.Shape[1]).Select(_ => (float)(Gaussian(random) * 0.02));
            return new NamedTensor(t.Name, [t.Shape[0] + extraTokens, t.Shape[1]], t.Values.Concat(extra).ToArray());
        }).ToList();
    }

    /// <summary>Removes the highest-numbered layer.</summary>
    public static List<NamedTensor> DropLastLayer(IEnumerable<NamedTensor> tensors, int layers) =>
        tensors.Where(t => !t.Name.StartsWith($"model.layers.{layers - 1}.", StringComparison.Ordinal)).ToList();

    /// <summary>Duplicates layer <paramref name="source"/> as a new layer after it (depth up-scaling), renumbering the rest.</summary>
    public static List<NamedTensor> InsertLayerCopy(IEnumerable<NamedTensor> tensors, int source)
    {
        var result = new List<NamedTensor>();
        foreach (var t in tensors)
        {
            var layer = LayerOf(t.Name);
            if (layer is null)
            {
                result.Add(t);
                continue;
            }

            var suffix = t.Name[$"model.layers.{layer}.".Length..];
            result.Add(t with { Name = Layer(layer.Value > source ? layer.Value + 1 : layer.Value, suffix) });
            if (layer == source)
                result.Add(t with { Name = Layer(source + 1, suffix) });
        }

        return result;
    }

    /// <summary>
    /// Function-preserving permutation: MLP neurons (gate/up rows, down columns); key-value head groups and the query
    /// heads inside each group (q/k/v rows, o columns); value channels inside each kv head (v rows, o columns).
    /// </summary>
    public static List<NamedTensor> Permute(IReadOnlyList<NamedTensor> tensors, SyntheticModelSpec spec, int seed)
    {
        var random = new Random(seed);
        var byName = tensors.ToDictionary(t => t.Name, t => t, StringComparer.Ordinal);
        int h = spec.HiddenSize, hd = spec.HeadDim, heads = spec.AttentionHeads, kvHeads = spec.KeyValueHeads, group = heads / kvHeads;
        for (var layer = 0; layer < spec.Layers; layer++)
        {
            var neurons = Shuffle(spec.IntermediateSize, random);
            Rows(byName, Layer(layer, "mlp.gate_proj.weight"), neurons);
            Rows(byName, Layer(layer, "mlp.up_proj.weight"), neurons);
            Columns(byName, Layer(layer, "mlp.down_proj.weight"), neurons);

            var kvOrder = Shuffle(kvHeads, random);
            var queryRows = new int[heads * hd];
            var kvRows = new int[kvHeads * hd];
            var valueRows = new int[kvHeads * hd];
            var outputColumns = new int[heads * hd];
            for (var n = 0; n < kvHeads; n++)
            {
                var oldKv = kvOrder[n];
                var inGroup = Shuffle(group, random);
                var channels = Shuffle(hd, random);
                for (var c = 0; c < hd; c++)
                {
                    kvRows[(n * hd) + c] = (oldKv * hd) + c;
                    valueRows[(n * hd) + c] = (oldKv * hd) + channels[c];
                }

                for (var j = 0; j < group; j++)
                {
                    var oldHead = (oldKv * group) + inGroup[j];
                    var newHead = (n * group) + j;
                    for (var c = 0; c < hd; c++)
                    {
                        queryRows[(newHead * hd) + c] = (oldHead * hd) + c;
                        outputColumns[(newHead * hd) + c] = (oldHead * hd) + channels[c];
                    }
                }
            }

            Rows(byName, Layer(layer, "self_attn.q_proj.weight"), queryRows);
            Rows(byName, Layer(layer, "self_attn.k_proj.weight"), kvRows);
            Rows(byName, Layer(layer, "self_attn.v_proj.weight"), valueRows);
            Columns(byName, Layer(layer, "self_attn.o_proj.weight"), outputColumns);
        }

        return tensors.Select(t => byName[t.Name]).ToList();
    }

    /// <summary>llama.cpp/GGUF-style names (token_embd, blk.N.attn_q, output, ...).</summary>
    public static List<NamedTensor> RenameToGguf(IEnumerable<NamedTensor> tensors) => tensors.Select(t => t with { Name = GgufName(t.Name) }).ToList();

    /// <summary>The GGUF name llama.cpp's converter gives a Hugging Face Llama tensor name.</summary>
    public static string GgufName(string name) => name
        .Replace("model.embed_tokens.weight", "token_embd.weight", StringComparison.Ordinal)
        .Replace("model.norm.weight", "output_norm.weight", StringComparison.Ordinal)
        .Replace("lm_head.weight", "output.weight", StringComparison.Ordinal)
        .Replace("model.layers.", "blk.", StringComparison.Ordinal)
        .Replace("input_layernorm", "attn_norm", StringComparison.Ordinal)
        .Replace("post_attention_layernorm", "ffn_norm", StringComparison.Ordinal)
        .Replace("self_attn.q_proj", "attn_q", StringComparison.Ordinal)
        .Replace("self_attn.k_proj", "attn_k", StringComparison.Ordinal)
        .Replace("self_attn.v_proj", "attn_v", StringComparison.Ordinal)
        .Replace("self_attn.o_proj", "attn_output", StringComparison.Ordinal)
        .Replace("mlp.gate_proj", "ffn_gate", StringComparison.Ordinal)
        .Replace("mlp.up_proj", "ffn_up", StringComparison.Ordinal)
        .Replace("mlp.down_proj", "ffn_down", StringComparison.Ordinal);

    public static string Layer(int layer, string suffix) => string.Create(CultureInfo.InvariantCulture, $"model.layers.{layer}.{suffix}");

    private static int? LayerOf(string name)
    {
        if (!name.StartsWith("model.layers.", StringComparison.Ordinal))
            return null;
        var rest = name["model.layers.".Length..];
        return int.Parse(rest[..rest.IndexOf('.', StringComparison.Ordinal)], CultureInfo.InvariantCulture);
    }

    private static int[] Shuffle(int count, Random random)
    {
        var order = Enumerable.Range(0, count).ToArray();
        random.Shuffle(order);
        return order;
    }

    private static void Rows(Dictionary<string, NamedTensor> tensors, string name, int[] order)
    {
        var t = tensors[name];
        var columns = (int)t.Shape[1];
        var values = new float[t.Values.Length];
        for (var r = 0; r < order.Length; r++)
            Array.Copy(t.Values, order[r] * columns, values, r * columns, columns);
        tensors[name] = t with { Values = values };
    }

    private static void Columns(Dictionary<string, NamedTensor> tensors, string name, int[] order)
    {
        var t = tensors[name];
        var rows = (int)t.Shape[0];
        var columns = (int)t.Shape[1];
        var values = new float[t.Values.Length];
        for (var r = 0; r < rows; r++)
        {
            for (var c = 0; c < order.Length; c++)
                values[(r * columns) + c] = t.Values[(r * columns) + order[c]];
        }

        tensors[name] = t with { Values = values };
    }

    internal static double Gaussian(Random random)
    {
        var u1 = 1.0 - random.NextDouble();
        var u2 = random.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }
}
