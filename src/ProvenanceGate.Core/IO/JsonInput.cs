using System.Text.Json;
using ProvenanceGate.Diagnostics;

namespace ProvenanceGate.IO;

/// <summary>
/// Checks JSON text before any document is built from it, so no reader meets a decoder exception later: UTF-8 is
/// well formed (else PG0014 at its position), nesting stays within a depth (else PG0015), the syntax is JSON (else the
/// caller's own "malformed" code), and every string can become a .NET string. That last one matters because an
/// escaped lone surrogate such as <c>"\ud800"</c> is valid JSON, yet System.Text.Json throws
/// <see cref="InvalidOperationException"/> only when the value is finally read, deep inside a check.
/// </summary>
public static class JsonInput
{
    /// <summary>Deep enough for every format read here (a CycloneDX BOM nests components and pedigrees).</summary>
    public const int MaxDepth = 64;

    /// <summary>CycloneDX nests components, services and pedigrees; real BOMs stay far below this.</summary>
    public const int BomMaxDepth = 256;

    /// <summary>Reads a JSON file within its size limit and checks it (see <see cref="Check"/>); a leading byte order mark is dropped.</summary>
    public static ReadOnlyMemory<byte> Read(string path, InputLimit limit, DiagnosticDescriptor malformed, int maxDepth = MaxDepth, bool comments = false)
    {
        var bytes = WithoutByteOrderMark(InputFile.ReadAllBytes(path, limit));
        Check(bytes.Span, path, limit.What, malformed, maxDepth, comments);
        return bytes;
    }

    /// <summary>Editors on Windows start UTF-8 files with EF BB BF, which System.Text.Json's byte parsers refuse.</summary>
    public static ReadOnlyMemory<byte> WithoutByteOrderMark(byte[] bytes) =>
        bytes.AsSpan().StartsWith("\uFEFF"u8) ? bytes.AsMemory(3) : bytes;

    /// <param name="comments">Whether comments and trailing commas are accepted (as in the JSON the caller then parses).</param>
    public static void Check(ReadOnlySpan<byte> utf8, string path, string what, DiagnosticDescriptor malformed, int maxDepth = MaxDepth, bool comments = false)
    {
        if (utf8.StartsWith("\uFEFF"u8))
            utf8 = utf8[3..];
        if (!System.Text.Unicode.Utf8.IsValid(utf8))
            throw InputFile.NotUtf8(utf8, path, what);

        // The reader's own limit is one above ours so that ours, with its position, is the one that fires.
        var reader = new Utf8JsonReader(utf8, new JsonReaderOptions
        {
            MaxDepth = maxDepth + 1,
            CommentHandling = comments ? JsonCommentHandling.Skip : JsonCommentHandling.Disallow,
            AllowTrailingCommas = comments,
        });
        try
        {
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.StartObject or JsonTokenType.StartArray when reader.CurrentDepth >= maxDepth:
                    {
                        var (line, column) = InputFile.TextPosition(utf8, (int)reader.TokenStartIndex);
                        throw Diagnostics.Diagnostics.InputNestedTooDeeply.Exception(
                            $"{what} '{path}' nests objects and arrays more than {maxDepth} deep", path, line, column);
                    }

                    case JsonTokenType.String or JsonTokenType.PropertyName when reader.ValueIsEscaped:
                        EnsureDecodable(ref reader, utf8, path, what, malformed);
                        break;
                }
            }
        }
        catch (JsonException ex)
        {
            throw malformed.Exception($"{what} '{path}' is not valid JSON: {ex.Message}", path,
                (int?)(ex.LineNumber + 1), (int?)(ex.BytePositionInLine + 1), ex);
        }
    }

    private static void EnsureDecodable(ref Utf8JsonReader reader, ReadOnlySpan<byte> utf8, string path, string what, DiagnosticDescriptor malformed)
    {
        try
        {
            _ = reader.GetString();
        }
        catch (InvalidOperationException ex)
        {
            var (line, column) = InputFile.TextPosition(utf8, (int)reader.TokenStartIndex);
            throw malformed.Exception(
                $"{what} '{path}' has a string that is not valid Unicode (an escaped lone surrogate such as \\ud800?)", path, line, column, ex);
        }
    }
}
