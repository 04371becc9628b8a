using System.Globalization;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using YamlDotNet.Core;
using YamlDotNet.Serialization;

namespace ProvenanceGate.Verification.Policy;

/// <summary>
/// Loads a policy from a YAML or JSON file, or a built-in profile by name, resolves <c>extends</c> and validates every
/// key: an unknown key is an error (PG4002), because a misspelt rule that silently does nothing would let a model pass.
/// </summary>
public static class PolicyLoader
{
    public const string DefaultProfile = "baseline";

    private const int MaxExtendsDepth = 8;

    private const int MaxYamlNodes = 100_000;

    /// <summary>The built-in profiles shipped as embedded resources.</summary>
    public static IReadOnlyList<string> BuiltInProfiles { get; } = typeof(PolicyLoader).Assembly.GetManifestResourceNames()
        .Where(n => n.StartsWith(ResourcePrefix, StringComparison.Ordinal) && n.EndsWith(".yaml", StringComparison.Ordinal))
        .Select(n => n[ResourcePrefix.Length..^".yaml".Length])
        .Order(StringComparer.Ordinal)
        .ToArray();

    private const string ResourcePrefix = "ProvenanceGate.Verification.Profiles.";

    public static GatePolicy Load(string? reference)
    {
        var resolved = Resolve(reference ?? DefaultProfile, baseDirectory: null, depth: 0, out var source);
        return PolicyParser.Parse(resolved, source);
    }

    /// <summary>The raw text of a built-in profile (for `--help`-style listings and the README).</summary>
    public static string ProfileText(string name)
    {
        using var stream = typeof(PolicyLoader).Assembly.GetManifestResourceStream(ResourcePrefix + name + ".yaml")
            ?? throw Diagnostics.Diagnostics.GatePolicyInvalid.Exception($"there is no built-in policy profile '{name}'");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    private static JsonObject Resolve(string reference, string? baseDirectory, int depth, out string source)
    {
        if (depth > MaxExtendsDepth)
            throw Diagnostics.Diagnostics.GatePolicyInvalid.Exception($"policy '{reference}': 'extends' is nested more than {MaxExtendsDepth} deep (a cycle?)", reference);

        JsonObject document;
        string? directory;
        var candidate = baseDirectory is null ? reference : Path.Combine(baseDirectory, reference);
        if (File.Exists(candidate))
        {
            source = candidate;
            directory = Path.GetDirectoryName(Path.GetFullPath(candidate));
            document = ParseText(ReadFile(candidate), candidate);
        }
        else if (BuiltInProfiles.Contains(reference, StringComparer.Ordinal))
        {
            source = "profile:" + reference;
            directory = null;
            document = ParseText(ProfileText(reference), source);
        }
        else
        {
            throw Diagnostics.Diagnostics.GatePolicyInvalid.Exception(
                $"policy '{reference}' is neither a file nor a built-in profile ({string.Join(", ", BuiltInProfiles)})", reference);
        }

        var version = document["schemaVersion"];
        if (version is null || !string.Equals(version.ToString(), "1", StringComparison.Ordinal))
            throw Diagnostics.Diagnostics.GatePolicyInvalid.Exception($"policy '{source}' must declare schemaVersion: 1 (found '{version?.ToString() ?? "nothing"}')", source);

        if (document["extends"] is { } extendsNode)
        {
            var parentReference = extendsNode.GetValueKind() == JsonValueKind.String ? extendsNode.GetValue<string>() : extendsNode.ToString();
            // A parent is looked up beside the child first, so a repository's policies can extend each other.
            var parent = Resolve(parentReference, directory, depth + 1, out _);
            document.Remove("extends");
            document = Merge(parent, document);
        }

        return document;
    }

    private static string ReadFile(string path) => IO.InputFile.ReadAllText(path, IO.InputLimit.Policy);

    /// <summary>YAML is a superset of JSON, but JSON files are parsed as JSON so their numbers and booleans keep their types.</summary>
    private static JsonObject ParseText(string text, string source)
    {
        var trimmed = text.TrimStart();
        if (trimmed.StartsWith('{'))
        {
            IO.JsonInput.Check(System.Text.Encoding.UTF8.GetBytes(text), source, "policy", Diagnostics.Diagnostics.GatePolicyInvalid);
            try
            {
                return JsonNode.Parse(text, documentOptions: new JsonDocumentOptions { AllowDuplicateProperties = false }) as JsonObject
                    ?? throw Diagnostics.Diagnostics.GatePolicyInvalid.Exception($"policy '{source}' is not an object", source);
            }
            catch (JsonException ex)
            {
                throw Diagnostics.Diagnostics.GatePolicyInvalid.Exception($"policy '{source}' is not valid JSON: {ex.Message}", source, (int?)(ex.LineNumber + 1), null, ex);
            }
        }

        object? yaml;
        try
        {
            yaml = new DeserializerBuilder().Build().Deserialize<object>(Bom.DepthLimitedYamlParser.For(text, source));
        }
        catch (YamlException ex) when (ex.InnerException is Diagnostics.ProvenanceException inner)
        {
            // The depth limit, raised from inside the deserializer, which wraps what its parser throws.
            throw inner;
        }
        catch (YamlException ex)
        {
            throw Diagnostics.Diagnostics.GatePolicyInvalid.Exception($"policy '{source}' is not valid YAML: {ex.Message}", source, (int)ex.Start.Line, (int)ex.Start.Column, ex);
        }

        var budget = MaxYamlNodes;
        return ToJson(yaml, ref budget, source) as JsonObject
            ?? throw Diagnostics.Diagnostics.GatePolicyInvalid.Exception($"policy '{source}' must be a mapping of keys to values", source);
    }

    /// <summary>
    /// YAML aliases share one node, but the JSON copy repeats it: nine nested lists of nine aliases ("billion laughs")
    /// would expand to a billion nodes, so the copy stops at a budget no real policy comes near.
    /// </summary>
    private static JsonNode? ToJson(object? value, ref int budget, string source)
    {
        if (--budget < 0)
            throw Diagnostics.Diagnostics.GatePolicyInvalid.Exception($"policy '{source}' expands to more than {MaxYamlNodes} values (aliases repeated?)", source);
        switch (value)
        {
            case null:
                return null;
            case IDictionary<object, object> map:
                var obj = new JsonObject();
                foreach (var (key, item) in map)
                    obj[Convert.ToString(key, CultureInfo.InvariantCulture) ?? ""] = ToJson(item, ref budget, source);
                return obj;
            case IList<object> list:
                var array = new JsonArray();
                foreach (var item in list)
                    array.Add(ToJson(item, ref budget, source));
                return array;
            default:
                return JsonValue.Create(Convert.ToString(value, CultureInfo.InvariantCulture));
        }
    }

    /// <summary>
    /// Child over parent: scalars and objects are overridden key by key; required fields merge by id (a child entry with
    /// <c>enabled: false</c> removes the parent's); deny lists, required approvals and exceptions accumulate.
    /// </summary>
    private static JsonObject Merge(JsonObject parent, JsonObject child)
    {
        var result = (JsonObject)parent.DeepClone();
        foreach (var (key, value) in child)
        {
            var childValue = value?.DeepClone();
            if (key == "requiredFields" && result[key] is JsonArray parentFields && childValue is JsonArray childFields)
            {
                result[key] = MergeById(parentFields, childFields);
            }
            else if (key == "exceptions" && result[key] is JsonArray parentList && childValue is JsonArray childList)
            {
                result[key] = new JsonArray([.. parentList.Select(n => n?.DeepClone()), .. childList.Select(n => n?.DeepClone())]);
            }
            else if (result[key] is JsonObject parentObject && childValue is JsonObject childObject)
            {
                var merged = Merge(parentObject, childObject);
                foreach (var accumulating in new[] { "deny", "required" })
                {
                    if (parentObject[accumulating] is JsonArray a && childObject[accumulating] is JsonArray b)
                        merged[accumulating] = new JsonArray([.. a.Select(n => n?.DeepClone()), .. b.Select(n => n?.DeepClone())]);
                }

                result[key] = merged;
            }
            else
            {
                result[key] = childValue;
            }
        }

        return result;
    }

    private static JsonArray MergeById(JsonArray parent, JsonArray child)
    {
        var merged = parent.Select(n => n?.DeepClone()).ToList();
        foreach (var entry in child)
        {
            var id = (entry as JsonObject)?["id"]?.ToString();
            var index = id is null ? -1 : merged.FindIndex(n => (n as JsonObject)?["id"]?.ToString() == id);
            if (index >= 0)
                merged[index] = entry?.DeepClone();
            else
                merged.Add(entry?.DeepClone());
        }

        return new JsonArray([.. merged]);
    }
}
