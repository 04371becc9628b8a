using ProvenanceGate.Formats.Onnx;

namespace ProvenanceGate.Tests.Fingerprinting;

/// <summary>Hand-built ONNX pieces for the malformed-file tests, written with <see cref="ProtobufWriter"/>.</summary>
internal static class OnnxProtoWriter
{
    /// <summary>A model with one opset import around <paramref name="graph"/>.</summary>
    public static byte[] Model(ProtobufWriter graph) =>
        new ProtobufWriter().Varint(1, 8).String(2, "test").Message(7, graph).Message(8, new ProtobufWriter().String(1, "").Varint(2, 17)).ToArray();

    /// <summary>A FLOAT initializer <paramref name="name"/> of <paramref name="dims"/> stored as external data.</summary>
    public static ProtobufWriter ExternalInitializer(string name, long[] dims, params (string Key, string Value)[] entries)
    {
        var tensor = new ProtobufWriter();
        foreach (var dim in dims)
            tensor.Varint(1, (ulong)dim);
        tensor.Varint(2, 1).String(8, name);
        foreach (var (key, value) in entries)
            tensor.Message(13, new ProtobufWriter().String(1, key).String(2, value));
        return tensor.Varint(14, 1);
    }
}
