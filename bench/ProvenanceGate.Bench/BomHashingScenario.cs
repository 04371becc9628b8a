using ProvenanceGate.Bom;

namespace ProvenanceGate.Bench;

/// <summary>
/// Model-file hashing for `dotnet provenance bom`, as a ratio to `sha256sum` over the same files in the same run:
/// one large file (goal >= 1.0x) and a 4-shard model (goal >= 1.7x, which needs the shards hashed in parallel).
/// </summary>
internal sealed class BomHashingScenario : IBenchScenario
{
    public string Name => "bom-hashing";

    public void Run(BenchReport report, bool quick)
    {
        var directory = Path.Combine(Path.GetTempPath(), "pg-bench-bom-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(directory);
        try
        {
            const long MiB = 1024 * 1024;
            var single = Write(Path.Combine(directory, "model.safetensors"), quick ? 128 * MiB : 1024 * MiB, seed: 1);
            var shards = Enumerable.Range(1, 4)
                .Select(i => Write(Path.Combine(directory, $"model-{i:D5}-of-00004.safetensors"), quick ? 32 * MiB : 256 * MiB, seed: 10 + i))
                .ToList();
            var repetitions = quick ? 1 : 3;

            Compare(report, "single file", [single], repetitions, 1.0);
            Compare(report, "4 shards", shards, repetitions, 1.7);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static void Compare(BenchReport report, string label, List<string> files, int repetitions, double goal)
    {
        var bytes = files.Sum(f => new FileInfo(f).Length);
        var baseline = Measure.Median(repetitions, () => Measure.RunProcess("sha256sum", [.. files]));
        var ours = Measure.Median(repetitions, () => FileHasher.Sha256(files));
        var ratio = baseline.TotalSeconds / ours.TotalSeconds;
        var mbPerSecond = bytes / (1024.0 * 1024.0) / ours.TotalSeconds;
        report.Add("bom-hashing", $"{label}: throughput vs sha256sum ({mbPerSecond:0} MiB/s, {Environment.ProcessorCount} cores)", ratio, "x", $">= {goal:0.0}x", ratio >= goal);
    }

    private static string Write(string path, long length, int seed)
    {
        var random = new Random(seed);
        var buffer = new byte[4 * 1024 * 1024];
        using var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0);
        for (long written = 0; written < length; written += buffer.Length)
        {
            random.NextBytes(buffer);
            stream.Write(buffer, 0, (int)Math.Min(buffer.Length, length - written));
        }

        return path;
    }
}
