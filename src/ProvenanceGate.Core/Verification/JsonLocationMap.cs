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

    /// <summary>
    /// Locations are only a help for annotations: text that stops being JSON part-way (callers check it first, see
    /// <see cref="IO.JsonInput"/>) ends the map there rather than failing the command.
    /// </summary>
    public static JsonLocationMap Build(ReadOnlySpan<byte> utf8Json)
    {
        var map = new JsonLocationMap();
        var reader = new Utf8JsonReader(utf8Json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true, MaxDepth = IO.JsonInput.BomMaxDepth });
        var cursor = new TextCursor();

        // One frame per open container: the pointer of the container, whether it is an array, the next array index
        // and the pending property name of an object.
        var frames = new Stack<Frame>();
        string? pendingPointer = "";
        try
        {
            while (reader.Read())
            {
                var position = cursor.Advance(utf8Json, (int)reader.TokenStartIndex);
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
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            // Malformed JSON or an undecodable name: keep what was mapped before it.
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

    /// <summary>
    /// Line and column of increasing offsets, each counted from the previous one: recounting from the line start for
    /// every token made a minified BOM (one line, millions of tokens) quadratic.
    /// </summary>
    private struct TextCursor
    {
        private int _offset;
        private int _line;
        private int _column;

        public (int Line, int Column) Advance(ReadOnlySpan<byte> utf8, int offset)
        {
            if (_line == 0)
                (_line, _column) = (1, 1);
            for (; _offset < offset; _offset++)
            {
                var b = utf8[_offset];
                if (b == (byte)'\n')
                    (_line, _column) = (_line + 1, 1);
                else if ((b & 0xC0) != 0x80) // continuation bytes do not start a character
                    _column++;
            }

            return (_line, _column);
        }
    }

    private sealed record Frame(string JsonPath, bool IsArray, int NextIndex);
}
