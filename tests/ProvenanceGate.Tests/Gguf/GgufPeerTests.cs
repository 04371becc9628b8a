using System.Text.Json;
using ProvenanceGate.Formats.Gguf;

namespace ProvenanceGate.Tests.Gguf;

/// <summary>
/// Hugging Face's own GGUF parser (@huggingface/gguf, tests/peer/gguf) reads our fixtures and must agree with our
/// reader on every metadata key and value, every tensor info and the data offset. .ci/install-deps.sh runs `npm ci`
/// there; without node or node_modules the test fails in CI and is ignored locally.
/// </summary>
public sealed class GgufPeerTests
{
    private static string PeerDirectory => RepoPaths.InRepo("tests", "peer", "gguf");

    private static IEnumerable<TestCaseData> Files()
    {
        yield return new TestCaseData("dev-base", GgmlType.F16).SetName("Peer agrees on dev-base F16");
        yield return new TestCaseData("dev-ft", GgmlType.Q8_0).SetName("Peer agrees on dev-ft Q8_0");
        yield return new TestCaseData("dev-ft", GgmlType.Q4_K).SetName("Peer agrees on dev-ft Q4_K");
        yield return new TestCaseData("every-type", GgmlType.F32).SetName("Peer agrees on a file with every dequantised type");
    }

    [TestCaseSource(nameof(Files))]
    public void Huggingface_gguf_reads_what_we_read(string model, GgmlType type)
    {
        Prerequisite.Require(Directory.Exists(Path.Combine(PeerDirectory, "node_modules", "@huggingface", "gguf")), "tests/peer/gguf/node_modules (run npm ci there, or .ci/install-deps.sh)");
        Prerequisite.Require(ExternalProcess.Run("node", ["--version"]).ExitCode == 0, "node on PATH");
        using var temp = new TempDirectory();
        var path = model == "every-type" ? EveryType(temp.Combine("every-type.gguf")) : GgufFixtures.Trained(model, type, baseModel: "dev-base");

        var result = ExternalProcess.Run("node", [Path.Combine(PeerDirectory, "read-gguf.mjs"), path], PeerDirectory);
        Assert.That(result.ExitCode, Is.EqualTo(0), result.Output);
        using var peer = JsonDocument.Parse(result.Stdout);
        var ours = GgufFile.Read(path);

        var metadata = peer.RootElement.GetProperty("metadata");
        Assert.That(metadata.GetProperty("version").GetInt32(), Is.EqualTo(ours.Version));
        Assert.That(metadata.GetProperty("tensor_count").GetInt32(), Is.EqualTo(ours.Tensors.Count));
        Assert.That(metadata.GetProperty("kv_count").GetInt32(), Is.EqualTo(ours.KeyOrder.Count));
        var peerKeys = metadata.EnumerateObject().Select(p => p.Name).Except(["version", "tensor_count", "kv_count"]).ToList();
        Assert.That(peerKeys, Is.EqualTo(ours.KeyOrder), "same keys, in file order");
        foreach (var key in ours.KeyOrder)
            AssertSameValue(key, ours[key]!, metadata.GetProperty(key));

        var tensors = peer.RootElement.GetProperty("tensors").EnumerateArray().ToList();
        Assert.That(tensors.Select(t => t.GetProperty("name").GetString()), Is.EqualTo(ours.Tensors.Select(t => t.Name)));
        for (var i = 0; i < tensors.Count; i++)
        {
            var info = ours.Tensors[i];
            Assert.That(tensors[i].GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()), Is.EqualTo(info.Dimensions), info.Name);
            Assert.That(tensors[i].GetProperty("dtype").GetInt32(), Is.EqualTo((int)info.Type), info.Name);
            Assert.That(tensors[i].GetProperty("offset").GetInt64(), Is.EqualTo(info.RelativeOffset), info.Name);
        }

        Assert.That(peer.RootElement.GetProperty("tensorDataOffset").GetInt64(), Is.EqualTo(ours.DataOffset));
        Assert.That(peer.RootElement.GetProperty("parameterCount").GetInt64(), Is.EqualTo(ours.Tensors.Sum(t => t.ElementCount)));
    }

    private static void AssertSameValue(string key, GgufValue ours, JsonElement peer)
    {
        if (ours.AsArray is { } array)
        {
            Assert.That(peer.GetArrayLength(), Is.EqualTo(array.Count), key);
            var items = peer.EnumerateArray().ToList();
            for (var i = 0; i < array.Count; i++)
            {
                if (array.ElementType == GgufValueType.String)
                    Assert.That(items[i].GetString(), Is.EqualTo(array.Strings[i]), $"{key}[{i}]");
                else
                    Assert.That(items[i].GetDouble(), Is.EqualTo(array.Number(i)), $"{key}[{i}]");
            }

            return;
        }

        switch (ours.Value)
        {
            case string text:
                Assert.That(peer.GetString(), Is.EqualTo(text), key);
                break;
            case bool flag:
                Assert.That(peer.GetBoolean(), Is.EqualTo(flag), key);
                break;
            default:
                Assert.That(peer.GetDouble(), Is.EqualTo(ours.AsNumber), key);
                break;
        }
    }

    /// <summary>One tensor of every type we dequantise (random blocks: the peer reads only the header).</summary>
    private static string EveryType(string path)
    {
        var random = new Random(9);
        var tensors = new List<GgufTensorSource>();
        foreach (var type in new[] { GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1, GgmlType.Q8_0, GgmlType.Q2_K, GgmlType.Q3_K, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K })
        {
            var tensor = new GgufTensorSource($"blk.0.t_{type}.weight", [3, 512], type, _ => { });
            var data = new byte[tensor.ByteLength];
            random.NextBytes(data);
            tensors.Add(tensor with { WriteData = s => s.Write(data) });
        }

        GgufWriter.Write(path,
        [
            new("general.architecture", GgufWriter.Value("llama")),
            new("general.alignment", GgufWriter.Value(64u)),
            new("test.nested", new GgufValue(GgufValueType.Array, new GgufArray(GgufValueType.Int32, new[] { -1, 0, 7 }))),
        ], tensors);
        return path;
    }
}
