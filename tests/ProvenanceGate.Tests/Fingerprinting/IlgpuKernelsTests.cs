using ILGPU;
using ILGPU.Runtime.CPU;
using ProvenanceGate.Accelerators.Ilgpu;
using ProvenanceGate.Fingerprinting;
using ProvenanceGate.Models;

namespace ProvenanceGate.Tests.Fingerprinting;

/// <summary>
/// Every ILGPU kernel, run on ILGPU's CPU accelerator (the same kernel code a GPU compiles), against the scalar
/// reference and the SIMD path: random shapes with odd sizes, tile edges, the streamed (chunked) path, and NaN/∞.
/// </summary>
public sealed class IlgpuKernelsTests
{
    private const double Tolerance = 1e-4;

    private static Context _context = null!;
    private static IlgpuKernels _kernels = null!;

    [OneTimeSetUp]
    public static void OneTimeSetUp()
    {
        _context = Context.Create(builder => builder.CPU(IlgpuBackend.EmulatedDevice));
        var accelerator = _context.CreateCPUAccelerator(0);
        _kernels = new IlgpuKernels(accelerator);
    }

    [OneTimeTearDown]
    public static void OneTimeTearDown()
    {
        _kernels.Dispose();
        _context.Dispose();
    }

    private static float[] Values(Random random, int count) => Enumerable.Range(0, count).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();

    [TestCase(1, 1, 1)]
    [TestCase(3, 5, 7)]
    [TestCase(16, 16, 16)]
    [TestCase(17, 33, 19)]
    [TestCase(32, 9, 113)]
    [TestCase(40, 31, 67)]
    public void Product_matches_scalar_and_simd(int m, int n, int k)
    {
        var random = new Random((m * 1000) + (n * 10) + k);
        var a = Values(random, m * k);
        var b = Values(random, n * k);
        var scalar = new float[m * n];
        var simd = new float[m * n];
        LinearAlgebraKernels.Scalar.MultiplyTransposed(a, b, k, scalar);
        LinearAlgebraKernels.Default.MultiplyTransposed(a, b, k, simd);
        var device = new float[m * n];
        _kernels.MultiplyTransposed(a, b, k, device);
        Assert.That(device, Is.EqualTo(scalar).Within(Tolerance));
        Assert.That(device, Is.EqualTo(simd).Within(Tolerance));
    }

    [Test]
    public void Inputs_over_the_streaming_bound_go_up_in_chunks_with_the_same_result()
    {
        // A bound of 40 floats: 2 rows of k = 17 per launch, so 9 rows are 5 chunks, the last one short.
        using var chunked = new IlgpuKernels(_kernels.Accelerator, maxChunkElements: 40);
        var random = new Random(37);
        const int n = 3, k = 17, rows = 9;
        var anchors = Values(random, n * k);
        var block = Values(random, rows * k);
        var expectedProduct = new float[rows * n];
        var product = new float[rows * n];
        LinearAlgebraKernels.Scalar.MultiplyTransposed(block, anchors, k, expectedProduct);
        chunked.MultiplyTransposed(block, anchors, k, product);
        Assert.That(product, Is.EqualTo(expectedProduct).Within(Tolerance));
        var expectedGram = new double[n * n];
        var gram = new double[n * n];
        LinearAlgebraKernels.Scalar.AccumulateProjectedGram(anchors, block, k, expectedGram);
        chunked.AccumulateProjectedGram(anchors, block, k, gram);
        Assert.That(gram, Is.EqualTo(expectedGram).Within(Tolerance));
    }

    [Test]
    public void Product_propagates_nan_and_infinity_where_the_cpu_does()
    {
        var random = new Random(11);
        const int m = 19, n = 21, k = 37;
        var a = Values(random, m * k);
        var b = Values(random, n * k);
        a[(3 * k) + 5] = float.NaN;
        b[(7 * k) + 36] = float.PositiveInfinity;
        a[(18 * k) + 36] = 0;
        var simd = new float[m * n];
        var device = new float[m * n];
        LinearAlgebraKernels.Default.MultiplyTransposed(a, b, k, simd);
        _kernels.MultiplyTransposed(a, b, k, device);
        Assert.That(device.Select(float.IsNaN), Is.EqualTo(simd.Select(float.IsNaN)));
        Assert.That(device.Select(float.IsInfinity), Is.EqualTo(simd.Select(float.IsInfinity)));
        // Row 3 is NaN everywhere; column 7 is ±∞ except where row 3's NaN or row 18's 0·∞ makes it NaN.
        Assert.That(Enumerable.Range(0, n).All(j => float.IsNaN(device[(3 * n) + j])));
        Assert.That(float.IsNaN(device[(18 * n) + 7]), Is.True);
        Assert.That(float.IsInfinity(device[(0 * n) + 7]), Is.True);
    }

    [TestCase(2, 1, 1)]
    [TestCase(5, 7, 3)]
    [TestCase(32, 64, 8)]
    [TestCase(33, 47, 9)]
    [TestCase(32, 65, 17)]
    public void Projected_gram_matches_scalar_and_simd(int n, int k, int rows)
    {
        var random = new Random((n * 100) + k + rows);
        var anchors = Values(random, n * k);
        var block = Values(random, rows * k);
        var scalar = new double[n * n];
        var simd = new double[n * n];
        LinearAlgebraKernels.Scalar.AccumulateProjectedGram(anchors, block, k, scalar);
        LinearAlgebraKernels.Default.AccumulateProjectedGram(anchors, block, k, simd);
        // It accumulates: two calls give twice the Gram.
        var device = new double[n * n];
        _kernels.AccumulateProjectedGram(anchors, block, k, device);
        _kernels.AccumulateProjectedGram(anchors, block, k, device);
        var scale = Math.Max(1, scalar.Max(Math.Abs));
        Assert.That(device.Select(v => v / 2 / scale), Is.EqualTo(scalar.Select(v => v / scale)).Within(Tolerance));
        Assert.That(device.Select(v => v / 2 / scale), Is.EqualTo(simd.Select(v => v / scale)).Within(Tolerance));
    }

    [Test]
    public void Projected_gram_keeps_each_tensors_anchors_apart()
    {
        // The device keeps anchor copies by array: a second tensor with other anchors must not reuse the first's.
        var random = new Random(23);
        const int n = 4, k = 9;
        var block = Values(random, 6 * k);
        for (var tensor = 0; tensor < IlgpuKernels.AnchorSlots + 3; tensor++)
        {
            var anchors = Values(random, n * k);
            var expected = new double[n * n];
            var device = new double[n * n];
            LinearAlgebraKernels.Scalar.AccumulateProjectedGram(anchors, block, k, expected);
            _kernels.AccumulateProjectedGram(anchors, block, k, device);
            Assert.That(device, Is.EqualTo(expected).Within(Tolerance), $"tensor {tensor}");
        }
    }

    [Test]
    public void Projected_gram_propagates_nan_like_the_cpu()
    {
        var random = new Random(29);
        const int n = 6, k = 13;
        var anchors = Values(random, n * k);
        var block = Values(random, 5 * k);
        block[(2 * k) + 4] = float.NaN;
        var simd = new double[n * n];
        var device = new double[n * n];
        LinearAlgebraKernels.Default.AccumulateProjectedGram(anchors, block, k, simd);
        _kernels.AccumulateProjectedGram(anchors, block, k, device);
        Assert.That(device.Select(double.IsNaN), Is.EqualTo(simd.Select(double.IsNaN)));
        Assert.That(device.All(double.IsNaN), Is.True, "one NaN weight reaches every projection, so every Gram entry");
    }

    [TestCase(1)]
    [TestCase(5)]
    [TestCase(24)]
    [TestCase(17)]
    public void Alignment_recovers_the_orthogonal_polar_factor(int d)
    {
        // M = Q·H with Q orthogonal and H symmetric positive definite (eigenvalues 0.2 to 2): the polar factor is Q.
        var q = ResidualTransforms.RandomOrthogonal(d, 41 + d);
        var v = ResidualTransforms.RandomOrthogonal(d, 97 + d);
        var lambda = Enumerable.Range(0, d).Select(i => 0.2 + (1.8 * i / Math.Max(d - 1, 1))).ToArray();
        var m = new float[d * d];
        for (var r = 0; r < d; r++)
        {
            for (var c = 0; c < d; c++)
            {
                double sum = 0;
                for (var t = 0; t < d; t++)
                {
                    double h = 0;
                    for (var e = 0; e < d; e++)
                        h += v[(e * d) + t] * lambda[e] * v[(e * d) + c];
                    sum += q[(r * d) + t] * h;
                }

                m[(r * d) + c] = (float)sum;
            }
        }

        var expected = q.Select(x => (float)x).ToArray();
        var scalar = new float[d * d];
        var simd = new float[d * d];
        var device = new float[d * d];
        var scalarIterations = LinearAlgebraKernels.Scalar.AlignOrthogonal(m, d, scalar);
        var simdIterations = LinearAlgebraKernels.Default.AlignOrthogonal(m, d, simd);
        var deviceIterations = _kernels.AlignOrthogonal(m, d, device);
        Assert.That(scalarIterations, Is.LessThan(OrthogonalAlignment.MaxIterations));
        Assert.That(deviceIterations, Is.EqualTo(simdIterations).Within(1));
        Assert.That(scalar, Is.EqualTo(expected).Within(1e-3));
        Assert.That(simd, Is.EqualTo(expected).Within(1e-3));
        Assert.That(device, Is.EqualTo(expected).Within(1e-3));
        Assert.That(device, Is.EqualTo(simd).Within(Tolerance));
    }

    [Test]
    public void Alignment_of_a_matrix_with_nan_or_infinity_does_not_converge_on_any_path()
    {
        const int d = 7;
        var m = Values(new Random(3), d * d);
        foreach (var bad in new[] { float.NaN, float.PositiveInfinity })
        {
            m[10] = bad;
            var simd = new float[d * d];
            var device = new float[d * d];
            Assert.That(LinearAlgebraKernels.Default.AlignOrthogonal(m, d, simd), Is.EqualTo(OrthogonalAlignment.MaxIterations));
            Assert.That(_kernels.AlignOrthogonal(m, d, device), Is.EqualTo(OrthogonalAlignment.MaxIterations));
            Assert.That(device.Any(float.IsNaN), Is.True);
        }
    }

    [Test]
    public void Rank_one_update_matches_the_cpu()
    {
        var random = new Random(31);
        var x = Values(random, 7);
        var y = Values(random, 13);
        var expected = Values(random, 7 * 13);
        var device = expected.ToArray();
        LinearAlgebraKernels.Scalar.AccumulateOuter(x, y, expected);
        _kernels.AccumulateOuter(x, y, device);
        Assert.That(device, Is.EqualTo(expected).Within(1e-6));
    }
}
