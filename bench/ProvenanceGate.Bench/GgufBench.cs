using System.Diagnostics;
using System.Runtime.InteropServices;
using ProvenanceGate.Fingerprinting;
using ProvenanceGate.Formats.Gguf;
using ProvenanceGate.Formats.Weights;

namespace ProvenanceGate.Bench;

/// <summary>
/// The bench model converted to GGUF as llama.cpp would (q/k rows permuted): BF16 (the same bytes, over 2 GB in a full
/// run) and Q8_0. Throughput of fingerprinting each, as a ratio to the safetensors path on the same weights (rounds
/// alternate, medians compared), and peak anonymous memory fingerprinting the BF16 GGUF in a child process.
/// </summary>
internal sealed class GgufScenario : IBenchScenario
{
    public string Name => "gguf";

    public void Run(BenchReport report, bool quick)
    {
        var model = BenchModel.Get(quick);
        var directory = Path.Combine(Path.GetTempPath(), $"pg-bench-gguf-{Environment.ProcessId}");
        Directory.CreateDirectory(directory);
        try
        {
            var bf16 = Path.Combine(directory, "model.BF16.gguf");
            var q8 = Path.Combine(directory, "model.Q8_0.gguf");
            var convert = Stopwatch.StartNew();
            Convert(model, bf16, GgmlType.BF16);
            Convert(model, q8, GgmlType.Q8_0);
            report.Add(Name, "write BF16 + Q8_0 GGUF of the bench model (once)", convert.Elapsed.TotalSeconds, "s", "-", true);

            Fingerprinter.FromModelDirectory(bf16); // JIT and page cache, as for the baseline below
            Fingerprinter.FromModelDirectory(q8);
            Fingerprinter.FromModelDirectory(model);
            var rounds = quick ? 3 : 5;
            var safetensors = new List<double>();
            var bf16Times = new List<double>();
            var q8Times = new List<double>();
            for (var round = 0; round < rounds; round++)
            {
                safetensors.Add(Time(model));
                bf16Times.Add(Time(bf16));
                q8Times.Add(Time(q8));
            }

            var parameters = WeightFormats.Open(model)!.Tensors.Sum(t => t.ElementCount) / 1e9;
            report.Add(Name, $"safetensors BF16 (median of {rounds})", parameters / Median(safetensors), "Gparam/s", "baseline", true);
            var bf16Ratio = Median(bf16Times) / Median(safetensors);
            report.Add(Name, $"GGUF BF16, {new FileInfo(bf16).Length / 1e9:0.00} GB: time vs safetensors", bf16Ratio, "x", "<= 1.5x", bf16Ratio <= 1.5);
            var q8Ratio = Median(q8Times) / Median(safetensors);
            report.Add(Name, $"GGUF Q8_0, {new FileInfo(q8).Length / 1e9:0.00} GB: time vs safetensors (same parameters)", q8Ratio, "x", "<= 1.5x", q8Ratio <= 1.5);

            var (before, peak, hwm) = FingerprintMemoryScenario.MeasureInChild(bf16);
            var size = new FileInfo(bf16).Length;
            report.Add(Name, $"child peak RssAnon fingerprinting the {size / 1e9:0.00} GB BF16 GGUF (baseline {before / 1e6:0} MB; VmHWM {hwm / 1e6:0} MB)", peak / 1e6, "MB",
                quick ? "< 512 MB (quick: < 2 GB file)" : "< 512 MB", peak < 512e6 && (quick || size >= 2e9));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static double Time(string path)
    {
        var stopwatch = Stopwatch.StartNew();
        Fingerprinter.FromModelDirectory(path);
        return stopwatch.Elapsed.TotalSeconds;
    }

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);

    /// <summary>The safetensors bench model as GGUF: llama.cpp names, q/k rows permuted, 2-D tensors in <paramref name="type"/>.</summary>
    private static void Convert(string modelDirectory, string output, GgmlType type)
    {
        var config = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(modelDirectory, "config.json"))).RootElement;
        var heads = config.GetProperty("num_attention_heads").GetInt32();
        var kvHeads = config.GetProperty("num_key_value_heads").GetInt32();
        var metadata = new List<KeyValuePair<string, GgufValue>>
        {
            new("general.architecture", GgufWriter.Value("llama")),
            new("general.name", GgufWriter.Value("bench")),
            new("llama.embedding_length", GgufWriter.Value((uint)config.GetProperty("hidden_size").GetInt32())),
            new("llama.block_count", GgufWriter.Value((uint)config.GetProperty("num_hidden_layers").GetInt32())),
            new("llama.feed_forward_length", GgufWriter.Value((uint)config.GetProperty("intermediate_size").GetInt32())),
            new("llama.attention.head_count", GgufWriter.Value((uint)heads)),
            new("llama.attention.head_count_kv", GgufWriter.Value((uint)kvHeads)),
            new("llama.context_length", GgufWriter.Value(4096u)),
            new("tokenizer.ggml.model", GgufWriter.Value("gpt2")),
            new("tokenizer.ggml.tokens", GgufWriter.Array(Formats.Tokenizers.TokenizerReader.ReadDirectory(modelDirectory)!.Tokens.Select(t => t ?? "").ToList())),
        };
        var sources = new List<GgufTensorSource>();
        foreach (var tensor in WeightFormats.Open(modelDirectory)!.Tensors)
        {
            var heads_ = tensor.Name.EndsWith("q_proj.weight", StringComparison.Ordinal) ? heads : tensor.Name.EndsWith("k_proj.weight", StringComparison.Ordinal) ? kvHeads : 0;
            var tensorType = tensor.Shape.Count == 1 ? GgmlType.F32 : type;
            sources.Add(new GgufTensorSource(ProvenanceGate.Models.SyntheticDerivatives.GgufName(tensor.Name), tensor.Shape, tensorType, stream => WriteTensor(stream, tensor, tensorType, heads_)));
        }

        GgufWriter.Write(output, metadata, sources);
    }

    /// <summary>Streams one tensor a row at a time (rows of a head permuted as the converter does), so memory stays bounded.</summary>
    private static void WriteTensor(Stream stream, WeightTensor tensor, GgmlType type, int heads)
    {
        var rowLength = (int)tensor.RowLength;
        var rows = tensor.RowCount;
        var headDim = heads == 0 ? 0 : (int)(rows / heads);
        using var handle = File.OpenHandle(tensor.FilePath);
        var raw = new byte[rowLength * 2];
        var values = new float[rowLength];
        for (long stored = 0; stored < rows; stored++)
        {
            // Stored row 2i + half of a head holds the checkpoint's row half * headDim/2 + i.
            var source = headDim == 0 ? stored : (stored / headDim * headDim) + ((stored % headDim % 2) * (headDim / 2)) + (stored % headDim / 2);
            RandomAccess.Read(handle, raw, tensor.FileOffset + (source * raw.Length));
            if (type == GgmlType.BF16)
            {
                stream.Write(raw);
                continue;
            }

            var bf16 = MemoryMarshal.Cast<byte, ushort>(raw);
            for (var i = 0; i < rowLength; i++)
                values[i] = BitConverter.UInt32BitsToSingle((uint)bf16[i] << 16);
            stream.Write(type == GgmlType.F32 ? MemoryMarshal.AsBytes(values.AsSpan()) : GgufQuantizer.Quantize(type, values));
        }
    }

}
