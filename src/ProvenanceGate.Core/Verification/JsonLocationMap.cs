using System.Text;
using System.Text.Json;

namespace ProvenanceGate.Verification;

/// <summary>
/// Maps JSON Pointers (RFC 6901) of a document to the 1-based line and column where they start, from one
/// <see cref="Utf8JsonReader"/> pass, so annotations in CI point at the line a reviewer must look at.
/// An object member maps to its property name; an array element to its first token.
/// </summary>
public sealed class JsonLocationMap
{
    private readonly Dictionary<string, (int Line, int Column)> _locations = new(StringComparer.Ordinal);

    private JsonLocationMap()
    {
    }

    public static JsonLocationMap Build(ReadOnlySpan<byte> utf8Json)
    {
        var map = new JsonLocationMap();
        var lineStarts = LineStarts(utf8Json);
        var reader = new Utf8JsonReader(utf8Json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });

        // One frame per open container: the pointer of the container, whether it is an array, the next array index
        // and the pending property name of an object.
        var frames = new Stack<Frame>();
        string? pendingPointer = "";
        while (reader.Read())
        {
            var position = Position(utf8Json, lineStarts, (int)reader.TokenStartIndex);
            switch (reader.TokenType)
            {
                case JsonTokenType.PropertyName:
                {
                    var frame = frames.Peek();
                    pendingPointer = frame.JsonPath + "/" + Escape(reader.GetString()!);
                    map._locations.TryAdd(pendingPointer, position);
                    continue;
                }

                case JsonTokenType.EndObject:
                case JsonTokenType.EndArray:
                    frames.Pop();
                    continue;
            }

            // A value: its pointer is the pending property, or the next index of the enclosing array.
            string pointer;
            if (frames.Count > 0 && frames.Peek().IsArray)
            {
                var frame = frames.Pop();
                pointer = frame.JsonPath + "/" + frame.NextIndex.ToString(System.Globalization.CultureInfo.InvariantCulture);
                frames.Push(frame with { NextIndex = frame.NextIndex + 1 });
            }
            else
            {
                pointer = pendingPointer ?? "";
            }

            map._locations.TryAdd(pointer, position);
            pendingPointer = null;
            if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray)
                frames.Push(new Frame(pointer, reader.TokenType == JsonTokenType.StartArray, 0));
        }

        return map;
    }

    /// <summary>The location of <paramref name="pointer"/>, or of its nearest ancestor that exists.</summary>
    public (int Line, int Column)? Find(string jsonPath)
    {
        var current = jsonPath;
        while (true)
        {
            if (_locations.TryGetValue(current, out var location))
                return location;
            if (current.Length == 0)
                return null;
            var slash = current.LastIndexOf('/');
            current = slash <= 0 ? "" : current[..slash];
        }
    }

    public static string Escape(string token) => token.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal);

    private static List<int> LineStarts(ReadOnlySpan<byte> utf8)
    {
        var starts = new List<int> { 0 };
        for (var i = 0; i < utf8.Length; i++)
        {
            if (utf8[i] == (byte)'\n')
                starts.Add(i + 1);
        }

        return starts;
    }

    private static (int Line, int Column) Position(ReadOnlySpan<byte> utf8, List<int> lineStarts, int offset)
    {
        var index = lineStarts.BinarySearch(offset);
        var line = index >= 0 ? index : ~index - 1;
        // Columns count characters, not bytes: skip UTF-8 continuation bytes.
        var column = 1;
        for (var i = lineStarts[line]; i < offset; i++)
        {
            if ((utf8[i] & 0xC0) != 0x80)
                column++;
        }

        return (line + 1, column);
    }

    private sealed record Frame(string JsonPath, bool IsArray, int NextIndex);
}
