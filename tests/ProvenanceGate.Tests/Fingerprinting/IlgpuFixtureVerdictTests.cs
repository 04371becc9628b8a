using System.Collections.Concurrent;
using ProvenanceGate.Fingerprinting;

namespace ProvenanceGate.Tests.Fingerprinting;

/// <summary>
/// The trained fixture suite through the ILGPU kernels (on ILGPU's CPU accelerator, selected by name as a user would
/// with <c>--accelerator ilgpu-cpu</c>): every labelled pair gets the same verdict as on the CPU path, with scores and
/// frame Grams within the documented 1e-4.
/// </summary>
public sealed class IlgpuFixtureVerdictTests
{
    private const double Tolerance = 1e-4;

    private static readonly ConcurrentDictionary<string, ModelFingerprint> Fingerprints = new();

    private static ModelFingerprint OnIlgpu(string model) => Fingerprints.GetOrAdd(model, m =>
    {
        var accelerator = AcceleratorSelector.Select(AcceleratorKind.IlgpuCpu, d => Assert.Fail(d.ToString()));
        using (accelerator.Use())
            return Fingerprinter.FromModelDirectory(RepoPaths.TestData("trained", "models", m));
    });

    [TestCaseSource(typeof(TrainedFixtureTests), nameof(TrainedFixtureTests.Pairs))]
    public void Pair_gets_the_cpu_verdict_on_the_ilgpu_kernels(string a, string b, string label)
    {
        var cpu = LineageComparer.Compare(TrainedFixtureTests.Fingerprint(a), TrainedFixtureTests.Fingerprint(b));
        var ilgpu = LineageComparer.Compare(OnIlgpu(a), OnIlgpu(b));
        Assert.That(ilgpu.Verdict, Is.EqualTo(cpu.Verdict), $"{label}: {ilgpu.Reason}");
        Assert.That(ilgpu.Score, Is.EqualTo(cpu.Score).Within(Tolerance));
        foreach (var (cpuSignal, ilgpuSignal) in cpu.Signals.Zip(ilgpu.Signals))
        {
            Assert.That(ilgpuSignal.Name, Is.EqualTo(cpuSignal.Name));
            Assert.That(double.IsNaN(ilgpuSignal.Score), Is.EqualTo(double.IsNaN(cpuSignal.Score)), cpuSignal.Name);
            if (!double.IsNaN(cpuSignal.Score))
                Assert.That(ilgpuSignal.Score, Is.EqualTo(cpuSignal.Score).Within(Tolerance), cpuSignal.Name);
        }
    }

    [Test]
    public void Fingerprint_differs_only_in_rounding_and_names_its_producer()
    {
        var cpu = TrainedFixtureTests.Fingerprint("dev-base");
        var ilgpu = OnIlgpu("dev-base");
        Assert.That(cpu.Producer?.Accelerator, Is.EqualTo("cpu"));
        Assert.That(ilgpu.Producer?.Accelerator, Is.EqualTo("ilgpu-cpu"));
        // Content hashes are computed on the host on every accelerator: identical, not merely close.
        Assert.That(ilgpu.Weights!.TensorHashes, Is.EqualTo(cpu.Weights!.TensorHashes));
        Assert.That(ilgpu.Files, Is.EqualTo(cpu.Files));
        var cpuLayers = cpu.Weights.Layers;
        var ilgpuLayers = ilgpu.Weights.Layers;
        Assert.That(ilgpuLayers.Select(l => l.Key), Is.EqualTo(cpuLayers.Select(l => l.Key)));
        Assert.That(cpuLayers.Sum(l => l.GramIn.Length), Is.GreaterThan(0), "the fixture exercises the frame Gram kernels");
        for (var i = 0; i < cpuLayers.Count; i++)
            Assert.That(ilgpuLayers[i].GramIn, Is.EqualTo(cpuLayers[i].GramIn).Within(Tolerance), cpuLayers[i].Key);
    }
}
