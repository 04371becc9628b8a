using System.Buffers.Binary;
using System.Text;
using System.Text.Json;

namespace ProvenanceGate.Tests.Fuzz;

/// <summary>How an input is laid out, which decides the structure-aware mutations it gets besides the byte-level ones.</summary>
public enum InputKind
{
    Binary,
    Json,
    Yaml,
    Text,
}

/// <summary>
/// A seeded havoc-style mutator: byte-level mutations (bit flips, inserts, deletes, interesting integers, truncation,
/// splicing) for every input, plus structure-aware ones: JSON values replaced, nested thousands deep, duplicated,
/// given huge numbers or invalid UTF-8; YAML lines duplicated, nested, aliased; PEM and base64 bodies decoded, mutated
/// and re-encoded so the damage reaches the DER, the cosign key JSON or the DSSE payload behind them.
/// </summary>
public sealed class Mutator(Random random, IReadOnlyList<byte[]> seeds, InputKind kind)
{
    /// <summary>Inputs stay below this, so a case is about structure, not about the harness copying megabytes.</summary>
    public const int MaxInputBytes = 1 << 20;

    private static readonly long[] InterestingIntegers =
    [
        0, 1, 2, 7, 8, 16, 63, 64, 127, 128, 255, 256, 1023, 1024, 4095, 4096, 32767, 32768, 65535, 65536,
        int.MaxValue, (long)int.MaxValue + 1, uint.MaxValue, (long)uint.MaxValue + 1, 1L << 53, long.MaxValue,
        -1, -2, -128, -32768, int.MinValue, long.MinValue,
    ];

    private static readonly string[] InterestingJsonValues =
    [
        "0", "-0", "1", "-1", "2147483647", "2147483648", "-2147483649", "4294967296", "9007199254740993",
        "9223372036854775807", "9223372036854775808", "-9223372036854775809", "18446744073709551616",
        "123456789012345678901234567890123456789", "1e308", "1e309", "1e999999", "-1e999999", "1e-999999", "0.5",
        "1.7976931348623157e309", "NaN", "Infinity", "true", "false", "null", "\"\"", "\"x\"", "[]", "{}", "[[]]", "[{}]",
        "\"\\u0000\"", "\"\\ud800\"", "\"\\udc00\\ud800\"", "\"..\"", "\"../../etc/passwd\"", "\"/dev/zero\"", "\"a/../../b\"",
        "\"sha256\"", "\"F64\"", "\"BF16\"", "\"I64\"", "\"bool\"", "\"NOASSERTION\"", "\"MIT OR (Apache-2.0 AND\"",
    ];

    private static readonly string[] InterestingYamlScalars =
    [
        "~", "null", "''", "\"\"", ".nan", ".inf", "-.inf", "0x7FFFFFFFFFFFFFFF", "99999999999999999999999", "1e999", "-1",
        "!!binary AAAA", "!!python/object/apply:os.system [id]", "!!str", "!<tag:x> y", "\"\\ud800\"", "\"\\x00\"", "&a x", "*a",
        "*undefined", "? complex", "<<: *a", "|", ">-", "'it''s'", "2027-13-45", "[a, b", "{a: 1, a: 2}", "\t", "%YAML 1.1",
        "- - - x", "yes", "no", "on", "0o17", "+12", "1_000", "---", "...",
    ];

    private static readonly byte[][] InvalidUtf8 =
    [
        [0xFF], [0xFE, 0xFF], [0xC0, 0x80], [0xC3], [0xE2, 0x82], [0xED, 0xA0, 0x80], [0xED, 0xBF, 0xBF], [0xF4, 0x90, 0x80, 0x80],
        [0xF8, 0x88, 0x80, 0x80, 0x80], [0x80], [0xEF, 0xBB, 0xBF], [0x00],
    ];

    private readonly string[] _dictionary = BuildDictionary(seeds);

    public byte[] Mutate(byte[] input)
    {
        var data = input;
        var rounds = 1 + random.Next(4);
        for (var i = 0; i < rounds; i++)
            data = MutateOnce(data, kind, depth: 0);
        return data.Length > MaxInputBytes ? data[..MaxInputBytes] : data;
    }

    private byte[] MutateOnce(byte[] data, InputKind inputKind, int depth)
    {
        // Structure-aware half the time where a structure exists; otherwise bytes.
        if (random.Next(2) == 0 && depth < 3)
        {
            var structured = inputKind switch
            {
                InputKind.Json => JsonMutation(data, depth),
                InputKind.Yaml => YamlMutation(data),
                InputKind.Text => TextMutation(data, depth),
                _ => null,
            };
            if (structured is not null)
                return structured;
        }

        return ByteMutation(data, inputKind == InputKind.Binary);
    }

    // ---- bytes ------------------------------------------------------------------------------------------

    private byte[] ByteMutation(byte[] data, bool binary)
    {
        var list = new List<byte>(data);
        switch (random.Next(binary ? 12 : 10))
        {
            case 0: // bit flips
                for (var i = 0; i < 1 + random.Next(8) && list.Count > 0; i++)
                    list[random.Next(list.Count)] ^= (byte)(1 << random.Next(8));
                break;
            case 1: // one interesting byte
                if (list.Count > 0)
                    list[random.Next(list.Count)] = Pick((byte[])[0x00, 0xFF, 0x7F, 0x80, (byte)'"', (byte)'{', (byte)'[', (byte)':', (byte)',', (byte)'\\', (byte)'\n', (byte)'-']);
                break;
            case 2: // insert random bytes
                {
                    var bytes = new byte[1 + random.Next(16)];
                    random.NextBytes(bytes);
                    list.InsertRange(Position(list.Count), bytes);
                    break;
                }

            case 3: // delete a range
                if (list.Count > 1)
                {
                    var start = random.Next(list.Count);
                    list.RemoveRange(start, Math.Min(list.Count - start, 1 + random.Next(64)));
                }

                break;
            case 4: // truncate
                return Truncate(data);
            case 5: // splice with another seed
                {
                    var other = Pick(seeds);
                    var cut = random.Next(data.Length + 1);
                    var from = random.Next(other.Length + 1);
                    return [.. data.AsSpan(0, cut), .. other.AsSpan(from)];
                }

            case 6: // duplicate a chunk elsewhere
                if (list.Count > 1)
                {
                    var start = random.Next(list.Count);
                    var chunk = list.GetRange(start, Math.Min(list.Count - start, 1 + random.Next(256)));
                    list.InsertRange(Position(list.Count), chunk);
                }

                break;
            case 7: // a token from the seeds
                list.InsertRange(Position(list.Count), Encoding.UTF8.GetBytes(Pick(_dictionary)));
                break;
            case 8: // invalid UTF-8 anywhere
                list.InsertRange(Position(list.Count), Pick(InvalidUtf8));
                break;
            case 9: // repeat a chunk until the input is large
                if (list.Count > 0)
                {
                    var start = random.Next(list.Count);
                    var chunk = list.GetRange(start, Math.Min(list.Count - start, 1 + random.Next(32)));
                    var times = Math.Min(1 + random.Next(20_000), MaxInputBytes / 2 / chunk.Count);
                    var at = Position(list.Count);
                    list.InsertRange(at, Enumerable.Repeat(chunk, times).SelectMany(c => c));
                }

                break;
            default: // interesting integer over a length field: the first 8 bytes (safetensors) or anywhere
                {
                    var value = Pick(InterestingIntegers);
                    var width = Pick((int[])[1, 2, 4, 8]);
                    var offset = random.Next(3) == 0 ? 0 : random.Next(Math.Max(1, list.Count));
                    var bytes = new byte[8];
                    if (random.Next(4) == 0)
                        BinaryPrimitives.WriteInt64BigEndian(bytes, value << (8 * (8 - width)));
                    else
                        BinaryPrimitives.WriteInt64LittleEndian(bytes, value);
                    while (list.Count < offset + width)
                        list.Add(0);
                    for (var i = 0; i < width; i++)
                        list[offset + i] = bytes[i];
                    if (random.Next(4) == 0)
                        list.InsertRange(Position(list.Count), (byte[])[0xFF, 0xFF, 0xFF, 0xFF, 0x0F]); // a huge protobuf varint
                    break;
                }
        }

        return [.. list];
    }

    private byte[] Truncate(byte[] data) => data.Length == 0 ? data : data[..random.Next(data.Length)];

    // ---- JSON -------------------------------------------------------------------------------------------

    private sealed record Span(int Start, int End, JsonTokenType Type, int NameStart);

    /// <summary>Every value of the document with its byte range (containers include their contents).</summary>
    private static List<Span>? Values(byte[] data)
    {
        var spans = new List<Span>();
        var open = new Stack<(int Start, JsonTokenType Type, int NameStart)>();
        var reader = new Utf8JsonReader(data, new JsonReaderOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip, MaxDepth = 100_000 });
        var nameStart = -1;
        try
        {
            while (reader.Read())
            {
                var start = (int)reader.TokenStartIndex;
                switch (reader.TokenType)
                {
                    case JsonTokenType.PropertyName:
                        nameStart = start;
                        continue;
                    case JsonTokenType.StartObject or JsonTokenType.StartArray:
                        open.Push((start, reader.TokenType, nameStart));
                        break;
                    case JsonTokenType.EndObject or JsonTokenType.EndArray:
                        var (s, t, n) = open.Pop();
                        spans.Add(new Span(s, (int)reader.BytesConsumed, t, n));
                        break;
                    default:
                        spans.Add(new Span(start, (int)reader.BytesConsumed, reader.TokenType, nameStart));
                        break;
                }

                nameStart = -1;
            }
        }
        catch (JsonException)
        {
            return null;
        }

        return spans.Count > 0 ? spans : null;
    }

    private byte[]? JsonMutation(byte[] data, int depth)
    {
        var spans = Values(data);
        if (spans is null)
            return null;
        var span = Pick(spans);
        byte[] Replace(Span target, ReadOnlySpan<byte> with) => [.. data.AsSpan(0, target.Start), .. with, .. data.AsSpan(target.End)];
        var value = data.AsSpan(span.Start, span.End - span.Start);
        switch (random.Next(10))
        {
            case 0:
                return Replace(span, Encoding.UTF8.GetBytes(Pick(InterestingJsonValues)));
            case 1: // deep nesting around a value
                {
                    var levels = Pick((int[])[65, 130, 1_000, 5_000, 50_000]);
                    var array = random.Next(2) == 0;
                    var prefix = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat(array ? "[" : "{\"a\":", levels)));
                    var suffix = Encoding.UTF8.GetBytes(new string(array ? ']' : '}', levels));
                    return Replace(span, [.. prefix, .. value, .. suffix]);
                }

            case 2: // duplicate key: the property again, with its own value or another one
                {
                    var property = spans.Where(s => s.NameStart >= 0).ToList();
                    if (property.Count == 0)
                        return null;
                    var p = Pick(property);
                    var copy = data.AsSpan(p.NameStart, p.End - p.NameStart).ToArray();
                    if (random.Next(2) == 0)
                    {
                        var colon = Array.IndexOf(copy, (byte)':');
                        copy = [.. copy.AsSpan(0, colon + 1), .. Encoding.UTF8.GetBytes(Pick(InterestingJsonValues))];
                    }

                    return [.. data.AsSpan(0, p.End), (byte)',', .. copy, .. data.AsSpan(p.End)];
                }

            case 3: // invalid UTF-8 or an escaped lone surrogate inside a string
                {
                    var strings = spans.Where(s => s.Type == JsonTokenType.String).ToList();
                    if (strings.Count == 0)
                        return null;
                    var s = Pick(strings);
                    var at = s.Start + 1 + random.Next(s.End - s.Start - 1);
                    var insert = random.Next(3) == 0 ? Encoding.ASCII.GetBytes(Pick((string[])["\\ud800", "\\udfff", "\\ud800\\u0041", "\\u0000", "\\"])) : Pick(InvalidUtf8);
                    return [.. data.AsSpan(0, at), .. insert, .. data.AsSpan(at)];
                }

            case 4: // an array element (or any value) repeated many times
                {
                    var times = Pick((int[])[2, 10, 1_000, 30_000]);
                    var element = value.ToArray();
                    times = Math.Max(1, Math.Min(times, MaxInputBytes / 2 / Math.Max(1, element.Length + 1)));
                    var repeated = new List<byte>(element.Length * times + times);
                    for (var i = 0; i < times; i++)
                    {
                        repeated.AddRange(element);
                        repeated.Add((byte)',');
                    }

                    return [.. data.AsSpan(0, span.Start), .. repeated, .. data.AsSpan(span.Start)];
                }

            case 5: // remove a property or element with its comma
                {
                    var start = span.NameStart >= 0 ? span.NameStart : span.Start;
                    var end = span.End;
                    while (end < data.Length && data[end] is (byte)' ' or (byte)'\n' or (byte)'\r' or (byte)'\t')
                        end++;
                    if (end < data.Length && data[end] == ',')
                        end++;
                    return [.. data.AsSpan(0, start), .. data.AsSpan(end)];
                }

            case 6: // a long string
                return Replace(span, Encoding.UTF8.GetBytes("\"" + new string('A', Pick((int[])[256, 65_536, 500_000])) + "\""));
            case 7: // two values swapped
                {
                    var other = Pick(spans);
                    if (other.Start < span.End && span.Start < other.End)
                        return null;
                    var (first, second) = span.Start < other.Start ? (span, other) : (other, span);
                    return [.. data.AsSpan(0, first.Start), .. data.AsSpan(second.Start, second.End - second.Start), .. data.AsSpan(first.End, second.Start - first.End),
                        .. data.AsSpan(first.Start, first.End - first.Start), .. data.AsSpan(second.End)];
                }

            case 8: // a base64 string decoded, mutated as what it holds (DER, key JSON, DSSE payload) and re-encoded
                {
                    if (span.Type != JsonTokenType.String || span.End - span.Start < 10)
                        return null;
                    var text = Encoding.UTF8.GetString(data, span.Start + 1, span.End - span.Start - 2);
                    var decoded = TryBase64(text);
                    if (decoded is null)
                        return null;
                    var inner = MutateOnce(decoded, LooksLikeJson(decoded) ? InputKind.Json : InputKind.Binary, depth + 1);
                    return Replace(span, Encoding.UTF8.GetBytes("\"" + Convert.ToBase64String(inner) + "\""));
                }

            default: // a value from another place in a seed
                {
                    var seed = Pick(seeds);
                    var other = Values(seed);
                    if (other is null)
                        return null;
                    var donor = Pick(other);
                    return Replace(span, seed.AsSpan(donor.Start, donor.End - donor.Start));
                }
        }
    }

    // ---- YAML -------------------------------------------------------------------------------------------

    private byte[]? YamlMutation(byte[] data)
    {
        var text = Encoding.UTF8.GetString(data);
        var lines = text.Split('\n').ToList();
        if (lines.Count == 0)
            return null;
        var index = random.Next(lines.Count);
        var line = lines[index];
        var indent = line.Length - line.TrimStart(' ').Length;
        switch (random.Next(9))
        {
            case 0: // duplicate key
                lines.Insert(index, line);
                break;
            case 1: // deep nesting, flow or block style
                {
                    var levels = Pick((int[])[65, 300, 2_000, 10_000]);
                    if (random.Next(2) == 0)
                    {
                        lines.Insert(index, new string(' ', indent) + "deep: " + new string('[', levels) + new string(']', levels));
                    }
                    else
                    {
                        var block = new StringBuilder();
                        for (var i = 0; i < Math.Min(levels, 3_000); i++)
                            block.Append(' ', indent + i).Append("k:\n");
                        lines.Insert(index, block.ToString().TrimEnd('\n'));
                    }

                    break;
                }

            case 2: // an interesting scalar after "key:" or "- "
                {
                    var colon = line.IndexOf(": ", StringComparison.Ordinal);
                    var dash = line.TrimStart().StartsWith("- ", StringComparison.Ordinal) ? indent + 2 : -1;
                    var at = colon >= 0 ? colon + 2 : dash;
                    if (at < 0)
                        return null;
                    lines[index] = line[..at] + Pick(InterestingYamlScalars);
                    break;
                }

            case 3: // exponential aliases ("billion laughs")
                {
                    var laughs = new StringBuilder("l0: &l0 [x, x, x, x, x, x, x, x, x]\n");
                    for (var i = 1; i < 10; i++)
                        laughs.Append(CultureInvariant($"l{i}: &l{i} [")).AppendJoin(", ", Enumerable.Repeat($"*l{i - 1}", 9)).Append("]\n");
                    lines.Insert(random.Next(2) == 0 ? 0 : index, laughs.ToString().TrimEnd('\n'));
                    break;
                }

            case 4: // indentation changed, or a tab
                lines[index] = random.Next(3) == 0 ? "\t" + line : new string(' ', Math.Max(0, indent + random.Next(-2, 3))) + line.TrimStart(' ');
                break;
            case 5: // a line from elsewhere
                lines.Insert(random.Next(lines.Count + 1), Pick(Encoding.UTF8.GetString(Pick(seeds)).Split('\n')));
                break;
            case 6: // line removed
                lines.RemoveAt(index);
                break;
            case 7: // document markers, directives, a byte-order mark
                lines.Insert(index, Pick((string[])["---", "...", "%YAML 1.2", "%TAG ! tag:x:", "\uFEFF", "--- !!map", "? ", ": "]));
                break;
            default: // whole text re-encoded (UTF-16 with BOM) or invalid UTF-8 in a line
                if (random.Next(4) == 0)
                    return [.. Encoding.Unicode.GetPreamble(), .. Encoding.Unicode.GetBytes(text)];
                {
                    var bytes = Encoding.UTF8.GetBytes(line).ToList();
                    bytes.InsertRange(random.Next(bytes.Count + 1), Pick(InvalidUtf8));
                    var before = Encoding.UTF8.GetBytes(string.Join('\n', lines.Take(index)) + (index > 0 ? "\n" : ""));
                    var after = Encoding.UTF8.GetBytes((index < lines.Count - 1 ? "\n" : "") + string.Join('\n', lines.Skip(index + 1)));
                    return [.. before, .. bytes, .. after];
                }
        }

        return Encoding.UTF8.GetBytes(string.Join('\n', lines));
    }

    // ---- text: PEM bodies, base64 signatures, line-based formats ------------------------------------------

    private byte[]? TextMutation(byte[] data, int depth)
    {
        var text = Encoding.UTF8.GetString(data);
        var begin = text.IndexOf("-----BEGIN ", StringComparison.Ordinal);
        if (begin >= 0)
        {
            var bodyStart = text.IndexOf('\n', begin);
            var end = text.IndexOf("-----END ", StringComparison.Ordinal);
            if (bodyStart > 0 && end > bodyStart && random.Next(3) > 0)
            {
                var decoded = TryBase64(text[bodyStart..end]);
                if (decoded is not null)
                {
                    var inner = MutateOnce(decoded, LooksLikeJson(decoded) ? InputKind.Json : InputKind.Binary, depth + 1);
                    var wrapped = string.Join('\n', Convert.ToBase64String(inner).Chunk(64).Select(c => new string(c)));
                    return Encoding.UTF8.GetBytes(text[..(bodyStart + 1)] + wrapped + "\n" + text[end..]);
                }
            }

            // The label: another known one, or a mismatched END.
            var labels = (string[])["ENCRYPTED SIGSTORE PRIVATE KEY", "ENCRYPTED COSIGN PRIVATE KEY", "PRIVATE KEY", "EC PRIVATE KEY", "PUBLIC KEY", "RSA PUBLIC KEY", "CERTIFICATE", ""];
            var labelEnd = text.IndexOf("-----", begin + 11, StringComparison.Ordinal);
            if (labelEnd > 0)
                return Encoding.UTF8.GetBytes(text[..(begin + 11)] + Pick(labels) + text[labelEnd..]);
        }

        var whole = TryBase64(text);
        if (whole is not null && whole.Length > 8)
            return Encoding.UTF8.GetBytes(Convert.ToBase64String(MutateOnce(whole, InputKind.Binary, depth + 1)));

        var lines = text.Split('\n').ToList();
        var index = random.Next(lines.Count);
        switch (random.Next(4))
        {
            case 0:
                lines.Insert(index, lines[index]);
                break;
            case 1:
                lines.RemoveAt(index);
                break;
            case 2:
                lines[index] = string.Join(' ', lines[index].Split(' ').Select(w => random.Next(3) == 0 ? Pick(_dictionary) : w));
                break;
            default:
                lines.Insert(index, Pick(Encoding.UTF8.GetString(Pick(seeds)).Split('\n')));
                break;
        }

        return Encoding.UTF8.GetBytes(string.Join('\n', lines));
    }

    // ---- helpers ------------------------------------------------------------------------------------------

    private static byte[]? TryBase64(string text)
    {
        var compact = string.Concat(text.Where(c => !char.IsWhiteSpace(c)));
        if (compact.Length < 4)
            return null;
        try
        {
            return Convert.FromBase64String(compact);
        }
        catch (FormatException)
        {
            return null;
        }
    }

    private static bool LooksLikeJson(byte[] data) => data.Length > 1 && data[0] is (byte)'{' or (byte)'[';

    private static string CultureInvariant(FormattableString text) => FormattableString.Invariant(text);

    private static string[] BuildDictionary(IReadOnlyList<byte[]> seeds)
    {
        var words = seeds
            .SelectMany(s => Encoding.UTF8.GetString(s).Split(['\n', ' ', ',', ':', '"', '{', '}', '[', ']'], StringSplitOptions.RemoveEmptyEntries))
            .Where(w => w.Length is >= 2 and <= 40 && w.All(c => c is >= ' ' and < (char)127))
            .Distinct(StringComparer.Ordinal)
            .Take(400)
            .ToArray();
        return words.Length > 0 ? words : ["x"];
    }

    private int Position(int count) => random.Next(count + 1);

    private T Pick<T>(IReadOnlyList<T> items) => items[random.Next(items.Count)];
}
