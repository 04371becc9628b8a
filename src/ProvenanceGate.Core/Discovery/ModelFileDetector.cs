using System.Buffers.Binary;
using System.Text;

namespace ProvenanceGate.Discovery;

/// <summary>
/// Recognises model files by their content, not their names: an app's output holds thousands of files, and a model
/// renamed to <c>data.bin</c> is still a model. Only a few KiB of each file are read (the zip central directory of
/// zips), so detection over a whole output folder costs next to nothing beside the build itself.
/// </summary>
public static class ModelFileDetector
{
    /// <summary>Bytes read from the start of each file.</summary>
    public const int HeadBytes = 4096;

    /// <summary>Largest zip central directory read to list entry names.</summary>
    private const int MaxCentralDirectoryBytes = 1 << 20;

    /// <summary>Top-level protobuf fields walked before an ONNX / Core ML / TensorFlow candidate is accepted.</summary>
    private const int ProtobufFieldsChecked = 16;

    // The pickled magic number torch.save writes first in its legacy (non-zip) format: LONG1 0x1950a86a20f9469cfc6c.
    private static readonly byte[] TorchLegacyMagic = [0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];
    private static readonly byte[] Hdf5Magic = [0x89, (byte)'H', (byte)'D', (byte)'F', 0x0d, 0x0a, 0x1a, 0x0a];

    /// <summary>The model format of <paramref name="path"/> (see <see cref="ModelFormats"/>), or null when it is not a model.</summary>
    /// <remarks>Unreadable files are not models here; the readers that open them later report why.</remarks>
    public static string? Detect(string path)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.None);
            return Detect(stream, Path.GetFileName(path));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    public static string? Detect(Stream stream, string fileName)
    {
        var length = stream.Length;
        var head = new byte[(int)Math.Min(HeadBytes, length)];
        stream.ReadExactly(head);
        if (head.Length < 8)
            return null;
        var extension = Path.GetExtension(fileName).ToLowerInvariant();

        if (head.AsSpan(0, 4).SequenceEqual("GGUF"u8) && BinaryPrimitives.ReadUInt32LittleEndian(head.AsSpan(4)) is >= 1 and <= 3)
            return ModelFormats.Gguf;
        if (head.AsSpan(4, 4).SequenceEqual("TFL3"u8))
            return ModelFormats.TfLite;
        if (head.AsSpan(0, 8).SequenceEqual(Hdf5Magic))
            return ModelFormats.Hdf5;
        if (head.AsSpan(0, 4).SequenceEqual("PK\u0003\u0004"u8))
            return DetectZip(stream, length);
        if (head[0] == 0x80 && head[1] is >= 2 and <= 5)
        {
            if (head.AsSpan(2).StartsWith(TorchLegacyMagic))
                return ModelFormats.PyTorch;
            // A pickle ends with STOP ('.'); binary files that merely start with 0x80 rarely do.
            stream.Position = length - 1;
            return stream.ReadByte() == '.' ? ModelFormats.Pickle : null;
        }

        if (IsSafetensors(head, length))
            return ModelFormats.Safetensors;
        return DetectProtobuf(stream, length, fileName, extension);
    }

    /// <summary>8-byte little-endian header length, then a JSON object naming tensors by dtype.</summary>
    private static bool IsSafetensors(byte[] head, long length)
    {
        var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(head);
        if (headerLength < 2 || headerLength > (ulong)(length - 8) || head.Length < 10 || head[8] != (byte)'{')
            return false;
        var visible = Encoding.UTF8.GetString(head, 8, (int)Math.Min(headerLength, (ulong)(head.Length - 8)));
        return visible.Contains("\"dtype\"", StringComparison.Ordinal) || visible.Contains("\"__metadata__\"", StringComparison.Ordinal);
    }

    private static string? DetectZip(Stream stream, long length)
    {
        var names = ZipEntryNames(stream, length);
        // torch.save (zip serialization) and TorchScript both write <archive>/data.pkl next to <archive>/version.
        if (names.Any(n => n.EndsWith("/data.pkl", StringComparison.Ordinal) || n == "data.pkl"))
            return ModelFormats.PyTorch;
        // ML.NET's model.zip: the transformer chain and the loader's schema, each a folder of its own.
        if (names.Any(n => n.StartsWith("TransformerChain/", StringComparison.Ordinal) || n.StartsWith("DataLoaderModel/", StringComparison.Ordinal) || n.StartsWith("PredictorModel/", StringComparison.Ordinal)))
            return ModelFormats.MlNet;
        // Keras 3: config.json + model.weights.h5 in a zip named .keras.
        if (names.Contains("model.weights.h5") && names.Contains("config.json"))
            return ModelFormats.Keras;
        return null;
    }

    /// <summary>Entry names from the zip's central directory (located through the end-of-central-directory record).</summary>
    internal static IReadOnlyList<string> ZipEntryNames(Stream stream, long length)
    {
        // The EOCD record is 22 bytes plus a comment of at most 65,535 bytes at the very end.
        var tailLength = (int)Math.Min(length, 22 + ushort.MaxValue);
        var tail = new byte[tailLength];
        stream.Position = length - tailLength;
        stream.ReadExactly(tail);
        var eocd = -1;
        for (var i = tailLength - 22; i >= 0; i--)
        {
            if (BinaryPrimitives.ReadUInt32LittleEndian(tail.AsSpan(i)) == 0x06054b50)
            {
                eocd = i;
                break;
            }
        }

        if (eocd < 0)
            return [];
        long directorySize = BinaryPrimitives.ReadUInt32LittleEndian(tail.AsSpan(eocd + 12));
        long directoryOffset = BinaryPrimitives.ReadUInt32LittleEndian(tail.AsSpan(eocd + 16));
        if (directoryOffset == 0xFFFFFFFF || directorySize == 0xFFFFFFFF)
        {
            // Zip64 (torch.save of models over 4 GiB): the zip64 locator sits right before the EOCD record.
            var locator = eocd - 20;
            if (locator < 0 || BinaryPrimitives.ReadUInt32LittleEndian(tail.AsSpan(locator)) != 0x07064b50)
                return [];
            var record = (long)BinaryPrimitives.ReadUInt64LittleEndian(tail.AsSpan(locator + 8));
            if (record < 0 || record > length - 56)
                return [];
            var zip64 = new byte[56];
            stream.Position = record;
            stream.ReadExactly(zip64);
            if (BinaryPrimitives.ReadUInt32LittleEndian(zip64) != 0x06064b50)
                return [];
            directorySize = (long)BinaryPrimitives.ReadUInt64LittleEndian(zip64.AsSpan(40));
            directoryOffset = (long)BinaryPrimitives.ReadUInt64LittleEndian(zip64.AsSpan(48));
        }

        if (directoryOffset < 0 || directorySize <= 0 || directoryOffset > length || directorySize > length - directoryOffset)
            return [];
        var directory = new byte[(int)Math.Min(directorySize, MaxCentralDirectoryBytes)];
        stream.Position = directoryOffset;
        stream.ReadExactly(directory);
        var names = new List<string>();
        for (var at = 0; at + 46 <= directory.Length && BinaryPrimitives.ReadUInt32LittleEndian(directory.AsSpan(at)) == 0x02014b50;)
        {
            int nameLength = BinaryPrimitives.ReadUInt16LittleEndian(directory.AsSpan(at + 28));
            int extraLength = BinaryPrimitives.ReadUInt16LittleEndian(directory.AsSpan(at + 30));
            int commentLength = BinaryPrimitives.ReadUInt16LittleEndian(directory.AsSpan(at + 32));
            if (at + 46 + nameLength > directory.Length)
                break;
            names.Add(Encoding.UTF8.GetString(directory, at + 46, nameLength));
            at += 46 + nameLength + extraLength + commentLength;
        }

        return names;
    }

    /// <summary>
    /// ONNX, Core ML and TensorFlow graphs are protobuf messages with no magic number. A candidate is accepted when its
    /// first top-level fields are well formed, fit in the file and are the fields that message type starts with.
    /// </summary>
    private static string? DetectProtobuf(Stream stream, long length, string fileName, string extension)
    {
        var fields = ProtobufTopLevelFields(stream, length);
        if (fields.Count == 0)
            return null;

        // ONNX ModelProto: ir_version (1, varint) first, then producer/domain/doc strings, graph (7), opset_import (8).
        if (fields[0] is { Number: 1, WireType: 0, Value: >= 1 and <= 64 }
            && fields.All(f => IsOnnxModelField(f.Number, f.WireType))
            && fields.Any(f => f.Number is 7 or 8))
            return ModelFormats.Onnx;

        // Core ML Model: specificationVersion (1, varint), description (2), then the model type (oneof, field >= 200).
        if (extension == ".mlmodel" && fields[0] is { Number: 1, WireType: 0 } && fields.Skip(1).All(f => f.WireType == 2))
            return ModelFormats.CoreMl;

        // TensorFlow: saved_model.pb (SavedModel: schema version 1, meta_graphs 2) or a frozen GraphDef .pb (node = 1, versions 4, library 2).
        if (extension == ".pb" && fields.All(f => f.WireType == 2 || f is { Number: 1, WireType: 0 })
            && (string.Equals(fileName, "saved_model.pb", StringComparison.OrdinalIgnoreCase) || fields.Any(f => f.Number == 1 && f.WireType == 2)))
            return ModelFormats.TensorFlow;
        return null;
    }

    private static bool IsOnnxModelField(int number, int wireType) => (number, wireType) switch
    {
        (1 or 5, 0) => true,                                 // ir_version, model_version
        (2 or 3 or 4 or 6 or 7 or 8 or 14 or 20 or 25, 2) => true, // producer, version, domain, doc, graph, opsets, metadata, training, functions
        _ => false,
    };

    private readonly record struct ProtobufField(int Number, int WireType, ulong Value);

    /// <summary>
    /// The first <see cref="ProtobufFieldsChecked"/> top-level fields, or none when the bytes stop being well-formed
    /// protobuf: an unknown wire type, field number 0, a varint over 10 bytes or a length past the end of the file.
    /// </summary>
    private static List<ProtobufField> ProtobufTopLevelFields(Stream stream, long length)
    {
        var fields = new List<ProtobufField>();
        stream.Position = 0;
        while (stream.Position < length && fields.Count < ProtobufFieldsChecked)
        {
            if (!TryReadVarint(stream, out var tag) || tag >> 3 is 0 or > 536_870_911)
                return [];
            var wireType = (int)(tag & 7);
            ulong value = 0;
            switch (wireType)
            {
                case 0:
                    if (!TryReadVarint(stream, out value))
                        return [];
                    break;
                case 1:
                case 5:
                    var width = wireType == 1 ? 8 : 4;
                    if (stream.Position + width > length)
                        return [];
                    stream.Position += width;
                    break;
                case 2:
                    if (!TryReadVarint(stream, out value) || value > (ulong)(length - stream.Position))
                        return [];
                    stream.Position += (long)value;
                    break;
                default:
                    return [];
            }

            fields.Add(new ProtobufField((int)(tag >> 3), wireType, value));
        }

        return fields;
    }

    private static bool TryReadVarint(Stream stream, out ulong value)
    {
        value = 0;
        for (var shift = 0; shift < 70; shift += 7)
        {
            var b = stream.ReadByte();
            if (b < 0)
                return false;
            value |= (ulong)(b & 0x7f) << shift;
            if ((b & 0x80) == 0)
                return true;
        }

        return false;
    }
}

/// <summary>The model formats <see cref="ModelFileDetector"/> recognises (the names used in BOM properties and reports).</summary>
public static class ModelFormats
{
    public const string Onnx = "onnx";
    public const string Gguf = "gguf";
    public const string Safetensors = "safetensors";
    public const string PyTorch = "pytorch";
    public const string Pickle = "pickle";
    public const string TfLite = "tflite";
    public const string TensorFlow = "tensorflow";
    public const string CoreMl = "coreml";
    public const string MlNet = "mlnet";
    public const string Hdf5 = "hdf5";
    public const string Keras = "keras";
}
