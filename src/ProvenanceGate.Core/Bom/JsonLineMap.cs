using System.Globalization;
using System.Text.Json;

namespace ProvenanceGate.Bom;

/// <summary>Maps JSON Pointers of a document to the 1-based line where each value starts, for file(line) diagnostics.</summary>
internal sealed class JsonLineMap
{
    private readonly Dictionary<string, int> _lines = new(StringComparer.Ordinal);

    public JsonLineMap(ReadOnlySpan<byte> utf8)
    {
        var lineStarts = new List<int> { 0 };
        for (var i = 0; i < utf8.Length; i++)
        {
            if (utf8[i] == (byte)'\n')
                lineStarts.Add(i + 1);
        }

        var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true, MaxDepth = BomValidator.MaxDepth });
        var frames = new Stack<Frame>();
        string? pendingName = null;
        while (reader.Read())
        {
            if (reader.TokenType == JsonTokenType.PropertyName)
            {
                pendingName = reader.GetString();
                continue;
            }

            if (reader.TokenType is JsonTokenType.EndObject or JsonTokenType.EndArray)
            {
                frames.Pop();
                continue;
            }

            string path;
            if (frames.Count == 0)
            {
                path = "";
            }
            else if (frames.Peek().IsArray)
            {
                var frame = frames.Pop();
                path = frame.Path + "/" + frame.NextIndex.ToString(CultureInfo.InvariantCulture);
                frames.Push(frame with { NextIndex = frame.NextIndex + 1 });
            }
            else
            {
                path = frames.Peek().Path + "/" + JsonSchemaValidator.EscapePointer(pendingName ?? "");
            }

            var line = lineStarts.BinarySearch((int)reader.TokenStartIndex);
            _lines.TryAdd(path, (line >= 0 ? line : ~line - 1) + 1);
            if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray)
                frames.Push(new Frame(path, reader.TokenType == JsonTokenType.StartArray, 0));
        }
    }

    /// <summary>The line of the value at <paramref name="pointer"/>, or of its nearest ancestor that exists.</summary>
    public int? LineOf(string pointer)
    {
        while (true)
        {
            if (_lines.TryGetValue(pointer, out var line))
                return line;
            if (pointer.Length == 0)
                return null;
            pointer = pointer[..pointer.LastIndexOf('/')];
        }
    }

    private readonly record struct Frame(string Path, bool IsArray, int NextIndex);
}
