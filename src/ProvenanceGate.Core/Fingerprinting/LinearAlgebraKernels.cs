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
