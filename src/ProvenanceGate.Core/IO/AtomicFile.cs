using ProvenanceGate.Diagnostics;

namespace ProvenanceGate.IO;

/// <summary>
/// Every output goes through here: written to a temp file beside the target, flushed, then renamed over it,
/// so a crash or a full disk never leaves a half-written BOM, signature or key.
/// </summary>
public static class AtomicFile
{
    public static void WriteAllText(string path, string contents, bool overwrite = true, UnixFileMode? mode = null) =>
        WriteAllBytes(path, new System.Text.UTF8Encoding(false).GetBytes(contents), overwrite, mode);

    public static void WriteAllBytes(string path, ReadOnlySpan<byte> contents, bool overwrite = true, UnixFileMode? mode = null)
    {
        var fullPath = Path.GetFullPath(path);
        var directory = Path.GetDirectoryName(fullPath)!;
        if (!overwrite && File.Exists(fullPath))
            throw Diagnostics.Diagnostics.OutputExists.Exception($"'{path}' already exists; pass --force to overwrite it", path);

        var temp = Path.Combine(directory, $".{Path.GetFileName(fullPath)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            Directory.CreateDirectory(directory);
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
            // The mode is set at creation, so a private key is never readable by others, not even for a moment.
            if (mode is { } unixMode && !OperatingSystem.IsWindows())
                options.UnixCreateMode = unixMode;
            using (var stream = new FileStream(temp, options))
            {
                stream.Write(contents);
                stream.Flush(flushToDisk: true);
            }

            // Without overwrite, the rename itself refuses an existing target, closing the race with the check above.
            File.Move(temp, fullPath, overwrite);
        }
        catch (IOException ex) when (!overwrite && File.Exists(fullPath))
        {
            throw Diagnostics.Diagnostics.OutputExists.Exception($"'{path}' already exists; pass --force to overwrite it", path, inner: ex);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw Diagnostics.Diagnostics.OutputWriteFailed.Exception($"cannot write '{path}': {ex.Message}", path, inner: ex);
        }
        finally
        {
            if (File.Exists(temp))
                File.Delete(temp);
        }
    }

    /// <summary>Writes only when the content differs, so incremental builds see an unchanged timestamp.</summary>
    public static bool WriteAllTextIfChanged(string path, string contents)
    {
        if (File.Exists(path) && string.Equals(File.ReadAllText(path), contents, StringComparison.Ordinal))
            return false;
        WriteAllText(path, contents);
        return true;
    }
}
