using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace ProvenanceGate.Bom;

/// <summary>One schema violation: where in the instance (JSON Pointer), which keyword failed, and why.</summary>
public sealed record SchemaError(string InstancePath, string Keyword, string Message);

/// <summary>
/// A small JSON Schema draft-07 validator, enough for the CycloneDX schemas and the schemas they reference
/// (JsonSchema.Net does not restore here). Schemas are registered by their <c>$id</c>; <c>$ref</c>s resolve
/// locally and across registered documents and never touch the network. Collects every error, not just the first.
/// </summary>
public sealed class JsonSchemaValidator
{
    private readonly Dictionary<string, JsonElement> _documents = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Regex> _regexes = new(StringComparer.Ordinal);

    /// <summary>Registers a schema document under its <c>$id</c> (without fragment). Returns that id.</summary>
    public string Register(JsonElement schema)
    {
        if (schema.ValueKind != JsonValueKind.Object || !schema.TryGetProperty("$id", out var id) || id.ValueKind != JsonValueKind.String)
            throw new ArgumentException("a registered schema needs a string $id", nameof(schema));
        var key = StripFragment(id.GetString()!);
        _documents[key] = schema.Clone();
        return key;
    }

    public bool IsRegistered(string id) => _documents.ContainsKey(StripFragment(id));

    public IReadOnlyList<SchemaError> Validate(JsonElement instance, string schemaId)
    {
        var key = StripFragment(schemaId);
        if (!_documents.TryGetValue(key, out var root))
            throw new ArgumentException($"schema '{schemaId}' is not registered", nameof(schemaId));
        var errors = new List<SchemaError>();
        Validate(instance, root, new Uri(key), "", errors);
        return errors;
    }

    private void Validate(JsonElement instance, JsonElement schema, Uri baseUri, string path, List<SchemaError> errors)
    {
        if (schema.ValueKind == JsonValueKind.True)
            return;
        if (schema.ValueKind == JsonValueKind.False)
        {
            errors.Add(new SchemaError(path, "false", "no value is allowed here"));
            return;
        }

        if (schema.ValueKind != JsonValueKind.Object)
            return;

        if (schema.TryGetProperty("$id", out var idElement) && idElement.ValueKind == JsonValueKind.String)
            baseUri = new Uri(baseUri, idElement.GetString()!);

        // Draft-07: a $ref replaces every sibling keyword.
        if (schema.TryGetProperty("$ref", out var reference) && reference.ValueKind == JsonValueKind.String)
        {
            var (target, targetBase) = Resolve(baseUri, reference.GetString()!);
            Validate(instance, target, targetBase, path, errors);
            return;
        }

        ValidateType(instance, schema, path, errors);
        ValidateEnumAndConst(instance, schema, path, errors);
        ValidateCombinators(instance, schema, baseUri, path, errors);

        switch (instance.ValueKind)
        {
            case JsonValueKind.Object:
                ValidateObject(instance, schema, baseUri, path, errors);
                break;
            case JsonValueKind.Array:
                ValidateArray(instance, schema, baseUri, path, errors);
                break;
            case JsonValueKind.String:
                ValidateString(instance.GetString()!, schema, path, errors);
                break;
            case JsonValueKind.Number:
                ValidateNumber(instance, schema, path, errors);
                break;
        }
    }

    private static void ValidateType(JsonElement instance, JsonElement schema, string path, List<SchemaError> errors)
    {
        if (!schema.TryGetProperty("type", out var type))
            return;
        if (type.ValueKind == JsonValueKind.String)
        {
            if (!HasType(instance, type.GetString()!))
                errors.Add(new SchemaError(path, "type", $"must be {type.GetString()}, not {Describe(instance)}"));
            return;
        }

        if (type.ValueKind == JsonValueKind.Array && !type.EnumerateArray().Any(t => t.ValueKind == JsonValueKind.String && HasType(instance, t.GetString()!)))
            errors.Add(new SchemaError(path, "type", $"must be one of [{string.Join(", ", type.EnumerateArray())}], not {Describe(instance)}"));
    }

    private static bool HasType(JsonElement instance, string type) => type switch
    {
        "object" => instance.ValueKind == JsonValueKind.Object,
        "array" => instance.ValueKind == JsonValueKind.Array,
        "string" => instance.ValueKind == JsonValueKind.String,
        "number" => instance.ValueKind == JsonValueKind.Number,
        "integer" => instance.ValueKind == JsonValueKind.Number && IsInteger(instance),
        "boolean" => instance.ValueKind is JsonValueKind.True or JsonValueKind.False,
        "null" => instance.ValueKind == JsonValueKind.Null,
        _ => false,
    };

    private static bool IsInteger(JsonElement number) =>
        number.TryGetDecimal(out var d) ? decimal.Truncate(d) == d : Math.Floor(number.GetDouble()) == number.GetDouble();

    private static string Describe(JsonElement instance) => instance.ValueKind switch
    {
        JsonValueKind.Object => "object",
        JsonValueKind.Array => "array",
        JsonValueKind.String => "string",
        JsonValueKind.Number => "number",
        JsonValueKind.True or JsonValueKind.False => "boolean",
        _ => "null",
    };

    private static void ValidateEnumAndConst(JsonElement instance, JsonElement schema, string path, List<SchemaError> errors)
    {
        if (schema.TryGetProperty("enum", out var values) && values.ValueKind == JsonValueKind.Array &&
            !values.EnumerateArray().Any(v => JsonEquals(v, instance)))
        {
            var shown = string.Join(", ", values.EnumerateArray().Take(12).Select(v => v.GetRawText()));
            var more = values.GetArrayLength() > 12 ? $", ... ({values.GetArrayLength()} values)" : "";
            errors.Add(new SchemaError(path, "enum", $"{Short(instance)} is not one of the allowed values [{shown}{more}]"));
        }

        if (schema.TryGetProperty("const", out var constant) && !JsonEquals(constant, instance))
            errors.Add(new SchemaError(path, "const", $"must be {constant.GetRawText()}"));
    }

    private void ValidateCombinators(JsonElement instance, JsonElement schema, Uri baseUri, string path, List<SchemaError> errors)
    {
        if (schema.TryGetProperty("allOf", out var allOf) && allOf.ValueKind == JsonValueKind.Array)
        {
            foreach (var sub in allOf.EnumerateArray())
                Validate(instance, sub, baseUri, path, errors);
        }

        if (schema.TryGetProperty("anyOf", out var anyOf) && anyOf.ValueKind == JsonValueKind.Array)
        {
            var results = anyOf.EnumerateArray().Select(sub => Trial(instance, sub, baseUri, path)).ToList();
            if (!results.Any(r => r.Count == 0))
            {
                errors.Add(new SchemaError(path, "anyOf", $"matches none of the {results.Count} alternatives (anyOf)"));
                errors.AddRange(Closest(results));
            }
        }

        if (schema.TryGetProperty("oneOf", out var oneOf) && oneOf.ValueKind == JsonValueKind.Array)
        {
            var results = oneOf.EnumerateArray().Select(sub => Trial(instance, sub, baseUri, path)).ToList();
            var matches = results.Count(r => r.Count == 0);
            if (matches == 0)
            {
                errors.Add(new SchemaError(path, "oneOf", $"matches none of the {results.Count} alternatives (oneOf)"));
                errors.AddRange(Closest(results));
            }
            else if (matches > 1)
            {
                errors.Add(new SchemaError(path, "oneOf", $"matches {matches} alternatives; exactly one is allowed (oneOf)"));
            }
        }

        if (schema.TryGetProperty("not", out var not) && Trial(instance, not, baseUri, path).Count == 0)
            errors.Add(new SchemaError(path, "not", "matches a schema it must not match (not)"));

        if (schema.TryGetProperty("if", out var condition))
        {
            if (Trial(instance, condition, baseUri, path).Count == 0)
            {
                if (schema.TryGetProperty("then", out var then))
                    Validate(instance, then, baseUri, path, errors);
            }
            else if (schema.TryGetProperty("else", out var otherwise))
            {
                Validate(instance, otherwise, baseUri, path, errors);
            }
        }
    }

    private List<SchemaError> Trial(JsonElement instance, JsonElement schema, Uri baseUri, string path)
    {
        var errors = new List<SchemaError>();
        Validate(instance, schema, baseUri, path, errors);
        return errors;
    }

    // When no alternative matches, the one with the fewest errors is most likely what the author meant.
    private static List<SchemaError> Closest(List<List<SchemaError>> results) =>
        results.OrderBy(r => r.Count).First();

    private void ValidateObject(JsonElement instance, JsonElement schema, Uri baseUri, string path, List<SchemaError> errors)
    {
        if (schema.TryGetProperty("required", out var required) && required.ValueKind == JsonValueKind.Array)
        {
            foreach (var name in required.EnumerateArray())
            {
                if (name.ValueKind == JsonValueKind.String && !instance.TryGetProperty(name.GetString()!, out _))
                    errors.Add(new SchemaError(path, "required", $"required property '{name.GetString()}' is missing"));
            }
        }

        var count = 0;
        schema.TryGetProperty("properties", out var properties);
        schema.TryGetProperty("patternProperties", out var patternProperties);
        schema.TryGetProperty("additionalProperties", out var additional);
        schema.TryGetProperty("propertyNames", out var propertyNames);
        foreach (var property in instance.EnumerateObject())
        {
            count++;
            var childPath = path + "/" + EscapePointer(property.Name);
            var matched = false;
            if (properties.ValueKind == JsonValueKind.Object && properties.TryGetProperty(property.Name, out var propertySchema))
            {
                matched = true;
                Validate(property.Value, propertySchema, baseUri, childPath, errors);
            }

            if (patternProperties.ValueKind == JsonValueKind.Object)
            {
                foreach (var pattern in patternProperties.EnumerateObject())
                {
                    if (GetRegex(pattern.Name).IsMatch(property.Name))
                    {
                        matched = true;
                        Validate(property.Value, pattern.Value, baseUri, childPath, errors);
                    }
                }
            }

            if (!matched && additional.ValueKind != JsonValueKind.Undefined)
            {
                if (additional.ValueKind == JsonValueKind.False)
                    errors.Add(new SchemaError(childPath, "additionalProperties", $"property '{property.Name}' is not allowed here"));
                else
                    Validate(property.Value, additional, baseUri, childPath, errors);
            }

            if (propertyNames.ValueKind != JsonValueKind.Undefined)
            {
                using var nameDocument = JsonDocument.Parse(JsonSerializer.Serialize(property.Name));
                foreach (var error in Trial(nameDocument.RootElement, propertyNames, baseUri, childPath))
                    errors.Add(error with { Keyword = "propertyNames", Message = $"property name '{property.Name}': {error.Message}" });
            }
        }

        if (schema.TryGetProperty("minProperties", out var minProperties) && count < minProperties.GetDouble())
            errors.Add(new SchemaError(path, "minProperties", $"must have at least {minProperties} properties"));
        if (schema.TryGetProperty("maxProperties", out var maxProperties) && count > maxProperties.GetDouble())
            errors.Add(new SchemaError(path, "maxProperties", $"must have at most {maxProperties} properties"));

        if (schema.TryGetProperty("dependencies", out var dependencies) && dependencies.ValueKind == JsonValueKind.Object)
        {
            foreach (var dependency in dependencies.EnumerateObject())
            {
                if (!instance.TryGetProperty(dependency.Name, out _))
                    continue;
                if (dependency.Value.ValueKind == JsonValueKind.Array)
                {
                    foreach (var name in dependency.Value.EnumerateArray())
                    {
                        if (!instance.TryGetProperty(name.GetString()!, out _))
                            errors.Add(new SchemaError(path, "dependencies", $"property '{name.GetString()}' is required when '{dependency.Name}' is present"));
                    }
                }
                else
                {
                    Validate(instance, dependency.Value, baseUri, path, errors);
                }
            }
        }
    }

    private void ValidateArray(JsonElement instance, JsonElement schema, Uri baseUri, string path, List<SchemaError> errors)
    {
        var length = instance.GetArrayLength();
        if (schema.TryGetProperty("items", out var items))
        {
            if (items.ValueKind == JsonValueKind.Array)
            {
                var tuple = items.GetArrayLength();
                var index = 0;
                foreach (var item in instance.EnumerateArray())
                {
                    var itemPath = path + "/" + index.ToString(CultureInfo.InvariantCulture);
                    if (index < tuple)
                        Validate(item, items[index], baseUri, itemPath, errors);
                    else if (schema.TryGetProperty("additionalItems", out var additionalItems))
                        Validate(item, additionalItems, baseUri, itemPath, errors);
                    index++;
                }
            }
            else
            {
                var index = 0;
                foreach (var item in instance.EnumerateArray())
                    Validate(item, items, baseUri, path + "/" + (index++).ToString(CultureInfo.InvariantCulture), errors);
            }
        }

        if (schema.TryGetProperty("minItems", out var minItems) && length < minItems.GetDouble())
            errors.Add(new SchemaError(path, "minItems", $"must have at least {minItems} items, has {length}"));
        if (schema.TryGetProperty("maxItems", out var maxItems) && length > maxItems.GetDouble())
            errors.Add(new SchemaError(path, "maxItems", $"must have at most {maxItems} items, has {length}"));

        if (schema.TryGetProperty("uniqueItems", out var unique) && unique.ValueKind == JsonValueKind.True)
        {
            // Only items with the same hash can be equal: comparing every pair made a BOM of 100,000 components hang.
            var elements = instance.EnumerateArray().ToList();
            var byHash = new Dictionary<int, List<int>>();
            for (var j = 0; j < elements.Count; j++)
            {
                var hash = JsonHash(elements[j]);
                if (!byHash.TryGetValue(hash, out var same))
                    byHash[hash] = same = [];
                if (same.FirstOrDefault(i => JsonEquals(elements[i], elements[j]), -1) is var i and >= 0)
                {
                    errors.Add(new SchemaError(path, "uniqueItems", $"items {i} and {j} are equal; items must be unique"));
                    break;
                }

                same.Add(j);
            }
        }

        if (schema.TryGetProperty("contains", out var contains) && !instance.EnumerateArray().Any(item => Trial(item, contains, baseUri, path).Count == 0))
            errors.Add(new SchemaError(path, "contains", "no item matches the 'contains' schema"));
    }

    private void ValidateString(string value, JsonElement schema, string path, List<SchemaError> errors)
    {
        // JSON Schema counts code points, not UTF-16 units.
        var length = value.EnumerateRunes().Count();
        if (schema.TryGetProperty("minLength", out var minLength) && length < minLength.GetDouble())
            errors.Add(new SchemaError(path, "minLength", $"must be at least {minLength} characters long"));
        if (schema.TryGetProperty("maxLength", out var maxLength) && length > maxLength.GetDouble())
            errors.Add(new SchemaError(path, "maxLength", $"must be at most {maxLength} characters long"));
        if (schema.TryGetProperty("pattern", out var pattern) && pattern.ValueKind == JsonValueKind.String && !GetRegex(pattern.GetString()!).IsMatch(value))
            errors.Add(new SchemaError(path, "pattern", $"'{Truncate(value)}' does not match the pattern {pattern.GetString()}"));
        if (schema.TryGetProperty("format", out var format) && format.ValueKind == JsonValueKind.String && !JsonFormats.IsValid(format.GetString()!, value))
            errors.Add(new SchemaError(path, "format", $"'{Truncate(value)}' is not a valid {format.GetString()}"));
    }

    private static void ValidateNumber(JsonElement instance, JsonElement schema, string path, List<SchemaError> errors)
    {
        var value = instance.GetDouble();
        if (schema.TryGetProperty("minimum", out var minimum) && value < minimum.GetDouble())
            errors.Add(new SchemaError(path, "minimum", $"{instance.GetRawText()} is less than the minimum {minimum.GetRawText()}"));
        if (schema.TryGetProperty("maximum", out var maximum) && value > maximum.GetDouble())
            errors.Add(new SchemaError(path, "maximum", $"{instance.GetRawText()} is greater than the maximum {maximum.GetRawText()}"));
        if (schema.TryGetProperty("exclusiveMinimum", out var exclusiveMinimum) && exclusiveMinimum.ValueKind == JsonValueKind.Number && value <= exclusiveMinimum.GetDouble())
            errors.Add(new SchemaError(path, "exclusiveMinimum", $"{instance.GetRawText()} must be greater than {exclusiveMinimum.GetRawText()}"));
        if (schema.TryGetProperty("exclusiveMaximum", out var exclusiveMaximum) && exclusiveMaximum.ValueKind == JsonValueKind.Number && value >= exclusiveMaximum.GetDouble())
            errors.Add(new SchemaError(path, "exclusiveMaximum", $"{instance.GetRawText()} must be less than {exclusiveMaximum.GetRawText()}"));
        if (schema.TryGetProperty("multipleOf", out var multipleOf) && multipleOf.GetDouble() > 0)
        {
            var quotient = value / multipleOf.GetDouble();
            if (Math.Abs(quotient - Math.Round(quotient)) > 1e-9)
                errors.Add(new SchemaError(path, "multipleOf", $"{instance.GetRawText()} is not a multiple of {multipleOf.GetRawText()}"));
        }
    }

    private (JsonElement Schema, Uri BaseUri) Resolve(Uri baseUri, string reference)
    {
        var target = new Uri(baseUri, reference);
        var documentKey = StripFragment(target.GetLeftPart(UriPartial.Query));
        if (!_documents.TryGetValue(documentKey, out var document))
            throw new InvalidOperationException($"$ref '{reference}' points to '{documentKey}', which is not registered (schemas are never fetched)");

        var fragment = Uri.UnescapeDataString(target.Fragment.TrimStart('#'));
        var current = document;
        if (fragment.Length > 0)
        {
            foreach (var rawToken in fragment.TrimStart('/').Split('/'))
            {
                var token = rawToken.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal);
                current = current.ValueKind switch
                {
                    JsonValueKind.Object when current.TryGetProperty(token, out var next) => next,
                    JsonValueKind.Array when int.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out var index) && index < current.GetArrayLength() => current[index],
                    _ => throw new InvalidOperationException($"$ref '{reference}' does not resolve (no '{token}')"),
                };
            }
        }

        return (current, new Uri(documentKey));
    }

    private Regex GetRegex(string pattern) => _regexes.GetOrAdd(pattern, CreateRegex);

    // Schema patterns are ECMA-262; .NET's ECMAScript mode matches their \d, \s and \w. A pattern that mode
    // cannot express (e.g. a lookbehind) falls back to the default dialect, which agrees for such simple patterns.
    private static Regex CreateRegex(string pattern)
    {
        // In ECMA-262 a final '$' matches only at the very end; in .NET also before a trailing "\n".
        if (pattern.EndsWith('$') && !pattern.EndsWith("\\$", StringComparison.Ordinal))
            pattern = pattern[..^1] + "(?!\n)$";
        try
        {
            return new Regex(pattern, RegexOptions.ECMAScript, TimeSpan.FromSeconds(2));
        }
        catch (ArgumentException)
        {
            return new Regex(pattern, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(2));
        }
    }

    private static string StripFragment(string uri)
    {
        var hash = uri.IndexOf('#', StringComparison.Ordinal);
        return hash < 0 ? uri : uri[..hash];
    }

    internal static string EscapePointer(string token) =>
        token.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal);

    private static string Short(JsonElement element)
    {
        var text = element.GetRawText();
        return text.Length > 80 ? text[..77] + "..." : text;
    }

    private static string Truncate(string value) => value.Length > 80 ? value[..77] + "..." : value;

    /// <summary>JSON equality as JSON Schema defines it: numbers by value, objects regardless of key order.</summary>
    /// <summary>A hash that agrees with <see cref="JsonEquals"/>: member order ignored, numbers by value.</summary>
    public static int JsonHash(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                var members = 0;
                foreach (var property in element.EnumerateObject())
                    members += HashCode.Combine(StringComparer.Ordinal.GetHashCode(property.Name), JsonHash(property.Value));
                return HashCode.Combine(JsonValueKind.Object, members);
            case JsonValueKind.Array:
                var items = new HashCode();
                foreach (var item in element.EnumerateArray())
                    items.Add(JsonHash(item));
                return HashCode.Combine(JsonValueKind.Array, items.ToHashCode());
            case JsonValueKind.String:
                return StringComparer.Ordinal.GetHashCode(element.GetString()!);
            case JsonValueKind.Number:
                // Numbers equal as decimals are the same real number, so they parse to the same double.
                return element.TryGetDouble(out var number) && double.IsFinite(number) ? (number == 0 ? 0d : number).GetHashCode() : 0;
            default:
                return (int)element.ValueKind;
        }
    }

    public static bool JsonEquals(JsonElement a, JsonElement b)
    {
        if (a.ValueKind != b.ValueKind)
            return false;
        switch (a.ValueKind)
        {
            case JsonValueKind.Object:
                var aProperties = a.EnumerateObject().ToList();
                if (aProperties.Count != b.EnumerateObject().Count())
                    return false;
                return aProperties.All(p => b.TryGetProperty(p.Name, out var other) && JsonEquals(p.Value, other));
            case JsonValueKind.Array:
                if (a.GetArrayLength() != b.GetArrayLength())
                    return false;
                return a.EnumerateArray().Zip(b.EnumerateArray()).All(pair => JsonEquals(pair.First, pair.Second));
            case JsonValueKind.String:
                return string.Equals(a.GetString(), b.GetString(), StringComparison.Ordinal);
            case JsonValueKind.Number:
                return a.TryGetDecimal(out var x) && b.TryGetDecimal(out var y) ? x == y : a.GetDouble().Equals(b.GetDouble());
            default:
                return true;
        }
    }
}

/// <summary>The string formats the CycloneDX schemas use, checked sanely (no network, no full IRI grammar).</summary>
internal static partial class JsonFormats
{
    public static bool IsValid(string format, string value) => format switch
    {
        "date-time" => IsDateTime(value),
        "date" => IsDate(value),
        "email" or "idn-email" => EmailPattern().IsMatch(value),
        "uri" => IsUri(value),
        "uri-reference" => IsUriReference(value, allowNonAscii: false),
        "iri-reference" => IsUriReference(value, allowNonAscii: true),
        "iri" => IsUri(value),
        _ => true, // draft-07: unknown formats are annotations only
    };

    private static bool IsDateTime(string value)
    {
        var match = DateTimePattern().Match(value);
        if (!match.Success || !IsDate(match.Groups["date"].Value))
            return false;
        var hour = int.Parse(match.Groups["h"].Value, CultureInfo.InvariantCulture);
        var minute = int.Parse(match.Groups["m"].Value, CultureInfo.InvariantCulture);
        var second = int.Parse(match.Groups["s"].Value, CultureInfo.InvariantCulture);
        if (hour > 23 || minute > 59 || second > 60)
            return false;
        if (match.Groups["oh"].Success)
        {
            var offsetHour = int.Parse(match.Groups["oh"].Value, CultureInfo.InvariantCulture);
            var offsetMinute = int.Parse(match.Groups["om"].Value, CultureInfo.InvariantCulture);
            if (offsetHour > 23 || offsetMinute > 59)
                return false;
        }

        return true;
    }

    private static bool IsDate(string value)
    {
        var match = DatePattern().Match(value);
        if (!match.Success)
            return false;
        var year = int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        var month = int.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture);
        var day = int.Parse(match.Groups[3].Value, CultureInfo.InvariantCulture);
        return year >= 1 && month is >= 1 and <= 12 && day >= 1 && day <= DateTime.DaysInMonth(year, month);
    }

    private static bool IsUri(string value) =>
        SchemePattern().IsMatch(value) && IsUriReference(value, allowNonAscii: false);

    private static bool IsUriReference(string value, bool allowNonAscii)
    {
        foreach (var c in value)
        {
            if (char.IsWhiteSpace(c) || char.IsControl(c) || c is '<' or '>' or '"' or '{' or '}' or '|' or '\\' or '^' or '`')
                return false;
            if (!allowNonAscii && c > 0x7E)
                return false;
        }

        // A '%' must start a two-digit escape.
        for (var i = value.IndexOf('%', StringComparison.Ordinal); i >= 0; i = value.IndexOf('%', i + 1))
        {
            if (i + 2 >= value.Length || !Uri.IsHexDigit(value[i + 1]) || !Uri.IsHexDigit(value[i + 2]))
                return false;
        }

        return true;
    }

    [GeneratedRegex(@"^(?<date>\d{4}-\d{2}-\d{2})[Tt](?<h>\d{2}):(?<m>\d{2}):(?<s>\d{2})(\.\d+)?([Zz]|[+-](?<oh>\d{2}):(?<om>\d{2}))$", RegexOptions.CultureInvariant)]
    private static partial Regex DateTimePattern();

    [GeneratedRegex(@"^(\d{4})-(\d{2})-(\d{2})$", RegexOptions.CultureInvariant)]
    private static partial Regex DatePattern();

    [GeneratedRegex(@"^[^\s@]+@[^\s@]+$", RegexOptions.CultureInvariant)]
    private static partial Regex EmailPattern();

    [GeneratedRegex(@"^[A-Za-z][A-Za-z0-9+.\-]*:", RegexOptions.CultureInvariant)]
    private static partial Regex SchemePattern();
}
