using System.Text;

namespace ProvenanceGate.Tests.Fingerprinting;

/// <summary>
/// Writes protobuf wire format by hand, so tests can build ONNX files the real exporters never would (absurd lengths,
/// hostile external-data paths, deep nesting) without trusting our own reader's idea of the format.
/// </summary>
internal sealed class OnnxProtoWriter
{
    private readonly List<byte> _bytes = [];

    public byte[] ToArray() => _bytes.ToArray();

    public OnnxProtoWriter Varint(int field, ulong value)
    {
        Tag(field, 0);
        Raw(value);
        return this;
    }

    public OnnxProtoWriter Bytes(int field, ReadOnlySpan<byte> value)
    {
        Tag(field, 2);
        Raw((ulong)value.Length);
        _bytes.AddRange(value);
        return this;
    }

    public OnnxProtoWriter String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

    public OnnxProtoWriter Message(int field, OnnxProtoWriter message) => Bytes(field, message.ToArray());

    /// <summary>A length-delimited header claiming <paramref name="length"/> bytes, with nothing after it.</summary>
    public OnnxProtoWriter LengthOnly(int field, ulong length)
    {
        Tag(field, 2);
        Raw(length);
        return this;
    }

    public void Raw(ulong value)
    {
        do
        {
            var b = (byte)(value & 0x7F);
            value >>= 7;
            _bytes.Add(value == 0 ? b : (byte)(b | 0x80));
        }
        while (value != 0);
    }

    private void Tag(int field, int wireType) => Raw(((ulong)field << 3) | (uint)wireType);

    /// <summary>A model with one opset import around <paramref name="graph"/>.</summary>
    public static byte[] Model(OnnxProtoWriter graph) =>
        new OnnxProtoWriter().Varint(1, 8).String(2, "test").Message(7, graph).Message(8, new OnnxProtoWriter().String(1, "").Varint(2, 17)).ToArray();

    /// <summary>A FLOAT initializer <paramref name="name"/> of <paramref name="dims"/> stored as external data.</summary>
    public static OnnxProtoWriter ExternalInitializer(string name, long[] dims, params (string Key, string Value)[] entries)
    {
        var tensor = new OnnxProtoWriter();
        foreach (var dim in dims)
            tensor.Varint(1, (ulong)dim);
        tensor.Varint(2, 1).String(8, name);
        foreach (var (key, value) in entries)
            tensor.Message(13, new OnnxProtoWriter().String(1, key).String(2, value));
        return tensor.Varint(14, 1);
    }
}
