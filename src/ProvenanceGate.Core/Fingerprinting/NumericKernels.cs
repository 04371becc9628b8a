using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace ProvenanceGate.Fingerprinting;

/// <summary>
/// The numeric inner loops of fingerprinting. Two implementations: a SIMD one (System.Numerics.Tensors) used in
/// production and a plain scalar one that the tests use as the reference; a GPU backend can slot in here later.
/// </summary>
public interface INumericKernels
{
    double Dot(ReadOnlySpan<float> x, ReadOnlySpan<float> y);

    double SumOfSquares(ReadOnlySpan<float> x);

    /// <summary>Sum of squares of bfloat16 values read straight from their bytes (no float copy).</summary>
    double SumOfSquaresBF16(ReadOnlySpan<byte> source);

    /// <summary>Pearson correlation; NaN when either side has (near) zero variance or the lengths are under 2.</summary>
    double Pearson(ReadOnlySpan<float> x, ReadOnlySpan<float> y);

    void ConvertF16(ReadOnlySpan<byte> source, Span<float> destination);

    void ConvertBF16(ReadOnlySpan<byte> source, Span<float> destination);

    void ConvertF8E4M3(ReadOnlySpan<byte> source, Span<float> destination);

    void ConvertF8E5M2(ReadOnlySpan<byte> source, Span<float> destination);

    /// <summary>gram[a*k+b] += x[a]*x[b] for the k values of x (a rank-1 update of a k×k Gram matrix).</summary>
    void AccumulateGram(ReadOnlySpan<float> x, Span<double> gram);

    /// <summary>
    /// gram[a*k+b] += sum_r X[r,a]*X[r,b] for a block X of n rows held column-major (columns.Length = k*n):
    /// the blocked form of <see cref="AccumulateGram"/>, one vectorised dot product per entry.
    /// </summary>
    void AccumulateGramColumns(ReadOnlySpan<float> columns, int k, Span<double> gram);
}

public static class NumericKernels
{
    public static INumericKernels Default { get; } = new SimdNumericKernels();

    public static INumericKernels Scalar { get; } = new ScalarNumericKernels();

    internal static float[] E4M3Table { get; } = BuildTable(DecodeE4M3);

    internal static float[] E5M2Table { get; } = BuildTable(DecodeE5M2);

    private static float[] BuildTable(Func<byte, float> decode)
    {
        var table = new float[256];
        for (var i = 0; i < 256; i++)
            table[i] = decode((byte)i);
        return table;
    }

    /// <summary>OCP FP8 E4M3 (the "fn" variant safetensors uses): bias 7, no infinities, S.1111.111 is NaN.</summary>
    internal static float DecodeE4M3(byte b)
    {
        var sign = (b & 0x80) != 0 ? -1f : 1f;
        var exponent = (b >> 3) & 0xF;
        var mantissa = b & 0x7;
        if (exponent == 0xF && mantissa == 0x7)
            return float.NaN;
        if (exponent == 0)
            return sign * mantissa / 8f * MathF.Pow(2, -6);
        return sign * (1 + (mantissa / 8f)) * MathF.Pow(2, exponent - 7);
    }

    /// <summary>FP8 E5M2: bias 15, IEEE-like (infinities and NaNs at exponent 31).</summary>
    internal static float DecodeE5M2(byte b)
    {
        var sign = (b & 0x80) != 0 ? -1f : 1f;
        var exponent = (b >> 2) & 0x1F;
        var mantissa = b & 0x3;
        if (exponent == 0x1F)
            return mantissa == 0 ? sign * float.PositiveInfinity : float.NaN;
        if (exponent == 0)
            return sign * mantissa / 4f * MathF.Pow(2, -14);
        return sign * (1 + (mantissa / 4f)) * MathF.Pow(2, exponent - 15);
    }
}

internal sealed class SimdNumericKernels : INumericKernels
{
    private const int Tile = 4;

    /// <summary>
    /// The upper triangle in 4×4 tiles of columns where 512-bit vectors are available: 16 accumulators stay in
    /// registers and every loaded vector feeds four FMAs, where one dot product per entry loads two vectors per FMA
    /// (the Gram is otherwise as costly as hashing the tensor). Columns left over from the tiling use plain dots.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public void AccumulateGramColumns(ReadOnlySpan<float> columns, int k, Span<double> gram)
    {
        if (k == 0)
            return;
        var n = columns.Length / k;
        var tiled = Vector512.IsHardwareAccelerated && n >= 16 ? k / Tile * Tile : 0;
        for (var a = 0; a < tiled; a += Tile)
        {
            for (var b = a; b < tiled; b += Tile)
                AccumulateTile(columns, n, k, a, b, gram);
        }

        for (var a = 0; a < k; a++)
        {
            var columnA = columns.Slice(a * n, n);
            for (var b = Math.Max(a, tiled); b < k; b++)
            {
                var dot = DotCore(columnA, columns.Slice(b * n, n));
                gram[(a * k) + b] += dot;
                if (a != b)
                    gram[(b * k) + a] += dot;
            }
        }
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void AccumulateTile(ReadOnlySpan<float> columns, int n, int k, int a, int b, Span<double> gram)
    {
        ref var start = ref MemoryMarshal.GetReference(columns);
        ref var a0 = ref System.Runtime.CompilerServices.Unsafe.Add(ref start, a * n);
        ref var a1 = ref System.Runtime.CompilerServices.Unsafe.Add(ref a0, n);
        ref var a2 = ref System.Runtime.CompilerServices.Unsafe.Add(ref a1, n);
        ref var a3 = ref System.Runtime.CompilerServices.Unsafe.Add(ref a2, n);
        ref var b0 = ref System.Runtime.CompilerServices.Unsafe.Add(ref start, b * n);
        ref var b1 = ref System.Runtime.CompilerServices.Unsafe.Add(ref b0, n);
        ref var b2 = ref System.Runtime.CompilerServices.Unsafe.Add(ref b1, n);
        ref var b3 = ref System.Runtime.CompilerServices.Unsafe.Add(ref b2, n);
        Vector512<float> c00 = default, c01 = default, c02 = default, c03 = default, c10 = default, c11 = default, c12 = default, c13 = default;
        Vector512<float> c20 = default, c21 = default, c22 = default, c23 = default, c30 = default, c31 = default, c32 = default, c33 = default;
        var i = 0;
        for (; i + 16 <= n; i += 16)
        {
            var offset = (nuint)i;
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

        Span<double> tile =
        [
            Sum(c00), Sum(c01), Sum(c02), Sum(c03), Sum(c10), Sum(c11), Sum(c12), Sum(c13),
            Sum(c20), Sum(c21), Sum(c22), Sum(c23), Sum(c30), Sum(c31), Sum(c32), Sum(c33),
        ];
        for (; i < n; i++)
        {
            for (var x = 0; x < Tile; x++)
            {
                for (var y = 0; y < Tile; y++)
                    tile[(x * Tile) + y] += (double)columns[((a + x) * n) + i] * columns[((b + y) * n) + i];
            }
        }

        for (var x = 0; x < Tile; x++)
        {
            for (var y = 0; y < Tile; y++)
            {
                // A tile on the diagonal holds both (x, y) and (y, x): mirroring it would count them twice.
                gram[((a + x) * k) + b + y] += tile[(x * Tile) + y];
                if (a != b)
                    gram[((b + y) * k) + a + x] += tile[(x * Tile) + y];
            }
        }
    }

    private static double Sum(Vector512<float> value)
    {
        var (low, high) = Vector512.Widen(value);
        return Vector512.Sum(low + high);
    }

    public double Dot(ReadOnlySpan<float> x, ReadOnlySpan<float> y) => DotCore(x, y);

    public double SumOfSquares(ReadOnlySpan<float> x) => DotCore(x, x);

    /// <summary>
    /// Widens 32 values per step in registers (bfloat16 is the top half of a float32) into four float32 FMA
    /// accumulators, folded in double like <see cref="DotCore"/>: this is the per-row work of every large tensor.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public double SumOfSquaresBF16(ReadOnlySpan<byte> source)
    {
        var input = MemoryMarshal.Cast<byte, ushort>(source);
        var n = input.Length;
        var i = 0;
        double sum = 0;
        ref var from = ref MemoryMarshal.GetReference(input);
        if (Vector512.IsHardwareAccelerated && n >= 64)
        {
            Vector512<float> s0 = default, s1 = default, s2 = default, s3 = default;
            for (; i + 64 <= n; i += 64)
            {
                var (fa, fb) = BFloat16ToSingleUnordered(Vector512.LoadUnsafe(ref from, (nuint)i));
                var (fc, fd) = BFloat16ToSingleUnordered(Vector512.LoadUnsafe(ref from, (nuint)i + 32));
                s0 = Vector512.FusedMultiplyAdd(fa, fa, s0);
                s1 = Vector512.FusedMultiplyAdd(fb, fb, s1);
                s2 = Vector512.FusedMultiplyAdd(fc, fc, s2);
                s3 = Vector512.FusedMultiplyAdd(fd, fd, s3);
            }

            var (low, high) = Vector512.Widen((s0 + s1) + (s2 + s3));
            sum = Vector512.Sum(low + high);
        }
        else if (Vector256.IsHardwareAccelerated && n >= 32)
        {
            Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default;
            for (; i + 32 <= n; i += 32)
            {
                var (a, b) = Vector256.Widen(Vector256.LoadUnsafe(ref from, (nuint)i));
                var (c, d) = Vector256.Widen(Vector256.LoadUnsafe(ref from, (nuint)i + 16));
                var fa = Vector256.ShiftLeft(a, 16).AsSingle();
                var fb = Vector256.ShiftLeft(b, 16).AsSingle();
                var fc = Vector256.ShiftLeft(c, 16).AsSingle();
                var fd = Vector256.ShiftLeft(d, 16).AsSingle();
                s0 = Vector256.FusedMultiplyAdd(fa, fa, s0);
                s1 = Vector256.FusedMultiplyAdd(fb, fb, s1);
                s2 = Vector256.FusedMultiplyAdd(fc, fc, s2);
                s3 = Vector256.FusedMultiplyAdd(fd, fd, s3);
            }

            var (low, high) = Vector256.Widen((s0 + s1) + (s2 + s3));
            sum = Vector256.Sum(low + high);
        }

        for (; i < n; i++)
        {
            double value = BitConverter.UInt32BitsToSingle((uint)input[i] << 16);
            sum += value * value;
        }

        return sum;
    }

    /// <summary>
    /// 32 bfloat16 values as two vectors of float32, in an interleaved order (for sums that do not care): each value
    /// becomes the top half of a float32 in place, one unpack per 16 values where the machine has AVX-512 BW.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    internal static (Vector512<float> A, Vector512<float> B) BFloat16ToSingleUnordered(Vector512<ushort> values)
    {
        if (System.Runtime.Intrinsics.X86.Avx512BW.IsSupported)
            return (System.Runtime.Intrinsics.X86.Avx512BW.UnpackLow(Vector512<ushort>.Zero, values).AsSingle(), System.Runtime.Intrinsics.X86.Avx512BW.UnpackHigh(Vector512<ushort>.Zero, values).AsSingle());
        var (low, high) = Vector512.Widen(values);
        return (Vector512.ShiftLeft(low, 16).AsSingle(), Vector512.ShiftLeft(high, 16).AsSingle());
    }

    /// <summary>
    /// Four float32 FMA accumulators (512-bit where the machine has them, else 256-bit), folded in double. Written out rather than calling
    /// TensorPrimitives because this is called per row: the generic library code starts unoptimised (tier 0) in a
    /// short CLI run, and AggressiveOptimization here gets the vector loop compiled fully on first use.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    internal static double DotCore(ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        if (x.Length != y.Length)
            throw new ArgumentException("lengths differ", nameof(y));
        var n = x.Length;
        var i = 0;
        double sum = 0;
        ref var px = ref MemoryMarshal.GetReference(x);
        ref var py = ref MemoryMarshal.GetReference(y);
        if (Vector512.IsHardwareAccelerated && n >= 64)
        {
            Vector512<float> s0 = default, s1 = default, s2 = default, s3 = default;
            for (; i + 64 <= n; i += 64)
            {
                var offset = (nuint)i;
                s0 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref px, offset), Vector512.LoadUnsafe(ref py, offset), s0);
                s1 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref px, offset + 16), Vector512.LoadUnsafe(ref py, offset + 16), s1);
                s2 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref px, offset + 32), Vector512.LoadUnsafe(ref py, offset + 32), s2);
                s3 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref px, offset + 48), Vector512.LoadUnsafe(ref py, offset + 48), s3);
            }

            var (low, high) = Vector512.Widen((s0 + s1) + (s2 + s3));
            sum = Vector512.Sum(low + high);
        }
        else if (Vector256.IsHardwareAccelerated && n >= 32)
        {
            Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default;
            for (; i + 32 <= n; i += 32)
            {
                var offset = (nuint)i;
                s0 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref px, offset), Vector256.LoadUnsafe(ref py, offset), s0);
                s1 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref px, offset + 8), Vector256.LoadUnsafe(ref py, offset + 8), s1);
                s2 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref px, offset + 16), Vector256.LoadUnsafe(ref py, offset + 16), s2);
                s3 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref px, offset + 24), Vector256.LoadUnsafe(ref py, offset + 24), s3);
            }

            var (low, high) = Vector256.Widen((s0 + s1) + (s2 + s3));
            sum = Vector256.Sum(low + high);
        }

        for (; i < n; i++)
            sum += (double)x[i] * y[i];
        return sum;
    }

    public double Pearson(ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        if (x.Length != y.Length)
            throw new ArgumentException("lengths differ", nameof(y));
        var n = x.Length;
        if (n < 2)
            return double.NaN;
        // Single-precision sums lose digits on long vectors; the means are taken in float but the centred
        // moments are accumulated per block in double.
        double sx = TensorPrimitives.Sum(x), sy = TensorPrimitives.Sum(y);
        var mx = (float)(sx / n);
        var my = (float)(sy / n);
        double sxx = 0, syy = 0, sxy = 0;
        Span<float> cx = stackalloc float[256];
        Span<float> cy = stackalloc float[256];
        for (var start = 0; start < n; start += 256)
        {
            var length = Math.Min(256, n - start);
            var bx = cx[..length];
            var by = cy[..length];
            TensorPrimitives.Subtract(x.Slice(start, length), mx, bx);
            TensorPrimitives.Subtract(y.Slice(start, length), my, by);
            sxx += TensorPrimitives.SumOfSquares(bx);
            syy += TensorPrimitives.SumOfSquares(by);
            sxy += TensorPrimitives.Dot(bx, by);
        }

        return Correlation(sxx, syy, sxy);
    }

    internal static double Correlation(double sxx, double syy, double sxy)
    {
        if (sxx <= 1e-20 || syy <= 1e-20)
            return double.NaN;
        return Math.Clamp(sxy / Math.Sqrt(sxx * syy), -1, 1);
    }

    public void ConvertF16(ReadOnlySpan<byte> source, Span<float> destination) =>
        TensorPrimitives.ConvertToSingle(MemoryMarshal.Cast<byte, Half>(source), destination);

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public void ConvertBF16(ReadOnlySpan<byte> source, Span<float> destination)
    {
        // bfloat16 is the top half of a float32: widen to 32 bits and shift, 16 values per step.
        var input = MemoryMarshal.Cast<byte, ushort>(source);
        var output = MemoryMarshal.Cast<float, uint>(destination);
        if (output.Length < input.Length)
            throw new ArgumentException("destination is too short", nameof(destination));
        var i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            // Unchecked loads and stores (lengths checked above): the per-slice bounds checks cost as much as the work.
            ref var from = ref MemoryMarshal.GetReference(input);
            ref var to = ref MemoryMarshal.GetReference(output);
            for (; i + 32 <= input.Length; i += 32)
            {
                var offset = (nuint)i;
                var (a, b) = Vector256.Widen(Vector256.LoadUnsafe(ref from, offset));
                var (c, d) = Vector256.Widen(Vector256.LoadUnsafe(ref from, offset + 16));
                Vector256.ShiftLeft(a, 16).StoreUnsafe(ref to, offset);
                Vector256.ShiftLeft(b, 16).StoreUnsafe(ref to, offset + 8);
                Vector256.ShiftLeft(c, 16).StoreUnsafe(ref to, offset + 16);
                Vector256.ShiftLeft(d, 16).StoreUnsafe(ref to, offset + 24);
            }
        }

        for (; i < input.Length; i++)
            output[i] = (uint)input[i] << 16;
    }

    public void ConvertF8E4M3(ReadOnlySpan<byte> source, Span<float> destination) => Lookup(source, destination, NumericKernels.E4M3Table);

    public void ConvertF8E5M2(ReadOnlySpan<byte> source, Span<float> destination) => Lookup(source, destination, NumericKernels.E5M2Table);

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void Lookup(ReadOnlySpan<byte> source, Span<float> destination, float[] table)
    {
        for (var i = 0; i < source.Length; i++)
            destination[i] = table[source[i]];
    }

    public void AccumulateGram(ReadOnlySpan<float> x, Span<double> gram)
    {
        var k = x.Length;
        Span<float> row = stackalloc float[k];
        for (var a = 0; a < k; a++)
        {
            TensorPrimitives.Multiply(x, x[a], row);
            var target = gram.Slice(a * k, k);
            for (var b = 0; b < k; b++)
                target[b] += row[b];
        }
    }
}

/// <summary>Straightforward loops in double precision: the reference the SIMD kernels are tested against.</summary>
internal sealed class ScalarNumericKernels : INumericKernels
{
    public void AccumulateGramColumns(ReadOnlySpan<float> columns, int k, Span<double> gram)
    {
        if (k == 0)
            return;
        var n = columns.Length / k;
        Span<float> row = new float[k];
        for (var r = 0; r < n; r++)
        {
            for (var a = 0; a < k; a++)
                row[a] = columns[(a * n) + r];
            AccumulateGram(row, gram);
        }
    }

    public double Dot(ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        double sum = 0;
        for (var i = 0; i < x.Length; i++)
            sum += (double)x[i] * y[i];
        return sum;
    }

    public double SumOfSquares(ReadOnlySpan<float> x) => Dot(x, x);

    public double SumOfSquaresBF16(ReadOnlySpan<byte> source)
    {
        var values = new float[source.Length / 2];
        ConvertBF16(source, values);
        return SumOfSquares(values);
    }

    public double Pearson(ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        if (x.Length != y.Length)
            throw new ArgumentException("lengths differ", nameof(y));
        var n = x.Length;
        if (n < 2)
            return double.NaN;
        double mx = 0, my = 0;
        for (var i = 0; i < n; i++)
        {
            mx += x[i];
            my += y[i];
        }

        mx /= n;
        my /= n;
        double sxx = 0, syy = 0, sxy = 0;
        for (var i = 0; i < n; i++)
        {
            var dx = x[i] - mx;
            var dy = y[i] - my;
            sxx += dx * dx;
            syy += dy * dy;
            sxy += dx * dy;
        }

        return SimdNumericKernels.Correlation(sxx, syy, sxy);
    }

    public void ConvertF16(ReadOnlySpan<byte> source, Span<float> destination)
    {
        for (var i = 0; i < destination.Length; i++)
            destination[i] = (float)BitConverter.UInt16BitsToHalf((ushort)(source[2 * i] | (source[(2 * i) + 1] << 8)));
    }

    public void ConvertBF16(ReadOnlySpan<byte> source, Span<float> destination)
    {
        for (var i = 0; i < destination.Length; i++)
            destination[i] = BitConverter.UInt32BitsToSingle((uint)(source[2 * i] | (source[(2 * i) + 1] << 8)) << 16);
    }

    public void ConvertF8E4M3(ReadOnlySpan<byte> source, Span<float> destination)
    {
        for (var i = 0; i < source.Length; i++)
            destination[i] = NumericKernels.DecodeE4M3(source[i]);
    }

    public void ConvertF8E5M2(ReadOnlySpan<byte> source, Span<float> destination)
    {
        for (var i = 0; i < source.Length; i++)
            destination[i] = NumericKernels.DecodeE5M2(source[i]);
    }

    public void AccumulateGram(ReadOnlySpan<float> x, Span<double> gram)
    {
        var k = x.Length;
        for (var a = 0; a < k; a++)
        {
            for (var b = 0; b < k; b++)
                gram[(a * k) + b] += (double)x[a] * x[b];
        }
    }
}
