using System.Text.Json.Nodes;
using ProvenanceGate.Diagnostics;
using ProvenanceGate.Fingerprinting;
using ProvenanceGate.Formats.Peft;
using ProvenanceGate.Formats.Safetensors;
using ProvenanceGate.Formats.Weights;

namespace ProvenanceGate.Tests.Fingerprinting;

/// <summary>
/// PEFT LoRA adapters (TestData/pytorch/lora-dev-base*: random A and B on dev-base's q and v projections, in PEFT's
/// layout): merged with their base on the fly, they are the fine-tune they run as.
/// </summary>
public sealed class PeftAdapterTests
{
    private static string Fixture(params string[] parts) => RepoPaths.TestData(["pytorch", .. parts]);

    private static string Trained(string model) => RepoPaths.TestData("trained", "models", model);

    private static float[] Read(WeightTensor tensor)
    {
        var values = new float[tensor.ElementCount];
        using var reader = new TensorReader();
        reader.ReadBlocks(tensor, block => block.Values.CopyTo(values.AsSpan((int)(block.FirstRow * block.RowLength))));
        return values;
    }

    [TestCase("lora-dev-base")]
    [TestCase("lora-dev-base-bin")]
    public void Merged_weights_are_what_torch_computes_and_untargeted_tensors_are_untouched(string adapter)
    {
        var baseWeights = WeightFormats.Open(Trained("dev-base"))!;
        var merged = PeftAdapter.Merge(Fixture(adapter), baseWeights);
        var expected = WeightFormats.Open(Fixture("lora-dev-base-expected", "merged-q-proj-1.safetensors"))!.Tensors.Single();

        var q = merged.Tensors.Single(t => t.Name == expected.Name);
        Assert.That(q.Decoder, Is.Not.Null);
        Assert.That(q.StorageTypeName, Is.EqualTo("F32+lora"));
        var ours = Read(q);
        var torch = Read(expected);
        var original = Read(baseWeights.Tensors.Single(t => t.Name == expected.Name));
        // Summation order differs from torch's matmul: equal to float rounding, and far from the unmerged weight.
        Assert.That(ours.Zip(torch, (a, b) => Math.Abs(a - b)).Max(), Is.LessThan(1e-5f));
        Assert.That(ours.Zip(original, (a, b) => Math.Abs(a - b)).Max(), Is.GreaterThan(1e-3f));

        Assert.That(merged.Tensors.Count(t => t.Decoder is not null), Is.EqualTo(6), "q and v of three layers");
        var embedding = merged.Tensors.Single(t => t.Name == "model.embed_tokens.weight");
        Assert.That(embedding, Is.SameAs(baseWeights.Tensors.Single(t => t.Name == "model.embed_tokens.weight")));
        Assert.That(merged.WeightFiles, Has.Count.EqualTo(2));
    }

    [TestCase("lora-dev-base")]
    [TestCase("lora-dev-base-bin")]
    public void An_adapter_merged_with_dev_base_is_derived_from_it_with_margin_and_independent_of_the_twin(string adapter)
    {
        var merged = Fingerprinter.FromAdapter(Fixture(adapter), Trained("dev-base"));
        var derived = LineageComparer.Compare(merged, TrainedFixtureTests.Fingerprint("dev-base"));
        Assert.That(derived.Verdict, Is.EqualTo(LineageVerdict.Derived), derived.Reason);
        Assert.That(derived.Score, Is.GreaterThanOrEqualTo(LineageComparer.DerivedThreshold + 0.3), derived.Reason);

        var twin = LineageComparer.Compare(merged, TrainedFixtureTests.Fingerprint("dev-twin"));
        Assert.That(twin.Verdict, Is.EqualTo(LineageVerdict.Independent), twin.Reason);
        Assert.That(twin.Score, Is.LessThanOrEqualTo(LineageComparer.DerivedThreshold - 0.3), twin.Reason);
        Assert.That(merged.Name, Is.EqualTo(adapter));
        Assert.That(merged.Config, Is.Not.Null, "the base's config.json describes the merged model");
    }

    /// <summary>
    /// The evasion: a full-rank "adapter" (A = I, B = the difference) plus whole replacement tensors turns dev-base into
    /// dev-twin. The merge is not trusted to be small: it is fingerprinted, and it is not derived from dev-base.
    /// </summary>
    [Test]
    public void A_full_rank_adapter_that_replaces_the_base_is_not_derived_from_it()
    {
        using var temp = new TempDirectory();
        var baseWeights = WeightFormats.Open(Trained("dev-base"))!;
        var twin = WeightFormats.Open(Trained("dev-twin"))!.Tensors.ToDictionary(t => t.Name);
        var tensors = new List<NamedTensor>();
        foreach (var tensor in baseWeights.Tensors)
        {
            var target = Read(twin[tensor.Name]);
            if (tensor.Shape.Count == 2 && tensor.Name.Contains(".layers.", StringComparison.Ordinal))
            {
                int rows = (int)tensor.Shape[0], columns = (int)tensor.Shape[1];
                var current = Read(tensor);
                var identity = new float[columns * columns];
                for (var i = 0; i < columns; i++)
                    identity[(i * columns) + i] = 1;
                // The merge scales B·A by alpha / r (alpha 112, r = the module's input width): B undoes that scale.
                var scale = 112f / columns;
                var difference = target.Zip(current, (t, c) => (t - c) / scale).ToArray();
                var module = "base_model.model." + tensor.Name[..^".weight".Length];
                tensors.Add(new NamedTensor(module + ".lora_A.weight", [columns, columns], identity));
                tensors.Add(new NamedTensor(module + ".lora_B.weight", [rows, columns], difference));
            }
            else
            {
                tensors.Add(new NamedTensor("base_model.model." + tensor.Name, [.. tensor.Shape], target));
            }
        }

        var adapter = Directory.CreateDirectory(temp.Combine("evil-adapter")).FullName;
        File.WriteAllBytes(Path.Combine(adapter, "adapter_model.safetensors"), SafetensorsWriter.Serialize(tensors, SafetensorsDType.F32));
        File.WriteAllText(Path.Combine(adapter, "adapter_config.json"), """{"peft_type": "LORA", "r": 112, "lora_alpha": 112, "target_modules": "all-linear"}""");
        var merged = PeftAdapter.Merge(adapter, baseWeights);
        var q = merged.Tensors.Single(t => t.Name == "model.layers.0.self_attn.q_proj.weight");
        Assert.That(Read(q).Zip(Read(twin[q.Name]), (a, b) => Math.Abs(a - b)).Max(), Is.LessThan(1e-5f), "the merge reproduces the twin");

        var fingerprint = Fingerprinter.FromAdapter(adapter, Trained("dev-base"));
        var result = LineageComparer.Compare(fingerprint, TrainedFixtureTests.Fingerprint("dev-base"));
        Assert.That(result.Verdict, Is.EqualTo(LineageVerdict.Independent), result.Reason);
    }

    [Test]
    public void Cli_fingerprints_an_adapter_with_base_and_refuses_it_without()
    {
        using var temp = new TempDirectory();
        var output = temp.Combine("lora.fingerprint.json");
        var merged = Cli.Run("fingerprint", Fixture("lora-dev-base"), "--base", Trained("dev-base"), "-o", output);
        Assert.That(merged.ExitCode, Is.EqualTo(0), merged.Stderr);
        Assert.That(FingerprintFile.Read(output).Model.Format, Is.EqualTo("safetensors+lora"));
        var compare = Cli.Run("compare", output, Trained("dev-base"), "--no-cache");
        Assert.That(compare.ExitCode, Is.EqualTo(0), compare.Stdout + compare.Stderr);

        var alone = Cli.Run("fingerprint", Fixture("lora-dev-base"), "--no-cache", "-o", temp.Combine("alone.json"));
        Assert.That(alone.ExitCode, Is.EqualTo(2));
        Assert.That(alone.Stderr, Does.Contain("error PG3046").And.Contain("--base"));

        var onFingerprint = Cli.Run("fingerprint", Fixture("lora-dev-base"), "--base", output, "-o", temp.Combine("x.json"));
        Assert.That(onFingerprint.ExitCode, Is.EqualTo(2));
        Assert.That(onFingerprint.Stderr, Does.Contain("error PG3046"));
    }

    [Test]
    public void An_adapter_that_does_not_fit_the_base_is_a_pg3045_error()
    {
        // dev-neox has other tensor names and widths: the factors fit none of its tensors.
        var cli = Cli.Run("fingerprint", Fixture("lora-dev-base"), "--base", Trained("dev-neox"), "-o", Path.Combine(Path.GetTempPath(), "never-written.json"));
        Assert.That(cli.ExitCode, Is.EqualTo(2));
        Assert.That(cli.Stderr, Does.Contain("error PG3045"));

        using var temp = new TempDirectory();
        var adapter = Directory.CreateDirectory(temp.Combine("wrong-rank")).FullName;
        File.Copy(Fixture("lora-dev-base", "adapter_config.json"), Path.Combine(adapter, "adapter_config.json"));
        File.WriteAllBytes(Path.Combine(adapter, "adapter_model.safetensors"), SafetensorsWriter.Serialize(
        [
            new NamedTensor("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight", [8, 100], new float[800]),
            new NamedTensor("base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight", [112, 8], new float[896]),
        ], SafetensorsDType.F32));
        var error = Assert.Throws<ProvenanceException>(() => Fingerprinter.FromAdapter(adapter, Trained("dev-base")))!;
        Assert.That(error.Diagnostic.Code, Is.EqualTo("PG3045"));
    }

    [Test]
    public void The_gate_merges_an_adapter_with_its_declared_base_from_base_fingerprints()
    {
        using var temp = new TempDirectory();
        var adapter = temp.Combine("lora");
        Directory.CreateDirectory(adapter);
        foreach (var file in Directory.EnumerateFiles(Fixture("lora-dev-base")))
            File.Copy(file, Path.Combine(adapter, Path.GetFileName(file)));
        var bases = Directory.CreateDirectory(temp.Combine("bases")).FullName;
        var baseCopy = Directory.CreateDirectory(Path.Combine(bases, "dev-base")).FullName;
        foreach (var file in Directory.EnumerateFiles(Trained("dev-base")))
            File.Copy(file, Path.Combine(baseCopy, Path.GetFileName(file)));

        var bom = temp.Combine("lora.cdx.json");
        var generated = Cli.Run("bom", adapter, "-o", bom, "--timestamp", "2026-11-01T00:00:00Z");
        Assert.That(generated.ExitCode, Is.EqualTo(0), generated.Stderr);
        var verify = Cli.Run("verify", bom, "--model-dir", adapter, "--base-fingerprints", bases, "--format", "json", "--timestamp", "2026-11-21T00:00:00Z");
        var report = JsonNode.Parse(verify.Stdout)!;
        var lineage = report["lineage"]!.AsArray().Single()!;
        Assert.That(lineage["verdict"]!.GetValue<string>(), Is.EqualTo("derived"), verify.Stdout);
        Assert.That(verify.Stderr, Does.Not.Contain("PG4073").And.Not.Contain("PG4070"));
    }
}
