using System.Collections.Concurrent;
using System.Text.Json;
using ProvenanceGate.Fingerprinting;

namespace ProvenanceGate.Tests.Fingerprinting;

/// <summary>The really-trained fixtures (TestData/trained): every labelled pair must get its verdict, with margin.</summary>
public sealed class TrainedFixtureTests
{
    private static readonly ConcurrentDictionary<string, ModelFingerprint> Fingerprints = new();

    public static ModelFingerprint Fingerprint(string model) =>
        Fingerprints.GetOrAdd(model, m => Fingerprinter.FromModelDirectory(RepoPaths.TestData("trained", "models", m)));

    public static IEnumerable<TestCaseData> Pairs()
    {
        var path = Path.Combine(TestContext.CurrentContext.TestDirectory, "TestData", "trained", "pairs.json");
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        foreach (var pair in document.RootElement.EnumerateArray())
        {
            var a = pair.GetProperty("a").GetString()!;
            var b = pair.GetProperty("b").GetString()!;
            var label = pair.GetProperty("label").GetString()!;
            yield return new TestCaseData(a, b, label).SetName($"{a} vs {b} is {label} ({pair.GetProperty("relation").GetString()})");
        }
    }

    [TestCaseSource(nameof(Pairs))]
    public void Pair_gets_its_labelled_verdict_with_margin(string a, string b, string label)
    {
        var result = LineageComparer.Compare(Fingerprint(a), Fingerprint(b));
        if (label == "derived")
        {
            Assert.That(result.Verdict, Is.AnyOf(LineageVerdict.Derived, LineageVerdict.IdenticalWeights), result.Reason);
            Assert.That(result.Score, Is.GreaterThanOrEqualTo(LineageComparer.DerivedThreshold + 0.3), result.Reason);
        }
        else
        {
            Assert.That(result.Verdict, Is.EqualTo(LineageVerdict.Independent), result.Reason);
            Assert.That(result.Score, Is.LessThanOrEqualTo(LineageComparer.DerivedThreshold - 0.3), result.Reason);
        }

        // The comparison is symmetric in its verdict.
        Assert.That(LineageComparer.Compare(Fingerprint(b), Fingerprint(a)).Verdict, Is.EqualTo(result.Verdict));
    }

    [Test]
    public void Twin_with_identical_config_and_tokenizer_is_independent_although_metadata_matches()
    {
        var result = LineageComparer.Compare(Fingerprint("dev-base"), Fingerprint("dev-twin"));
        Assert.That(result.Signals.Single(s => s.Name == "metadata").Score, Is.EqualTo(1.0));
        Assert.That(result.Signals.Single(s => s.Name == "vocabulary-overlap").Score, Is.EqualTo(1.0));
        Assert.That(result.Verdict, Is.EqualTo(LineageVerdict.Independent));
        Assert.That(result.Reason, Does.Contain("configurations are identical"));
    }

    [Test]
    public void Sharded_gguf_named_model_resolves_every_role()
    {
        var sharded = Fingerprint("dev-sharded");
        Assert.That(sharded.Weights!.Layers, Has.Count.EqualTo(3));
        Assert.That(sharded.Weights.Layers.All(l => l.GramIn.Length == Fingerprinter.GramK * (Fingerprinter.GramK + 1) / 2 && l.Norms.Length == 2 * Fingerprinter.VectorK), Is.True);
        Assert.That(sharded.Weights.Embedding, Is.Not.Null);
        Assert.That(sharded.Weights.LmHead, Is.Not.Null);
        Assert.That(sharded.Files.Select(f => f.Path), Does.Contain("model.safetensors.index.json"));
    }

    [Test]
    public void Identity_is_identical_weights_and_a_cast_is_not()
    {
        Assert.That(LineageComparer.Compare(Fingerprint("dev-base"), Fingerprint("dev-base")).Verdict, Is.EqualTo(LineageVerdict.IdenticalWeights));
        Assert.That(LineageComparer.Compare(Fingerprint("dev-base"), Fingerprint("dev-sharded")).Verdict, Is.EqualTo(LineageVerdict.Derived));
    }
}
