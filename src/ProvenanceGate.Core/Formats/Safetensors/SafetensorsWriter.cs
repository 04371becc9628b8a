using System.Buffers.Binary;
using System.Text;
using System.Text.Json;

namespace ProvenanceGate.Formats.Safetensors;

/// <summary>A tensor held in memory as float32 values; written in any floating-point dtype.</summary>
public sealed record NamedTensor(string Name, long[] Shape, float[] Values)
{
    public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);
}

/// <summary>
/// Writes the standard layout (8-byte little-endian header length, JSON header padded with spaces to a
/// multiple of 8, tensors contiguous in header order). Output is byte-for-byte deterministic.
/// Used by the sample, the tests and the benchmarks; the product itself never rewrites weights.
/// </summary>
public static class SafetensorsWriter
{
    public static byte[] Serialize(IReadOnlyList<NamedTensor> tensors, SafetensorsDType dtype, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var elementSize = SafetensorsDTypes.SizeOf(dtype);
        var prefixAndHeader = Header(tensors.Select(t => (t.Name, t.Shape)), dtype, metadata);
        var dataLength = tensors.Sum(t => t.ElementCount * elementSize);
        var output = new byte[prefixAndHeader.Length + dataLength];
        prefixAndHeader.CopyTo(output, 0);
        var position = prefixAndHeader.Length;
        foreach (var tensor in tensors)
        {
            if (tensor.Values.Length != tensor.ElementCount)
                throw new ArgumentException($"tensor '{tensor.Name}' has {tensor.Values.Length} values for shape [{string.Join(",", tensor.Shape)}]");
            Encode(tensor.Values, dtype, output.AsSpan(position, tensor.Values.Length * elementSize));
            position += tensor.Values.Length * elementSize;
        }

        return output;
    }

    /// <summary>
    /// The 8-byte length prefix and the space-padded JSON header for tensors stored contiguously in this order, so a
    /// caller can stream the data of a file too large to hold in memory right after it.
    /// </summary>
    public static byte[] Header(IEnumerable<(string Name, long[] Shape)> tensors, SafetensorsDType dtype, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var elementSize = SafetensorsDTypes.SizeOf(dtype);
        using var headerStream = new MemoryStream();
        using (var json = new Utf8JsonWriter(headerStream))
        {
            json.WriteStartObject();
            json.WriteStartObject("__metadata__");
            foreach (var (key, value) in metadata ?? new Dictionary<string, string> { ["format"] = "pt" })
                json.WriteString(key, value);
            json.WriteEndObject();
            long offset = 0;
            foreach (var (name, shape) in tensors)
            {
                var bytes = shape.Aggregate(1L, (a, b) => a * b) * elementSize;
                json.WriteStartObject(name);
                json.WriteString("dtype", dtype.ToString());
                json.WriteStartArray("shape");
                foreach (var dimension in shape)
                    json.WriteNumberValue(dimension);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + bytes);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += bytes;
            }

            json.WriteEndObject();
        }

        var padding = (8 - (int)(headerStream.Length % 8)) % 8;
        var output = new byte[8 + headerStream.Length + padding];
        BinaryPrimitives.WriteUInt64LittleEndian(output, (ulong)(headerStream.Length + padding));
        headerStream.ToArray().CopyTo(output, 8);
        output.AsSpan(8 + (int)headerStream.Length).Fill((byte)' ');
        return output;
    }

    public static void Encode(ReadOnlySpan<float> values, SafetensorsDType dtype, Span<byte> destination)
    {
        for (var i = 0; i < values.Length; i++)
        {
            switch (dtype)
            {
                case SafetensorsDType.F32:
                    BinaryPrimitives.WriteSingleLittleEndian(destination[(i * 4)..], values[i]);
                    break;
                case SafetensorsDType.F64:
                    BinaryPrimitives.WriteDoubleLittleEndian(destination[(i * 8)..], values[i]);
                    break;
                case SafetensorsDType.F16:
                    BinaryPrimitives.WriteHalfLittleEndian(destination[(i * 2)..], (Half)values[i]);
                    break;
                case SafetensorsDType.BF16:
                    BinaryPrimitives.WriteUInt16LittleEndian(destination[(i * 2)..], ToBFloat16(values[i]));
                    break;
                default:
                    throw new NotSupportedException($"writing {dtype} is not supported");
            }
        }
    }

    /// <summary>Round-to-nearest-even, as torch casts float32 to bfloat16.</summary>
    public static ushort ToBFloat16(float value)
    {
        var bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value))
            return (ushort)((bits >> 16) | 0x40);
        var rounding = 0x7FFFu + ((bits >> 16) & 1);
        return (ushort)((bits + rounding) >> 16);
    }

    internal static UTF8Encoding Utf8 { get; } = new(false);
}
