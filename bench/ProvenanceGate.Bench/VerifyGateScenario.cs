using System.Text.Json.Nodes;
using ProvenanceGate.Bom;
using ProvenanceGate.Verification;

namespace ProvenanceGate.Bench;

/// <summary>
/// `dotnet provenance verify` on a multi-shard model is dominated by hashing: its wall time as a ratio to `sha256sum`
/// over the same files (goal: at most 1.25x), and to the bare parallel hasher (everything else the gate does: at most 1.15x).
/// </summary>
internal sealed class VerifyGateScenario : IBenchScenario
{
    public string Name => "verify-gate";

    public void Run(BenchReport report, bool quick)
    {
        var root = Path.Combine(Path.GetTempPath(), "pg-bench-verify-" + Guid.NewGuid().ToString("N")[..8]);
        var model = Directory.CreateDirectory(Path.Combine(root, "model")).FullName;
        try
        {
            const long MiB = 1024 * 1024;
            var shardBytes = quick ? 32 * MiB : 512 * MiB;
            var shards = Enumerable.Range(1, 4).Select(i => Write(Path.Combine(model, $"model-{i:D5}-of-00004.safetensors"), shardBytes, seed: i)).ToList();
            File.WriteAllText(Path.Combine(model, "config.json"), "{\"model_type\": \"llama\"}\n");
            var files = Directory.EnumerateFiles(model).Order(StringComparer.Ordinal).ToList();
            var bomPath = Path.Combine(root, "model.cdx.json");
            File.WriteAllText(bomPath, Bom(model, files).ToJsonString());
            var policyPath = Path.Combine(root, "policy.yaml");
            File.WriteAllText(policyPath, "schemaVersion: 1\nextends: baseline\nsignature:\n  required: false\n");
            var options = new GateOptions { BomPath = bomPath, PolicyReference = policyPath, ModelDirectory = model, Now = DateTimeOffset.UnixEpoch.AddYears(56) };

            var check = Gate.Verify(options);
            if (!check.Passed)
                throw new InvalidOperationException("bench BOM does not pass the gate: " + string.Join("; ", check.Diagnostics));

            var repetitions = quick ? 1 : 3;
            var baseline = Measure.Median(repetitions, () => Measure.RunProcess("sha256sum", [.. files]));
            var hashing = Measure.Median(repetitions, () => FileHasher.Sha256(files));
            var verify = Measure.Median(repetitions, () => Gate.Verify(options));
            var totalMiB = files.Sum(f => new FileInfo(f).Length) / (double)MiB;
            var toSha256sum = verify.TotalSeconds / baseline.TotalSeconds;
            report.Add(Name, $"verify time / sha256sum time, {shards.Count} shards, {totalMiB:0} MiB ({totalMiB / verify.TotalSeconds:0} MiB/s, {Environment.ProcessorCount} cores)",
                toSha256sum, "x", "<= 1.25x", toSha256sum <= 1.25);
            var overhead = verify.TotalSeconds / hashing.TotalSeconds;
            report.Add(Name, "verify time / parallel hashing alone (cost of every other check)", overhead, "x", "<= 1.15x", overhead <= 1.15);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static JsonObject Bom(string model, List<string> files)
    {
        var hashes = FileHasher.Sha256(files);
        var components = new JsonArray(files.Select(f => (JsonNode)new JsonObject
        {
            ["type"] = "file",
            ["bom-ref"] = "model:bench#file:" + Path.GetFileName(f),
            ["name"] = Path.GetRelativePath(model, f).Replace('\\', '/'),
            ["hashes"] = new JsonArray(new JsonObject { ["alg"] = "SHA-256", ["content"] = hashes[f] }),
        }).ToArray());
        return new JsonObject
        {
            ["bomFormat"] = "CycloneDX",
            ["specVersion"] = "1.6",
            ["serialNumber"] = "urn:uuid:0b8e6a53-6f0c-4b8e-9d7a-5d1c2f3e4a5b",
            ["version"] = 1,
            ["metadata"] = new JsonObject { ["timestamp"] = "2026-11-01T00:00:00Z" },
            ["components"] = new JsonArray(new JsonObject
            {
                ["type"] = "machine-learning-model",
                ["bom-ref"] = "model:bench",
                ["name"] = "bench",
                ["version"] = "1.0.0",
                ["licenses"] = new JsonArray(new JsonObject { ["license"] = new JsonObject { ["id"] = "Apache-2.0" } }),
                ["modelCard"] = new JsonObject { ["modelParameters"] = new JsonObject { ["task"] = "text-generation" } },
                ["components"] = components,
            }),
        };
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
