using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using ProvenanceGate.Diagnostics;

namespace ProvenanceGate.Formats.Safetensors;

/// <summary>One tensor's entry in a safetensors header. Offsets are absolute file positions.</summary>
public sealed record SafetensorsTensorInfo(string Name, SafetensorsDType DType, IReadOnlyList<long> Shape, long FileOffset, long ByteLength)
{
    public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);
}

/// <summary>
/// A parsed and fully validated safetensors header. Only the header is read: tensor data stays on disk,
/// so a 100 GB checkpoint costs a few kilobytes here. Every structural lie in the header (offsets beyond the
/// file, overlapping tensors, a shape that does not match its bytes, an unknown dtype, a huge header) is a PG3001.
/// </summary>
public sealed class SafetensorsHeader
{
    /// <summary>The reference implementation refuses headers above 100 MB; so do we, before allocating.</summary>
    public const long MaxHeaderBytes = 100L * 1024 * 1024;

    private SafetensorsHeader(string path, long fileLength, long dataStart, IReadOnlyList<SafetensorsTensorInfo> tensors, IReadOnlyDictionary<string, string> metadata)
    {
        Path = path;
        FileLength = fileLength;
        DataStart = dataStart;
        Tensors = tensors;
        Metadata = metadata;
    }

    public string Path { get; }

    public long FileLength { get; }

    public long DataStart { get; }

    /// <summary>Tensors in file-offset order.</summary>
    public IReadOnlyList<SafetensorsTensorInfo> Tensors { get; }

    public IReadOnlyDictionary<string, string> Metadata { get; }

    public long ParameterCount => Tensors.Sum(t => t.ElementCount);

    public static SafetensorsHeader Read(string path)
    {
        IO.InputFile.EnsureRegularFile(path, "safetensors file");
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1);
            return Read(stream, path);
        }
        catch (FileNotFoundException ex)
        {
            throw Diagnostics.Diagnostics.FileNotFound.Exception($"'{path}' does not exist", path, inner: ex);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw Diagnostics.Diagnostics.FileUnreadable.Exception($"cannot read '{path}': {ex.Message}", path, inner: ex);
        }
    }

    public static SafetensorsHeader Read(Stream stream, string path)
    {
        var fileLength = stream.Length;
        Span<byte> prefix = stackalloc byte[8];
        if (fileLength < 8 || stream.ReadAtLeast(prefix, 8, throwOnEndOfStream: false) < 8)
            throw Malformed(path, "file is shorter than the 8-byte header length");

        var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (headerLength > MaxHeaderBytes)
            throw Malformed(path, $"header length {headerLength} exceeds the {MaxHeaderBytes}-byte limit");
        if ((long)headerLength > fileLength - 8)
            throw Malformed(path, $"header length {headerLength} runs past the end of the file ({fileLength} bytes)");

        var headerBytes = new byte[(int)headerLength];
        stream.ReadExactly(headerBytes);
        var dataStart = 8 + (long)headerLength;
        var dataLength = fileLength - dataStart;

        string json;
        try
        {
            json = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(headerBytes);
        }
        catch (DecoderFallbackException)
        {
            throw Malformed(path, "header is not valid UTF-8");
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (JsonException ex)
        {
            throw Malformed(path, $"header is not valid JSON: {ex.Message}");
        }

        // Valid JSON may still hold a string no .NET string can carry (an escaped lone surrogate).
        IO.JsonInput.Check(headerBytes, path, "safetensors header", Diagnostics.Diagnostics.SafetensorsMalformed, maxDepth: 8);

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                throw Malformed(path, "header is not a JSON object");

            var tensors = new List<SafetensorsTensorInfo>();
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            var names = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (!names.Add(property.Name))
                    throw Malformed(path, $"tensor '{property.Name}' appears twice");
                if (property.Name == "__metadata__")
                {
                    if (property.Value.ValueKind != JsonValueKind.Object)
                        throw Malformed(path, "__metadata__ is not an object");
                    foreach (var entry in property.Value.EnumerateObject())
                    {
                        if (entry.Value.ValueKind != JsonValueKind.String)
                            throw Malformed(path, $"__metadata__ value '{entry.Name}' is not a string");
                        metadata[entry.Name] = entry.Value.GetString()!;
                    }

                    continue;
                }

                tensors.Add(ParseTensor(path, property, dataStart, dataLength));
            }

            tensors.Sort((a, b) => a.FileOffset.CompareTo(b.FileOffset));
            for (var i = 1; i < tensors.Count; i++)
            {
                var previous = tensors[i - 1];
                if (tensors[i].FileOffset < previous.FileOffset + previous.ByteLength)
                    throw Malformed(path, $"tensors '{previous.Name}' and '{tensors[i].Name}' overlap");
            }

            return new SafetensorsHeader(path, fileLength, dataStart, tensors, metadata);
        }
    }

    private static SafetensorsTensorInfo ParseTensor(string path, JsonProperty property, long dataStart, long dataLength)
    {
        var name = property.Name;
        var value = property.Value;
        if (value.ValueKind != JsonValueKind.Object)
            throw Malformed(path, $"tensor '{name}' is not an object");
        if (!value.TryGetProperty("dtype", out var dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String)
            throw Malformed(path, $"tensor '{name}' has no dtype");
        if (!SafetensorsDTypes.TryParse(dtypeElement.GetString()!, out var dtype))
            throw Malformed(path, $"tensor '{name}' has unknown dtype '{dtypeElement.GetString()}'");
        if (!value.TryGetProperty("shape", out var shapeElement) || shapeElement.ValueKind != JsonValueKind.Array)
            throw Malformed(path, $"tensor '{name}' has no shape");
        if (!value.TryGetProperty("data_offsets", out var offsetsElement) || offsetsElement.ValueKind != JsonValueKind.Array || offsetsElement.GetArrayLength() != 2)
            throw Malformed(path, $"tensor '{name}' has no [begin, end] data_offsets");

        var shape = new List<long>();
        long elements = 1;
        foreach (var dimension in shapeElement.EnumerateArray())
        {
            if (dimension.ValueKind != JsonValueKind.Number || !dimension.TryGetInt64(out var size) || size < 0)
                throw Malformed(path, $"tensor '{name}' has an invalid shape");
            shape.Add(size);
            try
            {
                elements = checked(elements * size);
            }
            catch (OverflowException)
            {
                throw Malformed(path, $"tensor '{name}' shape overflows");
            }
        }

        var begin = ReadOffset(path, name, offsetsElement[0]);
        var end = ReadOffset(path, name, offsetsElement[1]);
        if (end < begin)
            throw Malformed(path, $"tensor '{name}' ends before it begins ({begin}..{end})");
        if (end > dataLength)
            throw Malformed(path, $"tensor '{name}' data ({begin}..{end}) runs past the end of the file ({dataLength} data bytes)");

        long expectedBytes;
        try
        {
            expectedBytes = checked(elements * SafetensorsDTypes.SizeOf(dtype));
        }
        catch (OverflowException)
        {
            throw Malformed(path, $"tensor '{name}' byte size overflows");
        }

        if (expectedBytes != end - begin)
            throw Malformed(path, $"tensor '{name}' shape [{string.Join(", ", shape)}] of {dtype} needs {expectedBytes} bytes but data_offsets give {end - begin}");

        return new SafetensorsTensorInfo(name, dtype, shape, dataStart + begin, end - begin);
    }

    private static long ReadOffset(string path, string name, JsonElement element)
    {
        if (element.ValueKind != JsonValueKind.Number || !element.TryGetInt64(out var offset) || offset < 0)
            throw Malformed(path, $"tensor '{name}' has an invalid data offset");
        return offset;
    }

    private static ProvenanceException Malformed(string path, string reason) =>
        Diagnostics.Diagnostics.SafetensorsMalformed.Exception($"{path}: {reason}", path);
}
