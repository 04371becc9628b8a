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

        // Unique per writer (two processes writing one output each rename their own complete file), and short
        // enough that a name near the file system's 255-byte limit still has a temp name.
        var tempPrefix = TempPrefix(fullPath);
        var temp = Path.Combine(directory, $"{tempPrefix}{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            Directory.CreateDirectory(directory);
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
            // The mode is set at creation, so a private key is never readable by others, not even for a moment.
            if (mode is { } unixMode && !OperatingSystem.IsWindows())
                options.UnixCreateMode = unixMode;
            using (var stream = new FileStream(temp, options))
            {
                if (TestWritePause > TimeSpan.Zero)
                {
                    stream.Write(contents[..(contents.Length / 2)]);
                    stream.Flush();
                    Thread.Sleep(TestWritePause);
                    contents = contents[(contents.Length / 2)..];
                }

                stream.Write(contents);
                stream.Flush(flushToDisk: true);
            }

            // Without overwrite, the rename itself refuses an existing target, closing the race with the check above.
            File.Move(temp, fullPath, overwrite);
            RemoveStaleTemps(directory, tempPrefix);
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

    /// <summary>
    /// Fault injection for the crash-consistency tests (PROVENANCEGATE_TEST_WRITE_PAUSE_MS): a pause halfway through
    /// writing, so that a SIGKILL lands mid-write reliably and a writer that was not atomic would be caught. Unset, no pause.
    /// </summary>
    private static readonly TimeSpan TestWritePause = TimeSpan.FromMilliseconds(
        int.TryParse(Environment.GetEnvironmentVariable("PROVENANCEGATE_TEST_WRITE_PAUSE_MS"), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var ms) ? ms : 0);

    private static string TempPrefix(string fullPath)
    {
        var name = Path.GetFileName(fullPath);
        return "." + (name.Length > 64 ? name[..64] : name) + ".";
    }

    /// <summary>
    /// A writer killed between creating its temp file and the rename (SIGKILL, power loss) leaves the temp behind; the
    /// output itself is untouched. The next write of the same output removes such leftovers: temp files of this
    /// output whose process is gone and that have not changed for a minute (so a writer on another host, whose
    /// process id means nothing here, is never disturbed mid-write).
    /// </summary>
    private static void RemoveStaleTemps(string directory, string tempPrefix)
    {
        try
        {
            foreach (var file in Directory.EnumerateFiles(directory, "*.tmp"))
            {
                var name = Path.GetFileName(file);
                if (!name.StartsWith(tempPrefix, StringComparison.Ordinal))
                    continue;
                var pidText = name[tempPrefix.Length..].Split('.')[0];
                if (int.TryParse(pidText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var pid)
                    && !IsRunning(pid) && File.GetLastWriteTimeUtc(file) < DateTime.UtcNow - StaleAfter)
                    File.Delete(file);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Tidying up is best effort: the output is already in place.
        }
    }

    private static readonly TimeSpan StaleAfter = TimeSpan.FromMinutes(1);

    private static bool IsRunning(int pid)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException)
        {
            return false;
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
