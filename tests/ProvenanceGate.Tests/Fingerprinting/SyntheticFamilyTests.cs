using ProvenanceGate.Fingerprinting;
using ProvenanceGate.Formats.Safetensors;
using ProvenanceGate.Models;

namespace ProvenanceGate.Tests.Fingerprinting;

/// <summary>
/// A family of generated models: every derivative must be judged derived from the base, every independent model
/// independent, each with at least <see cref="Margin"/> between its score and the threshold.
/// </summary>
public sealed class SyntheticFamilyTests
{
    private const double Margin = 0.25;
    private static readonly SyntheticModelSpec Spec = new() { VocabSize = 320, HiddenSize = 64, Layers = 4, AttentionHeads = 4, KeyValueHeads = 2, IntermediateSize = 128, Seed = 11 };
    private static TempDirectory? _temp;
    private static readonly Dictionary<string, ModelFingerprint> Fingerprints = [];

    [OneTimeSetUp]
    public void Build()
    {
        _temp = new TempDirectory();
        var base_ = SyntheticModel.CreateTensors(Spec);
        var fineTuned = SyntheticDerivatives.FineTune(base_, seed: 1, relativeScale: 0.3);
        var grandchild = SyntheticDerivatives.FineTune(fineTuned, seed: 2, relativeScale: 0.3);
        Write("base", Spec, base_);
        Write("fine-tuned", Spec, fineTuned);
        Write("grandchild", Spec, grandchild);
        Write("fp16", Spec, base_, SafetensorsDType.F16);
        // The fp16 values re-saved losslessly as F32: a dtype-container change only.
        var fp16Values = base_.Select(t => t with { Values = t.Values.Select(v => (float)(Half)v).ToArray() }).ToList();
        Write("fp16-as-f32", Spec, fp16Values);
        Write("fp16-sharded", Spec, SyntheticDerivatives.RenameToGguf(fp16Values), SafetensorsDType.F16, shards: 2);
        Write("bf16", Spec, fineTuned, SafetensorsDType.BF16);
        // The bf16 values re-saved losslessly as F32: hashed from float32 values, they must meet the BF16 bytes.
        Write("bf16-as-f32", Spec, fineTuned.Select(t => t with { Values = t.Values.Select(v => BitConverter.UInt32BitsToSingle((uint)SafetensorsWriter.ToBFloat16(v) << 16)).ToArray() }).ToList());
        Write("int8", Spec, SyntheticDerivatives.Int8RoundTrip(base_));
        Write("lora-merged", Spec, SyntheticDerivatives.MergeLora(base_, seed: 3, rank: 4, relativeScale: 0.5));
        var extended = Spec with { VocabSize = Spec.VocabSize + 48 };
        Write("vocab-extended", extended, SyntheticDerivatives.ExtendVocabulary(fineTuned, 48, seed: 4));
        var pruned = Spec with { Layers = Spec.Layers - 1 };
        Write("last-layer-pruned", pruned, SyntheticDerivatives.DropLastLayer(base_, Spec.Layers));
        Write("layer-inserted", Spec with { Layers = Spec.Layers + 1 }, SyntheticDerivatives.InsertLayerCopy(fineTuned, 1));
        Write("permuted", Spec, SyntheticDerivatives.Permute(base_, Spec, seed: 5));
        Write("permuted-fine-tuned", Spec, SyntheticDerivatives.FineTune(SyntheticDerivatives.Permute(base_, Spec, seed: 6), seed: 7, relativeScale: 0.3), SafetensorsDType.F16);
        Write("renamed-resharded", Spec, SyntheticDerivatives.RenameToGguf(base_), shards: 3);
        Write("residual-permuted", Spec, ResidualTransforms.PermuteResidual(base_, ResidualTransforms.RandomPermutation(Spec.HiddenSize, 8)));
        Write("rotated", Spec, ResidualTransforms.FoldAndRotate(base_, ResidualTransforms.RandomOrthogonal(Spec.HiddenSize, 9), Spec.HiddenSize));
        Write("rotated-fine-tuned", Spec, SyntheticDerivatives.FineTune(ResidualTransforms.FoldAndRotate(base_, ResidualTransforms.RandomOrthogonal(Spec.HiddenSize, 10), Spec.HiddenSize), seed: 15, relativeScale: 0.3), SafetensorsDType.BF16);
        Write("independent-same-config", Spec, SyntheticModel.CreateTensors(Spec with { Seed = 12 }));
        Write("independent-permuted", Spec, SyntheticDerivatives.Permute(SyntheticModel.CreateTensors(Spec with { Seed = 13 }), Spec, seed: 5));
        Write("independent-rotated", Spec, ResidualTransforms.FoldAndRotate(SyntheticModel.CreateTensors(Spec with { Seed = 16 }), ResidualTransforms.RandomOrthogonal(Spec.HiddenSize, 9), Spec.HiddenSize));
        var other = Spec with { HiddenSize = 48, IntermediateSize = 96, Seed = 14 };
        Write("different-architecture", other, SyntheticModel.CreateTensors(other));
    }

    [OneTimeTearDown]
    public void Clean() => _temp?.Dispose();

    private static void Write(string name, SyntheticModelSpec spec, List<NamedTensor> tensors, SafetensorsDType dtype = SafetensorsDType.F32, int shards = 1)
    {
        var directory = _temp!.Combine(name);
        SyntheticModel.WriteDirectory(directory, spec, tensors, dtype, shards);
        Fingerprints[name] = Fingerprinter.FromModelDirectory(directory);
    }

    [TestCase("base", LineageVerdict.IdenticalWeights)]
    [TestCase("renamed-resharded", LineageVerdict.IdenticalWeights)]
    [TestCase("fine-tuned", LineageVerdict.Derived)]
    [TestCase("grandchild", LineageVerdict.Derived)]
    [TestCase("fp16", LineageVerdict.Derived)]
    [TestCase("bf16", LineageVerdict.Derived)]
    [TestCase("int8", LineageVerdict.Derived)]
    [TestCase("lora-merged", LineageVerdict.Derived)]
    [TestCase("vocab-extended", LineageVerdict.Derived)]
    [TestCase("last-layer-pruned", LineageVerdict.Derived)]
    [TestCase("layer-inserted", LineageVerdict.Derived)]
    [TestCase("permuted", LineageVerdict.Derived)]
    [TestCase("permuted-fine-tuned", LineageVerdict.Derived)]
    [TestCase("residual-permuted", LineageVerdict.Derived)]
    [TestCase("rotated", LineageVerdict.Derived)]
    [TestCase("rotated-fine-tuned", LineageVerdict.Derived)]
    [TestCase("independent-same-config", LineageVerdict.Independent)]
    [TestCase("independent-permuted", LineageVerdict.Independent)]
    [TestCase("independent-rotated", LineageVerdict.Independent)]
    [TestCase("different-architecture", LineageVerdict.Independent)]
    public void Derivative_of_base_gets_the_right_verdict_with_margin(string name, LineageVerdict expected)
    {
        var result = LineageComparer.Compare(Fingerprints["base"], Fingerprints[name]);
        TestContext.Out.WriteLine($"{name}: {result.VerdictName} {result.Score:0.000} ({result.Reason})");
        Assert.That(result.Verdict, Is.EqualTo(expected), result.Reason);
        if (expected == LineageVerdict.Derived)
            Assert.That(result.Score, Is.GreaterThanOrEqualTo(LineageComparer.DerivedThreshold + Margin), result.Reason);
        if (expected == LineageVerdict.Independent)
            Assert.That(result.Score, Is.LessThanOrEqualTo(LineageComparer.DerivedThreshold - Margin), result.Reason);
    }

    [Test]
    public void Lossless_dtype_container_change_and_resharding_are_identical_weights()
    {
        var result = LineageComparer.Compare(Fingerprints["fp16-as-f32"], Fingerprints["fp16-sharded"]);
        Assert.That(result.Verdict, Is.EqualTo(LineageVerdict.IdenticalWeights), result.Reason);
        Assert.That(LineageComparer.Compare(Fingerprints["fp16"], Fingerprints["fp16-as-f32"]).Verdict, Is.EqualTo(LineageVerdict.IdenticalWeights));
        Assert.That(LineageComparer.Compare(Fingerprints["bf16"], Fingerprints["bf16-as-f32"]).Verdict, Is.EqualTo(LineageVerdict.IdenticalWeights));
    }

    [Test]
    public void Content_hashes_are_compared_only_within_one_fingerprint_schema()
    {
        var current = Fingerprints["bf16"];
        // Older files are refused when read (PG3016); in memory, hashes of another schema still prove nothing.
        var older = current with { SchemaVersion = ModelFingerprint.CurrentSchemaVersion - 1 };
        var across = LineageComparer.Compare(current, older);
        // Schema 2 hashed BF16 tensors another way: equal strings across schemas would prove nothing.
        Assert.That(across.Verdict, Is.EqualTo(LineageVerdict.Derived), across.Reason);
        Assert.That(across.Signals.Single(s => s.Name == "tensor-identity").Score, Is.NaN);
        Assert.That(LineageComparer.Compare(older, older).Verdict, Is.EqualTo(LineageVerdict.IdenticalWeights));
    }

    [Test]
    public void Pruned_model_aligns_its_layers_instead_of_matching_layer_numbers()
    {
        var result = LineageComparer.Compare(Fingerprints["base"], Fingerprints["last-layer-pruned"]);
        Assert.That(result.Signals.Single(s => s.Name == "residual-gram").Detail, Does.StartWith("3 of 3 layers aligned"));
    }

    [Test]
    public void Permutation_defeats_raw_values_but_not_the_invariant_signals()
    {
        // The embedding, the LM head and the 9 norm vectors keep their values, and k_proj where the shuffle of the
        // two kv-head groups happens to be the identity; every MLP and query matrix changes.
        var permuted = Fingerprints["permuted"].Weights!.TensorHashes;
        Assert.That(permuted.Intersect(Fingerprints["base"].Weights!.TensorHashes).Count(), Is.InRange(11, 11 + Spec.Layers));
        var result = LineageComparer.Compare(Fingerprints["base"], Fingerprints["permuted"]);
        Assert.That(result.Signals.Single(s => s.Name == "residual-gram").Score, Is.GreaterThan(0.95));
    }

    [Test]
    public void Permutation_preserves_the_function_of_every_head_and_neuron()
    {
        var base_ = SyntheticModel.CreateTensors(Spec).ToDictionary(t => t.Name);
        var permuted = SyntheticDerivatives.Permute(SyntheticModel.CreateTensors(Spec), Spec, seed: 5).ToDictionary(t => t.Name);
        for (var layer = 0; layer < Spec.Layers; layer++)
        {
            // Attention: sum over heads of O_h V_g(h) and the set of Q_h^T K_g(h) are what the layer computes.
            Assert.That(SumOfOv(permuted, layer), Is.EqualTo(SumOfOv(base_, layer)).Within(1e-4));
            // MLP: down · diag(f(gate x) * up x) summed over neurons, checked on a probe vector.
            Assert.That(Mlp(permuted, layer), Is.EqualTo(Mlp(base_, layer)).Within(1e-4));
        }
    }

    private static double[] SumOfOv(Dictionary<string, NamedTensor> t, int layer)
    {
        int h = Spec.HiddenSize, hd = Spec.HeadDim, group = Spec.AttentionHeads / Spec.KeyValueHeads;
        var o = t[SyntheticDerivatives.Layer(layer, "self_attn.o_proj.weight")].Values;
        var v = t[SyntheticDerivatives.Layer(layer, "self_attn.v_proj.weight")].Values;
        var result = new double[h * h];
        for (var head = 0; head < Spec.AttentionHeads; head++)
        {
            var kv = head / group;
            for (var r = 0; r < h; r++)
            {
                for (var c = 0; c < h; c++)
                {
                    double sum = 0;
                    for (var k = 0; k < hd; k++)
                        sum += o[(r * h) + (head * hd) + k] * v[(((kv * hd) + k) * h) + c];
                    result[(r * h) + c] += sum;
                }
            }
        }

        return result;
    }

    private static double[] Mlp(Dictionary<string, NamedTensor> t, int layer)
    {
        int h = Spec.HiddenSize, m = Spec.IntermediateSize;
        var gate = t[SyntheticDerivatives.Layer(layer, "mlp.gate_proj.weight")].Values;
        var up = t[SyntheticDerivatives.Layer(layer, "mlp.up_proj.weight")].Values;
        var down = t[SyntheticDerivatives.Layer(layer, "mlp.down_proj.weight")].Values;
        var x = Enumerable.Range(0, h).Select(i => Math.Sin(i + 1.0)).ToArray();
        var hidden = new double[m];
        for (var n = 0; n < m; n++)
        {
            double g = 0, u = 0;
            for (var i = 0; i < h; i++)
            {
                g += gate[(n * h) + i] * x[i];
                u += up[(n * h) + i] * x[i];
            }

            hidden[n] = g / (1 + Math.Exp(-g)) * u;
        }

        var y = new double[h];
        for (var r = 0; r < h; r++)
        {
            for (var n = 0; n < m; n++)
                y[r] += down[(r * m) + n] * hidden[n];
        }

        return y;
    }
}
