using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace ProvenanceGate.IO;

/// <summary>
/// A Linux read lease (fcntl F_SETLEASE) on a file that is about to be memory-mapped. A mapped file truncated by
/// another process raises SIGBUS on the next touch of a page past the new end, which .NET cannot turn into an error:
/// the process (an MSBuild node, for the task) would die. While the lease is held, any open of the file for writing
/// and any truncate(2) by path waits for the holder (up to /proc/sys/fs/lease-break-time), so nothing shrinks the file
/// under the mapping. The lease is taken only when no one has the file open for writing, and only by its owner (or
/// with CAP_LEASE); where it cannot be taken the caller reads instead of mapping.
/// </summary>
/// <remarks>
/// A breaking lease notifies the holder with a signal; it is set to SIGURG, whose default is to ignore, instead of
/// SIGIO, whose default ends the process. The holder notices the break itself (<see cref="IsBreaking"/>) between
/// tensors and stops mapping that file, so a waiting writer is held up by at most one tensor.
/// </remarks>
internal static partial class ReadLease
{
    private const int FSetSig = 10;
    private const int FSetLease = 1024;
    private const int FGetLease = 1025;
    private const int FReadLock = 0;
    private const int FUnlock = 2;
    private const int SigUrg = 23;

    public static bool TryTake(SafeFileHandle handle)
    {
        if (!OperatingSystem.IsLinux())
            return false;
        var fd = Descriptor(handle);
        return Fcntl(fd, FSetSig, SigUrg) == 0 && Fcntl(fd, FSetLease, FReadLock) == 0;
    }

    /// <summary>True once a writer waits for the lease (the kernel then reports the type it is breaking to: unlocked).</summary>
    public static bool IsBreaking(SafeFileHandle handle) => Fcntl(Descriptor(handle), FGetLease, 0) != FReadLock;

    public static void Release(SafeFileHandle handle)
    {
        if (!handle.IsClosed)
            _ = Fcntl(Descriptor(handle), FSetLease, FUnlock);
    }

    private static int Descriptor(SafeFileHandle handle) => (int)handle.DangerousGetHandle();

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int Fcntl(int fd, int command, int argument);
}
