using System.Numerics.Tensors;

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
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public void MultiplyTransposed(ReadOnlySpan<float> a, ReadOnlySpan<float> b, int k, Span<float> c)
    {
        int m = a.Length / k, n = b.Length / k;
        for (var i = 0; i < m; i++)
        {
            var row = a.Slice(i * k, k);
            for (var j = 0; j < n; j++)
                c[(i * n) + j] = TensorPrimitives.Dot(row, b.Slice(j * k, k));
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
