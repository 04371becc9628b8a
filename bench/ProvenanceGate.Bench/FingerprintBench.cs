using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using ProvenanceGate.Fingerprinting;
using ProvenanceGate.Formats.Safetensors;

namespace ProvenanceGate.Bench;

/// <summary>
/// A Llama-layout BF16 checkpoint written straight to disk (values from a cheap PRNG, streamed in chunks), so a
/// multi-gigabyte model costs seconds and no memory to create. Shared by the fingerprinting scenarios of one run.
/// </summary>
internal static class BenchModel
{
    private static readonly Dictionary<(bool, int), string> Models = [];
    private static readonly Dictionary<(bool, int), List<(string Name, long[] Shape)>> Tensors = [];

    /// <summary>The tensors of <see cref="Get"/>'s model, in file order (Hugging Face names and shapes).</summary>
    public static List<(string Name, long[] Shape)> TensorList(bool quick)
    {
        Get(quick);
        return Tensors[(quick, Dimensions(quick).Layers)];
    }
    private static readonly string[] Architectures = ["LlamaForCausalLM"];

    /// <summary>(hidden, kv width, intermediate, vocabulary, layers) of the quick and the full model.</summary>
    public static (int Hidden, int Kv, int Intermediate, int Vocab, int Layers) Dimensions(bool quick) =>
        quick ? (1024, 256, 2816, 32000, 4) : (2048, 512, 5632, 32000, 20);

    public static string Get(bool quick) => Get(quick, Dimensions(quick).Layers);

    /// <summary>The quick or full model's widths with another layer count (40 full layers: the 4.1 GB model of the accelerator scenario).</summary>
    public static string Get(bool quick, int layers)
    {
        if (Models.TryGetValue((quick, layers), out var existing))
            return existing;
        var directory = Path.Combine(Path.GetTempPath(), $"pg-bench-model-{(quick ? "quick" : "full")}-{layers}-{Environment.ProcessId}");
        var (hidden, kv, intermediate, vocab, _) = Dimensions(quick);
        Directory.CreateDirectory(directory);
        var tensors = new List<(string Name, long[] Shape)> { ("model.embed_tokens.weight", [vocab, hidden]) };
        for (var layer = 0; layer < layers; layer++)
        {
            var p = $"model.layers.{layer}.";
            tensors.Add((p + "input_layernorm.weight", [hidden]));
            tensors.Add((p + "self_attn.q_proj.weight", [hidden, hidden]));
            tensors.Add((p + "self_attn.k_proj.weight", [kv, hidden]));
            tensors.Add((p + "self_attn.v_proj.weight", [kv, hidden]));
            tensors.Add((p + "self_attn.o_proj.weight", [hidden, hidden]));
            tensors.Add((p + "post_attention_layernorm.weight", [hidden]));
            tensors.Add((p + "mlp.gate_proj.weight", [intermediate, hidden]));
            tensors.Add((p + "mlp.up_proj.weight", [intermediate, hidden]));
            tensors.Add((p + "mlp.down_proj.weight", [hidden, intermediate]));
        }

        tensors.Add(("model.norm.weight", [hidden]));
        tensors.Add(("lm_head.weight", [vocab, hidden]));
        Tensors[(quick, layers)] = tensors;
        WriteSafetensors(Path.Combine(directory, "model.safetensors"), tensors);
        File.WriteAllText(Path.Combine(directory, "config.json"), JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["architectures"] = Architectures, ["model_type"] = "llama", ["hidden_size"] = hidden, ["intermediate_size"] = intermediate,
            ["num_hidden_layers"] = layers, ["num_attention_heads"] = hidden / 64, ["num_key_value_heads"] = kv / 64, ["vocab_size"] = vocab,
            ["max_position_embeddings"] = 4096, ["rms_norm_eps"] = 1e-5, ["hidden_act"] = "silu",
        }));
        File.WriteAllText(Path.Combine(directory, "tokenizer.json"), Models_Tokenizer(vocab));
        Models[(quick, layers)] = directory;
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Directory.Delete(directory, recursive: true);
        return directory;
    }

    private static string Models_Tokenizer(int vocab) => ProvenanceGate.Models.SyntheticModel.CreateTokenizerJson(vocab);

    private static void WriteSafetensors(string path, List<(string Name, long[] Shape)> tensors)
    {
        using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        file.Write(SafetensorsWriter.Header(tensors, SafetensorsDType.BF16));
        var state = Seed;
        var buffer = new byte[1 << 20];
        foreach (var (name, shape) in tensors)
        {
            var remaining = shape.Aggregate(1L, (a, b) => a * b);
            var isNorm = shape.Length == 1;
            while (remaining > 0)
            {
                var count = (int)Math.Min(remaining, buffer.Length / 2);
                for (var i = 0; i < count; i++)
                    BinaryPrimitives.WriteUInt16LittleEndian(buffer.AsSpan(i * 2), NextBFloat16(ref state, isNorm));

                file.Write(buffer, 0, count * 2);
                remaining -= count;
            }
        }
    }

    /// <summary>The PRNG every bench model's values come from, so other formats can write the same weights.</summary>
    public const ulong Seed = 0x9E3779B97F4A7C15UL;

    public static ushort NextBFloat16(ref ulong state, bool isNorm)
    {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        var uniform = ((state >> 40) / (float)(1 << 24)) - 0.5f;
        return SafetensorsWriter.ToBFloat16(isNorm ? 1 + (0.1f * uniform) : 0.04f * uniform);
    }

    /// <summary>
    /// Plain sequential read of every weight byte, single-threaded, like <c>cat</c>: the baseline. Its buffer size is
    /// the fastest of a few common ones on this machine (see <see cref="FastestPlainReadBuffer"/>), so the baseline is
    /// never handicapped by the fingerprinter's own choice.
    /// </summary>
    public static TimeSpan PlainRead(string directory, int bufferBytes)
    {
        var stopwatch = Stopwatch.StartNew();
        var buffer = GC.AllocateUninitializedArray<byte>(bufferBytes);
        foreach (var file in Directory.EnumerateFiles(directory, "*.safetensors"))
        {
            using var handle = File.OpenHandle(file, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.SequentialScan);
            long offset = 0;
            int read;
            while ((read = RandomAccess.Read(handle, buffer, offset)) > 0)
                offset += read;
        }

        return stopwatch.Elapsed;
    }

    public static int FastestPlainReadBuffer(string directory)
    {
        int[] candidates = [128 << 10, 1 << 20, 4 << 20];
        return candidates.MinBy(size => Enumerable.Range(0, 3).Min(_ => PlainRead(directory, size)));
    }

    public static long WeightBytes(string directory) => Directory.EnumerateFiles(directory, "*.safetensors").Sum(f => new FileInfo(f).Length);
}

/// <summary>
/// Fingerprint throughput as a ratio to a plain read of the same bytes (page cache warm for both). Rounds alternate
/// the two and the ratio is taken between medians, so a burst of noise from a neighbour hits both sides alike.
/// </summary>
internal sealed class FingerprintThroughputScenario : IBenchScenario
{
    public string Name => "fingerprint-throughput";

    public void Run(BenchReport report, bool quick)
    {
        var model = BenchModel.Get(quick);
        var gigabytes = BenchModel.WeightBytes(model) / 1e9;
        var bufferBytes = BenchModel.FastestPlainReadBuffer(model);
        // The first call pays for JIT compilation, as a one-shot CLI run does: reported, not part of the goal.
        var first = Stopwatch.StartNew();
        Fingerprinter.FromModelDirectory(model);
        var firstCall = first.Elapsed;

        var rounds = quick ? 5 : 9;
        var plain = new List<double>();
        var fingerprint = new List<double>();
        var plainCpu = new List<double>();
        var fingerprintCpu = new List<double>();
        for (var round = 0; round < rounds; round++)
        {
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            plain.Add(BenchModel.PlainRead(model, bufferBytes).TotalSeconds);
            plainCpu.Add((Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds);
            cpu = Process.GetCurrentProcess().TotalProcessorTime;
            var stopwatch = Stopwatch.StartNew();
            Fingerprinter.FromModelDirectory(model);
            fingerprint.Add(stopwatch.Elapsed.TotalSeconds);
            fingerprintCpu.Add((Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds);
        }

        var ratio = Median(plain) / Median(fingerprint);
        report.Add(Name, "model size", gigabytes, "GB", quick ? "(quick)" : ">= 1 GB", quick || gigabytes >= 1);
        report.Add(Name, $"plain read ({bufferBytes >> 10} KiB reads, 1 thread; median of {rounds})", gigabytes / Median(plain), "GB/s", "baseline", true);
        report.Add(Name, $"fingerprint (median of {rounds})", gigabytes / Median(fingerprint), "GB/s", "-", true);
        report.Add(Name, $"throughput vs plain read (wall; load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]} on {Environment.ProcessorCount} cores)", ratio, "x", ">= 0.7x", ratio >= 0.7);
        report.Add(Name, "first call in a fresh process (JIT included) vs plain read", Median(plain) / firstCall.TotalSeconds, "x", "-", true);
        report.Add(Name, "CPU time per GB: plain read", Median(plainCpu) / gigabytes, "s/GB", "-", true);
        report.Add(Name, $"CPU time per GB: fingerprint ({Math.Min(Environment.ProcessorCount, Fingerprinter.MaxWorkers)} workers)", Median(fingerprintCpu) / gigabytes, "s/GB", "-", true);
    }

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);
}

/// <summary>Compare two models from their fingerprint files (read + compare), median of repetitions.</summary>
internal sealed class FingerprintCompareScenario : IBenchScenario
{
    public string Name => "fingerprint-compare";

    public void Run(BenchReport report, bool quick)
    {
        var model = BenchModel.Get(quick);
        var fingerprint = Fingerprinter.FromModelDirectory(model);
        var directory = Path.Combine(Path.GetTempPath(), $"pg-bench-fp-{Environment.ProcessId}");
        Directory.CreateDirectory(directory);
        try
        {
            var a = Path.Combine(directory, "a.fingerprint.json");
            var b = Path.Combine(directory, "b.fingerprint.json");
            FingerprintFile.Write(a, fingerprint);
            // A derivative-like fingerprint: every vector jittered, no tensor shared, so every signal is computed.
            FingerprintFile.Write(b, FingerprintJitter.Jitter(fingerprint, 1, 0.1f));
            LineageComparison? result = null;
            var time = Measure.Median(quick ? 5 : 21, () => result = LineageComparer.Compare(FingerprintFile.Read(a), FingerprintFile.Read(b)));
            report.Add(Name, $"read 2 files ({new FileInfo(a).Length / 1024} KiB each) + compare ({result!.VerdictName})", time.TotalMilliseconds, "ms", "< 10 ms", time.TotalMilliseconds < 10);
            var compareOnly = Measure.Median(quick ? 5 : 21, () => LineageComparer.Compare(fingerprint, FingerprintJitter.Cached));
            report.Add(Name, "compare only (in memory)", compareOnly.TotalMilliseconds, "ms", "-", true);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}

/// <summary>Scan one model against 10,000 fingerprints held as a precomputed index (plus the bundled catalogue).</summary>
internal sealed class FingerprintScanScenario : IBenchScenario
{
    public string Name => "fingerprint-scan";

    public void Run(BenchReport report, bool quick)
    {
        var model = BenchModel.Get(quick);
        var fingerprint = Fingerprinter.FromModelDirectory(model);
        const int count = 10_000;
        var entries = Enumerable.Range(0, count).Select(i => FingerprintJitter.Jitter(fingerprint, i + 10, i == 4321 ? 0.1f : 3f, $"entry-{i}")).ToList();
        var stopwatch = Stopwatch.StartNew();
        var index = ScanIndex.Build(entries);
        var build = stopwatch.Elapsed;
        var catalogue = ReferenceCatalogue.LoadBundled();
        IReadOnlyList<ScanMatch> matches = [];
        var time = Measure.Median(quick ? 3 : 7, () => matches = Scanner.Scan(fingerprint, catalogue, index, 5));
        report.Add(Name, "index build (10k fingerprints, once)", build.TotalMilliseconds, "ms", "-", true);
        var found = matches.Count > 0 && matches[0].Name == "entry-4321";
        report.Add(Name, $"scan over {count} fingerprints (top match {(found ? "correct" : "WRONG")})", time.TotalMilliseconds, "ms", "< 1000 ms", time.TotalMilliseconds < 1000 && found);
    }
}

/// <summary>
/// Peak anonymous memory while fingerprinting a model several times larger than the goal, in a child process:
/// /proc/self/status RssAnon sampled every 5 ms on a background thread (absolute anonymous RSS, runtime included),
/// plus VmHWM (peak total RSS) at the end.
/// Weights are read with positioned reads, not mapped, so file pages never count as this process's memory.
/// </summary>
internal sealed class FingerprintMemoryScenario(string name = "fingerprint-memory", Func<bool, string>? model = null) : IBenchScenario
{
    public string Name => name;

    private const string ChildModelVariable = "PG_BENCH_MEMORY_CHILD_MODEL";
    private const string ChildResultVariable = "PG_BENCH_MEMORY_CHILD_RESULT";

    public void Run(BenchReport report, bool quick)
    {
        if (Environment.GetEnvironmentVariable(ChildModelVariable) is { Length: > 0 } childModel)
        {
            // Child mode: a fresh process, so nothing else this bench allocated counts.
            File.WriteAllText(Environment.GetEnvironmentVariable(ChildResultVariable)!, MeasureInProcess(childModel));
            return;
        }

        var modelPath = (model ?? BenchModel.Get)(quick);
        var (before, peak, hwm) = MeasureInChild(modelPath);
        var size = File.Exists(modelPath) ? Directory.EnumerateFiles(Path.GetDirectoryName(modelPath)!).Sum(f => new FileInfo(f).Length) : BenchModel.WeightBytes(modelPath);
        report.Add(Name, $"child process peak RssAnon fingerprinting a {size / 1e9:0.00} GB model (runtime baseline {before / 1e6:0} MB; VmHWM {hwm / 1e6:0} MB)", peak / 1e6, "MB", "< 512 MB", peak < 512e6);
    }

    /// <summary>Anonymous memory before, at peak and VmHWM while a fresh child process fingerprints <paramref name="model"/>.</summary>
    public static (long Before, long Peak, long Hwm) MeasureInChild(string model)
    {
        var resultFile = Path.GetTempFileName();
        try
        {
            var host = Environment.ProcessPath!;
            var start = new ProcessStartInfo(host) { RedirectStandardOutput = true, RedirectStandardError = true };
            if (Path.GetFileNameWithoutExtension(host) == "dotnet")
                start.ArgumentList.Add(typeof(FingerprintMemoryScenario).Assembly.Location);
            // Any memory scenario measures in child mode; the default one is always registered.
            start.ArgumentList.Add("fingerprint-memory");
            start.Environment[ChildModelVariable] = model;
            start.Environment[ChildResultVariable] = resultFile;
            using var child = Process.Start(start)!;
            child.StandardOutput.ReadToEnd();
            child.StandardError.ReadToEnd();
            child.WaitForExit();
            var parts = File.ReadAllText(resultFile).Split(' ');
            return (long.Parse(parts[0], CultureInfo.InvariantCulture), long.Parse(parts[1], CultureInfo.InvariantCulture), long.Parse(parts[2], CultureInfo.InvariantCulture));
        }
        finally
        {
            File.Delete(resultFile);
        }
    }

    private static string MeasureInProcess(string model)
    {
        var before = Status("RssAnon:");
        long peak = before;
        using var stop = new CancellationTokenSource();
        var sampler = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                peak = Math.Max(peak, Status("RssAnon:"));
                Thread.Sleep(5);
            }
        });
        Fingerprinter.FromModelDirectory(model);
        stop.Cancel();
        sampler.Wait();
        peak = Math.Max(peak, Status("RssAnon:"));
        return string.Create(CultureInfo.InvariantCulture, $"{before} {peak} {Status("VmHWM:")}");
    }

    private static long Status(string field)
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith(field, StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
        }

        return 0;
    }
}

/// <summary>Copies of a fingerprint with noise added to every vector: stand-ins for related or unrelated models.</summary>
internal static class FingerprintJitter
{
    public static ModelFingerprint Cached { get; private set; } = null!;

    public static ModelFingerprint Jitter(ModelFingerprint source, int seed, float noise, string? name = null)
    {
        var random = new Random(seed);
        float[] J(float[] values)
        {
            var sd = values.Length == 0 ? 0 : (float)Math.Sqrt(values.Select(v => (double)v * v).Average());
            return values.Select(v => v + (noise * sd * ((float)random.NextDouble() - 0.5f) * 3.4f)).ToArray();
        }

        var w = source.Weights!;
        var result = source with
        {
            Name = name ?? source.Name + "-jittered",
            Weights = w with
            {
                TensorHashes = w.TensorHashes.Select(h => h[..^1] + "x").ToArray(),
                Layers = w.Layers.Select(l => l with { GramIn = J(l.GramIn), Norms = J(l.Norms), RowNormSpectrum = J(l.RowNormSpectrum) }).ToArray(),
                Frame = w.Frame is null ? null : w.Frame with { Gram = J(w.Frame.Gram), Logits = J(w.Frame.Logits) },
                Embedding = w.Embedding is null ? null : w.Embedding with { AnchorCosines = J(w.Embedding.AnchorCosines) },
                LmHead = w.LmHead is null ? null : w.LmHead with { AnchorCosines = J(w.LmHead.AnchorCosines) },
                FinalNorm = J(w.FinalNorm),
            },
        };
        Cached = result;
        return result;
    }
}
