using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace ProvenanceGate.Tests.Discovery;

/// <summary>Smallest well-formed files of each format the detector knows, written field by field from the formats' specs.</summary>
internal static class TinyModels
{
    /// <summary>
    /// An ONNX model computing y = x + w (w an initializer of two floats), opset 13, IR version 8: small, valid, and
    /// runnable by ONNX Runtime. The committed copy in TestData/discovery is checked against this by a test.
    /// </summary>
    public static byte[] OnnxAdd()
    {
        var tensorType = Message(1, Varint(1, 1), Message(2, Message(1, Varint(1, 2))));          // elem_type FLOAT, shape [2]
        var valueX = Concat(Text(1, "x"), Message(2, tensorType));
        var valueY = Concat(Text(1, "y"), Message(2, tensorType));
        var weights = new byte[8];
        BinaryPrimitives.WriteSingleLittleEndian(weights, 0.5f);
        BinaryPrimitives.WriteSingleLittleEndian(weights.AsSpan(4), -1.25f);
        var initializer = Concat(Varint(1, 2), Varint(2, 1), Text(8, "w"), Bytes(9, weights)); // dims [2], FLOAT, name, raw_data
        var node = Concat(Text(1, "x"), Text(1, "w"), Text(2, "y"), Text(3, "add"), Text(4, "Add"));
        var graph = Concat(Message(1, node), Text(2, "tiny-add"), Message(5, initializer), Message(11, valueX), Message(12, valueY));
        return Concat(Varint(1, 8), Text(2, "provenancegate-tests"), Text(3, "1"), Message(7, graph), Message(8, Concat(Text(1, ""), Varint(2, 13))));
    }

    public static byte[] Gguf()
    {
        var bytes = new byte[24];
        "GGUF"u8.CopyTo(bytes);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(4), 3);
        return bytes; // tensor and metadata counts 0
    }

    public static byte[] TfLite()
    {
        var bytes = new byte[32];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, 28);
        "TFL3"u8.CopyTo(bytes.AsSpan(4));
        return bytes;
    }

    public static byte[] Zip(params string[] entries)
    {
        using var memory = new MemoryStream();
        using (var zip = new ZipArchive(memory, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var entry in entries)
            {
                using var stream = zip.CreateEntry(entry, CompressionLevel.NoCompression).Open();
                stream.Write("payload-of-the-entry"u8);
            }
        }

        return memory.ToArray();
    }

    /// <summary>The start of a legacy (non-zip) torch.save file: protocol 2, then the pickled magic number.</summary>
    public static byte[] TorchLegacy() => [0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e, 0x80, 0x02, 0x4d, 0xe9, 0x03, 0x2e];

    /// <summary>pickle.dumps({"a": 1}, protocol=4).</summary>
    public static byte[] Pickle() => [0x80, 0x04, 0x95, 0x0a, 0, 0, 0, 0, 0, 0, 0, 0x7d, 0x94, 0x8c, 0x01, 0x61, 0x94, 0x4b, 0x01, 0x73, 0x2e];

    public static byte[] CoreMl() => Concat(Varint(1, 4), Message(2, Text(1, "input")), Message(500, Varint(1, 1)));

    public static byte[] SavedModel() => Concat(Varint(1, 1), Message(2, Message(1, Text(1, "serve"))));

    private static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

    private static byte[] Varint(int field, ulong value) => Concat(Raw(((ulong)field << 3) | 0), Raw(value));

    private static byte[] Text(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

    private static byte[] Message(int field, params byte[][] parts) => Bytes(field, Concat(parts));

    private static byte[] Bytes(int field, byte[] payload) => Concat(Raw(((ulong)field << 3) | 2), Raw((ulong)payload.Length), payload);

    private static byte[] Raw(ulong value)
    {
        var bytes = new List<byte>();
        do
        {
            var b = (byte)(value & 0x7f);
            value >>= 7;
            bytes.Add(value == 0 ? b : (byte)(b | 0x80));
        }
        while (value != 0);
        return bytes.ToArray();
    }
}
