namespace ProvenanceGate.IO;

/// <summary>
/// Reads a file the user named as input: a missing one is PG0002 and an unreadable one PG0007, each naming the file
/// and what it was meant to be, so no I/O exception reaches the user as a stack trace.
/// </summary>
public static class InputFile
{
    public static byte[] ReadAllBytes(string path, string what) => Read(path, what, File.ReadAllBytes);

    public static string ReadAllText(string path, string what) => Read(path, what, File.ReadAllText);

    private static T Read<T>(string path, string what, Func<string, T> read)
    {
        try
        {
            return read(path);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw Diagnostics.Diagnostics.FileNotFound.Exception($"{what} '{path}' does not exist", path, inner: ex);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw Diagnostics.Diagnostics.FileUnreadable.Exception($"cannot read {what} '{path}': {ex.Message}", path, inner: ex);
        }
    }
}
