using System.Text;
using Microsoft.Win32.SafeHandles;

namespace ProvenanceGate.Formats.Onnx;

internal enum WireType
{
    Varint = 0,
    Fixed64 = 1,
    LengthDelimited = 2,
    StartGroup = 3,
    EndGroup = 4,
    Fixed32 = 5,
}

/// <summary>
/// A streaming reader of the protobuf wire format over a file: field headers and small values are read through a
/// small window; large length-delimited fields (tensor <c>raw_data</c>) are only located (offset and length), never
/// loaded. Every length is checked against the enclosing message before anything is allocated, and nesting is bounded,
/// so a truncated or hostile file is a <see cref="Diagnostics.ProvenanceException"/>, not a crash or a huge allocation.
/// </summary>
internal sealed class ProtobufReader : IDisposable
{
    /// <summary>Messages nested deeper than this are rejected (ONNX nests graphs in node attributes).</summary>
    public const int MaxDepth = 48;

    private const int WindowBytes = 64 << 10;

    private readonly SafeFileHandle _handle;
    private readonly byte[] _window = new byte[WindowBytes];
    private readonly Stack<long> _limits = new();
    private long _windowStart;
    private int _windowLength;

    public ProtobufReader(string path)
    {
        Path = path;
        try
        {
            _handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            Length = RandomAccess.GetLength(_handle);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw Diagnostics.Diagnostics.FileUnreadable.Exception($"{path}: {ex.Message}", path);
        }

        Limit = Length;
    }

    public string Path { get; }

    public long Length { get; }

    public long Position { get; private set; }

    /// <summary>End of the message being read.</summary>
    public long Limit { get; private set; }

    public int Depth => _limits.Count;

    /// <summary>Reads the next field header of the current message; false at its end.</summary>
    public bool TryReadTag(out int field, out WireType wireType)
    {
        if (Position >= Limit)
        {
            field = 0;
            wireType = default;
            return false;
        }

        var tag = ReadVarint();
        field = (int)Math.Min(tag >> 3, int.MaxValue);
        wireType = (WireType)(tag & 7);
        if (field == 0 || wireType is WireType.StartGroup or WireType.EndGroup || (int)wireType > 5)
            throw Error($"invalid field header {tag} at offset {Position}");
        return true;
    }

    public ulong ReadVarint()
    {
        ulong result = 0;
        for (var shift = 0; shift < 70; shift += 7)
        {
            var b = ReadByte();
            result |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
                return result;
        }

        throw Error($"varint longer than 10 bytes at offset {Position}");
    }

    public long ReadInt64() => (long)ReadVarint();

    /// <summary>An int32 field: protobuf encodes negative values as 10-byte varints, truncated here as the spec says.</summary>
    public int ReadInt32() => unchecked((int)ReadVarint());

    public uint ReadFixed32()
    {
        Span<byte> bytes = stackalloc byte[4];
        ReadBytes(bytes);
        return System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(bytes);
    }

    public ulong ReadFixed64()
    {
        Span<byte> bytes = stackalloc byte[8];
        ReadBytes(bytes);
        return System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(bytes);
    }

    /// <summary>The payload of a length-delimited field, located but not read: the reader moves past it.</summary>
    public (long Offset, long Length) SkipLengthDelimited()
    {
        var length = ReadLength();
        var offset = Position;
        Position += length;
        return (offset, length);
    }

    /// <summary>
    /// A length-delimited string. Strings longer than <paramref name="maxBytes"/> are cut (the rest skipped): names and
    /// metadata are reported, never trusted for size.
    /// </summary>
    public string ReadString(int maxBytes = 1 << 20)
    {
        var length = ReadLength();
        var kept = (int)Math.Min(length, maxBytes);
        var bytes = kept <= 256 ? stackalloc byte[kept] : new byte[kept];
        ReadBytes(bytes);
        Position += length - kept;
        return Encoding.UTF8.GetString(bytes);
    }

    /// <summary>Enters a length-delimited field as a nested message; pair with <see cref="EndMessage"/>.</summary>
    public void BeginMessage()
    {
        var length = ReadLength();
        if (_limits.Count >= MaxDepth)
            throw Error($"messages nested deeper than {MaxDepth} levels at offset {Position}");
        _limits.Push(Limit);
        Limit = Position + length;
    }

    public void EndMessage()
    {
        Position = Limit;
        Limit = _limits.Pop();
    }

    /// <summary>Calls <paramref name="onValue"/> for each element of a repeated varint field, packed or not.</summary>
    public void ReadRepeatedVarint(WireType wireType, Action<ulong> onValue)
    {
        if (wireType == WireType.Varint)
        {
            onValue(ReadVarint());
            return;
        }

        if (wireType != WireType.LengthDelimited)
            throw Error($"repeated integer field has wire type {wireType} at offset {Position}");
        var length = ReadLength();
        var end = Position + length;
        while (Position < end)
            onValue(ReadVarint());
        if (Position != end)
            throw Error($"packed integers overrun their field at offset {Position}");
    }

    public void Skip(WireType wireType)
    {
        switch (wireType)
        {
            case WireType.Varint:
                ReadVarint();
                break;
            case WireType.Fixed64:
                Advance(8);
                break;
            case WireType.Fixed32:
                Advance(4);
                break;
            case WireType.LengthDelimited:
                SkipLengthDelimited();
                break;
            default:
                throw Error($"unsupported wire type {wireType} at offset {Position}");
        }
    }

    /// <summary>Reads <paramref name="destination"/>.Length bytes at an absolute file offset (outside the window).</summary>
    public static void ReadAt(SafeFileHandle handle, Span<byte> destination, long offset, string path)
    {
        var total = 0;
        while (total < destination.Length)
        {
            var read = RandomAccess.Read(handle, destination[total..], offset + total);
            if (read == 0)
                throw Diagnostics.Diagnostics.OnnxMalformed.Exception($"{path}: file ended early (truncated at offset {offset + total})", path);
            total += read;
        }
    }

    public Diagnostics.ProvenanceException Error(string reason) =>
        Diagnostics.Diagnostics.OnnxMalformed.Exception($"{Path}: {reason}", Path);

    private long ReadLength()
    {
        var length = ReadVarint();
        if (length > (ulong)(Limit - Position))
            throw Error($"field of {length} bytes at offset {Position} runs past the end of its message ({Limit - Position} bytes left)");
        return (long)length;
    }

    private void Advance(long count)
    {
        if (count > Limit - Position)
            throw Error($"field at offset {Position} runs past the end of its message");
        Position += count;
    }

    private byte ReadByte()
    {
        if (Position >= Limit)
            throw Error(Limit == Length ? $"file ended early (truncated at offset {Position})" : $"field runs past the end of its message at offset {Position}");
        EnsureWindow(Position);
        return _window[Position++ - _windowStart];
    }

    private void ReadBytes(Span<byte> destination)
    {
        if (destination.Length > Limit - Position)
            throw Error($"field at offset {Position} runs past the end of its message");
        var copied = 0;
        while (copied < destination.Length)
        {
            EnsureWindow(Position);
            var available = (int)Math.Min(_windowLength - (Position - _windowStart), destination.Length - copied);
            _window.AsSpan((int)(Position - _windowStart), available).CopyTo(destination[copied..]);
            copied += available;
            Position += available;
        }
    }

    private void EnsureWindow(long position)
    {
        if (position >= _windowStart && position < _windowStart + _windowLength)
            return;
        _windowStart = position;
        _windowLength = RandomAccess.Read(_handle, _window, position);
        if (_windowLength == 0)
            throw Error($"file ended early (truncated at offset {position})");
    }

    public void Dispose() => _handle.Dispose();
}
