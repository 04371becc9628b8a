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

    private static readonly ConcurrentDictionary<string, int> DeviceCalls = new();

    private static ModelFingerprint OnIlgpu(string model) => Fingerprints.GetOrAdd(model, m =>
    {
        var selected = AcceleratorSelector.Select(AcceleratorKind.IlgpuCpu, d => Assert.Fail(d.ToString()));
        // Counted, so that a choice that never reached the fingerprinter's worker threads cannot pass as "same results".
        var counting = new CountingKernels(selected.Kernels);
        var accelerator = selected with { Kernels = counting };
        using (accelerator.Use())
        {
            var fingerprint = Fingerprinter.FromModelDirectory(RepoPaths.TestData("trained", "models", m));
            DeviceCalls[m] = counting.Calls;
            return fingerprint;
        }
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
        Assert.That(DeviceCalls["dev-base"], Is.GreaterThan(0), "the frame Grams went through the ILGPU kernels");
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

    private sealed class CountingKernels(ILinearAlgebraKernels device) : ILinearAlgebraKernels
    {
        private int _calls;

        public int Calls => _calls;

        public void MultiplyTransposed(ReadOnlySpan<float> a, ReadOnlySpan<float> b, int k, Span<float> c) => device.MultiplyTransposed(a, b, k, c);

        public void AccumulateOuter(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> c) => device.AccumulateOuter(x, y, c);

        public void AccumulateProjectedGram(float[] anchors, ReadOnlySpan<float> rows, int k, Span<double> gram)
        {
            Interlocked.Increment(ref _calls);
            device.AccumulateProjectedGram(anchors, rows, k, gram);
        }

        public int AlignOrthogonal(ReadOnlySpan<float> m, int d, Span<float> q) => device.AlignOrthogonal(m, d, q);
    }
}
