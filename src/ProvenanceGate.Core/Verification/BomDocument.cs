using System.Text.Json;
using System.Text.Json.Nodes;
using ProvenanceGate.Diagnostics;

namespace ProvenanceGate.Verification;

/// <summary>A component of the BOM with the JSON JsonPath it sits at, so diagnostics can point at its line.</summary>
public sealed record BomComponent(JsonObject Node, string JsonPath, BomComponent? Parent)
{
    public string Type => Node["type"]?.GetValueKind() == JsonValueKind.String ? Node["type"]!.GetValue<string>() : "";

    public string Name => BomDocument.Text(Node["name"]) ?? "";

    public string? Version => BomDocument.Text(Node["version"]);

    public string? BomRef => BomDocument.Text(Node["bom-ref"]);

    public string? Purl => BomDocument.Text(Node["purl"]);

    /// <summary>How exceptions and JSON reports name the component: its bom-ref, else its name.</summary>
    public string Id => BomRef ?? Name;

    /// <summary>How messages name it: group/name@version, shorter than a purl bom-ref.</summary>
    public string DisplayName
    {
        get
        {
            var group = BomDocument.Text(Node["group"]);
            var name = group is { Length: > 0 } ? group + "/" + Name : Name;
            return Version is { Length: > 0 } version ? name + "@" + version : name;
        }
    }

    public bool IsModel => Type == "machine-learning-model";

    /// <summary>A model file found in the app's output that no one declared (<c>provenancegate:declared=false</c>).</summary>
    public bool IsUndeclaredModel => IsModel && Property("provenancegate:declared") == "false";

    public bool IsDataset => Type == "data";

    public bool IsFile => Type == "file";

    public string? Property(string name) => BomDocument.PropertyValue(Node, name);

    /// <summary>The nearest enclosing machine-learning-model (itself when it is one).</summary>
    public BomComponent? OwningModel => IsModel ? this : Parent?.OwningModel;
}

/// <summary>A parsed BOM: the JSON tree for the checks and a location map for the reports.</summary>
public sealed class BomDocument
{
    private BomDocument(string path, byte[] bytes, JsonObject root, JsonLocationMap locations)
    {
        Path = path;
        Bytes = bytes;
        Root = root;
        Locations = locations;
        Components = EnumerateComponents().ToArray();
    }

    /// <summary>The path as given on the command line; diagnostics name the BOM by it.</summary>
    public string Path { get; }

    public byte[] Bytes { get; }

    public JsonObject Root { get; }

    public JsonLocationMap Locations { get; }

    /// <summary>metadata.component and every component, depth first (nested components included; pedigree ancestors not).</summary>
    public IReadOnlyList<BomComponent> Components { get; }

    /// <summary>The declared models: those the per-model checks (fields, licences, governance, lineage) judge.</summary>
    public IEnumerable<BomComponent> Models => Components.Where(c => c.IsModel && !c.IsUndeclaredModel);

    /// <summary>Models found in the app's output without provenance: the inventory check fails on each.</summary>
    public IEnumerable<BomComponent> UndeclaredModels => Components.Where(c => c.IsUndeclaredModel);

    public string? SpecVersion => Text(Root["specVersion"]);

    public static BomDocument Load(string path)
    {
        var bytes = IO.InputFile.ReadAllBytes(path, IO.InputLimit.Bom);
        return Parse(path, bytes);
    }

    public static BomDocument Parse(string path, byte[] bytes)
    {
        IO.JsonInput.Check(bytes, path, "BOM", Diagnostics.Diagnostics.GateBomUnreadable, IO.JsonInput.BomMaxDepth);
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(bytes, documentOptions: new JsonDocumentOptions { MaxDepth = IO.JsonInput.BomMaxDepth, AllowDuplicateProperties = false });
        }
        catch (JsonException ex)
        {
            throw Diagnostics.Diagnostics.GateBomUnreadable.Exception(
                $"'{path}' is not valid JSON: {ex.Message}", path, (int?)(ex.LineNumber + 1), (int?)(ex.BytePositionInLine + 1), ex);
        }

        if (node is not JsonObject root)
            throw Diagnostics.Diagnostics.GateBomUnreadable.Exception($"'{path}' is not a JSON object, so it is not a CycloneDX BOM", path, 1, 1);
        return new BomDocument(path, bytes, root, JsonLocationMap.Build(bytes));
    }

    /// <summary>Creates a diagnostic located at <paramref name="jsonPath"/> in this BOM.</summary>
    public Diagnostic At(DiagnosticDescriptor descriptor, DiagnosticSeverity severity, string jsonPath, string message)
    {
        var location = Locations.Find(jsonPath);
        return new Diagnostic(descriptor, severity, message, Path, location?.Line, location?.Column);
    }

    public BomComponent? FindByRef(string reference) =>
        Components.FirstOrDefault(c => string.Equals(c.BomRef, reference, StringComparison.Ordinal));

    /// <summary>The value at <paramref name="keys"/> below <paramref name="node"/>, or null where any step is not an object:
    /// a BOM is untrusted input, and JsonNode's indexer throws on a string where an object was expected.</summary>
    public static JsonNode? Member(JsonNode? node, params string[] keys)
    {
        foreach (var key in keys)
            node = (node as JsonObject)?[key];
        return node;
    }

    public static string? Text(JsonNode? node) =>
        node is JsonValue value && value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : null;

    /// <summary>
    /// How a model is known: the generator's <c>provenancegate:lineage:id</c> (the hub id, e.g. org/name), else group/name,
    /// else name, else purl.
    /// </summary>
    public static string ModelName(JsonObject component)
    {
        if (PropertyValue(component, "provenancegate:lineage:id") is { Length: > 0 } id)
            return id;
        var name = Text(component["name"]);
        if (name is not null && Text(component["group"]) is { Length: > 0 } group)
            return group + "/" + name;
        return name ?? Text(component["purl"]) ?? "?";
    }

    /// <summary>The value of the first CycloneDX property named <paramref name="name"/> on an object.</summary>
    public static string? PropertyValue(JsonObject node, string name) =>
        node["properties"] is JsonArray properties
            ? properties.OfType<JsonObject>().Where(p => Text(p["name"]) == name).Select(p => Text(p["value"])).FirstOrDefault()
            : null;

    private IEnumerable<BomComponent> EnumerateComponents()
    {
        if (Root["metadata"] is JsonObject metadata && metadata["component"] is JsonObject main)
        {
            foreach (var component in Walk(main, "/metadata/component", null))
                yield return component;
        }

        if (Root["components"] is JsonArray components)
        {
            for (var i = 0; i < components.Count; i++)
            {
                if (components[i] is JsonObject component)
                {
                    foreach (var item in Walk(component, $"/components/{i}", null))
                        yield return item;
                }
            }
        }
    }

    private static IEnumerable<BomComponent> Walk(JsonObject node, string pointer, BomComponent? parent)
    {
        var component = new BomComponent(node, pointer, parent);
        yield return component;
        if (node["components"] is not JsonArray children)
            yield break;
        for (var i = 0; i < children.Count; i++)
        {
            if (children[i] is JsonObject child)
            {
                foreach (var item in Walk(child, $"{pointer}/components/{i}", component))
                    yield return item;
            }
        }
    }
}
