using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace ProvenanceGate.Fingerprinting;

/// <summary>
/// The dense products behind the rotation-invariant signals, on row-major float arrays. Kept apart from
/// <see cref="INumericKernels"/> (whose Gram accumulation they feed) so that an accelerator backend can replace them
/// one by one; <see cref="JacobiEigen"/> is the eigen-decomposition that goes with them.
/// </summary>
public interface ILinearAlgebraKernels
{
    /// <summary>C (m×n) = A (m×k) · Bᵀ, with B stored n×k: c[i*n + j] = Σ_t a[i*k + t]·b[j*k + t]. m = a.Length / k, n = b.Length / k.</summary>
    void MultiplyTransposed(ReadOnlySpan<float> a, ReadOnlySpan<float> b, int k, Span<float> c);

    /// <summary>C (m×n) += x ⊗ y for column x (m) and row y (n): the rank-1 update that projects one residual row.</summary>
    void AccumulateOuter(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> c);

    /// <summary>
    /// gram (n×n) += P·Pᵀ for the projection P = anchors (n×k) · rowsᵀ of a block of rows (rows.Length / k of them):
    /// the frame Gram's streaming step, one call so that a device backend keeps P where it computed it. The anchors
    /// array is the same for every block of a tensor (a backend may keep its copy).
    /// </summary>
    void AccumulateProjectedGram(float[] anchors, ReadOnlySpan<float> rows, int k, Span<double> gram);

    /// <summary>
    /// The orthogonal factor Q of the polar decomposition M = Q·H of a square d×d matrix (Q = U·Vᵀ of M's SVD): the
    /// rotation that best aligns two residual bases (orthogonal Procrustes). Newton–Schulz iteration, products only;
    /// returns the iterations taken (<see cref="OrthogonalAlignment.MaxIterations"/> when it did not converge, as for a NaN or ∞ in M).
    /// </summary>
    int AlignOrthogonal(ReadOnlySpan<float> m, int d, Span<float> q);
}

public static class LinearAlgebraKernels
{
    public static ILinearAlgebraKernels Default { get; } = new SimdLinearAlgebraKernels();

    public static ILinearAlgebraKernels Scalar { get; } = new ScalarLinearAlgebraKernels();

    /// <summary>The kernels of <see cref="ComputeAccelerator.Current"/>: what fingerprinting runs its products on.</summary>
    public static ILinearAlgebraKernels Current => ComputeAccelerator.Current.Kernels;
}

/// <summary>The Newton–Schulz polar iteration's parameters and its host implementation over any kernels' products.</summary>
public static class OrthogonalAlignment
{
    /// <summary>Enough for singular values down to 1e-6 of the largest (linear phase ×1.5 per step, then quadratic).</summary>
    public const int MaxIterations = 64;

    /// <summary>Converged when every entry of X·Xᵀ − I is below this: float rounding of a d = 8192 product is ~1e-5.</summary>
    public const float Tolerance = 1e-4f;

    /// <summary>
    /// X₀ = M/‖M‖_F (singular values in (0, 1]); X ← (1.5·I − 0.5·X·Xᵀ)·X until X·Xᵀ = I. Each step is two d×d
    /// products by <paramref name="kernels"/>' <see cref="ILinearAlgebraKernels.MultiplyTransposed"/>.
    /// </summary>
    public static int Run(ILinearAlgebraKernels kernels, ReadOnlySpan<float> m, int d, Span<float> q)
    {
        if (m.Length != d * d || q.Length != d * d)
            throw new ArgumentException("m and q must be d×d");
        var scale = (float)(1 / Math.Max(Math.Sqrt(NumericKernels.Default.SumOfSquares(m)), 1e-30));
        var x = q;
        TensorPrimitives.Multiply(m, scale, x);
        var s = new float[d * d];
        var transposed = new float[d * d];
        for (var iteration = 0; iteration < MaxIterations; iteration++)
        {
            kernels.MultiplyTransposed(x, x, d, s);
            var error = ToIdentityStep(s, d);
            if (float.IsNaN(error))
                return MaxIterations;
            if (error < Tolerance)
                return iteration;
            Transpose(x, d, transposed);
            kernels.MultiplyTransposed(s, transposed, d, x);
        }

        return MaxIterations;
    }

    /// <summary>S ← 1.5·I − 0.5·S in place; returns max |S − I| before the update, NaN when S holds one (a NaN or ∞ in M: no rotation).</summary>
    private static float ToIdentityStep(Span<float> s, int d)
    {
        var error = 0f;
        for (var i = 0; i < d; i++)
        {
            for (var j = 0; j < d; j++)
            {
                var value = s[(i * d) + j];
                var deviation = MathF.Abs(value - (i == j ? 1f : 0f));
                error = float.IsNaN(deviation) || deviation > error ? deviation : error;
                s[(i * d) + j] = (i == j ? 1.5f : 0f) - (0.5f * value);
            }
        }

        return error;
    }

    private static void Transpose(ReadOnlySpan<float> x, int d, Span<float> result)
    {
        for (var i = 0; i < d; i++)
        {
            for (var j = 0; j < d; j++)
                result[(j * d) + i] = x[(i * d) + j];
        }
    }
}

internal sealed class SimdLinearAlgebraKernels : ILinearAlgebraKernels
{
    public void AccumulateProjectedGram(float[] anchors, ReadOnlySpan<float> rows, int k, Span<double> gram) =>
        ProjectedGram(this, NumericKernels.Default, anchors, rows, k, gram);

    public int AlignOrthogonal(ReadOnlySpan<float> m, int d, Span<float> q) => OrthogonalAlignment.Run(this, m, d, q);

    /// <summary>P (n × rows) = anchors · rowsᵀ, anchor-major: exactly the column layout the Gram kernel takes.</summary>
    internal static void ProjectedGram(ILinearAlgebraKernels linear, INumericKernels numeric, float[] anchors, ReadOnlySpan<float> rows, int k, Span<double> gram)
    {
        var n = anchors.Length / k;
        var count = n * (rows.Length / k);
        var buffer = System.Buffers.ArrayPool<float>.Shared.Rent(count);
        var projection = buffer.AsSpan(0, count);
        linear.MultiplyTransposed(anchors, rows, k, projection);
        numeric.AccumulateGramColumns(projection, n, gram);
        System.Buffers.ArrayPool<float>.Shared.Return(buffer);
    }

    /// <summary>
    /// In 4×4 tiles of (row of A, row of B) where 256- or 512-bit vectors are available: every loaded vector feeds four
    /// FMAs and the 16 accumulators stay in registers, where one dot product per entry loads two vectors per FMA.
    /// This is the anchor projection of every key/value row, so it is written out rather than calling TensorPrimitives:
    /// the generic library code starts unoptimised (tier 0) in a short CLI run (measured: 40% of a fresh
    /// `fingerprint` process), and AggressiveOptimization gets these loops compiled fully on first use.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public void MultiplyTransposed(ReadOnlySpan<float> a, ReadOnlySpan<float> b, int k, Span<float> c)
    {
        int m = a.Length / k, n = b.Length / k;
        if (c.Length < m * n)
            throw new ArgumentException("destination is too short", nameof(c));
        var tiles = (Vector512.IsHardwareAccelerated && k >= 16) || (Vector256.IsHardwareAccelerated && k >= 8);
        int tiledM = tiles ? m / Tile * Tile : 0, tiledN = tiles ? n / Tile * Tile : 0;
        for (var i = 0; i < tiledM; i += Tile)
        {
            for (var j = 0; j < tiledN; j += Tile)
            {
                if (Vector512.IsHardwareAccelerated && k >= 16)
                    Tile512(a, b, k, n, i, j, c);
                else
                    Tile256(a, b, k, n, i, j, c);
            }
        }

        for (var i = 0; i < m; i++)
        {
            var row = a.Slice(i * k, k);
            for (var j = i < tiledM ? tiledN : 0; j < n; j++)
                c[(i * n) + j] = (float)SimdNumericKernels.DotCore(row, b.Slice(j * k, k));
        }
    }

    private const int Tile = 4;

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void Tile512(ReadOnlySpan<float> a, ReadOnlySpan<float> b, int k, int n, int i, int j, Span<float> c)
    {
        ref var a0 = ref Unsafe.Add(ref MemoryMarshal.GetReference(a), i * k);
        ref var a1 = ref Unsafe.Add(ref a0, k);
        ref var a2 = ref Unsafe.Add(ref a1, k);
        ref var a3 = ref Unsafe.Add(ref a2, k);
        ref var b0 = ref Unsafe.Add(ref MemoryMarshal.GetReference(b), j * k);
        ref var b1 = ref Unsafe.Add(ref b0, k);
        ref var b2 = ref Unsafe.Add(ref b1, k);
        ref var b3 = ref Unsafe.Add(ref b2, k);
        Vector512<float> c00 = default, c01 = default, c02 = default, c03 = default, c10 = default, c11 = default, c12 = default, c13 = default;
        Vector512<float> c20 = default, c21 = default, c22 = default, c23 = default, c30 = default, c31 = default, c32 = default, c33 = default;
        var t = 0;
        for (; t + 16 <= k; t += 16)
        {
            var offset = (nuint)t;
            var x0 = Vector512.LoadUnsafe(ref a0, offset);
            var x1 = Vector512.LoadUnsafe(ref a1, offset);
            var x2 = Vector512.LoadUnsafe(ref a2, offset);
            var x3 = Vector512.LoadUnsafe(ref a3, offset);
            var y0 = Vector512.LoadUnsafe(ref b0, offset);
            var y1 = Vector512.LoadUnsafe(ref b1, offset);
            var y2 = Vector512.LoadUnsafe(ref b2, offset);
            var y3 = Vector512.LoadUnsafe(ref b3, offset);
            c00 = Vector512.FusedMultiplyAdd(x0, y0, c00);
            c01 = Vector512.FusedMultiplyAdd(x0, y1, c01);
            c02 = Vector512.FusedMultiplyAdd(x0, y2, c02);
            c03 = Vector512.FusedMultiplyAdd(x0, y3, c03);
            c10 = Vector512.FusedMultiplyAdd(x1, y0, c10);
            c11 = Vector512.FusedMultiplyAdd(x1, y1, c11);
            c12 = Vector512.FusedMultiplyAdd(x1, y2, c12);
            c13 = Vector512.FusedMultiplyAdd(x1, y3, c13);
            c20 = Vector512.FusedMultiplyAdd(x2, y0, c20);
            c21 = Vector512.FusedMultiplyAdd(x2, y1, c21);
            c22 = Vector512.FusedMultiplyAdd(x2, y2, c22);
            c23 = Vector512.FusedMultiplyAdd(x2, y3, c23);
            c30 = Vector512.FusedMultiplyAdd(x3, y0, c30);
            c31 = Vector512.FusedMultiplyAdd(x3, y1, c31);
            c32 = Vector512.FusedMultiplyAdd(x3, y2, c32);
            c33 = Vector512.FusedMultiplyAdd(x3, y3, c33);
        }

        Span<float> tile =
        [
            Vector512.Sum(c00), Vector512.Sum(c01), Vector512.Sum(c02), Vector512.Sum(c03),
            Vector512.Sum(c10), Vector512.Sum(c11), Vector512.Sum(c12), Vector512.Sum(c13),
            Vector512.Sum(c20), Vector512.Sum(c21), Vector512.Sum(c22), Vector512.Sum(c23),
            Vector512.Sum(c30), Vector512.Sum(c31), Vector512.Sum(c32), Vector512.Sum(c33),
        ];
        StoreTile(a, b, k, n, i, j, t, tile, c);
    }

    /// <summary>The 256-bit form of <see cref="Tile512"/>, in two halves of two rows of A so the accumulators and loads fit 16 registers.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void Tile256(ReadOnlySpan<float> a, ReadOnlySpan<float> b, int k, int n, int i, int j, Span<float> c)
    {
        ref var b0 = ref Unsafe.Add(ref MemoryMarshal.GetReference(b), j * k);
        ref var b1 = ref Unsafe.Add(ref b0, k);
        ref var b2 = ref Unsafe.Add(ref b1, k);
        ref var b3 = ref Unsafe.Add(ref b2, k);
        Span<float> tile = stackalloc float[Tile * Tile];
        var t = 0;
        for (var half = 0; half < Tile; half += 2)
        {
            ref var a0 = ref Unsafe.Add(ref MemoryMarshal.GetReference(a), (i + half) * k);
            ref var a1 = ref Unsafe.Add(ref a0, k);
            Vector256<float> c00 = default, c01 = default, c02 = default, c03 = default, c10 = default, c11 = default, c12 = default, c13 = default;
            for (t = 0; t + 8 <= k; t += 8)
            {
                var offset = (nuint)t;
                var x0 = Vector256.LoadUnsafe(ref a0, offset);
                var x1 = Vector256.LoadUnsafe(ref a1, offset);
                var y0 = Vector256.LoadUnsafe(ref b0, offset);
                var y1 = Vector256.LoadUnsafe(ref b1, offset);
                var y2 = Vector256.LoadUnsafe(ref b2, offset);
                var y3 = Vector256.LoadUnsafe(ref b3, offset);
                c00 = Vector256.FusedMultiplyAdd(x0, y0, c00);
                c01 = Vector256.FusedMultiplyAdd(x0, y1, c01);
                c02 = Vector256.FusedMultiplyAdd(x0, y2, c02);
                c03 = Vector256.FusedMultiplyAdd(x0, y3, c03);
                c10 = Vector256.FusedMultiplyAdd(x1, y0, c10);
                c11 = Vector256.FusedMultiplyAdd(x1, y1, c11);
                c12 = Vector256.FusedMultiplyAdd(x1, y2, c12);
                c13 = Vector256.FusedMultiplyAdd(x1, y3, c13);
            }

            var row = half * Tile;
            tile[row] = Vector256.Sum(c00);
            tile[row + 1] = Vector256.Sum(c01);
            tile[row + 2] = Vector256.Sum(c02);
            tile[row + 3] = Vector256.Sum(c03);
            tile[row + 4] = Vector256.Sum(c10);
            tile[row + 5] = Vector256.Sum(c11);
            tile[row + 6] = Vector256.Sum(c12);
            tile[row + 7] = Vector256.Sum(c13);
        }

        StoreTile(a, b, k, n, i, j, t, tile, c);
    }

    /// <summary>Adds the values past the last whole vector (from <paramref name="tail"/> on) and writes the tile to C.</summary>
    private static void StoreTile(ReadOnlySpan<float> a, ReadOnlySpan<float> b, int k, int n, int i, int j, int tail, Span<float> tile, Span<float> c)
    {
        for (var x = 0; x < Tile; x++)
        {
            for (var y = 0; y < Tile; y++)
            {
                var sum = tile[(x * Tile) + y];
                for (var t = tail; t < k; t++)
                    sum += a[((i + x) * k) + t] * b[((j + y) * k) + t];
                c[((i + x) * n) + j + y] = sum;
            }
        }
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public void AccumulateOuter(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> c)
    {
        var n = y.Length;
        for (var i = 0; i < x.Length; i++)
        {
            var target = c.Slice(i * n, n);
            TensorPrimitives.MultiplyAdd(y, x[i], target, target);
        }
    }
}

/// <summary>Plain loops in double: the reference the tests hold the SIMD kernels to.</summary>
internal sealed class ScalarLinearAlgebraKernels : ILinearAlgebraKernels
{
    public void AccumulateProjectedGram(float[] anchors, ReadOnlySpan<float> rows, int k, Span<double> gram) =>
        SimdLinearAlgebraKernels.ProjectedGram(this, NumericKernels.Scalar, anchors, rows, k, gram);

    public int AlignOrthogonal(ReadOnlySpan<float> m, int d, Span<float> q) => OrthogonalAlignment.Run(this, m, d, q);

    public void MultiplyTransposed(ReadOnlySpan<float> a, ReadOnlySpan<float> b, int k, Span<float> c)
    {
        int m = a.Length / k, n = b.Length / k;
        for (var i = 0; i < m; i++)
        {
            for (var j = 0; j < n; j++)
            {
                double sum = 0;
                for (var t = 0; t < k; t++)
                    sum += (double)a[(i * k) + t] * b[(j * k) + t];
                c[(i * n) + j] = (float)sum;
            }
        }
    }

    public void AccumulateOuter(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> c)
    {
        for (var i = 0; i < x.Length; i++)
        {
            for (var j = 0; j < y.Length; j++)
                c[(i * y.Length) + j] = (float)(c[(i * y.Length) + j] + ((double)x[i] * y[j]));
        }
    }
}
