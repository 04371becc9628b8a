using ProvenanceGate.Fingerprinting;
using ProvenanceGate.Formats.Safetensors;

namespace ProvenanceGate.Models;

/// <summary>
/// Function-preserving transforms of the residual stream of a pre-norm decoder (RMSNorm, Llama layout), as
/// QuaRot, SpinQuant and SliceGPT apply them to published models: a permutation of the residual coordinates, and
/// norm-gain folding followed by an orthogonal rotation Q. Every tensor is rewritten; the outputs stay the same.
/// </summary>
public static class ResidualTransforms
{
    /// <summary>
    /// Moves residual coordinate i to <paramref name="permutation"/>[i] everywhere: embedding and LM-head columns,
    /// norm gains, the columns of every matrix that reads the residual and the rows of every matrix that writes it.
    /// </summary>
    public static List<NamedTensor> PermuteResidual(IReadOnlyList<NamedTensor> tensors, int[] permutation)
    {
        var d = permutation.Length;
        var q = new double[d * d];
        for (var i = 0; i < d; i++)
            q[(permutation[i] * d) + i] = 1;
        // A permutation commutes with a diagonal gain, so nothing needs folding: gains are permuted instead.
        return Transform(tensors, q, d, fold: false);
    }

    /// <summary>Folds every norm gain into the matrices that read through it (gains become 1), then rotates the residual by <paramref name="q"/> (d×d, row-major, orthogonal).</summary>
    public static List<NamedTensor> FoldAndRotate(IReadOnlyList<NamedTensor> tensors, double[] q, int width) => Transform(tensors, q, width, fold: true);

    /// <summary>A Haar-like random orthogonal matrix: Gram-Schmidt on a seeded Gaussian matrix, in double.</summary>
    public static double[] RandomOrthogonal(int d, int seed)
    {
        var random = new Random(seed);
        var q = new double[d * d];
        for (var i = 0; i < q.Length; i++)
            q[i] = SyntheticDerivatives.Gaussian(random);
        for (var r = 0; r < d; r++)
        {
            // Two passes of modified Gram-Schmidt keep the rows orthonormal to rounding.
            for (var pass = 0; pass < 2; pass++)
            {
                for (var p = 0; p < r; p++)
                {
                    double dot = 0;
                    for (var c = 0; c < d; c++)
                        dot += q[(r * d) + c] * q[(p * d) + c];
                    for (var c = 0; c < d; c++)
                        q[(r * d) + c] -= dot * q[(p * d) + c];
                }
            }

            double norm = 0;
            for (var c = 0; c < d; c++)
                norm += q[(r * d) + c] * q[(r * d) + c];
            norm = Math.Sqrt(norm);
            for (var c = 0; c < d; c++)
                q[(r * d) + c] /= norm;
        }

        return q;
    }

    /// <summary>A seeded random permutation of 0..n-1.</summary>
    public static int[] RandomPermutation(int n, int seed)
    {
        var permutation = Enumerable.Range(0, n).ToArray();
        new Random(seed).Shuffle(permutation);
        return permutation;
    }

    private static List<NamedTensor> Transform(IReadOnlyList<NamedTensor> tensors, double[] q, int d, bool fold)
    {
        var roles = tensors.ToDictionary(t => t.Name, t => TensorRoles.Resolve(t.Name), StringComparer.Ordinal);
        var gains = tensors.Where(t => roles[t.Name].Role == TensorRole.Norm && t.Shape.Length == 1 && t.Shape[0] == d).ToList();
        float[]? Gain(string? layerKey, bool mlp) => gains.FirstOrDefault(g => roles[g.Name].LayerKey == layerKey && (layerKey is null || TensorRoles.IsPreMlpNorm(g.Name) == mlp))?.Values;

        var result = new List<NamedTensor>();
        foreach (var tensor in tensors)
        {
            var role = roles[tensor.Name];
            if (role.Role == TensorRole.Norm && tensor.Shape.Length == 1 && tensor.Shape[0] == d)
            {
                result.Add(tensor with { Values = fold ? Enumerable.Repeat(1f, d).ToArray() : ApplyToVector(tensor.Values, q, d) });
                continue;
            }

            if (tensor.Shape.Length != 2)
            {
                result.Add(tensor);
                continue;
            }

            // Readers (embedding rows, LM head, q/k/v, gate/up) have the residual as columns: W·diag(g)·Qᵀ.
            // Writers (o, down) have it as rows: Q·W.
            float[]? gain = role.Role switch
            {
                TensorRole.LmHead => Gain(null, false),
                TensorRole.Query or TensorRole.Key or TensorRole.Value or TensorRole.QueryKeyValue => Gain(role.LayerKey, false),
                TensorRole.Gate or TensorRole.Up or TensorRole.GateUp => Gain(role.LayerKey, true),
                _ => null,
            };
            var values = role.Role switch
            {
                TensorRole.Embedding or TensorRole.LmHead or TensorRole.Query or TensorRole.Key or TensorRole.Value or TensorRole.QueryKeyValue
                    or TensorRole.Gate or TensorRole.Up or TensorRole.GateUp => RotateColumns(tensor, fold ? gain : null, q, d),
                TensorRole.AttentionOutput or TensorRole.Down => RotateRows(tensor, q, d),
                _ => tensor.Values,
            };
            result.Add(tensor with { Values = values });
        }

        return result;
    }

    private static float[] ApplyToVector(float[] values, double[] q, int d)
    {
        var result = new float[d];
        for (var r = 0; r < d; r++)
        {
            double sum = 0;
            for (var c = 0; c < d; c++)
                sum += q[(r * d) + c] * values[c];
            result[r] = (float)sum;
        }

        return result;
    }

    private static float[] RotateColumns(NamedTensor tensor, float[]? gain, double[] q, int d)
    {
        var rows = (int)tensor.Shape[0];
        if (tensor.Shape[1] != d)
            throw new ArgumentException($"{tensor.Name}: expected {d} columns");
        var result = new float[tensor.Values.Length];
        var scaled = new double[d];
        for (var r = 0; r < rows; r++)
        {
            for (var c = 0; c < d; c++)
                scaled[c] = tensor.Values[(r * d) + c] * (gain is null ? 1.0 : gain[c]);
            // (W·diag(g)·Qᵀ)[r, i] = Σ_c W'[r, c]·Q[i, c]
            for (var i = 0; i < d; i++)
            {
                double sum = 0;
                for (var c = 0; c < d; c++)
                    sum += scaled[c] * q[(i * d) + c];
                result[(r * d) + i] = (float)sum;
            }
        }

        return result;
    }

    private static float[] RotateRows(NamedTensor tensor, double[] q, int d)
    {
        var columns = (int)tensor.Shape[1];
        if (tensor.Shape[0] != d)
            throw new ArgumentException($"{tensor.Name}: expected {d} rows");
        var result = new float[tensor.Values.Length];
        for (var i = 0; i < d; i++)
        {
            for (var c = 0; c < columns; c++)
            {
                double sum = 0;
                for (var r = 0; r < d; r++)
                    sum += q[(i * d) + r] * tensor.Values[(r * columns) + c];
                result[(i * columns) + c] = (float)sum;
            }
        }

        return result;
    }
}
