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
}

public static class LinearAlgebraKernels
{
    public static ILinearAlgebraKernels Default { get; } = new SimdLinearAlgebraKernels();

    public static ILinearAlgebraKernels Scalar { get; } = new ScalarLinearAlgebraKernels();
}

internal sealed class SimdLinearAlgebraKernels : ILinearAlgebraKernels
{
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
