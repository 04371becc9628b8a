using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using ProvenanceGate.Fingerprinting;
using ProvenanceGate.Formats.Safetensors;

namespace ProvenanceGate.Tests.Fingerprinting;

/// <summary>
/// Issue 11, part 2: a residual-permuted, a rotated (norms folded, random orthogonal Q) and a rotated fine-tuned
/// copy compute their source's function exactly, and the lineage check still sees where they come from, while
/// independent models (also rotated, also given one identical update) stay apart, all at one threshold.
/// </summary>
public sealed class RotationInvarianceTests
{
    private const double Margin = 0.3;
    private static readonly ConcurrentDictionary<string, ModelFingerprint> Fingerprints = new();

    private static readonly int[][] Sequences = [[1, 15, 200, 999, 2999, 7, 42, 1500], [1, 3, 3, 3, 2500, 12], [1, 2047, 88, 640, 1024, 300, 2]];

    private static ModelFingerprint Fingerprint(string model) =>
        Fingerprints.GetOrAdd(model, m => Fingerprinter.FromModelDirectory(ResidualVariants.Directory(m)));

    /// <summary>Labelled pairs: every committed pair (pairs.json) and the new variants against their relatives.</summary>
    public static IEnumerable<(string A, string B, string Label, string Relation)> AllPairs()
    {
        var path = Path.Combine(TestContext.CurrentContext.TestDirectory, "TestData", "trained", "pairs.json");
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        foreach (var pair in document.RootElement.EnumerateArray())
            yield return (pair.GetProperty("a").GetString()!, pair.GetProperty("b").GetString()!, pair.GetProperty("label").GetString()!, pair.GetProperty("relation").GetString()!);
        yield return ("dev-base", "dev-residual-permuted", "derived", "residual permutation");
        yield return ("dev-base", "dev-rotated", "derived", "norms folded + orthogonal rotation");
        yield return ("dev-base", "dev-ft-rotated", "derived", "rotated fine-tune");
        yield return ("dev-ft", "dev-ft-rotated", "derived", "rotation of the fine-tune");
        yield return ("dev-rotated", "dev-ft-rotated", "derived", "siblings, each rotated by another Q");
        yield return ("dev-permuted", "dev-rotated", "derived", "head-permuted vs rotated sibling");
        yield return ("dev-residual-permuted", "dev-ft-bf16", "derived", "residual-permuted vs cast fine-tune");
        yield return ("dev-twin", "dev-twin-rotated", "derived", "rotated twin vs twin");
        yield return ("dev-twin", "dev-rotated", "independent", "independent vs rotated base");
        yield return ("dev-twin", "dev-ft-rotated", "independent", "independent vs rotated fine-tune of the twin");
        yield return ("dev-twin-rotated", "dev-base", "independent", "rotated independent vs base");
        yield return ("dev-twin-rotated", "dev-ft-rotated", "independent", "both rotated, independent origins");
        yield return ("dev-twin", "dev-residual-permuted", "independent", "independent vs residual-permuted base");
        yield return ("dev-base-same-update", "dev-twin-same-update", "independent", "one identical update applied to independent twins");
        yield return ("dev-neox", "dev-rotated", "independent", "cross-architecture vs rotated");
    }

    [Test]
    public void Every_pair_gets_its_verdict_at_one_threshold_with_a_margin_of_at_least_0_3_on_both_sides()
    {
        var lines = new List<string>();
        double lowestDerived = double.PositiveInfinity, highestIndependent = double.NegativeInfinity;
        var failures = new List<string>();
        foreach (var (a, b, label, relation) in AllPairs())
        {
            var result = LineageComparer.Compare(Fingerprint(a), Fingerprint(b));
            var reverse = LineageComparer.Compare(Fingerprint(b), Fingerprint(a));
            var decisive = string.Join(" ", result.Signals.Where(s => s.Weight > 0).Select(s => string.Create(CultureInfo.InvariantCulture, $"{s.Name}={s.Score:0.00}")));
            var margin = label == "derived" ? result.Score - LineageComparer.DerivedThreshold : LineageComparer.DerivedThreshold - result.Score;
            lines.Add(string.Create(CultureInfo.InvariantCulture, $"{a,-22} {b,-22} {label,-11} {result.VerdictName,-17} score {result.Score:0.000} margin {margin:+0.000;-0.000}  {decisive}  ({relation})"));
            if (label == "derived")
            {
                lowestDerived = Math.Min(lowestDerived, result.Score);
                if (result.Verdict is not (LineageVerdict.Derived or LineageVerdict.IdenticalWeights) || margin < Margin)
                    failures.Add($"{a} vs {b}: {result.Reason}");
            }
            else
            {
                highestIndependent = Math.Max(highestIndependent, result.Score);
                if (result.Verdict != LineageVerdict.Independent || margin < Margin)
                    failures.Add($"{a} vs {b}: {result.Reason}");
            }

            if (reverse.Verdict != result.Verdict)
                failures.Add($"{a} vs {b}: not symmetric ({result.VerdictName} / {reverse.VerdictName})");
        }

        lines.Add(string.Create(CultureInfo.InvariantCulture,
            $"threshold {LineageComparer.DerivedThreshold:0.00}: lowest derived {lowestDerived:0.000} (margin {lowestDerived - LineageComparer.DerivedThreshold:0.000}), highest independent {highestIndependent:0.000} (margin {LineageComparer.DerivedThreshold - highestIndependent:0.000})"));
        TestContext.Out.WriteLine(string.Join(Environment.NewLine, lines));
        Assert.That(failures, Is.Empty, string.Join(Environment.NewLine, lines));
        Assert.That(lowestDerived - LineageComparer.DerivedThreshold, Is.GreaterThanOrEqualTo(Margin));
        Assert.That(LineageComparer.DerivedThreshold - highestIndependent, Is.GreaterThanOrEqualTo(Margin));
    }

    [TestCase("dev-residual-permuted")]
    [TestCase("dev-rotated")]
    [TestCase("dev-ft-rotated")]
    [TestCase("dev-twin-rotated")]
    public void Variant_computes_its_source_function_within_1e_4(string variant)
    {
        var source = new LlamaForward(ResidualVariants.Directory(ResidualVariants.Sources[variant]));
        var copy = new LlamaForward(ResidualVariants.Directory(variant));
        double worst = 0, spread = 0;
        foreach (var sequence in Sequences)
        {
            var expected = source.Logits(sequence);
            var actual = copy.Logits(sequence);
            for (var t = 0; t < sequence.Length; t++)
            {
                for (var v = 0; v < expected[t].Length; v++)
                {
                    worst = Math.Max(worst, Math.Abs(expected[t][v] - actual[t][v]));
                    spread = Math.Max(spread, Math.Abs(expected[t][v]));
                }
            }
        }

        TestContext.Out.WriteLine($"{variant}: max |logit diff| {worst:E2} (largest |logit| {spread:0.0})");
        Assert.That(worst, Is.LessThan(1e-4));
        Assert.That(spread, Is.GreaterThan(1), "the logits are not trivially zero");
    }

    [Test]
    public void The_forward_pass_sees_a_wrong_transform_and_matches_the_committed_permuted_fixture()
    {
        // The generator's own check: dev-permuted equals dev-base cast to F16 within 1e-4 (card.json: 9.5e-6).
        // Only a correct grouped-query attention gives that, since heads moved between and within kv groups.
        var baseF16 = LlamaForward.LoadTensors(ResidualVariants.Directory("dev-base")).Select(t => t with { Values = t.Values.Select(v => (float)(Half)v).ToArray() });
        var castBase = new LlamaForward(baseF16, ResidualVariants.Directory("dev-base"));
        var permuted = new LlamaForward(ResidualVariants.Directory("dev-permuted"));
        var sequence = Sequences[0];
        var worst = castBase.Logits(sequence).Zip(permuted.Logits(sequence)).Max(p => p.First.Zip(p.Second).Max(x => Math.Abs(x.First - x.Second)));
        Assert.That(worst, Is.LessThan(1e-4));

        // A rotation applied without folding the norm gains first is not function-preserving: the check notices.
        var tensors = LlamaForward.LoadTensors(ResidualVariants.Directory("dev-base"));
        var q = Models.ResidualTransforms.RandomOrthogonal(112, 7);
        var unfolded = Models.ResidualTransforms.FoldAndRotate(tensors, q, 112)
            .Select(t => t.Name.EndsWith("norm.weight", StringComparison.Ordinal) ? tensors.Single(o => o.Name == t.Name) : t);
        var broken = new LlamaForward(unfolded, ResidualVariants.Directory("dev-base"));
        var source = new LlamaForward(tensors, ResidualVariants.Directory("dev-base"));
        var difference = source.Logits(sequence).Zip(broken.Logits(sequence)).Max(p => p.First.Zip(p.Second).Max(x => Math.Abs(x.First - x.Second)));
        Assert.That(difference, Is.GreaterThan(1e-2));
    }

    [Test]
    public void Rotation_changes_every_tensor_and_still_scores_near_one_on_both_decisive_signals()
    {
        var source = Fingerprint("dev-base");
        var rotated = Fingerprint("dev-rotated");
        // Nothing is left to match by value: every tensor changed (norm gains became constant 1).
        Assert.That(rotated.Weights!.TensorHashes.Intersect(source.Weights!.TensorHashes), Is.Empty);
        var result = LineageComparer.Compare(source, rotated);
        Assert.That(result.Signals.Single(s => s.Name == "residual-gram").Score, Is.GreaterThan(0.97), result.Reason);
        Assert.That(result.Signals.Single(s => s.Name == "anchor-logits").Score, Is.GreaterThan(0.97), result.Reason);
        // The old residual-coordinate signals are blind to it: they are reported, and carry no weight.
        Assert.That(result.Signals.Single(s => s.Name == "norm-vectors").Weight, Is.Zero);
    }

    [Test]
    public void A_fingerprint_stripped_of_its_anchor_frame_proves_nothing()
    {
        // A publisher who edits the frame out of a committed fingerprint (so that nothing decisive can disagree)
        // gets insufficient-evidence, which fails closed, not a verdict from the reported-only signals.
        var stripped = Fingerprint("dev-twin") with { Weights = Fingerprint("dev-twin").Weights! with { Frame = null } };
        var result = LineageComparer.Compare(Fingerprint("dev-base"), stripped);
        Assert.That(result.Verdict, Is.EqualTo(LineageVerdict.InsufficientEvidence), result.Reason);
        Assert.That(result.ExitCode, Is.EqualTo(1));
    }

    [Test]
    public void Dev_base_fingerprint_has_its_fixed_answer()
    {
        // Pinned from the committed dev-base weights. A change of the content hash, of the anchor choice or of
        // GramK changes one of these, and must come with a schema version bump and regenerated fingerprints.
        var fingerprint = Fingerprint("dev-base");
        var weights = fingerprint.Weights!;
        Assert.That(fingerprint.SchemaVersion, Is.EqualTo(5));
        Assert.That(Fingerprinter.GramK, Is.EqualTo(32));
        Assert.That(weights.TensorHashes, Has.Length.EqualTo(PinnedTensorCount));
        Assert.That(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(string.Join("\n", weights.TensorHashes)))),
            Is.EqualTo(PinnedTensorHashesDigest));
        Assert.That(weights.Frame!.AnchorHashes.Take(3).Select(h => h.ToString("x16", CultureInfo.InvariantCulture)), Is.EqualTo(PinnedFirstAnchors));
        Assert.That(weights.Frame.AnchorHashes, Has.Length.EqualTo(Fingerprinter.GramK));
        Assert.That(weights.Layers.Select(l => l.GramIn.Length), Is.All.EqualTo(Fingerprinter.GramK * (Fingerprinter.GramK + 1) / 2));
        Assert.That(weights.Layers[0].GramIn.Take(3).Select(v => (double)v), Is.EqualTo(PinnedFirstGramValues).Within(2e-3));

        // The committed sample fingerprint is this model's: same tensors, identical weights.
        var sample = FingerprintFile.Read(RepoPaths.InRepo("samples", "SignedModelApp", "base", "dev-base.fingerprint.json"));
        Assert.That(sample.Weights!.TensorHashes, Is.EqualTo(weights.TensorHashes));
        Assert.That(LineageComparer.Compare(sample, fingerprint).Verdict, Is.EqualTo(LineageVerdict.IdenticalWeights));
    }

    private const int PinnedTensorCount = 30;
    private const string PinnedTensorHashesDigest = "69d0f04babb05b14271cef63cfe1577672e49805235eeee654889e1fb658baf1";
    private static readonly string[] PinnedFirstAnchors = ["00123869db0f5a7d", "004447481ebbb6a9", "00460d145613e343"];
    private static readonly double[] PinnedFirstGramValues = [0.7124, -0.1793, -0.03485];
}
