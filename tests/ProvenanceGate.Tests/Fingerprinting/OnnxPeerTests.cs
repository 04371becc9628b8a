// CA1861: expected values read best inline, next to the assertion; these tests run once.
#pragma warning disable CA1861
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using ProvenanceGate.Fingerprinting;
using ProvenanceGate.Formats.Onnx;
using ProvenanceGate.Formats.Weights;

namespace ProvenanceGate.Tests.Fingerprinting;

/// <summary>
/// Independent peers for the ONNX reader: Debian's python3-onnx (checker and facts), ONNX Runtime (runs the fixture),
/// a real third-party model (ResNet18.onnx from the Microsoft.ML.DnnImageFeaturizer.ResNet18 package, restored, not
/// committed) and the models of Debian's libonnx-testdata.
/// </summary>
public sealed class OnnxPeerTests
{
    private const string Python = "/usr/bin/python3";
    private const string TestDataModels = "/usr/share/libonnx-testdata/data";

    private static string Onnx(params string[] parts) => RepoPaths.TestData(["onnx", .. parts]);

    private static string ResNet18 => typeof(OnnxPeerTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "ResNet18Onnx").Value!;

    /// <summary>python3-onnx's facts for <paramref name="paths"/> (files or directories of them), keyed by file path.</summary>
    private static Dictionary<string, JsonElement> PeerFacts(bool check, params string[] paths)
    {
        Prerequisite.Require(File.Exists(Python) && ExternalProcess.Run(Python, ["-c", "import onnx"]).ExitCode == 0, "Debian python3-onnx (/usr/bin/python3 -c 'import onnx')");
        var result = ExternalProcess.Run(Python, [Onnx("peer_facts.py"), .. check ? ["--check"] : Array.Empty<string>(), .. paths], timeout: TimeSpan.FromMinutes(3));
        Assert.That(result.ExitCode, Is.EqualTo(0), result.Output);
        using var document = JsonDocument.Parse(result.Stdout);
        return document.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.Clone());
    }

    private static void AssertAgrees(OnnxModel ours, JsonElement peer)
    {
        var where = ours.Path;
        Assert.That(ours.IrVersion, Is.EqualTo(peer.GetProperty("ir_version").GetInt64()), where);
        Assert.That(ours.Opsets.ToDictionary(o => o.Domain is "" ? "ai.onnx" : o.Domain, o => o.Version),
            Is.EquivalentTo(peer.GetProperty("opsets").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt64())), where);
        Assert.That(ours.ProducerName ?? "", Is.EqualTo(peer.GetProperty("producer_name").GetString()), where);
        Assert.That(ours.ProducerVersion ?? "", Is.EqualTo(peer.GetProperty("producer_version").GetString()), where);
        Assert.That(ours.Inputs.Select(i => i.ToString()), Is.EqualTo(peer.GetProperty("inputs").EnumerateArray().Select(i => i.GetString())), where);
        Assert.That(ours.Outputs.Select(o => o.ToString()), Is.EqualTo(peer.GetProperty("outputs").EnumerateArray().Select(o => o.GetString())), where);
        Assert.That(ours.Nodes, Has.Count.EqualTo(peer.GetProperty("node_count").GetInt32()), where);
        Assert.That(ours.Initializers, Has.Count.EqualTo(peer.GetProperty("initializer_count").GetInt32()), where);
        Assert.That(ours.ParameterCount, Is.EqualTo(peer.GetProperty("parameter_count").GetInt64()), where);
        Assert.That(ours.MetadataProps.ToDictionary(p => p.Key, p => p.Value),
            Is.EquivalentTo(peer.GetProperty("metadata").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString())), where);
    }

    [Test]
    public void Python_onnx_checks_our_fixtures_and_agrees_with_our_facts()
    {
        var files = new[] { Onnx("dev-ft", "model.onnx"), Onnx("dev-twin", "model.onnx"), Onnx("typed.onnx") };
        var peer = PeerFacts(check: true, files);
        foreach (var file in files)
            AssertAgrees(OnnxModel.Read(file), peer[file]);
    }

    [Test]
    public void Onnx_Runtime_runs_the_fixture_and_reproduces_the_torch_logits()
    {
        using var expected = JsonDocument.Parse(File.ReadAllText(Onnx("expected.json")));
        var ids = expected.RootElement.GetProperty("input_ids").EnumerateArray().Select(i => i.GetInt64()).ToArray();
        foreach (var model in new[] { Onnx("dev-ft", "model.onnx"), Onnx("dev-twin", "model.onnx") })
        {
            using var session = new InferenceSession(model);
            Assert.That(session.InputMetadata.Keys, Is.EqualTo(OnnxModel.Read(model).Inputs.Select(i => i.Name)));
            using var input = OrtValue.CreateTensorValueFromMemory(ids, [1, ids.Length]);
            using var outputs = session.Run(new RunOptions(), ["input_ids"], [input], ["logits"]);
            var logits = outputs[0].GetTensorDataAsSpan<float>().ToArray();
            Assert.That(outputs[0].GetTensorTypeAndShape().Shape, Is.EqualTo(new long[] { 1, ids.Length, 3000 }));
            if (Path.GetFileName(Path.GetDirectoryName(model)) != "dev-ft")
                continue;
            var last = logits.AsSpan((ids.Length - 1) * 3000, 3000);
            var expectedLast = expected.RootElement.GetProperty("logits_last").EnumerateArray().Select(v => (float)v.GetDouble()).ToArray();
            Assert.That(last[..expectedLast.Length].ToArray(), Is.EqualTo(expectedLast).Within(2e-3));
            var argmax = Enumerable.Range(0, ids.Length).Select(t =>
            {
                var row = logits.AsSpan(t * 3000, 3000);
                return (long)row.IndexOf(System.Numerics.Tensors.TensorPrimitives.Max(row));
            });
            Assert.That(argmax, Is.EqualTo(expected.RootElement.GetProperty("argmax").EnumerateArray().Select(v => v.GetInt64())));
        }
    }

    [Test]
    public void Third_party_ResNet18_gets_a_full_BOM_and_a_fingerprint()
    {
        var model = ResNet18;
        Prerequisite.Require(File.Exists(model), $"ResNet18.onnx restored from Microsoft.ML.DnnImageFeaturizer.ResNet18 ({model})");
        using var temp = new TempDirectory();
        var output = temp.Combine("resnet.cdx.json");
        var bom = Cli.Run("bom", Path.GetDirectoryName(model)!, "-o", output);
        Assert.That(bom.ExitCode, Is.EqualTo(0), bom.Stderr);
        var component = JsonNode.Parse(File.ReadAllText(output))!["components"]!.AsArray().Single(c => (string?)c!["type"] == "machine-learning-model")!;
        var file = OnnxFormatTests.Properties(component["components"]!.AsArray().Single(c => (string?)c!["name"] == "ResNet18.onnx")!);

        // ONNX Runtime's own view of the graph's input is the peer for what the BOM says the model takes.
        using (var session = new InferenceSession(model))
        {
            var (name, metadata) = session.InputMetadata.Single();
            Assert.That(file["provenancegate:onnx:input"], Is.EqualTo(new[] { $"{name}: FLOAT[{string.Join(",", metadata.Dimensions)}]" }));
            Assert.That(file["provenancegate:onnx:output"].Select(o => o[..o.IndexOf(':', StringComparison.Ordinal)]), Is.EqualTo(session.OutputMetadata.Keys));
        }

        Assert.That(file["provenancegate:onnx:opset:ai.onnx"], Is.EqualTo(new[] { "8" }));
        Assert.That(file["provenancegate:onnx:producer"].Single(), Does.StartWith("CNTK"));
        var read = OnnxModel.Read(model);
        Assert.That(OnnxFormatTests.Properties(component)["provenancegate:weights:parameter-count"], Is.EqualTo(new[] { read.ParameterCount.ToString(System.Globalization.CultureInfo.InvariantCulture) }));

        var fingerprint = Cli.Run("fingerprint", "--no-cache", model, "-o", temp.Combine("resnet.fingerprint.json"));
        Assert.That(fingerprint.ExitCode, Is.EqualTo(0), fingerprint.Stderr);
        var written = FingerprintFile.Read(temp.Combine("resnet.fingerprint.json"));
        Assert.That(written.Model.Format, Is.EqualTo("onnx"));
        Assert.That(written.Model.TensorCount, Is.EqualTo(read.Initializers.Count));
        Assert.That(written.Model.ParameterCount, Is.EqualTo(read.ParameterCount));
        Assert.That(written.Weights!.TensorHashes, Is.Not.Empty, "trained convolution weights are identity evidence");
        var again = Fingerprinter.FromModelDirectory(model);
        Assert.That(again.Weights!.TensorHashes, Is.EqualTo(written.Weights.TensorHashes), "deterministic");
        // A CNN has no transformer layers for the decisive signals; its own copy must still never read as unrelated.
        Assert.That(LineageComparer.Compare(written, again).Verdict, Is.AnyOf(LineageVerdict.IdenticalWeights, LineageVerdict.Derived));

        var peer = PeerFacts(check: false, model);
        AssertAgrees(read, peer[model]);
    }

    [Test]
    public void Every_model_of_libonnx_testdata_is_read_without_a_crash_and_agrees_with_python_onnx()
    {
        Prerequisite.Require(Directory.Exists(TestDataModels), $"Debian libonnx-testdata ({TestDataModels})");
        var peer = PeerFacts(check: false, TestDataModels);
        Assert.That(peer, Has.Count.GreaterThan(500));
        var opened = 0;
        foreach (var (path, facts) in peer)
        {
            if (facts.TryGetProperty("load_error", out _))
            {
                // onnx itself rejects it: ours may too, but only with a PG error (any other exception fails the test).
                try
                {
                    OnnxModel.Read(path);
                }
                catch (Diagnostics.ProvenanceException)
                {
                }

                continue;
            }

            AssertAgrees(OnnxModel.Read(path), facts);
            if (WeightFormats.Open(path) is { Tensors.Count: > 0 })
            {
                Fingerprinter.FromModelDirectory(path);
                opened++;
            }
        }

        Assert.That(opened, Is.GreaterThan(0), "some test models carry initializers");
    }
}
