using ProvenanceGate.Fingerprinting;
using ProvenanceGate.Formats.Gguf;
using ProvenanceGate.Formats.Safetensors;
using ProvenanceGate.Models;

namespace ProvenanceGate.Tests.Gguf;

/// <summary>
/// Cross-format lineage: a GGUF is compared with a safetensors checkpoint as the same weights would be. The trained
/// models' rows (112, 304) are not whole blocks, so their "Q8_0"/"Q4_K" files hold F16 matrices as llama.cpp's would;
/// the synthetic family below has block-aligned rows, so its GGUF matrices really are quantised.
/// </summary>
public sealed class GgufLineageTests
{
    private const double Margin = 0.3;
    private static readonly string[] F16AndF32 = ["F16", "F32"];

    private static ModelFingerprint Safetensors(string model) => Tests.Fingerprinting.TrainedFixtureTests.Fingerprint(model);

    private static void AssertVerdict(ModelFingerprint a, ModelFingerprint b, bool derived)
    {
        var result = LineageComparer.Compare(a, b);
        if (derived)
        {
            Assert.That(result.Verdict, Is.AnyOf(LineageVerdict.Derived, LineageVerdict.IdenticalWeights), result.Reason);
            Assert.That(result.Score, Is.GreaterThanOrEqualTo(LineageComparer.DerivedThreshold + Margin), result.Reason);
        }
        else
        {
            Assert.That(result.Verdict, Is.EqualTo(LineageVerdict.Independent), result.Reason);
            Assert.That(result.Score, Is.LessThanOrEqualTo(LineageComparer.DerivedThreshold - Margin), result.Reason);
        }

        Assert.That(LineageComparer.Compare(b, a).Verdict, Is.EqualTo(result.Verdict), "symmetric");
    }

    [TestCase("dev-base", "dev-ft", GgmlType.Q8_0, true)]
    [TestCase("dev-base", "dev-ft", GgmlType.Q4_K, true)]
    [TestCase("dev-base", "dev-base", GgmlType.F16, true)]
    [TestCase("dev-permuted", "dev-ft", GgmlType.Q8_0, true)]
    [TestCase("dev-base", "dev-twin", GgmlType.F16, false)]
    [TestCase("dev-base", "dev-twin", GgmlType.Q8_0, false)]
    [TestCase("dev-twin", "dev-ft", GgmlType.Q4_K, false)]
    public void Gguf_of_a_trained_model_gets_its_safetensors_verdict(string safetensors, string gguf, GgmlType type, bool derived)
    {
        // The twin's GGUF claims dev-base as its base model: metadata must not sway the weights' verdict.
        var file = GgufFixtures.Trained(gguf, type, baseModel: "dev-base");
        AssertVerdict(Safetensors(safetensors), Fingerprinter.FromModelDirectory(file), derived);
    }

    [Test]
    public void Gguf_fingerprint_reports_the_files_own_facts()
    {
        var fingerprint = Fingerprinter.FromModelDirectory(GgufFixtures.Trained("dev-ft", GgmlType.Q8_0, baseModel: "dev-base"));
        var reference = Safetensors("dev-ft");
        Assert.That(fingerprint.Name, Is.EqualTo("dev-ft.Q8_0"));
        Assert.That(fingerprint.Model.ParameterCount, Is.EqualTo(reference.Model.ParameterCount));
        Assert.That(fingerprint.Model.TensorCount, Is.EqualTo(reference.Model.TensorCount));
        Assert.That(fingerprint.Model.DTypes, Is.EqualTo(F16AndF32));
        Assert.That(fingerprint.Config!.ArchHash, Is.EqualTo(reference.Config!.ArchHash));
        Assert.That(fingerprint.Weights!.Layers, Has.Count.EqualTo(reference.Weights!.Layers.Count));
        Assert.That(fingerprint.Files.Single().Kind, Is.EqualTo("weights-header"), "the header is hashed, not every weight byte a second time");
    }

    [TestCase(GgmlType.Q8_0)]
    [TestCase(GgmlType.Q4_K)]
    [TestCase(GgmlType.Q5_0)]
    [TestCase(GgmlType.Q4_0)]
    public void Really_quantised_gguf_of_a_fine_tune_is_derived_and_an_independent_model_is_not(GgmlType type)
    {
        using var temp = new TempDirectory();
        var spec = new SyntheticModelSpec { VocabSize = 512, HiddenSize = 256, Layers = 3, AttentionHeads = 4, KeyValueHeads = 2, IntermediateSize = 512, Seed = 21 };
        var baseTensors = SyntheticModel.CreateTensors(spec);
        SyntheticModel.WriteDirectory(temp.Combine("base"), spec, baseTensors);
        SyntheticModel.WriteDirectory(temp.Combine("fine-tuned"), spec, SyntheticDerivatives.FineTune(baseTensors, seed: 1, relativeScale: 0.3), SafetensorsDType.F16);
        SyntheticModel.WriteDirectory(temp.Combine("independent"), spec, SyntheticModel.CreateTensors(spec with { Seed = 22 }), SafetensorsDType.F16);
        foreach (var name in new[] { "fine-tuned", "independent" })
            GgufConvert(temp.Combine(name), temp.Combine(name + ".gguf"), type);

        var fineTuned = GgufFile.Read(temp.Combine("fine-tuned.gguf"));
        Assert.That(fineTuned.Tensors.Where(t => t.Dimensions.Count == 2).Select(t => t.Type).Distinct(), Is.EqualTo(new[] { type }), "every matrix is quantised");

        var baseFingerprint = Fingerprinter.FromModelDirectory(temp.Combine("base"));
        AssertVerdict(baseFingerprint, Fingerprinter.FromModelDirectory(temp.Combine("fine-tuned.gguf")), derived: true);
        AssertVerdict(baseFingerprint, Fingerprinter.FromModelDirectory(temp.Combine("independent.gguf")), derived: false);
    }
    private static void GgufConvert(string directory, string output, GgmlType type) =>
        GgufFixtures.Convert(directory, output, type, Path.GetFileName(directory), baseModel: null);
}
