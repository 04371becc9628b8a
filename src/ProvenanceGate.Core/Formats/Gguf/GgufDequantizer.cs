using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Microsoft.Win32.SafeHandles;
using ProvenanceGate.Fingerprinting;
using ProvenanceGate.Formats.Weights;

namespace ProvenanceGate.Formats.Gguf;

/// <summary>ggml tensor types (ggml.h <c>ggml_type</c>); the numbers are what GGUF stores, the names ggml's.</summary>
#pragma warning disable CA1707 // ggml's own spelling (Q4_K) is what users see in reports and file names
public enum GgmlType
{
    F32 = 0,
    F16 = 1,
    Q4_0 = 2,
    Q4_1 = 3,
    Q5_0 = 6,
    Q5_1 = 7,
    Q8_0 = 8,
    Q8_1 = 9,
    Q2_K = 10,
    Q3_K = 11,
    Q4_K = 12,
    Q5_K = 13,
    Q6_K = 14,
    Q8_K = 15,
    IQ2_XXS = 16,
    IQ2_XS = 17,
    IQ3_XXS = 18,
    IQ1_S = 19,
    IQ4_NL = 20,
    IQ3_S = 21,
    IQ2_S = 22,
    IQ4_XS = 23,
    I8 = 24,
    I16 = 25,
    I32 = 26,
    I64 = 27,
    F64 = 28,
    IQ1_M = 29,
    BF16 = 30,
    TQ1_0 = 34,
    TQ2_0 = 35,
    MXFP4 = 39,
}
#pragma warning restore CA1707

/// <summary>Elements per block and bytes per block (ggml's <c>type_traits</c>).</summary>
public readonly record struct GgmlLayout(int BlockSize, int BlockBytes)
{
    public long RowBytes(long rowLength) => rowLength / BlockSize * BlockBytes;
}

public static class GgmlTypes
{
    public const int QK = 32;
    public const int QKK = 256;

    public static GgmlLayout Layout(GgmlType type) => type switch
    {
        GgmlType.F32 or GgmlType.I32 => new(1, 4),
        GgmlType.F16 or GgmlType.BF16 or GgmlType.I16 => new(1, 2),
        GgmlType.I8 => new(1, 1),
        GgmlType.I64 or GgmlType.F64 => new(1, 8),
        GgmlType.Q4_0 => new(QK, 18),
        GgmlType.Q4_1 => new(QK, 20),
        GgmlType.Q5_0 => new(QK, 22),
        GgmlType.Q5_1 => new(QK, 24),
        GgmlType.Q8_0 => new(QK, 34),
        GgmlType.Q8_1 => new(QK, 36),
        GgmlType.Q2_K => new(QKK, 84),
        GgmlType.Q3_K => new(QKK, 110),
        GgmlType.Q4_K => new(QKK, 144),
        GgmlType.Q5_K => new(QKK, 176),
        GgmlType.Q6_K => new(QKK, 210),
        GgmlType.Q8_K => new(QKK, 292),
        GgmlType.IQ2_XXS => new(QKK, 66),
        GgmlType.IQ2_XS => new(QKK, 74),
        GgmlType.IQ3_XXS => new(QKK, 98),
        GgmlType.IQ1_S => new(QKK, 50),
        GgmlType.IQ4_NL => new(QK, 18),
        GgmlType.IQ3_S => new(QKK, 110),
        GgmlType.IQ2_S => new(QKK, 82),
        GgmlType.IQ4_XS => new(QKK, 136),
        GgmlType.IQ1_M => new(QKK, 56),
        GgmlType.TQ1_0 => new(QKK, 54),
        GgmlType.TQ2_0 => new(QKK, 66),
        GgmlType.MXFP4 => new(QK, 17),
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    /// <summary>The types whose values are read (the weight types llama.cpp's converter and quantiser write for these formats).</summary>
    public static bool IsDecodable(GgmlType type) => type is GgmlType.F32 or GgmlType.F16 or GgmlType.BF16
        or GgmlType.Q4_0 or GgmlType.Q4_1 or GgmlType.Q5_0 or GgmlType.Q5_1 or GgmlType.Q8_0
        or GgmlType.Q2_K or GgmlType.Q3_K or GgmlType.Q4_K or GgmlType.Q5_K or GgmlType.Q6_K;
}

/// <summary>
/// ggml's reference <c>dequantize_row_*</c> (ggml-quants.c), value for value: same block layouts, same float
/// arithmetic order, so our floats are the ones llama.cpp computes.
/// </summary>
public static class GgufDequantizer
{
    /// <summary>Decodes whole blocks of <paramref name="type"/> from <paramref name="source"/> into <paramref name="destination"/> (its length a multiple of the block size).</summary>
    public static void Dequantize(GgmlType type, ReadOnlySpan<byte> source, Span<float> destination, INumericKernels? kernels = null)
    {
        var layout = GgmlTypes.Layout(type);
        var blocks = destination.Length / layout.BlockSize;
        if (destination.Length % layout.BlockSize != 0 || source.Length < (long)blocks * layout.BlockBytes)
            throw new ArgumentException("source and destination do not hold whole blocks");
        switch (type)
        {
            case GgmlType.F32:
                MemoryMarshal.Cast<byte, float>(source[..(destination.Length * 4)]).CopyTo(destination);
                break;
            case GgmlType.F16:
                (kernels ?? NumericKernels.Default).ConvertF16(source[..(destination.Length * 2)], destination);
                break;
            case GgmlType.BF16:
                (kernels ?? NumericKernels.Default).ConvertBF16(source[..(destination.Length * 2)], destination);
                break;
            case GgmlType.Q8_0 when Vector256.IsHardwareAccelerated:
                Q8_0Vectorised(source, destination, blocks);
                break;
            default:
                for (var b = 0; b < blocks; b++)
                    DequantizeBlock(type, source.Slice(b * layout.BlockBytes, layout.BlockBytes), destination.Slice(b * layout.BlockSize, layout.BlockSize));
                break;
        }
    }

    private static void DequantizeBlock(GgmlType type, ReadOnlySpan<byte> x, Span<float> y)
    {
        switch (type)
        {
            case GgmlType.Q4_0: Q4_0(x, y); break;
            case GgmlType.Q4_1: Q4_1(x, y); break;
            case GgmlType.Q5_0: Q5_0(x, y); break;
            case GgmlType.Q5_1: Q5_1(x, y); break;
            case GgmlType.Q8_0: Q8_0(x, y); break;
            case GgmlType.Q2_K: Q2_K(x, y); break;
            case GgmlType.Q3_K: Q3_K(x, y); break;
            case GgmlType.Q4_K: Q4_K(x, y); break;
            case GgmlType.Q5_K: Q5_K(x, y); break;
            case GgmlType.Q6_K: Q6_K(x, y); break;
            default: throw new NotSupportedException($"ggml type {type} is not dequantised");
        }
    }

    private static float Half(ReadOnlySpan<byte> x, int offset) => (float)BinaryPrimitives.ReadHalfLittleEndian(x[offset..]);

    // block_q4_0 { half d; uint8 qs[16]; }
    private static void Q4_0(ReadOnlySpan<byte> x, Span<float> y)
    {
        var d = Half(x, 0);
        var qs = x.Slice(2, 16);
        for (var j = 0; j < 16; j++)
        {
            y[j] = ((qs[j] & 0x0F) - 8) * d;
            y[j + 16] = ((qs[j] >> 4) - 8) * d;
        }
    }

    // block_q4_1 { half d; half m; uint8 qs[16]; }
    private static void Q4_1(ReadOnlySpan<byte> x, Span<float> y)
    {
        var d = Half(x, 0);
        var m = Half(x, 2);
        var qs = x.Slice(4, 16);
        for (var j = 0; j < 16; j++)
        {
            y[j] = ((qs[j] & 0x0F) * d) + m;
            y[j + 16] = ((qs[j] >> 4) * d) + m;
        }
    }

    // block_q5_0 { half d; uint8 qh[4]; uint8 qs[16]; }
    private static void Q5_0(ReadOnlySpan<byte> x, Span<float> y)
    {
        var d = Half(x, 0);
        var qh = BinaryPrimitives.ReadUInt32LittleEndian(x[2..]);
        var qs = x.Slice(6, 16);
        for (var j = 0; j < 16; j++)
        {
            var xh0 = (int)(((qh >> j) << 4) & 0x10);
            var xh1 = (int)((qh >> (j + 12)) & 0x10);
            y[j] = (((qs[j] & 0x0F) | xh0) - 16) * d;
            y[j + 16] = (((qs[j] >> 4) | xh1) - 16) * d;
        }
    }

    // block_q5_1 { half d; half m; uint8 qh[4]; uint8 qs[16]; }
    private static void Q5_1(ReadOnlySpan<byte> x, Span<float> y)
    {
        var d = Half(x, 0);
        var m = Half(x, 2);
        var qh = BinaryPrimitives.ReadUInt32LittleEndian(x[4..]);
        var qs = x.Slice(8, 16);
        for (var j = 0; j < 16; j++)
        {
            var xh0 = (int)(((qh >> j) << 4) & 0x10);
            var xh1 = (int)((qh >> (j + 12)) & 0x10);
            y[j] = (((qs[j] & 0x0F) | xh0) * d) + m;
            y[j + 16] = (((qs[j] >> 4) | xh1) * d) + m;
        }
    }

    // block_q8_0 { half d; int8 qs[32]; }
    private static void Q8_0(ReadOnlySpan<byte> x, Span<float> y)
    {
        var d = Half(x, 0);
        var qs = MemoryMarshal.Cast<byte, sbyte>(x.Slice(2, 32));
        for (var j = 0; j < 32; j++)
            y[j] = qs[j] * d;
    }

    /// <summary>Q8_0 eight lanes at a time: the same products (int8 times the block's scale, one rounding each) as <see cref="Q8_0"/>.</summary>
    private static void Q8_0Vectorised(ReadOnlySpan<byte> source, Span<float> destination, int blocks)
    {
        // Dequantize checked that source holds every block: the loads below run unchecked.
        ref var output = ref MemoryMarshal.GetReference(destination);
        ref var input = ref MemoryMarshal.GetReference(source);
        for (var b = 0; b < blocks; b++)
        {
            ref var block = ref Unsafe.Add(ref input, b * 34);
            var d = Vector256.Create((float)Unsafe.ReadUnaligned<Half>(ref block));
            var quants = Vector256.LoadUnsafe(ref Unsafe.As<byte, sbyte>(ref Unsafe.Add(ref block, 2)));
            var (low, high) = Vector256.Widen(quants);
            var (a, bb) = Vector256.Widen(low);
            var (c, e) = Vector256.Widen(high);
            ref var target = ref Unsafe.Add(ref output, b * 32);
            (Vector256.ConvertToSingle(a) * d).StoreUnsafe(ref target);
            (Vector256.ConvertToSingle(bb) * d).StoreUnsafe(ref target, 8);
            (Vector256.ConvertToSingle(c) * d).StoreUnsafe(ref target, 16);
            (Vector256.ConvertToSingle(e) * d).StoreUnsafe(ref target, 24);
        }
    }

    // block_q2_K { uint8 scales[16]; uint8 qs[64]; half d; half dmin; }
    private static void Q2_K(ReadOnlySpan<byte> x, Span<float> y)
    {
        var scales = x[..16];
        var d = Half(x, 80);
        var min = Half(x, 82);
        var q = x.Slice(16, 64);
        var output = 0;
        var scale = 0;
        for (var n = 0; n < GgmlTypes.QKK; n += 128)
        {
            var shift = 0;
            for (var j = 0; j < 4; j++)
            {
                var sc = scales[scale++];
                var dl = d * (sc & 0xF);
                var ml = min * (sc >> 4);
                for (var l = 0; l < 16; l++)
                    y[output++] = (dl * ((q[l] >> shift) & 3)) - ml;
                sc = scales[scale++];
                dl = d * (sc & 0xF);
                ml = min * (sc >> 4);
                for (var l = 0; l < 16; l++)
                    y[output++] = (dl * ((q[l + 16] >> shift) & 3)) - ml;
                shift += 2;
            }

            q = q[32..];
        }
    }

    // block_q3_K { uint8 hmask[32]; uint8 qs[64]; uint8 scales[12]; half d; }
    private static void Q3_K(ReadOnlySpan<byte> x, Span<float> y)
    {
        const uint KMask1 = 0x03030303, KMask2 = 0x0f0f0f0f;
        var hm = x[..32];
        var q = x.Slice(32, 64);
        var packed = x.Slice(96, 12);
        var dAll = Half(x, 108);
        var aux0 = BinaryPrimitives.ReadUInt32LittleEndian(packed);
        var aux1 = BinaryPrimitives.ReadUInt32LittleEndian(packed[4..]);
        var tmp = BinaryPrimitives.ReadUInt32LittleEndian(packed[8..]);
        Span<uint> aux = stackalloc uint[4];
        aux[2] = ((aux0 >> 4) & KMask2) | (((tmp >> 4) & KMask1) << 4);
        aux[3] = ((aux1 >> 4) & KMask2) | (((tmp >> 6) & KMask1) << 4);
        aux[0] = (aux0 & KMask2) | ((tmp & KMask1) << 4);
        aux[1] = (aux1 & KMask2) | (((tmp >> 2) & KMask1) << 4);
        var scales = MemoryMarshal.Cast<uint, sbyte>(aux);
        var output = 0;
        var scale = 0;
        byte m = 1;
        for (var n = 0; n < GgmlTypes.QKK; n += 128)
        {
            var shift = 0;
            for (var j = 0; j < 4; j++)
            {
                var dl = dAll * (scales[scale++] - 32);
                for (var l = 0; l < 16; l++)
                    y[output++] = dl * (((q[l] >> shift) & 3) - ((hm[l] & m) != 0 ? 0 : 4));
                dl = dAll * (scales[scale++] - 32);
                for (var l = 0; l < 16; l++)
                    y[output++] = dl * (((q[l + 16] >> shift) & 3) - ((hm[l + 16] & m) != 0 ? 0 : 4));
                shift += 2;
                m <<= 1;
            }

            q = q[32..];
        }
    }

    /// <summary>ggml's get_scale_min_k4: six-bit scale and min number <paramref name="j"/> of a K-quant's 12 packed bytes.</summary>
    internal static (int Scale, int Min) ScaleMinK4(int j, ReadOnlySpan<byte> q) => j < 4
        ? (q[j] & 63, q[j + 4] & 63)
        : ((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4), (q[j + 4] >> 4) | ((q[j] >> 6) << 4));

    // block_q4_K { half d; half dmin; uint8 scales[12]; uint8 qs[128]; }
    private static void Q4_K(ReadOnlySpan<byte> x, Span<float> y)
    {
        var d = Half(x, 0);
        var min = Half(x, 2);
        var scales = x.Slice(4, 12);
        var q = x.Slice(16, 128);
        var output = 0;
        for (int j = 0, scale = 0; j < GgmlTypes.QKK; j += 64, scale += 2)
        {
            var (sc1, m1) = ScaleMinK4(scale, scales);
            var (sc2, m2) = ScaleMinK4(scale + 1, scales);
            var d1 = d * sc1;
            var min1 = min * m1;
            var d2 = d * sc2;
            var min2 = min * m2;
            for (var l = 0; l < 32; l++)
                y[output++] = (d1 * (q[l] & 0xF)) - min1;
            for (var l = 0; l < 32; l++)
                y[output++] = (d2 * (q[l] >> 4)) - min2;
            q = q[32..];
        }
    }

    // block_q5_K { half d; half dmin; uint8 scales[12]; uint8 qh[32]; uint8 qs[128]; }
    private static void Q5_K(ReadOnlySpan<byte> x, Span<float> y)
    {
        var d = Half(x, 0);
        var min = Half(x, 2);
        var scales = x.Slice(4, 12);
        var qh = x.Slice(16, 32);
        var ql = x.Slice(48, 128);
        var output = 0;
        byte u1 = 1, u2 = 2;
        for (int j = 0, scale = 0; j < GgmlTypes.QKK; j += 64, scale += 2)
        {
            var (sc1, m1) = ScaleMinK4(scale, scales);
            var (sc2, m2) = ScaleMinK4(scale + 1, scales);
            var d1 = d * sc1;
            var min1 = min * m1;
            var d2 = d * sc2;
            var min2 = min * m2;
            for (var l = 0; l < 32; l++)
                y[output++] = (d1 * ((ql[l] & 0xF) + ((qh[l] & u1) != 0 ? 16 : 0))) - min1;
            for (var l = 0; l < 32; l++)
                y[output++] = (d2 * ((ql[l] >> 4) + ((qh[l] & u2) != 0 ? 16 : 0))) - min2;
            ql = ql[32..];
            u1 <<= 2;
            u2 <<= 2;
        }
    }

    // block_q6_K { uint8 ql[128]; uint8 qh[64]; int8 scales[16]; half d; }
    private static void Q6_K(ReadOnlySpan<byte> x, Span<float> y)
    {
        var ql = x[..128];
        var qh = x.Slice(128, 64);
        var sc = MemoryMarshal.Cast<byte, sbyte>(x.Slice(192, 16));
        var d = Half(x, 208);
        for (var n = 0; n < GgmlTypes.QKK; n += 128)
        {
            var yn = y[n..];
            for (var l = 0; l < 32; l++)
            {
                var scale = l / 16;
                var q1 = (sbyte)((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
                var q2 = (sbyte)((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
                var q3 = (sbyte)((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                var q4 = (sbyte)((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                yn[l] = d * sc[scale] * q1;
                yn[l + 32] = d * sc[scale + 2] * q2;
                yn[l + 64] = d * sc[scale + 4] * q3;
                yn[l + 96] = d * sc[scale + 6] * q4;
            }

            ql = ql[64..];
            qh = qh[32..];
            sc = sc[8..];
        }
    }
}

/// <summary>
/// Streams one GGUF tensor as logical float32 rows: reads the stored rows a request needs with positioned reads
/// and dequantises them. For <c>attn_q</c>/<c>attn_k</c> written by llama.cpp's converter it undoes the converter's
/// RoPE permutation (<c>permute(w, n_head, n_head_kv)</c>: within each head, stored row <c>2i + half</c> holds
/// Hugging Face row <c>half * head_dim/2 + i</c>), so the rows come out in the checkpoint's order.
/// </summary>
internal sealed class GgufTensorDecoder(GgmlType type, int headDim) : ITensorDecoder
{
    public GgmlType Type => type;

    /// <summary>Rows per RoPE head whose permutation is undone; 0 when the rows are stored in order.</summary>
    public int HeadDim => headDim;

    public long Read(SafeFileHandle handle, WeightTensor tensor, long firstElement, Span<float> destination)
    {
        var rowLength = tensor.RowLength;
        var layout = GgmlTypes.Layout(type);
        var rowBytes = layout.RowBytes(rowLength);
        var firstRow = firstElement / rowLength;
        var rows = destination.Length / rowLength;
        if (headDim == 0)
        {
            var bytes = ReadRows(handle, tensor, firstRow, rows, rowBytes);
            try
            {
                GgufDequantizer.Dequantize(type, bytes.AsSpan(0, (int)(rows * rowBytes)), destination);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(bytes);
            }

            return rows * rowBytes;
        }

        // The stored rows of a run of logical rows lie within the heads that run touches.
        var firstStored = firstRow / headDim * headDim;
        var endStored = Math.Min(tensor.RowCount, ((firstRow + rows + headDim - 1) / headDim) * headDim);
        var span = ReadRows(handle, tensor, firstStored, endStored - firstStored, rowBytes);
        try
        {
            var half = headDim / 2;
            for (long r = 0; r < rows; r++)
            {
                var logical = firstRow + r;
                var inHead = logical % headDim;
                var stored = (logical - inHead) + (2 * (inHead % half)) + (inHead / half);
                var source = span.AsSpan((int)((stored - firstStored) * rowBytes), (int)rowBytes);
                GgufDequantizer.Dequantize(type, source, destination.Slice((int)(r * rowLength), (int)rowLength));
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(span);
        }

        return (endStored - firstStored) * rowBytes;
    }

    private static byte[] ReadRows(SafeFileHandle handle, WeightTensor tensor, long firstRow, long rows, long rowBytes)
    {
        var length = checked((int)(rows * rowBytes));
        var buffer = ArrayPool<byte>.Shared.Rent(length);
        var offset = tensor.FileOffset + (firstRow * rowBytes);
        var total = 0;
        while (total < length)
        {
            var read = RandomAccess.Read(handle, buffer.AsSpan(total, length - total), offset + total);
            if (read == 0)
            {
                ArrayPool<byte>.Shared.Return(buffer);
                throw GgufFile.Malformed(tensor.FilePath, $"tensor '{tensor.StoredName ?? tensor.Name}': file ended early (truncated while reading)");
            }

            total += read;
        }

        return buffer;
    }
}
