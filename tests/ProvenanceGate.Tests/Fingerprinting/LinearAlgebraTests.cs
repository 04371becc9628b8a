using ProvenanceGate.Fingerprinting;
using ProvenanceGate.Models;

namespace ProvenanceGate.Tests.Fingerprinting;

/// <summary>The Jacobi eigen-decomposition and the GEMM kernels behind the anchor frame, against known answers.</summary>
public sealed class LinearAlgebraTests
{
    private static readonly double[] TwoByTwoValues = [3.0, 1.0];
    private static readonly double[] DiagonalValues = [5.0, 1.0, -2.0];
    private static readonly double[] DiagonalVectors = [0, 1, 0, 1, 0, 0, 0, 0, 1];
    private static readonly double[] OnesValues = [4.0, 0, 0, 0];
    private static readonly float[] OneToFour = [1, 2, 3, 4];

    [Test]
    public void Two_by_two_has_its_textbook_eigenpairs()
    {
        var values = new double[2];
        var vectors = new double[4];
        JacobiEigen.Decompose([2, 1, 1, 2], 2, values, vectors);
        Assert.That(values, Is.EqualTo(TwoByTwoValues).Within(1e-14));
        // (1, 1)/√2 for 3 and (1, -1)/√2 for 1, each up to sign.
        Assert.That(Math.Abs(vectors[0]), Is.EqualTo(Math.Sqrt(0.5)).Within(1e-14));
        Assert.That(vectors[0] * vectors[2], Is.EqualTo(0.5).Within(1e-14));
        Assert.That(vectors[1] * vectors[3], Is.EqualTo(-0.5).Within(1e-14));
    }

    [Test]
    public void Diagonal_matrix_comes_back_sorted_with_unit_vectors()
    {
        var values = new double[3];
        var vectors = new double[9];
        JacobiEigen.Decompose([1, 0, 0, 0, 5, 0, 0, 0, -2], 3, values, vectors);
        Assert.That(values, Is.EqualTo(DiagonalValues));
        Assert.That(vectors, Is.EqualTo(DiagonalVectors));
    }

    [TestCase(3)]
    [TestCase(32)]
    [TestCase(64)]
    public void Matrix_built_from_known_eigenpairs_is_recovered(int n)
    {
        // M = V diag(λ) Vᵀ for a random orthogonal V and distinct λ: the decomposition must give λ back, and V up to sign.
        var v = ResidualTransforms.RandomOrthogonal(n, 17 + n);
        var lambda = Enumerable.Range(0, n).Select(i => n - i + (0.25 * Math.Sin(i))).ToArray();
        var matrix = new double[n * n];
        for (var r = 0; r < n; r++)
        {
            for (var c = 0; c < n; c++)
            {
                for (var k = 0; k < n; k++)
                    matrix[(r * n) + c] += v[(k * n) + r] * lambda[k] * v[(k * n) + c];
            }
        }

        var values = new double[n];
        var vectors = new double[n * n];
        JacobiEigen.Decompose(matrix, n, values, vectors);
        Assert.That(values, Is.EqualTo(lambda.OrderDescending().ToArray()).Within(1e-10));
        for (var j = 0; j < n; j++)
        {
            // Eigenvector j is row k of V (the one with the j-th largest λ), up to sign.
            var k = Array.IndexOf(lambda, lambda.OrderDescending().ElementAt(j));
            double dot = 0;
            for (var i = 0; i < n; i++)
                dot += vectors[(i * n) + j] * v[(k * n) + i];
            Assert.That(Math.Abs(dot), Is.EqualTo(1).Within(1e-9), $"eigenvector {j}");
        }
    }

    [Test]
    public void Repeated_eigenvalues_still_give_an_orthonormal_basis()
    {
        var values = new double[4];
        var vectors = new double[16];
        // All ones: eigenvalues 4, 0, 0, 0.
        JacobiEigen.Decompose(Enumerable.Repeat(1.0, 16).ToArray(), 4, values, vectors);
        Assert.That(values, Is.EqualTo(OnesValues).Within(1e-12));
        for (var a = 0; a < 4; a++)
        {
            for (var b = 0; b < 4; b++)
            {
                var dot = Enumerable.Range(0, 4).Sum(i => vectors[(i * 4) + a] * vectors[(i * 4) + b]);
                Assert.That(dot, Is.EqualTo(a == b ? 1 : 0).Within(1e-12));
            }
        }
    }

    [Test]
    public void Inverse_square_root_whitens_the_ridged_matrix()
    {
        const int n = 8;
        var random = new Random(3);
        var rows = Enumerable.Range(0, n * 20).Select(_ => random.NextDouble() - 0.5).ToArray();
        var gram = new double[n * n];
        for (var a = 0; a < n; a++)
        {
            for (var b = 0; b < n; b++)
                gram[(a * n) + b] = Enumerable.Range(0, 20).Sum(t => rows[(a * 20) + t] * rows[(b * 20) + t]);
        }

        const double ridge = 0.1;
        var whiten = JacobiEigen.InverseSquareRoot(gram, n, ridge);
        var shift = ridge * Enumerable.Range(0, n).Sum(i => gram[(i * n) + i]) / n;
        // W (G + shift·I) W = I
        for (var r = 0; r < n; r++)
        {
            for (var c = 0; c < n; c++)
            {
                double sum = 0;
                for (var i = 0; i < n; i++)
                {
                    for (var j = 0; j < n; j++)
                        sum += whiten[(r * n) + i] * (gram[(i * n) + j] + (i == j ? shift : 0)) * whiten[(j * n) + c];
                }

                Assert.That(sum, Is.EqualTo(r == c ? 1 : 0).Within(1e-10));
            }
        }
    }

    [Test]
    public void Bad_shapes_are_refused()
    {
        Assert.Throws<ArgumentException>(() => JacobiEigen.Decompose(new double[6], 3, new double[3], new double[9]));
    }

    [Test]
    public void Tiled_products_match_the_scalar_reference_at_projection_sizes()
    {
        // 34 anchors by 67 rows of 2051 values: whole 4×4 tiles, left-over rows and columns, and a tail past the last vector.
        var random = new Random(11);
        float[] Values(int count) => Enumerable.Range(0, count).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
        const int k = 2051;
        var a = Values(34 * k);
        var b = Values(67 * k);
        var simd = new float[34 * 67];
        var scalar = new float[34 * 67];
        LinearAlgebraKernels.Default.MultiplyTransposed(a, b, k, simd);
        LinearAlgebraKernels.Scalar.MultiplyTransposed(a, b, k, scalar);
        Assert.That(simd, Is.EqualTo(scalar).Within(1e-4));
        Assert.Throws<ArgumentException>(() => LinearAlgebraKernels.Default.MultiplyTransposed(a, b, k, new float[(34 * 67) - 1]));
    }

    [Test]
    public void Simd_products_match_the_scalar_reference()
    {
        var random = new Random(5);
        float[] Values(int count) => Enumerable.Range(0, count).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
        var a = Values(7 * 113);
        var b = Values(5 * 113);
        var simd = new float[35];
        var scalar = new float[35];
        LinearAlgebraKernels.Default.MultiplyTransposed(a, b, 113, simd);
        LinearAlgebraKernels.Scalar.MultiplyTransposed(a, b, 113, scalar);
        Assert.That(simd, Is.EqualTo(scalar).Within(1e-5));
        // A known product: rows (1, 2) and (3, 4) against (1, 0) and (0, 1) give the matrix itself.
        var identity = new float[4];
        LinearAlgebraKernels.Default.MultiplyTransposed([1, 2, 3, 4], [1, 0, 0, 1], 2, identity);
        Assert.That(identity, Is.EqualTo(OneToFour));

        var x = Values(6);
        var y = Values(37);
        var outerSimd = Values(6 * 37);
        var outerScalar = (float[])outerSimd.Clone();
        LinearAlgebraKernels.Default.AccumulateOuter(x, y, outerSimd);
        LinearAlgebraKernels.Scalar.AccumulateOuter(x, y, outerScalar);
        Assert.That(outerSimd, Is.EqualTo(outerScalar).Within(1e-6));
    }
}
