using System.Buffers.Binary;
using System.Text;

namespace ProvenanceGate.Formats.Gguf;

/// <summary>GGUF metadata value types (gguf.h <c>gguf_type</c>).</summary>
#pragma warning disable CA1720 // the specification's names
public enum GgufValueType : uint
{
    UInt8 = 0,
    Int8 = 1,
    UInt16 = 2,
    Int16 = 3,
    UInt32 = 4,
    Int32 = 5,
    Float32 = 6,
    Bool = 7,
    String = 8,
    Array = 9,
    UInt64 = 10,
    Int64 = 11,
    Float64 = 12,
}
#pragma warning restore CA1720

/// <summary>
/// One metadata value: a scalar (boxed as its .NET type: byte, sbyte, ushort, short, uint, int, float, bool, string,
/// ulong, long, double) or an array (<see cref="GgufArray"/>).
/// </summary>
public sealed record GgufValue(GgufValueType Type, object Value)
{
    /// <summary>An integer of any width, or null when the value is not an integer (or a ulong above long's range).</summary>
    public long? AsInteger => Value switch
    {
        byte v => v,
        sbyte v => v,
        ushort v => v,
        short v => v,
        uint v => v,
        int v => v,
        ulong v when v <= long.MaxValue => (long)v,
        long v => v,
        _ => null,
    };

    public double? AsNumber => Value switch
    {
        float v => v,
        double v => v,
        _ => AsInteger,
    };

    public string? AsString => Value as string;

    public GgufArray? AsArray => Value as GgufArray;
}

/// <summary>
/// An array value: elements of one type, kept as a typed .NET array (<c>float[]</c>, <c>string[]</c>,
/// <c>GgufArray[]</c>, ...) so a large tokenizer array costs about what it takes in the file.
/// </summary>
public sealed record GgufArray(GgufValueType ElementType, Array Items)
{
    public int Count => Items.Length;

    public IReadOnlyList<string> Strings => Items as string[] ?? [];

    /// <summary>Element <paramref name="index"/> as a number (null for strings, bools and nested arrays).</summary>
    public double? Number(int index) => new GgufValue(ElementType, Items.GetValue(index)!).AsNumber;
}

/// <summary>One tensor info: GGUF stores dimensions fastest-varying first (ggml's ne[0] is the row length).</summary>
public sealed record GgufTensorInfo(string Name, IReadOnlyList<long> Dimensions, GgmlType Type, long RelativeOffset)
{
    /// <summary>Row-major logical shape (the reverse of GGUF's order), as PyTorch and safetensors write it.</summary>
    public IReadOnlyList<long> Shape => Dimensions.Reverse().ToArray();

    public long ElementCount => Dimensions.Aggregate(1L, (a, b) => a * b);
}

/// <summary>
/// A GGUF file's header (versions 2 and 3, little-endian): metadata, tensor infos and where the data section starts.
/// Every count, length and offset is checked against the file size before anything is allocated for it, nested
/// arrays are bounded, and every problem is PG3030 (never another exception, a hang or a huge allocation).
/// </summary>
public sealed class GgufFile
{
    public const uint Magic = 0x46554747; // "GGUF" little-endian
    public const int DefaultAlignment = 32;
    public const int MaxDimensions = 4; // GGML_MAX_DIMS
    public const int MaxArrayDepth = 4;
    public const int MaxKeyBytes = 64 * 1024;

    /// <summary>Elements in one array: far above any real vocabulary or merge list (a few hundred thousand).</summary>
    public const int MaxArrayElements = 1 << 24;

    private GgufFile(string path, uint version, long fileLength, IReadOnlyDictionary<string, GgufValue> metadata, IReadOnlyList<string> keyOrder,
        IReadOnlyList<GgufTensorInfo> tensors, int alignment, long dataOffset)
    {
        Path = path;
        Version = version;
        FileLength = fileLength;
        Metadata = metadata;
        KeyOrder = keyOrder;
        Tensors = tensors;
        Alignment = alignment;
        DataOffset = dataOffset;
    }

    public string Path { get; }
    public uint Version { get; }
    public long FileLength { get; }
    public IReadOnlyDictionary<string, GgufValue> Metadata { get; }

    /// <summary>Metadata keys in file order.</summary>
    public IReadOnlyList<string> KeyOrder { get; }

    public IReadOnlyList<GgufTensorInfo> Tensors { get; }
    public int Alignment { get; }

    /// <summary>Absolute file offset of the tensor data section (tensor offsets are relative to it).</summary>
    public long DataOffset { get; }

    public GgufValue? this[string key] => Metadata.TryGetValue(key, out var value) ? value : null;

    public string? Text(string key) => this[key]?.AsString;

    public long? Number(string key) => this[key]?.AsInteger;

    /// <summary>True when the file starts with the GGUF magic (cheap: reads four bytes).</summary>
    public static bool HasMagic(string path)
    {
        try
        {
            using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            Span<byte> magic = stackalloc byte[4];
            return RandomAccess.Read(handle, magic, 0) == 4 && BinaryPrimitives.ReadUInt32LittleEndian(magic) == Magic;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    public static GgufFile Read(string path)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
            return new Parser(stream, path).Parse();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw Diagnostics.Diagnostics.FileUnreadable.Exception($"cannot read GGUF file '{path}': {ex.Message}", path, inner: ex);
        }
    }

    internal static Diagnostics.ProvenanceException Malformed(string path, string reason) =>
        Diagnostics.Diagnostics.GgufMalformed.Exception($"{path}: {reason}", path);

    private sealed class Parser(FileStream stream, string path)
    {
        private static readonly UTF8Encoding StrictUtf8 = new(false, throwOnInvalidBytes: true);
        private readonly long _length = stream.Length;
        private readonly byte[] _scratch = new byte[8];

        private long Remaining => _length - stream.Position;

        public GgufFile Parse()
        {
            if (_length < 24)
                throw Malformed(path, $"{_length} bytes: too short for a GGUF header");
            if (ReadUInt32() != Magic)
                throw Malformed(path, "no GGUF magic");
            var version = ReadUInt32();
            if (version is 2 or 3)
            {
                // supported
            }
            else if (BinaryPrimitives.ReverseEndianness(version) is 2 or 3)
            {
                throw Malformed(path, "big-endian GGUF is not supported");
            }
            else
            {
                throw Malformed(path, $"GGUF version {version} is not supported (2 and 3 are)");
            }

            var tensorCount = ReadUInt64();
            var keyCount = ReadUInt64();
            // A key-value pair takes at least 8 (key length) + 4 (type) + 1 bytes; a tensor info at least 8 + 4 + 8 + 4 + 8.
            if (keyCount > (ulong)(Remaining / 13))
                throw Malformed(path, $"{keyCount} metadata keys cannot fit in the file");
            if (tensorCount > (ulong)(Remaining / 32))
                throw Malformed(path, $"{tensorCount} tensors cannot fit in the file");

            var metadata = new Dictionary<string, GgufValue>(StringComparer.Ordinal);
            var keyOrder = new List<string>((int)keyCount);
            for (ulong i = 0; i < keyCount; i++)
            {
                var key = ReadString(MaxKeyBytes, "metadata key");
                var type = ReadType();
                var value = ReadValue(type, key, 0);
                if (!metadata.TryAdd(key, value))
                    throw Malformed(path, $"metadata key '{key}' appears twice");
                keyOrder.Add(key);
            }

            var alignment = DefaultAlignment;
            if (metadata.TryGetValue("general.alignment", out var alignmentValue))
            {
                if (alignmentValue.Type != GgufValueType.UInt32 || alignmentValue.AsInteger is not { } a || a == 0 || a > (1 << 20) || (a & (a - 1)) != 0)
                    throw Malformed(path, "general.alignment is not a power-of-two uint32");
                alignment = (int)a;
            }

            var tensors = new List<GgufTensorInfo>((int)tensorCount);
            var names = new HashSet<string>(StringComparer.Ordinal);
            for (ulong i = 0; i < tensorCount; i++)
            {
                var name = ReadString(MaxKeyBytes, "tensor name");
                if (!names.Add(name))
                    throw Malformed(path, $"tensor '{name}' appears twice");
                var dimensionCount = ReadUInt32();
                if (dimensionCount is 0 or > MaxDimensions)
                    throw Malformed(path, $"tensor '{name}' has {dimensionCount} dimensions (1 to {MaxDimensions} allowed)");
                var dimensions = new long[dimensionCount];
                for (var d = 0; d < dimensionCount; d++)
                {
                    var dimension = ReadUInt64();
                    if (dimension > int.MaxValue)
                        throw Malformed(path, $"tensor '{name}' dimension {d} is {dimension}");
                    dimensions[d] = (long)dimension;
                }

                var rawType = ReadUInt32();
                if (!Enum.IsDefined(typeof(GgmlType), (int)rawType) || rawType > int.MaxValue)
                    throw Malformed(path, $"tensor '{name}' has unknown ggml type {rawType}");
                var offset = ReadUInt64();
                if (offset > (ulong)_length)
                    throw Malformed(path, $"tensor '{name}' offset {offset} is beyond the end of the file");
                if (offset % (ulong)alignment != 0)
                    throw Malformed(path, $"tensor '{name}' offset {offset} is not a multiple of the alignment {alignment}");
                tensors.Add(new GgufTensorInfo(name, dimensions, (GgmlType)rawType, (long)offset));
            }

            var dataOffset = (stream.Position + alignment - 1) / alignment * alignment;
            foreach (var tensor in tensors)
                CheckExtent(tensor, dataOffset);
            return new GgufFile(path, version, _length, metadata, keyOrder, tensors, alignment, dataOffset);
        }

        private void CheckExtent(GgufTensorInfo tensor, long dataOffset)
        {
            var elements = 1L;
            foreach (var dimension in tensor.Dimensions)
            {
                if (dimension != 0 && elements > long.MaxValue / dimension)
                    throw Malformed(path, $"tensor '{tensor.Name}' has too many elements");
                elements *= dimension;
            }

            var layout = GgmlTypes.Layout(tensor.Type);
            if (tensor.Dimensions[0] % layout.BlockSize != 0)
                throw Malformed(path, $"tensor '{tensor.Name}' row length {tensor.Dimensions[0]} is not a multiple of the {tensor.Type} block size {layout.BlockSize}");
            var blocks = elements / layout.BlockSize;
            if (blocks > (_length / layout.BlockBytes) + 1)
                throw Malformed(path, $"tensor '{tensor.Name}' ({elements} elements of {tensor.Type}) cannot fit in the file");
            var end = dataOffset + tensor.RelativeOffset + (blocks * layout.BlockBytes);
            if (dataOffset + tensor.RelativeOffset > _length || end > _length)
                throw Malformed(path, $"tensor '{tensor.Name}' data runs past the end of the file (truncated?)");
        }

        private GgufValue ReadValue(GgufValueType type, string key, int depth)
        {
            switch (type)
            {
                case GgufValueType.UInt8: return new(type, Fill(1)[0]);
                case GgufValueType.Int8: return new(type, (sbyte)Fill(1)[0]);
                case GgufValueType.UInt16: return new(type, BinaryPrimitives.ReadUInt16LittleEndian(Fill(2)));
                case GgufValueType.Int16: return new(type, BinaryPrimitives.ReadInt16LittleEndian(Fill(2)));
                case GgufValueType.UInt32: return new(type, ReadUInt32());
                case GgufValueType.Int32: return new(type, BinaryPrimitives.ReadInt32LittleEndian(Fill(4)));
                case GgufValueType.Float32: return new(type, BinaryPrimitives.ReadSingleLittleEndian(Fill(4)));
                case GgufValueType.Bool:
                    var flag = Fill(1)[0];
                    if (flag > 1)
                        throw Malformed(path, $"'{key}': bool value {flag}");
                    return new(type, flag == 1);
                case GgufValueType.String: return new(type, ReadString(int.MaxValue, $"value of '{key}'"));
                case GgufValueType.UInt64: return new(type, ReadUInt64());
                case GgufValueType.Int64: return new(type, BinaryPrimitives.ReadInt64LittleEndian(Fill(8)));
                case GgufValueType.Float64: return new(type, BinaryPrimitives.ReadDoubleLittleEndian(Fill(8)));
                case GgufValueType.Array:
                    if (depth >= MaxArrayDepth)
                        throw Malformed(path, $"'{key}': arrays nested deeper than {MaxArrayDepth}");
                    var elementType = ReadType();
                    var count = ReadUInt64();
                    // Every element takes at least one byte (a string or array at least eight): the file bounds the count.
                    var minimum = MinimumSize(elementType);
                    if (count > (ulong)(Remaining / minimum))
                        throw Malformed(path, $"'{key}': array of {count} {elementType} elements cannot fit in the file");
                    if (count > MaxArrayElements)
                        throw Malformed(path, $"'{key}': array of {count} elements is above the {MaxArrayElements}-element limit");
                    return new(type, ReadArray(elementType, (int)count, key, depth));
                default:
                    throw Malformed(path, $"'{key}': unknown value type {(uint)type}");
            }
        }

        private GgufArray ReadArray(GgufValueType elementType, int count, string key, int depth)
        {
            Array items = elementType switch
            {
                GgufValueType.UInt8 => new byte[count],
                GgufValueType.Int8 => new sbyte[count],
                GgufValueType.UInt16 => new ushort[count],
                GgufValueType.Int16 => new short[count],
                GgufValueType.UInt32 => new uint[count],
                GgufValueType.Int32 => new int[count],
                GgufValueType.Float32 => new float[count],
                GgufValueType.Bool => new bool[count],
                GgufValueType.String => new string[count],
                GgufValueType.UInt64 => new ulong[count],
                GgufValueType.Int64 => new long[count],
                GgufValueType.Float64 => new double[count],
                _ => new GgufArray[count],
            };
            for (var i = 0; i < count; i++)
            {
                var value = ReadValue(elementType, key, depth + 1).Value;
                items.SetValue(value, i);
            }

            return new GgufArray(elementType, items);
        }

        private static int MinimumSize(GgufValueType type) => type switch
        {
            GgufValueType.UInt8 or GgufValueType.Int8 or GgufValueType.Bool => 1,
            GgufValueType.UInt16 or GgufValueType.Int16 => 2,
            GgufValueType.UInt32 or GgufValueType.Int32 or GgufValueType.Float32 => 4,
            GgufValueType.Array => 12,
            _ => 8,
        };

        private GgufValueType ReadType()
        {
            var type = ReadUInt32();
            if (type > (uint)GgufValueType.Float64)
                throw Malformed(path, $"unknown metadata value type {type}");
            return (GgufValueType)type;
        }

        private string ReadString(int maxBytes, string what)
        {
            var length = ReadUInt64();
            if (length > (ulong)Remaining)
                throw Malformed(path, $"{what}: a {length}-byte string runs past the end of the file");
            if (length > (ulong)maxBytes)
                throw Malformed(path, $"{what}: a {length}-byte string is above the {maxBytes}-byte limit");
            var bytes = new byte[length];
            stream.ReadExactly(bytes);
            try
            {
                return StrictUtf8.GetString(bytes);
            }
            catch (DecoderFallbackException)
            {
                throw Malformed(path, $"{what} is not valid UTF-8");
            }
        }

        private uint ReadUInt32() => BinaryPrimitives.ReadUInt32LittleEndian(Fill(4));

        private ulong ReadUInt64() => BinaryPrimitives.ReadUInt64LittleEndian(Fill(8));

        private Span<byte> Fill(int count)
        {
            if (Remaining < count)
                throw Malformed(path, "file ended early (truncated header)");
            var span = _scratch.AsSpan(0, count);
            stream.ReadExactly(span);
            return span;
        }
    }
}
