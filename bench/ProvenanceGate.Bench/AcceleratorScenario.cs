using System.Diagnostics;
using ProvenanceGate.Fingerprinting;

namespace ProvenanceGate.Bench;

/// <summary>
/// The ILGPU path against the SIMD CPU path in the same run: end-to-end fingerprinting of the bench model (and against
/// a plain read of its bytes), and the alignment step alone (Newton–Schulz polar factor) at d = 4096 and 8192.
/// Without a GPU the full run reports "no GPU: skipped"; --quick then runs the kernels on ILGPU's CPU emulator at
/// tiny sizes, which checks that the scenario works, not how fast a GPU is.
/// </summary>
internal sealed class AcceleratorScenario : IBenchScenario
{
    public string Name => "accelerator";

    public void Run(BenchReport report, bool quick)
    {
        var gpu = AcceleratorSelector.Select(AcceleratorKind.Auto, notice => Console.Error.WriteLine(notice));
        if (gpu == ComputeAccelerator.Cpu)
        {
            if (!quick)
            {
                report.Add(Name, "no GPU: skipped (CUDA or OpenCL needed; run on a GPU machine)", 0, "", "-", true);
                return;
            }

            // The emulator is orders of magnitude slower than the SIMD path: sizes that exercise the code, not the hardware.
            var emulated = AcceleratorSelector.Select(AcceleratorKind.IlgpuCpu, notice => Console.Error.WriteLine(notice));
            report.Add(Name, "no GPU: ILGPU CPU emulator smoke run (ratios meaningless)", 0, "", "-", true);
            Alignment(report, emulated, 32, goal: null);
            return;
        }

        report.Add(Name, $"device: {gpu.Device}", 0, "", "-", true);
        EndToEnd(report, gpu, quick);
        foreach (var d in quick ? new[] { 512, 1024 } : [4096, 8192])
            Alignment(report, gpu, d, goal: d == 8192 ? 20 : null);
    }

    private void EndToEnd(BenchReport report, ComputeAccelerator gpu, bool quick)
    {
        // The end-to-end goal is for a model of >= 4 GB: twice the full bench model's layers.
        var model = quick ? BenchModel.Get(quick) : BenchModel.Get(quick, 2 * BenchModel.Dimensions(quick).Layers);
        var gigabytes = BenchModel.WeightBytes(model) / 1e9;
        var bufferBytes = BenchModel.FastestPlainReadBuffer(model);
        ModelFingerprint OnCpu() => Fingerprinter.FromModelDirectory(model);
        ModelFingerprint OnGpu()
        {
            using (gpu.Use())
                return Fingerprinter.FromModelDirectory(model);
        }

        var rounds = quick ? 3 : 5;
        var plain = Measure.Median(rounds, () => BenchModel.PlainRead(model, bufferBytes));
        var cpu = Measure.Median(rounds, () => OnCpu());
        var device = Measure.Median(rounds, () => OnGpu());
        var verdict = LineageComparer.Compare(OnGpu(), OnCpu()).Verdict;
        report.Add(Name, $"fingerprint {gigabytes:0.00} GB: same verdict as the CPU path ({verdict})", 0, "", "identical-weights", verdict == LineageVerdict.IdenticalWeights);
        report.Add(Name, $"fingerprint {gigabytes:0.00} GB: {gpu.Name} vs SIMD CPU (median of {rounds})", cpu / device, "x", "-", true);
        report.Add(Name, $"fingerprint {gigabytes:0.00} GB: {gpu.Name} vs plain read", plain / device, "x", quick ? "(quick)" : ">= 0.7x", quick || plain / device >= 0.7);
    }

    /// <summary>
    /// M = 2·I + G/√d (G Gaussian): a cross-covariance dominated by a rotation, as for a model and its fine-tune. The CPU
    /// baseline is one Newton–Schulz step (two d×d products on the SIMD kernels, one thread) times the iterations the
    /// device took: the steps are identical, and a full CPU run at d = 8192 would take an hour.
    /// </summary>
    private void Alignment(BenchReport report, ComputeAccelerator device, int d, double? goal)
    {
        var random = new Random(d);
        var m = new float[d * d];
        for (var i = 0; i < m.Length; i++)
            m[i] = (float)(Gaussian(random) / Math.Sqrt(d));
        for (var i = 0; i < d; i++)
            m[(i * d) + i] += 2;
        var q = new float[d * d];
        var stopwatch = Stopwatch.StartNew();
        var iterations = device.Kernels.AlignOrthogonal(m, d, q);
        var deviceTime = stopwatch.Elapsed;

        var s = new float[d * d];
        stopwatch.Restart();
        LinearAlgebraKernels.Default.MultiplyTransposed(q, q, d, s);
        LinearAlgebraKernels.Default.MultiplyTransposed(s, q, d, m);
        var cpuStep = stopwatch.Elapsed;

        // The result is a rotation: Q·Qᵀ = I to float rounding.
        device.Kernels.MultiplyTransposed(q, q, d, s);
        var deviation = 0.0;
        for (var i = 0; i < d; i++)
        {
            for (var j = 0; j < d; j++)
                deviation = Math.Max(deviation, Math.Abs(s[(i * d) + j] - (i == j ? 1 : 0)));
        }

        var ratio = cpuStep.TotalSeconds * iterations / deviceTime.TotalSeconds;
        report.Add(Name, $"alignment d={d}: {device.Name}, {iterations} iterations, max |QQᵀ-I| {deviation:0.0e0}", deviceTime.TotalMilliseconds, "ms", "converged, < 1e-3", iterations < OrthogonalAlignment.MaxIterations && deviation < 1e-3);
        report.Add(Name, $"alignment d={d}: {device.Name} vs SIMD CPU (1 thread; {cpuStep.TotalSeconds:0.0} s per step x {iterations})", ratio, "x", goal is { } g ? $">= {g}x" : "-", goal is not { } minimum || ratio >= minimum);
    }

    private static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
