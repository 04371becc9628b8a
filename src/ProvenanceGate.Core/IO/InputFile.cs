using System.Buffers;
using System.Text;
using ProvenanceGate.Diagnostics;

namespace ProvenanceGate.IO;

/// <summary>
/// What an input file is meant to be and the most bytes it may have. A file over its cap is refused (PG0010) before
/// it is read, so a hostile or mistaken input cannot make the tool allocate without bound. The README lists every cap.
/// </summary>
public sealed record InputLimit(string What, long MaxBytes)
{
    private const long MiB = 1L << 20;

    public static readonly InputLimit Bom = new("BOM", 256 * MiB);
    public static readonly InputLimit Declaration = new("declaration", 4 * MiB);
    public static readonly InputLimit Policy = new("policy", 4 * MiB);
    public static readonly InputLimit ModelCard = new("model card", 16 * MiB);
    public static readonly InputLimit ModelConfig = new("model configuration", 16 * MiB);
    public static readonly InputLimit SafetensorsIndex = new("safetensors index", 64 * MiB);
    public static readonly InputLimit Tokenizer = new("tokenizer", 256 * MiB);
    public static readonly InputLimit Key = new("key", 1 * MiB);
    public static readonly InputLimit Signature = new("signature", 64 * 1024);
    public static readonly InputLimit Bundle = new("bundle", 64 * MiB);
    public static readonly InputLimit Predicate = new("predicate", 64 * MiB);
    public static readonly InputLimit Fingerprint = new("fingerprint", 64 * MiB);
    public static readonly InputLimit ProjectAssets = new("project assets file", 256 * MiB);

    /// <summary>Anything else read whole: a password file, a text file named on the command line.</summary>
    public static readonly InputLimit Other = new("file", 64 * MiB);
}

/// <summary>
/// Reads a file the user named as input, the one way any input is read whole. A missing one is PG0002, an unreadable
/// one PG0007, a FIFO, socket or device PG0011 (checked before opening: opening a FIFO blocks), one over its
/// <see cref="InputLimit"/> PG0010 and text that is not UTF-8 PG0014 with its line and column; each names the file and
/// what it was meant to be, so no I/O or decoder exception reaches the user as a stack trace.
/// </summary>
public static class InputFile
{
    private static readonly byte[] Utf8Bom = [0xEF, 0xBB, 0xBF];

    public static byte[] ReadAllBytes(string path, InputLimit limit)
    {
        EnsureRegularFile(path, limit.What);
        return Guard(path, limit.What, () =>
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.SequentialScan);
            var length = stream.Length;
            if (length > limit.MaxBytes)
                throw TooLarge(path, limit, length);
            var bytes = new byte[length];
            stream.ReadExactly(bytes);
            // A file that grew since its length was taken would otherwise be read up to a length it no longer has.
            if (stream.ReadByte() != -1)
                throw Diagnostics.Diagnostics.FileUnreadable.Exception($"{limit.What} '{path}' changed while it was read", path);
            return bytes;
        });
    }

    /// <summary>The file as UTF-8 text (a leading byte order mark dropped); anything not UTF-8 is PG0014 at its position.</summary>
    public static string ReadAllText(string path, InputLimit limit) => DecodeUtf8(ReadAllBytes(path, limit), path, limit.What);

    public static byte[] ReadAllBytes(string path, string what) => ReadAllBytes(path, InputLimit.Other with { What = what });

    public static string ReadAllText(string path, string what) => ReadAllText(path, InputLimit.Other with { What = what });

    /// <summary>
    /// For readers that stream a file rather than read it whole (weights, pickles, hashing): refuses a missing file
    /// (PG0002) and anything but a regular file (PG0011) before it is opened.
    /// </summary>
    public static void EnsureRegularFile(string path, string what)
    {
        switch (FileType.Of(path))
        {
            case FileKind.Directory:
                throw Diagnostics.Diagnostics.InputNotRegularFile.Exception($"{what} '{path}' is a directory, not a file", path);
            case FileKind.Special:
                throw Diagnostics.Diagnostics.InputNotRegularFile.Exception(
                    $"{what} '{path}' is a FIFO, socket or device, not a regular file; it is not read", path);
            case FileKind.Unknown when !File.Exists(path):
                // File.Exists follows links, so a dangling link lands here too.
                throw Diagnostics.Diagnostics.FileNotFound.Exception($"{what} '{path}' does not exist", path);
        }
    }

    /// <summary>Strict UTF-8 to a string, a leading byte order mark dropped.</summary>
    public static string DecodeUtf8(ReadOnlySpan<byte> bytes, string path, string what)
    {
        var text = bytes.StartsWith(Utf8Bom) ? bytes[Utf8Bom.Length..] : bytes;
        if (!System.Text.Unicode.Utf8.IsValid(text))
            throw NotUtf8(bytes, path, what);
        return Encoding.UTF8.GetString(text);
    }

    /// <summary>PG0014 (or a format's own code) naming the first invalid byte by offset, line and column.</summary>
    public static ProvenanceException NotUtf8(ReadOnlySpan<byte> bytes, string path, string what, DiagnosticDescriptor? descriptor = null)
    {
        var offset = FirstInvalidUtf8(bytes);
        var (line, column) = TextPosition(bytes, offset);
        return (descriptor ?? Diagnostics.Diagnostics.TextNotUtf8).Exception(
            $"{what} '{path}' is not valid UTF-8: byte 0x{bytes[offset]:X2} at offset {offset} does not start or continue a character",
            path, line, column);
    }

    /// <summary>The offset of the first byte that is not part of a well-formed UTF-8 sequence, or -1.</summary>
    public static int FirstInvalidUtf8(ReadOnlySpan<byte> bytes)
    {
        var offset = 0;
        while (offset < bytes.Length)
        {
            if (Rune.DecodeFromUtf8(bytes[offset..], out _, out var consumed) != OperationStatus.Done)
                return offset;
            offset += consumed;
        }

        return -1;
    }

    /// <summary>1-based line and column (in characters) of a byte offset in UTF-8 text.</summary>
    public static (int Line, int Column) TextPosition(ReadOnlySpan<byte> utf8, int offset)
    {
        var before = utf8[..Math.Clamp(offset, 0, utf8.Length)];
        var lineStart = before.LastIndexOf((byte)'\n') + 1;
        var line = before.Count((byte)'\n') + 1;
        var column = 1;
        foreach (var b in before[lineStart..])
        {
            // Continuation bytes do not start a character.
            if ((b & 0xC0) != 0x80)
                column++;
        }

        return (line, column);
    }

    private static ProvenanceException TooLarge(string path, InputLimit limit, long length) =>
        Diagnostics.Diagnostics.InputTooLarge.Exception(
            $"{limit.What} '{path}' is {length:N0} bytes, above the {limit.MaxBytes:N0}-byte limit for a {limit.What}; it is not read", path);

    private static T Guard<T>(string path, string what, Func<T> read)
    {
        try
        {
            return read();
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
