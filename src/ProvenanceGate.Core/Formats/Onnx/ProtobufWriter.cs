using System.Text;

namespace ProvenanceGate.Formats.Onnx;

/// <summary>
/// Writes protobuf wire format field by field: the bench writes multi-gigabyte ONNX models with it, and tests build
/// files real exporters never would (absurd lengths, hostile external-data paths, deep nesting).
/// </summary>
internal sealed class ProtobufWriter
{
    private readonly List<byte> _bytes = [];

    public byte[] ToArray() => _bytes.ToArray();

    public ProtobufWriter Varint(int field, ulong value)
    {
        Tag(field, WireType.Varint);
        Raw(value);
        return this;
    }

    public ProtobufWriter Bytes(int field, ReadOnlySpan<byte> value)
    {
        Tag(field, WireType.LengthDelimited);
        Raw((ulong)value.Length);
        _bytes.AddRange(value);
        return this;
    }

    public ProtobufWriter String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

    public ProtobufWriter Message(int field, ProtobufWriter message) => Bytes(field, message.ToArray());

    /// <summary>A length-delimited header claiming <paramref name="length"/> bytes, with nothing after it.</summary>
    public ProtobufWriter LengthOnly(int field, ulong length)
    {
        Tag(field, WireType.LengthDelimited);
        Raw(length);
        return this;
    }

    private void Raw(ulong value)
    {
        do
        {
            var b = (byte)(value & 0x7F);
            value >>= 7;
            _bytes.Add(value == 0 ? b : (byte)(b | 0x80));
        }
        while (value != 0);
    }

    private void Tag(int field, WireType wireType) => Raw(((ulong)field << 3) | (uint)wireType);
}
