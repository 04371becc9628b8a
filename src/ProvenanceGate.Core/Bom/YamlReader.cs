using System.Globalization;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace ProvenanceGate.Bom;

/// <summary>
/// Strict reading of a YAML (or JSON, which YAML 1.2 includes) mapping: every key must be known, every value
/// must have the expected shape, and every problem names the file, the key and the line.
/// </summary>
internal sealed class YamlReader(string file, Diagnostics.DiagnosticDescriptor invalid, Diagnostics.DiagnosticDescriptor? unknownKey)
{
    public string File { get; } = file;

    public static YamlNode? Load(string text, string file, Diagnostics.DiagnosticDescriptor invalid)
    {
        try
        {
            var stream = new YamlStream();
            stream.Load(DepthLimitedYamlParser.For(text, file));
            return stream.Documents.Count == 0 ? null : stream.Documents[0].RootNode;
        }
        catch (YamlException ex)
        {
            throw invalid.Exception($"{file}: not valid YAML/JSON: {ex.Message}", file, ex.Start.Line > 0 ? (int)ex.Start.Line : null, inner: ex);
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException)
        {
            // YamlDotNet reports some structural errors this way (an unclosed flow sequence; an event of an unsupported
            // type, found by the fuzz suite).
            throw invalid.Exception($"{file}: not valid YAML/JSON: {ex.Message}", file, inner: ex);
        }
    }

    public YamlMappingNode Mapping(YamlNode node, string what, params string[] allowedKeys)
    {
        if (node is not YamlMappingNode mapping)
            throw Fail(node, $"{what} must be a mapping");
        if (unknownKey is not null && allowedKeys.Length > 0)
        {
            foreach (var key in mapping.Children.Keys)
            {
                var name = (key as YamlScalarNode)?.Value ?? "";
                if (!allowedKeys.Contains(name, StringComparer.Ordinal))
                    throw unknownKey.Exception($"{File}: unknown key '{name}' in {what} (allowed: {string.Join(", ", allowedKeys)})", File, Line(key));
            }
        }

        return mapping;
    }

    public static YamlNode? Get(YamlMappingNode mapping, string key) =>
        mapping.Children.TryGetValue(new YamlScalarNode(key), out var value) && !IsNull(value) ? value : null;

    public string? String(YamlMappingNode mapping, string key)
    {
        var node = Get(mapping, key);
        return node switch
        {
            null => null,
            YamlScalarNode scalar => scalar.Value,
            _ => throw Fail(node, $"'{key}' must be a single value"),
        };
    }

    public int? Int(YamlMappingNode mapping, string key)
    {
        var text = String(mapping, key);
        if (text is null)
            return null;
        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw Fail(Get(mapping, key)!, $"'{key}' must be a whole number, not '{text}'");
    }

    public bool? Bool(YamlMappingNode mapping, string key)
    {
        var text = String(mapping, key);
        return text?.ToUpperInvariant() switch
        {
            null => null,
            "TRUE" or "YES" => true,
            "FALSE" or "NO" => false,
            _ => throw Fail(Get(mapping, key)!, $"'{key}' must be true or false, not '{text}'"),
        };
    }

    public DateOnly? Date(YamlMappingNode mapping, string key)
    {
        var text = String(mapping, key);
        if (text is null)
            return null;
        if (DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
            return date;
        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var timestamp))
            return DateOnly.FromDateTime(timestamp.UtcDateTime);
        throw Fail(Get(mapping, key)!, $"'{key}' must be a date (YYYY-MM-DD), not '{text}'");
    }

    /// <summary>A list of strings; a single string counts as a one-element list (as in Hugging Face cards).</summary>
    public List<string> Strings(YamlMappingNode mapping, string key)
    {
        var node = Get(mapping, key);
        return node switch
        {
            null => [],
            YamlScalarNode scalar => [scalar.Value ?? ""],
            YamlSequenceNode sequence => sequence.Children.Select(c => c is YamlScalarNode s ? s.Value ?? "" : throw Fail(c, $"'{key}' must be a list of values")).ToList(),
            _ => throw Fail(node, $"'{key}' must be a value or a list of values"),
        };
    }

    public IEnumerable<YamlNode> Sequence(YamlMappingNode mapping, string key)
    {
        var node = Get(mapping, key);
        return node switch
        {
            null => [],
            YamlSequenceNode sequence => sequence.Children,
            _ => throw Fail(node, $"'{key}' must be a list"),
        };
    }

    /// <summary>A flat map of scalar values, in file order (hyperparameters, seeds).</summary>
    public List<KeyValuePair<string, string>> ScalarMap(YamlMappingNode mapping, string key)
    {
        var node = Get(mapping, key);
        if (node is null)
            return [];
        if (node is not YamlMappingNode map)
            throw Fail(node, $"'{key}' must be a mapping of names to values");
        return map.Children.Select(pair => new KeyValuePair<string, string>(
            ((YamlScalarNode)pair.Key).Value ?? "",
            pair.Value is YamlScalarNode value ? value.Value ?? "" : throw Fail(pair.Value, $"'{key}' values must be single values"))).ToList();
    }

    public Diagnostics.ProvenanceException Fail(YamlNode node, string message) =>
        invalid.Exception($"{File}: {message}", File, Line(node));

    private static int? Line(YamlNode node) => node.Start.Line > 0 ? (int)node.Start.Line : null;

    private static bool IsNull(YamlNode node) =>
        node is YamlScalarNode { Style: ScalarStyle.Plain } scalar && (scalar.Value is null or "" or "~" or "null" or "Null" or "NULL");
}
