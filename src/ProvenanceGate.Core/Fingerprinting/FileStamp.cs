using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace ProvenanceGate.Fingerprinting;

/// <summary>
/// What the kernel says identifies a file's current content without reading it, git-index style: device, inode,
/// size, modification time and status-change time in nanoseconds. The change time (ctime) is the part content
/// cannot escape: any write, truncation or <c>touch -r</c> sets it to the current time, and no unprivileged call
/// sets it back.
/// </summary>
internal readonly partial record struct FileStamp(string Name, ulong Device, ulong Inode, long Size, long ModifiedNs, long ChangedNs)
{
    public override string ToString() => $"{Name}\t{Device}\t{Inode}\t{Size}\t{ModifiedNs}\t{ChangedNs}";

    /// <summary>
    /// The stamps of every file directly in <paramref name="directory"/> (the only files a fingerprint reads), in
    /// ordinal name order; null where the platform has no trustworthy change time (anything but Linux with statx) or a
    /// file cannot be stamped, so the caller computes instead of trusting.
    /// </summary>
    public static IReadOnlyList<FileStamp>? OfDirectory(string directory)
    {
        if (!OperatingSystem.IsLinux())
            return null;
        var stamps = new List<FileStamp>();
        if (File.Exists(directory))
        {
            // A single model file (GGUF, model.onnx, pytorch_model.bin, ...) first, then every file beside it: an ONNX
            // model's external data lives there and is read with it.
            if (Of(directory) is not { } single)
                return null;
            stamps.Add(single);
            directory = Path.GetDirectoryName(Path.GetFullPath(directory))!;
        }

        foreach (var path in Directory.EnumerateFiles(directory).Order(StringComparer.Ordinal))
        {
            if (Of(path) is not { } stamp)
                return null;
            stamps.Add(stamp);
        }

        return stamps;
    }

    private static FileStamp? Of(string path)
    {
        // struct statx has the same fixed layout on every Linux architecture (unlike struct stat).
        Span<byte> buffer = stackalloc byte[256];
        buffer.Clear();
        try
        {
            if (Native.Statx(AtCurrentDirectory, path, 0, Wanted, buffer) != 0)
                return null;
        }
        catch (Exception ex) when (ex is EntryPointNotFoundException or DllNotFoundException)
        {
            return null; // glibc before 2.28 or another libc without statx
        }

        if ((BinaryPrimitives.ReadUInt32LittleEndian(buffer) & Wanted) != Wanted)
            return null;
        var device = ((ulong)BinaryPrimitives.ReadUInt32LittleEndian(buffer[136..]) << 32) | BinaryPrimitives.ReadUInt32LittleEndian(buffer[140..]);
        return new FileStamp(
            Path.GetFileName(path),
            device,
            BinaryPrimitives.ReadUInt64LittleEndian(buffer[32..]),
            (long)BinaryPrimitives.ReadUInt64LittleEndian(buffer[40..]),
            Nanoseconds(buffer[112..]),
            Nanoseconds(buffer[96..]));
    }

    private static long Nanoseconds(ReadOnlySpan<byte> timestamp) =>
        (BinaryPrimitives.ReadInt64LittleEndian(timestamp) * 1_000_000_000L) + BinaryPrimitives.ReadUInt32LittleEndian(timestamp[8..]);

    private const int AtCurrentDirectory = -100;

    // STATX_MTIME | STATX_CTIME | STATX_INO | STATX_SIZE
    private const uint Wanted = 0x40 | 0x80 | 0x100 | 0x200;

    private static partial class Native
    {
        [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static partial int Statx(int directoryFd, string path, int flags, uint mask, Span<byte> buffer);
    }
}
