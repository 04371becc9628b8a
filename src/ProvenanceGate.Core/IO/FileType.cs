using System.Runtime.InteropServices;

namespace ProvenanceGate.IO;

public enum FileKind
{
    /// <summary>The type could not be determined (no such file, a link loop, Windows); opening it tells the rest.</summary>
    Unknown,
    Regular,
    Directory,
    SymbolicLink,

    /// <summary>A FIFO, socket or device: reading one blocks forever or never ends (<c>/dev/zero</c>).</summary>
    Special,
}

/// <summary>
/// The type of a file system entry, asked of stat(2)/lstat(2) through the runtime's own native shim (System.Native,
/// part of every .NET runtime on Linux and macOS): the BCL exposes no file type, and opening a FIFO to find out blocks.
/// </summary>
public static partial class FileType
{
    // System.Native's FileStatus starts with int32 Flags then int32 Mode, whose S_IFMT bits it normalises to these
    // values on every Unix. The buffer is larger than the struct so a future field never writes past it.
    private const int ModeOffset = 4;
    private const int StatusBufferBytes = 512;
    private const int TypeMask = 0xF000;
    private const int TypeFifo = 0x1000;
    private const int TypeCharDevice = 0x2000;
    private const int TypeDirectory = 0x4000;
    private const int TypeBlockDevice = 0x6000;
    private const int TypeRegular = 0x8000;
    private const int TypeSymbolicLink = 0xA000;
    private const int TypeSocket = 0xC000;

    private static bool s_nativeUnavailable;

    /// <summary>What <paramref name="path"/> is; with <paramref name="followLinks"/>, what a symbolic link finally names.</summary>
    public static FileKind Of(string path, bool followLinks = true)
    {
        if (OperatingSystem.IsWindows())
            return WindowsKind(path, followLinks);
        if (s_nativeUnavailable)
            return FileKind.Unknown;

        var status = new byte[StatusBufferBytes];
        try
        {
            if ((followLinks ? Stat(path, status) : LStat(path, status)) != 0)
                return FileKind.Unknown;
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            // A runtime without the shim: readers still bound what they read, so this costs the early refusal only.
            s_nativeUnavailable = true;
            return FileKind.Unknown;
        }

        return (BitConverter.ToInt32(status, ModeOffset) & TypeMask) switch
        {
            TypeRegular => FileKind.Regular,
            TypeDirectory => FileKind.Directory,
            TypeSymbolicLink => FileKind.SymbolicLink,
            TypeFifo or TypeCharDevice or TypeBlockDevice or TypeSocket => FileKind.Special,
            _ => FileKind.Unknown,
        };
    }

    private static FileKind WindowsKind(string path, bool followLinks)
    {
        FileSystemInfo info = new FileInfo(path);
        if (!info.Exists)
            info = new DirectoryInfo(path);
        if (!info.Exists)
            return FileKind.Unknown;
        if (info.LinkTarget is not null)
        {
            if (!followLinks)
                return FileKind.SymbolicLink;
            var target = info.ResolveLinkTarget(returnFinalTarget: true);
            if (target is null || !target.Exists)
                return FileKind.Unknown;
            info = target;
        }

        return info.Attributes.HasFlag(FileAttributes.Directory) ? FileKind.Directory
            : info.Attributes.HasFlag(FileAttributes.Device) ? FileKind.Special
            : FileKind.Regular;
    }

    [LibraryImport("libSystem.Native", EntryPoint = "SystemNative_Stat", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Stat(string path, [Out] byte[] status);

    [LibraryImport("libSystem.Native", EntryPoint = "SystemNative_LStat", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int LStat(string path, [Out] byte[] status);
}
