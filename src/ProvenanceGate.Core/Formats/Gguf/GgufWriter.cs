using System.Buffers.Binary;
using System.Text;

namespace ProvenanceGate.Formats.Gguf;

/// <summary>A tensor to write: its row-major shape, its ggml type and a callback that writes exactly its stored bytes.</summary>
public sealed record GgufTensorSource(string Name, IReadOnlyList<long> Shape, GgmlType Type, Action<Stream> WriteData)
{
    public long ByteLength => GgmlTypes.Layout(Type).RowBytes(Shape[^1]) * (Shape.Aggregate(1L, (a, b) => a * b) / Shape[^1]);
}

/// <summary>
/// Writes GGUF v3 files (little-endian, alignment 32 unless the metadata sets <c>general.alignment</c>) the way gguf-py's GGUFWriter lays them out: header, metadata,
/// tensor infos with dimensions in ggml order, padding, then each tensor's data aligned. Used to make test fixtures
/// and benchmark models; tensor data is streamed, so files larger than memory can be written.
/// </summary>
public static class GgufWriter
{
    public static void Write(string path, IReadOnlyList<KeyValuePair<string, GgufValue>> metadata, IReadOnlyList<GgufTensorSource> tensors)
    {
        var alignment = (int)(metadata.FirstOrDefault(m => m.Key == "general.alignment").Value?.AsInteger ?? GgufFile.DefaultAlignment);
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        using var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        writer.Write(GgufFile.Magic);
        writer.Write(3u);
        writer.Write((ulong)tensors.Count);
        writer.Write((ulong)metadata.Count);
        foreach (var (key, value) in metadata)
        {
            WriteString(writer, key);
            writer.Write((uint)value.Type);
            WriteValue(writer, value.Type, value.Value);
        }

        var offset = 0L;
        foreach (var tensor in tensors)
        {
            WriteString(writer, tensor.Name);
            writer.Write((uint)tensor.Shape.Count);
            foreach (var dimension in tensor.Shape.Reverse())
                writer.Write((ulong)dimension);
            writer.Write((uint)tensor.Type);
            writer.Write((ulong)offset);
            offset = Align(offset + tensor.ByteLength, alignment);
        }

        writer.Flush();
        Pad(stream, alignment);
        foreach (var tensor in tensors)
        {
            var start = stream.Position;
            tensor.WriteData(stream);
            if (stream.Position - start != tensor.ByteLength)
                throw new InvalidOperationException($"tensor '{tensor.Name}' wrote {stream.Position - start} bytes, expected {tensor.ByteLength}");
            Pad(stream, alignment);
        }
    }

    public static GgufValue Value(string text) => new(GgufValueType.String, text);

    public static GgufValue Value(uint number) => new(GgufValueType.UInt32, number);

    public static GgufValue Value(float number) => new(GgufValueType.Float32, number);

    public static GgufValue Value(bool flag) => new(GgufValueType.Bool, flag);

    public static GgufValue Array(IReadOnlyList<string> items) => new(GgufValueType.Array, new GgufArray(GgufValueType.String, items.ToArray()));

    public static GgufValue Array(IReadOnlyList<float> items) => new(GgufValueType.Array, new GgufArray(GgufValueType.Float32, items.ToArray()));

    public static GgufValue Array(IReadOnlyList<int> items) => new(GgufValueType.Array, new GgufArray(GgufValueType.Int32, items.ToArray()));

    private static long Align(long offset, int alignment) => (offset + alignment - 1) / alignment * alignment;

    private static void Pad(Stream stream, int alignment)
    {
        var padding = Align(stream.Position, alignment) - stream.Position;
        for (var i = 0; i < padding; i++)
            stream.WriteByte(0);
    }

    private static void WriteString(BinaryWriter writer, string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        writer.Write((ulong)bytes.Length);
        writer.Write(bytes);
    }

    private static void WriteValue(BinaryWriter writer, GgufValueType type, object value)
    {
        switch (type)
        {
            case GgufValueType.UInt8: writer.Write((byte)value); break;
            case GgufValueType.Int8: writer.Write((sbyte)value); break;
            case GgufValueType.UInt16: writer.Write((ushort)value); break;
            case GgufValueType.Int16: writer.Write((short)value); break;
            case GgufValueType.UInt32: writer.Write((uint)value); break;
            case GgufValueType.Int32: writer.Write((int)value); break;
            case GgufValueType.Float32: writer.Write((float)value); break;
            case GgufValueType.Bool: writer.Write((bool)value); break;
            case GgufValueType.String: WriteString(writer, (string)value); break;
            case GgufValueType.UInt64: writer.Write((ulong)value); break;
            case GgufValueType.Int64: writer.Write((long)value); break;
            case GgufValueType.Float64: writer.Write((double)value); break;
            case GgufValueType.Array:
                var array = (GgufArray)value;
                writer.Write((uint)array.ElementType);
                writer.Write((ulong)array.Count);
                foreach (var item in array.Items)
                    WriteValue(writer, array.ElementType, item);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(type));
        }
    }
}

/// <summary>
/// ggml's reference quantisers (<c>quantize_row_*_ref</c> in ggml-quants.c) for the types fixtures and benchmarks
/// write: rows of float32 in, blocks out. Rows must be a multiple of the block size.
/// </summary>
public static class GgufQuantizer
{
    public static byte[] Quantize(GgmlType type, ReadOnlySpan<float> x)
    {
        var layout = GgmlTypes.Layout(type);
        if (x.Length % layout.BlockSize != 0)
            throw new ArgumentException($"{x.Length} values are not whole {type} blocks");
        var output = new byte[x.Length / layout.BlockSize * layout.BlockBytes];
        for (var b = 0; b < x.Length / layout.BlockSize; b++)
        {
            var block = output.AsSpan(b * layout.BlockBytes, layout.BlockBytes);
            var values = x.Slice(b * layout.BlockSize, layout.BlockSize);
            switch (type)
            {
                case GgmlType.F32: System.Runtime.InteropServices.MemoryMarshal.AsBytes(values).CopyTo(block); break;
                case GgmlType.F16: BinaryPrimitives.WriteHalfLittleEndian(block, (Half)values[0]); break;
                case GgmlType.Q4_0: Q4_0(values, block); break;
                case GgmlType.Q4_1: Q4_1(values, block); break;
                case GgmlType.Q5_0: Q5_0(values, block); break;
                case GgmlType.Q5_1: Q5_1(values, block); break;
                case GgmlType.Q8_0: Q8_0(values, block); break;
                case GgmlType.Q4_K: Q4_K(values, block); break;
                default: throw new NotSupportedException($"quantising to {type} is not implemented");
            }
        }

        return output;
    }

    private static void WriteHalf(Span<byte> block, int offset, float value) => BinaryPrimitives.WriteHalfLittleEndian(block[offset..], (Half)value);

    private static float ReadHalf(Span<byte> block, int offset) => (float)BinaryPrimitives.ReadHalfLittleEndian(block[offset..]);

    /// <summary>ggml's nearest_int: round half to even.</summary>
    private static int NearestInt(float value) => (int)MathF.Round(value, MidpointRounding.ToEven);

    private static (float Max, float AbsMax) SignedMax(ReadOnlySpan<float> x)
    {
        float amax = 0, max = 0;
        foreach (var v in x)
        {
            if (amax < MathF.Abs(v))
            {
                amax = MathF.Abs(v);
                max = v;
            }
        }

        return (max, amax);
    }

    private static void Q8_0(ReadOnlySpan<float> x, Span<byte> y)
    {
        var (_, amax) = SignedMax(x);
        var d = amax / 127;
        var id = d != 0 ? 1.0f / d : 0.0f;
        WriteHalf(y, 0, d);
        for (var j = 0; j < 32; j++)
            y[2 + j] = (byte)(sbyte)MathF.Round(x[j] * id, MidpointRounding.AwayFromZero);
    }

    private static void Q4_0(ReadOnlySpan<float> x, Span<byte> y)
    {
        var (max, _) = SignedMax(x);
        var d = max / -8;
        var id = d != 0 ? 1.0f / d : 0.0f;
        WriteHalf(y, 0, d);
        for (var j = 0; j < 16; j++)
        {
            var x0 = Math.Min(15, (int)(sbyte)((x[j] * id) + 8.5f));
            var x1 = Math.Min(15, (int)(sbyte)((x[j + 16] * id) + 8.5f));
            y[2 + j] = (byte)(x0 | (x1 << 4));
        }
    }

    private static void Q4_1(ReadOnlySpan<float> x, Span<byte> y)
    {
        float min = float.MaxValue, max = float.MinValue;
        foreach (var v in x)
        {
            min = Math.Min(min, v);
            max = Math.Max(max, v);
        }

        var d = (max - min) / 15;
        var id = d != 0 ? 1.0f / d : 0.0f;
        WriteHalf(y, 0, d);
        WriteHalf(y, 2, min);
        for (var j = 0; j < 16; j++)
        {
            var x0 = Math.Min(15, (int)(sbyte)(((x[j] - min) * id) + 0.5f));
            var x1 = Math.Min(15, (int)(sbyte)(((x[j + 16] - min) * id) + 0.5f));
            y[4 + j] = (byte)(x0 | (x1 << 4));
        }
    }

    private static void Q5_0(ReadOnlySpan<float> x, Span<byte> y)
    {
        var (max, _) = SignedMax(x);
        var d = max / -16;
        var id = d != 0 ? 1.0f / d : 0.0f;
        WriteHalf(y, 0, d);
        uint qh = 0;
        for (var j = 0; j < 16; j++)
        {
            var x0 = Math.Min(31, (int)(sbyte)((x[j] * id) + 16.5f));
            var x1 = Math.Min(31, (int)(sbyte)((x[j + 16] * id) + 16.5f));
            y[6 + j] = (byte)((x0 & 0x0F) | ((x1 & 0x0F) << 4));
            qh |= (uint)((x0 & 0x10) >> 4) << j;
            qh |= (uint)((x1 & 0x10) >> 4) << (j + 16);
        }

        BinaryPrimitives.WriteUInt32LittleEndian(y[2..], qh);
    }

    private static void Q5_1(ReadOnlySpan<float> x, Span<byte> y)
    {
        float min = float.MaxValue, max = float.MinValue;
        foreach (var v in x)
        {
            min = Math.Min(min, v);
            max = Math.Max(max, v);
        }

        var d = (max - min) / 31;
        var id = d != 0 ? 1.0f / d : 0.0f;
        WriteHalf(y, 0, d);
        WriteHalf(y, 2, min);
        uint qh = 0;
        for (var j = 0; j < 16; j++)
        {
            var x0 = (int)(sbyte)(((x[j] - min) * id) + 0.5f);
            var x1 = (int)(sbyte)(((x[j + 16] - min) * id) + 0.5f);
            y[8 + j] = (byte)((x0 & 0x0F) | ((x1 & 0x0F) << 4));
            qh |= (uint)((x0 & 0x10) >> 4) << j;
            qh |= (uint)((x1 & 0x10) >> 4) << (j + 16);
        }

        BinaryPrimitives.WriteUInt32LittleEndian(y[4..], qh);
    }

    private static void Q4_K(ReadOnlySpan<float> x, Span<byte> y)
    {
        Span<byte> levels = stackalloc byte[256];
        Span<byte> aux = stackalloc byte[32];
        Span<float> weights = stackalloc float[32];
        Span<float> mins = stackalloc float[8];
        Span<float> scales = stackalloc float[8];
        float maxScale = 0, maxMin = 0;
        for (var j = 0; j < 8; j++)
        {
            var sub = x.Slice(32 * j, 32);
            float sumX2 = 0;
            foreach (var v in sub)
                sumX2 += v * v;
            var averageX = MathF.Sqrt(sumX2 / 32);
            for (var l = 0; l < 32; l++)
                weights[l] = averageX + MathF.Abs(sub[l]);
            scales[j] = MakeQkx2Quants(15, sub, weights, levels.Slice(32 * j, 32), out mins[j], aux, -1f, 0.1f, 20);
            maxScale = Math.Max(maxScale, scales[j]);
            maxMin = Math.Max(maxMin, mins[j]);
        }

        var packed = y.Slice(4, 12);
        packed.Clear();
        var inverseScale = maxScale > 0 ? 63f / maxScale : 0f;
        var inverseMin = maxMin > 0 ? 63f / maxMin : 0f;
        for (var j = 0; j < 8; j++)
        {
            var ls = (byte)Math.Min(63, NearestInt(inverseScale * scales[j]));
            var lm = (byte)Math.Min(63, NearestInt(inverseMin * mins[j]));
            if (j < 4)
            {
                packed[j] = ls;
                packed[j + 4] = lm;
            }
            else
            {
                packed[j + 4] = (byte)((ls & 0xF) | ((lm & 0xF) << 4));
                packed[j - 4] |= (byte)((ls >> 4) << 6);
                packed[j] |= (byte)((lm >> 4) << 6);
            }
        }

        WriteHalf(y, 0, maxScale / 63f);
        WriteHalf(y, 2, maxMin / 63f);
        for (var j = 0; j < 8; j++)
        {
            var (sc, m) = GgufDequantizer.ScaleMinK4(j, packed);
            var d = ReadHalf(y, 0) * sc;
            if (d == 0)
                continue;
            var dm = ReadHalf(y, 2) * m;
            for (var i = 0; i < 32; i++)
                levels[(32 * j) + i] = (byte)Math.Clamp(NearestInt((x[(32 * j) + i] + dm) / d), 0, 15);
        }

        var q = y.Slice(16, 128);
        for (int j = 0, o = 0; j < 256; j += 64, o += 32)
        {
            for (var l = 0; l < 32; l++)
                q[o + l] = (byte)(levels[j + l] | (levels[j + l + 32] << 4));
        }
    }

    private static float MakeQkx2Quants(int nmax, ReadOnlySpan<float> x, ReadOnlySpan<float> weights, Span<byte> levels, out float theMin, Span<byte> aux,
        float rmin, float rdelta, int nstep)
    {
        var n = x.Length;
        float min = x[0], max = x[0], sumW = weights[0], sumX = sumW * x[0];
        for (var i = 1; i < n; i++)
        {
            if (x[i] < min)
                min = x[i];
            if (x[i] > max)
                max = x[i];
            sumW += weights[i];
            sumX += weights[i] * x[i];
        }

        if (min > 0)
            min = 0;
        if (max == min)
        {
            levels[..n].Clear();
            theMin = -min;
            return 0f;
        }

        var iscale = nmax / (max - min);
        var scale = 1 / iscale;
        float bestError = 0;
        for (var i = 0; i < n; i++)
        {
            levels[i] = (byte)Math.Clamp(NearestInt(iscale * (x[i] - min)), 0, nmax);
            var diff = (scale * levels[i]) + min - x[i];
            bestError += weights[i] * diff * diff;
        }

        for (var step = 0; step <= nstep; step++)
        {
            iscale = (rmin + (rdelta * step) + nmax) / (max - min);
            float sumL = 0, sumL2 = 0, sumXL = 0;
            for (var i = 0; i < n; i++)
            {
                var l = Math.Clamp(NearestInt(iscale * (x[i] - min)), 0, nmax);
                aux[i] = (byte)l;
                sumL += weights[i] * l;
                sumL2 += weights[i] * l * l;
                sumXL += weights[i] * l * x[i];
            }

            var determinant = (sumW * sumL2) - (sumL * sumL);
            if (determinant <= 0)
                continue;
            var thisScale = ((sumW * sumXL) - (sumX * sumL)) / determinant;
            var thisMin = ((sumL2 * sumX) - (sumL * sumXL)) / determinant;
            if (thisMin > 0)
            {
                thisMin = 0;
                thisScale = sumXL / sumL2;
            }

            float error = 0;
            for (var i = 0; i < n; i++)
            {
                var diff = (thisScale * aux[i]) + thisMin - x[i];
                error += weights[i] * diff * diff;
            }

            if (error < bestError)
            {
                aux[..n].CopyTo(levels);
                bestError = error;
                scale = thisScale;
                min = thisMin;
            }
        }

        theMin = -min;
        return scale;
    }
}
