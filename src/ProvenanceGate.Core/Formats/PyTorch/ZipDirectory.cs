using System.Buffers.Binary;
using System.Text;
using Microsoft.Win32.SafeHandles;
using ProvenanceGate.Diagnostics;

namespace ProvenanceGate.Formats.PyTorch;

/// <summary>One member of a zip archive: where its (possibly compressed) bytes start in the file.</summary>
internal sealed record ZipMember(string Name, int Method, long DataOffset, long CompressedLength, long Length, uint Crc32)
{
    public bool IsStored => Method == 0;
}

/// <summary>
/// The central directory of a zip archive (zip64 included), read with positioned reads so that members can be
/// read in place: <c>torch.save</c> stores tensor data uncompressed, and a 100 GB checkpoint must not be copied
/// to be read. <see cref="System.IO.Compression.ZipArchive"/> does not expose data offsets, hence this reader.
/// Every count, length and offset is checked against the file before anything is allocated.
/// </summary>
internal static class ZipDirectory
{
    private const uint EndOfDirectorySignature = 0x06054b50;
    private const uint Zip64LocatorSignature = 0x07064b50;
    private const uint Zip64EndSignature = 0x06064b50;
    private const uint CentralHeaderSignature = 0x02014b50;
    private const uint LocalHeaderSignature = 0x04034b50;

    /// <summary>A checkpoint's directory lists a few entries per tensor; more than this is not a checkpoint.</summary>
    private const long MaxDirectoryBytes = 256L << 20;

    public static IReadOnlyList<ZipMember> Read(SafeFileHandle handle, string path)
    {
        var length = RandomAccess.GetLength(handle);
        // The end record is 22 bytes plus a comment of at most 65535.
        var tailLength = (int)Math.Min(length, 22 + 65535);
        var tail = ReadAt(handle, length - tailLength, tailLength, path);
        var end = -1;
        for (var i = tail.Length - 22; i >= 0; i--)
        {
            if (BinaryPrimitives.ReadUInt32LittleEndian(tail.AsSpan(i)) == EndOfDirectorySignature)
            {
                end = i;
                break;
            }
        }

        if (end < 0)
            throw Malformed(path, "no zip end-of-central-directory record (truncated?)");
        long entries = BinaryPrimitives.ReadUInt16LittleEndian(tail.AsSpan(end + 10));
        long directoryLength = BinaryPrimitives.ReadUInt32LittleEndian(tail.AsSpan(end + 12));
        long directoryOffset = BinaryPrimitives.ReadUInt32LittleEndian(tail.AsSpan(end + 16));
        if (entries == 0xFFFF || directoryLength == 0xFFFFFFFF || directoryOffset == 0xFFFFFFFF)
        {
            var endPosition = length - tailLength + end;
            if (endPosition < 20)
                throw Malformed(path, "zip64 locator missing");
            var locator = ReadAt(handle, endPosition - 20, 20, path);
            if (BinaryPrimitives.ReadUInt32LittleEndian(locator) != Zip64LocatorSignature)
                throw Malformed(path, "zip64 locator missing");
            var zip64End = BinaryPrimitives.ReadInt64LittleEndian(locator.AsSpan(8));
            if (zip64End < 0 || zip64End > length - 56)
                throw Malformed(path, $"zip64 end record offset {zip64End} is outside the file");
            var record = ReadAt(handle, zip64End, 56, path);
            if (BinaryPrimitives.ReadUInt32LittleEndian(record) != Zip64EndSignature)
                throw Malformed(path, "zip64 end record has a bad signature");
            entries = BinaryPrimitives.ReadInt64LittleEndian(record.AsSpan(32));
            directoryLength = BinaryPrimitives.ReadInt64LittleEndian(record.AsSpan(40));
            directoryOffset = BinaryPrimitives.ReadInt64LittleEndian(record.AsSpan(48));
        }

        if (directoryLength < 0 || directoryOffset < 0 || directoryLength > MaxDirectoryBytes || directoryOffset > length - directoryLength)
            throw Malformed(path, $"central directory ({directoryLength} bytes at {directoryOffset}) is outside the file or too large");
        if (entries < 0 || entries > directoryLength / 46)
            throw Malformed(path, $"central directory claims {entries} entries in {directoryLength} bytes");

        var directory = ReadAt(handle, directoryOffset, (int)directoryLength, path);
        var members = new List<ZipMember>((int)entries);
        var position = 0;
        for (long i = 0; i < entries; i++)
        {
            if (position > directory.Length - 46 || BinaryPrimitives.ReadUInt32LittleEndian(directory.AsSpan(position)) != CentralHeaderSignature)
                throw Malformed(path, $"central directory entry {i} is damaged");
            var header = directory.AsSpan(position);
            var flags = BinaryPrimitives.ReadUInt16LittleEndian(header[8..]);
            int method = BinaryPrimitives.ReadUInt16LittleEndian(header[10..]);
            var crc = BinaryPrimitives.ReadUInt32LittleEndian(header[16..]);
            long compressed = BinaryPrimitives.ReadUInt32LittleEndian(header[20..]);
            long uncompressed = BinaryPrimitives.ReadUInt32LittleEndian(header[24..]);
            int nameLength = BinaryPrimitives.ReadUInt16LittleEndian(header[28..]);
            int extraLength = BinaryPrimitives.ReadUInt16LittleEndian(header[30..]);
            int commentLength = BinaryPrimitives.ReadUInt16LittleEndian(header[32..]);
            long localOffset = BinaryPrimitives.ReadUInt32LittleEndian(header[42..]);
            if (position + 46L + nameLength + extraLength + commentLength > directory.Length)
                throw Malformed(path, $"central directory entry {i} runs past the directory");
            var name = Encoding.UTF8.GetString(header.Slice(46, nameLength));
            var extra = header.Slice(46 + nameLength, extraLength);
            ApplyZip64Extra(extra, ref uncompressed, ref compressed, ref localOffset);
            if ((flags & 1) != 0)
                throw Malformed(path, $"member '{name}' is encrypted");
            if (localOffset < 0 || localOffset > length - 30)
                throw Malformed(path, $"member '{name}' has its local header outside the file");
            var local = ReadAt(handle, localOffset, 30, path);
            if (BinaryPrimitives.ReadUInt32LittleEndian(local) != LocalHeaderSignature)
                throw Malformed(path, $"member '{name}' has a bad local header signature");
            var dataOffset = localOffset + 30 + BinaryPrimitives.ReadUInt16LittleEndian(local.AsSpan(26)) + BinaryPrimitives.ReadUInt16LittleEndian(local.AsSpan(28));
            if (compressed < 0 || uncompressed < 0 || dataOffset > length || compressed > length - dataOffset)
                throw Malformed(path, $"member '{name}' ({compressed} bytes at {dataOffset}) runs past the end of the file ({length} bytes)");
            if (method == 0 && compressed != uncompressed)
                throw Malformed(path, $"stored member '{name}' has different compressed and uncompressed sizes");
            members.Add(new ZipMember(name, method, dataOffset, compressed, uncompressed, crc));
            position += 46 + nameLength + extraLength + commentLength;
        }

        return members;
    }

    private static void ApplyZip64Extra(ReadOnlySpan<byte> extra, ref long uncompressed, ref long compressed, ref long localOffset)
    {
        while (extra.Length >= 4)
        {
            var id = BinaryPrimitives.ReadUInt16LittleEndian(extra);
            var size = BinaryPrimitives.ReadUInt16LittleEndian(extra[2..]);
            if (size > extra.Length - 4)
                return;
            var field = extra.Slice(4, size);
            if (id == 0x0001)
            {
                // Only the fields whose 32-bit value is saturated are present, in this order.
                if (uncompressed == 0xFFFFFFFF && field.Length >= 8)
                {
                    uncompressed = BinaryPrimitives.ReadInt64LittleEndian(field);
                    field = field[8..];
                }

                if (compressed == 0xFFFFFFFF && field.Length >= 8)
                {
                    compressed = BinaryPrimitives.ReadInt64LittleEndian(field);
                    field = field[8..];
                }

                if (localOffset == 0xFFFFFFFF && field.Length >= 8)
                    localOffset = BinaryPrimitives.ReadInt64LittleEndian(field);
                return;
            }

            extra = extra[(4 + size)..];
        }
    }

    internal static byte[] ReadAt(SafeFileHandle handle, long offset, int count, string path)
    {
        var buffer = new byte[count];
        var total = 0;
        while (total < count)
        {
            var read = RandomAccess.Read(handle, buffer.AsSpan(total), offset + total);
            if (read == 0)
                throw Malformed(path, "file ended early (truncated)");
            total += read;
        }

        return buffer;
    }

    private static ProvenanceException Malformed(string path, string reason) =>
        Diagnostics.Diagnostics.PyTorchMalformed.Exception($"{path}: {reason}", path);
}
