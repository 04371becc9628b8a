using System.Buffers.Binary;
using System.Diagnostics;
using ProvenanceGate.Fingerprinting;
using ProvenanceGate.Formats.Onnx;

namespace ProvenanceGate.Bench;

/// <summary>
/// The bench model's weights (<see cref="BenchModel"/>, same values) as torch.onnx.export lays out a large model: a
/// graph whose Linear weights are anonymous <c>onnx::MatMul_N</c> initializers stored transposed [in, out], all in one
/// external-data file beside <c>model.onnx</c> (protobuf cannot hold 2 GB).
/// </summary>
internal static class OnnxBenchModel
{
    private static readonly Dictionary<bool, string> Models = [];

    /// <summary>The path of <c>model.onnx</c>.</summary>
    public static string Get(bool quick)
    {
        if (Models.TryGetValue(quick, out var existing))
            return existing;
        var tensors = BenchModel.TensorList(quick);
        var directory = Path.Combine(Path.GetTempPath(), $"pg-bench-onnx-{(quick ? "quick" : "full")}-{Environment.ProcessId}");
        Directory.CreateDirectory(directory);
        var graph = new ProtobufWriter().String(2, "bench");
        var state = BenchModel.Seed;
        long offset = 0;
        var anonymous = 0;
        var names = new Dictionary<string, string>(StringComparer.Ordinal);
        using (var data = new FileStream(Path.Combine(directory, "model.onnx.data"), FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
        {
            foreach (var (name, shape) in tensors)
            {
                var values = new ushort[shape.Aggregate(1L, (a, b) => a * b)];
                for (var i = 0; i < values.Length; i++)
                    values[i] = BenchModel.NextBFloat16(ref state, shape.Length == 1);
                var isLinear = shape.Length == 2 && !name.Contains("embed", StringComparison.Ordinal);
                var stored = isLinear ? Transpose(values, shape[0], shape[1]) : values;
                var storedShape = isLinear ? new[] { shape[1], shape[0] } : shape;
                var storedName = isLinear ? $"onnx::MatMul_{1000 + anonymous++}" : name;
                names[name] = storedName;
                var bytes = new byte[stored.Length * 2];
                for (var i = 0; i < stored.Length; i++)
                    BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(i * 2), stored[i]);
                data.Write(bytes);
                var initializer = new ProtobufWriter();
                foreach (var dim in storedShape)
                    initializer.Varint(1, (ulong)dim);
                initializer.Varint(2, 16).String(8, storedName)
                    .Message(13, new ProtobufWriter().String(1, "location").String(2, "model.onnx.data"))
                    .Message(13, new ProtobufWriter().String(1, "offset").String(2, offset.ToString(System.Globalization.CultureInfo.InvariantCulture)))
                    .Message(13, new ProtobufWriter().String(1, "length").String(2, bytes.Length.ToString(System.Globalization.CultureInfo.InvariantCulture)))
                    .Varint(14, 1);
                graph.Message(5, initializer);
                offset += bytes.Length;
            }
        }

        // The layer chain as an exporter writes it: q, k, v read one normed activation, gate and up another.
        var (_, _, _, _, layers) = BenchModel.Dimensions(quick);
        void Node(string op, string output, params string[] inputs)
        {
            var node = new ProtobufWriter();
            foreach (var input in inputs)
                node.String(1, input);
            graph.Message(1, node.String(2, output).String(4, op));
        }

        Node("Gather", "h0", names["model.embed_tokens.weight"], "input_ids");
        for (var layer = 0; layer < layers; layer++)
        {
            var p = $"model.layers.{layer}.";
            Node("Mul", $"n{layer}a", $"h{layer}", names[p + "input_layernorm.weight"]);
            foreach (var projection in new[] { "q", "k", "v" })
                Node("MatMul", $"{projection}{layer}", $"n{layer}a", names[p + $"self_attn.{projection}_proj.weight"]);
            Node("MatMul", $"o{layer}", $"attention{layer}", names[p + "self_attn.o_proj.weight"]);
            Node("Add", $"r{layer}", $"h{layer}", $"o{layer}");
            Node("Mul", $"n{layer}b", $"r{layer}", names[p + "post_attention_layernorm.weight"]);
            Node("MatMul", $"gate{layer}", $"n{layer}b", names[p + "mlp.gate_proj.weight"]);
            Node("MatMul", $"up{layer}", $"n{layer}b", names[p + "mlp.up_proj.weight"]);
            Node("MatMul", $"down{layer}", $"act{layer}", names[p + "mlp.down_proj.weight"]);
            Node("Add", $"h{layer + 1}", $"r{layer}", $"down{layer}");
        }

        Node("Mul", "final", $"h{layers}", names["model.norm.weight"]);
        Node("MatMul", "logits", "final", names["lm_head.weight"]);
        var model = new ProtobufWriter().Varint(1, 8).String(2, "provenancegate-bench").Message(7, graph)
            .Message(8, new ProtobufWriter().String(1, "").Varint(2, 17));
        var path = Path.Combine(directory, "model.onnx");
        File.WriteAllBytes(path, model.ToArray());
        Models[quick] = path;
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Directory.Delete(directory, recursive: true);
        return path;
    }

    private static ushort[] Transpose(ushort[] values, long rows, long columns)
    {
        var result = new ushort[values.Length];
        for (long r = 0; r < rows; r++)
        {
            for (long c = 0; c < columns; c++)
                result[(c * rows) + r] = values[(r * columns) + c];
        }

        return result;
    }
}

/// <summary>
/// ONNX fingerprint throughput as a ratio to the safetensors path on the same weights (page cache warm for both),
/// rounds alternating, medians compared; and the two fingerprints must say the weights are identical.
/// </summary>
internal sealed class OnnxThroughputScenario : IBenchScenario
{
    public string Name => "onnx-throughput";

    public void Run(BenchReport report, bool quick)
    {
        var safetensors = BenchModel.Get(quick);
        var onnx = OnnxBenchModel.Get(quick);
        var verdict = LineageComparer.Compare(Fingerprinter.FromModelDirectory(onnx), Fingerprinter.FromModelDirectory(safetensors)).Verdict;
        var rounds = quick ? 3 : 5;
        var (safetensorsTimes, onnxTimes) = (new List<double>(), new List<double>());
        for (var round = 0; round < rounds; round++)
        {
            var stopwatch = Stopwatch.StartNew();
            Fingerprinter.FromModelDirectory(safetensors);
            safetensorsTimes.Add(stopwatch.Elapsed.TotalSeconds);
            stopwatch.Restart();
            Fingerprinter.FromModelDirectory(onnx);
            onnxTimes.Add(stopwatch.Elapsed.TotalSeconds);
        }

        var gigabytes = BenchModel.WeightBytes(safetensors) / 1e9;
        var ratio = Median(onnxTimes) / Median(safetensorsTimes);
        report.Add(Name, "model size (BF16, transposed anonymous MatMul weights in external data)", gigabytes, "GB", quick ? "(quick)" : ">= 2 GB", quick || gigabytes >= 2);
        report.Add(Name, $"safetensors fingerprint (median of {rounds})", gigabytes / Median(safetensorsTimes), "GB/s", "baseline", true);
        report.Add(Name, $"ONNX fingerprint (median of {rounds})", gigabytes / Median(onnxTimes), "GB/s", "-", true);
        report.Add(Name, "ONNX time vs safetensors time", ratio, "x", "<= 1.5x", ratio <= 1.5);
        report.Add(Name, $"verdict ONNX vs safetensors: {verdict}", verdict == LineageVerdict.IdenticalWeights ? 1 : 0, "", "identical-weights", verdict == LineageVerdict.IdenticalWeights);
    }

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);
}
