namespace ProvenanceGate.Fingerprinting;

/// <summary>
/// Eigen-decomposition of a small symmetric matrix by cyclic Jacobi rotations: unconditionally stable and exact to
/// rounding for the 32×32 anchor Gram matrices the comparer whitens, with no dependency beyond the BCL.
/// </summary>
public static class JacobiEigen
{
    /// <summary>Sweeps allowed before giving up; a symmetric matrix converges quadratically, in well under 20 for n ≤ 128.</summary>
    public const int MaxSweeps = 64;

    /// <summary>
    /// <paramref name="matrix"/> (n×n, row-major, symmetric) = V diag(values) Vᵀ, eigenvalues in descending order;
    /// <paramref name="vectors"/> holds V row-major (eigenvector j is column j).
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public static void Decompose(ReadOnlySpan<double> matrix, int n, Span<double> values, Span<double> vectors)
    {
        if (matrix.Length != n * n || values.Length != n || vectors.Length != n * n)
            throw new ArgumentException("matrix, values and vectors must be n×n, n and n×n");
        var a = matrix.ToArray();
        var v = new double[n * n];
        for (var i = 0; i < n; i++)
            v[(i * n) + i] = 1;

        // Converged when a whole sweep finds every off-diagonal entry negligible against its diagonal pair.
        var rotated = true;
        for (var sweep = 0; sweep < MaxSweeps && rotated; sweep++)
        {
            rotated = false;
            for (var p = 0; p < n; p++)
            {
                for (var q = p + 1; q < n; q++)
                    rotated |= Rotate(a, v, n, p, q);
            }
        }

        // Selection sort by eigenvalue, descending, moving the eigenvector columns along.
        var order = Enumerable.Range(0, n).OrderByDescending(i => a[(i * n) + i]).ToArray();
        for (var j = 0; j < n; j++)
        {
            values[j] = a[(order[j] * n) + order[j]];
            for (var i = 0; i < n; i++)
                vectors[(i * n) + j] = v[(i * n) + order[j]];
        }
    }

    /// <summary>One Jacobi rotation A ← JᵀAJ that zeroes A[p,q]; V ← VJ accumulates the eigenvectors. False when A[p,q] is already negligible.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static bool Rotate(double[] a, double[] v, int n, int p, int q)
    {
        var apq = a[(p * n) + q];
        // Below rounding of the diagonal pair it would change nothing but the rounding itself.
        if (Math.Abs(apq) <= 1e-15 * (Math.Abs(a[(p * n) + p]) + Math.Abs(a[(q * n) + q])) || apq == 0)
        {
            a[(p * n) + q] = a[(q * n) + p] = 0;
            return false;
        }

        var theta = (a[(q * n) + q] - a[(p * n) + p]) / (2 * apq);
        // The smaller root of t² + 2θt − 1 = 0: rotation angle at most π/4, for stability.
        var t = theta >= 0 ? 1 / (theta + Math.Sqrt((theta * theta) + 1)) : -1 / (-theta + Math.Sqrt((theta * theta) + 1));
        var c = 1 / Math.Sqrt((t * t) + 1);
        var s = t * c;
        for (var k = 0; k < n; k++)
        {
            var akp = a[(k * n) + p];
            var akq = a[(k * n) + q];
            a[(k * n) + p] = (c * akp) - (s * akq);
            a[(k * n) + q] = (s * akp) + (c * akq);
        }

        for (var k = 0; k < n; k++)
        {
            var apk = a[(p * n) + k];
            var aqk = a[(q * n) + k];
            a[(p * n) + k] = (c * apk) - (s * aqk);
            a[(q * n) + k] = (s * apk) + (c * aqk);
        }

        for (var k = 0; k < n; k++)
        {
            var vkp = v[(k * n) + p];
            var vkq = v[(k * n) + q];
            v[(k * n) + p] = (c * vkp) - (s * vkq);
            v[(k * n) + q] = (s * vkp) + (c * vkq);
        }

        return true;
    }

    /// <summary>
    /// (G + ridge·mean(diag G)·I)^(-1/2) for a symmetric positive semi-definite G (n×n, row-major): the whitening
    /// that turns anchor rows into an orthonormal frame. The ridge keeps near-dependent anchors from amplifying noise.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public static double[] InverseSquareRoot(ReadOnlySpan<double> gram, int n, double ridge)
    {
        double trace = 0;
        for (var i = 0; i < n; i++)
            trace += gram[(i * n) + i];
        var shift = ridge * trace / Math.Max(n, 1);
        var shifted = gram.ToArray();
        for (var i = 0; i < n; i++)
            shifted[(i * n) + i] += shift;
        var values = new double[n];
        var vectors = new double[n * n];
        Decompose(shifted, n, values, vectors);
        var result = new double[n * n];
        for (var j = 0; j < n; j++)
        {
            // Eigenvalues below the ridge can only be rounding (G is PSD): they are lifted to it.
            var scale = 1 / Math.Sqrt(Math.Max(values[j], Math.Max(shift, 1e-300)));
            for (var r = 0; r < n; r++)
            {
                var vr = vectors[(r * n) + j] * scale;
                for (var c = 0; c < n; c++)
                    result[(r * n) + c] += vr * vectors[(c * n) + j];
            }
        }

        return result;
    }
}
