using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using ProvenanceGate.IO;

namespace ProvenanceGate.Bom;

public enum LibraryScope
{
    Required,
    Optional,
    Excluded,
}

/// <summary>A NuGet (or other) library in the AI-BOM. <see cref="Sha512Base64"/> is the nupkg hash as NuGet stores it.</summary>
public sealed record LibraryComponent(string Name, string Version)
{
    public string? Purl { get; init; }

    public string? Sha512Base64 { get; init; }

    /// <summary>An SPDX expression or id, or a licence name when it is not SPDX.</summary>
    public string? License { get; init; }

    /// <summary>A licence name for a package without an SPDX licence (used when <see cref="License"/> is null).</summary>
    public string? LicenseName { get; init; }

    /// <summary>Where the licence text is (NuGet licenseUrl); kept with a single id or a named licence.</summary>
    public string? LicenseUrl { get; init; }

    public LibraryScope Scope { get; init; } = LibraryScope.Required;

    /// <summary>True for a package the application references itself; false for a transitive one.</summary>
    public bool IsDirect { get; init; } = true;

    /// <summary>Purls (or bom-refs) of the libraries this one depends on.</summary>
    public IReadOnlyList<string> DependsOn { get; init; } = [];

    public string BomRef => Purl ?? $"pkg:nuget/{Name}@{Version}";

    /// <summary>Extra CycloneDX properties (e.g. the package's signature facts), in the order given.</summary>
    public IReadOnlyList<(string Name, string Value)> Properties { get; init; } = [];
}

/// <summary>
/// A model file found in the app's output that no <c>ProvenanceModel</c> declared: listed so that nothing the app ships
/// is invisible, and marked <c>provenancegate:declared=false</c> so that the gate fails on it.
/// </summary>
public sealed record ShippedModelComponent(Discovery.ShippedModelFile File)
{
    /// <summary>The library component the file came from (its bom-ref), when it came from a package.</summary>
    public string? PackageRef { get; init; }
}

public sealed record ApplicationComponent(string Name, string? Version = null, string? Purl = null);

/// <summary>
/// Composes a CycloneDX AI-BOM: an optional application (metadata.component), libraries, models (each from a
/// model directory via <see cref="ModelBomGenerator"/>) and the graph app → libraries/models → base models/datasets.
/// Output is deterministic: fixed key order, ordinal ordering of components and edges, the timestamp from
/// <see cref="SourceDate"/>, and a serialNumber that is a UUIDv5-style digest of the BOM without it.
/// </summary>
public sealed class AiBomBuilder
{
    private static readonly JsonSerializerOptions WriteOptions = new()
    {
        WriteIndented = true,
        IndentSize = 2,
        NewLine = "\n",
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private readonly List<LibraryComponent> _libraries = [];
    private readonly List<ModelBomPart> _models = [];
    private readonly List<ShippedModelComponent> _shipped = [];
    private ApplicationComponent? _application;

    public AiBomBuilder(string specVersion = CycloneDxSchemas.DefaultSpecVersion)
    {
        CycloneDxSchemas.RequireSupported(specVersion);
        SpecVersion = specVersion;
    }

    public string SpecVersion { get; }

    public IReadOnlyList<ModelBomPart> Models => _models;

    public AiBomBuilder WithApplication(ApplicationComponent application)
    {
        _application = application;
        return this;
    }

    public AiBomBuilder AddLibrary(LibraryComponent library)
    {
        _libraries.Add(library);
        return this;
    }

    /// <summary>Reads and hashes a model directory and adds it.</summary>
    public ModelBomPart AddModel(string modelDirectory, ModelOptions? options = null, IProgress<long>? progress = null)
    {
        var part = ModelBomGenerator.Generate(modelDirectory, options, progress);
        _models.Add(part);
        return part;
    }

    public AiBomBuilder AddModel(ModelBomPart part)
    {
        _models.Add(part);
        return this;
    }

    /// <summary>Adds a model file the app ships without a declaration (see <see cref="ShippedModelComponent"/>).</summary>
    public AiBomBuilder AddUndeclaredModel(ShippedModelComponent model)
    {
        _shipped.Add(model);
        return this;
    }

    /// <summary>The BOM as UTF-8 JSON text (LF line ends, trailing newline).</summary>
    public string Build(string? timestamp = null, Func<string, string?>? getEnvironment = null) =>
        Serialize(BuildDocument(timestamp, getEnvironment));

    public JsonObject BuildDocument(string? timestamp = null, Func<string, string?>? getEnvironment = null)
    {
        getEnvironment ??= Environment.GetEnvironmentVariable;
        var when = SourceDate.Resolve(timestamp, getEnvironment);
        var pinned = !string.IsNullOrWhiteSpace(timestamp) || !string.IsNullOrWhiteSpace(getEnvironment(SourceDate.EnvironmentVariable));

        var metadata = new JsonObject
        {
            ["timestamp"] = SourceDate.Format(when),
            ["lifecycles"] = new JsonArray(new JsonObject { ["phase"] = "build" }),
            ["tools"] = new JsonObject
            {
                ["components"] = new JsonArray(new JsonObject
                {
                    ["type"] = "application",
                    ["name"] = "ProvenanceGate",
                    ["version"] = ToolVersion(),
                }),
            },
        };

        string? appRef = null;
        if (_application is { } application)
        {
            appRef = application.Purl ?? ModelBomGenerator.RefSafe($"app:{application.Name}{(application.Version is null ? "" : "@" + application.Version)}");
            var app = new JsonObject { ["type"] = "application", ["bom-ref"] = appRef, ["name"] = application.Name };
            if (application.Version is not null)
                app["version"] = application.Version;
            if (application.Purl is not null)
                app["purl"] = application.Purl;
            metadata["component"] = app;
        }

        if (pinned)
            metadata["properties"] = new JsonArray(ModelBomGenerator.Property("cdx:reproducible", "true"));

        var components = new List<JsonObject>();
        var dependencies = new SortedDictionary<string, SortedSet<string>>(StringComparer.Ordinal);
        void Edge(string from, IEnumerable<string> to)
        {
            if (!dependencies.TryGetValue(from, out var set))
                dependencies[from] = set = new SortedSet<string>(StringComparer.Ordinal);
            set.UnionWith(to);
        }

        var libraries = _libraries.GroupBy(l => l.BomRef, StringComparer.Ordinal).Select(g => g.First()).OrderBy(l => l.BomRef, StringComparer.Ordinal).ToList();
        foreach (var library in libraries)
        {
            components.Add(LibraryJson(library));
            Edge(library.BomRef, library.DependsOn.Where(d => libraries.Any(l => l.BomRef == d)));
        }

        // The same model added twice (e.g. referenced by two projects) appears once.
        var models = _models.GroupBy(m => m.ModelRef, StringComparer.Ordinal).Select(g => g.First()).OrderBy(m => m.ModelRef, StringComparer.Ordinal).ToList();
        var datasets = new SortedDictionary<string, JsonObject>(StringComparer.Ordinal);
        foreach (var model in models)
        {
            var component = (JsonObject)model.Component.DeepClone();
            if (model.EnvironmentalConsiderations is { } environmental && SpecVersion != "1.5")
            {
                var card = component["modelCard"] as JsonObject ?? new JsonObject();
                component["modelCard"] = card;
                var considerations = card["considerations"] as JsonObject ?? new JsonObject();
                card["considerations"] = considerations;
                considerations["environmentalConsiderations"] = environmental.DeepClone();
            }

            components.Add(component);
            foreach (var data in model.DataComponents)
                datasets.TryAdd(data["bom-ref"]!.GetValue<string>(), (JsonObject)data.DeepClone());
            foreach (var (from, to) in model.Dependencies)
                Edge(from, to);
        }

        var undeclared = _shipped.GroupBy(m => m.File.RelativePath, StringComparer.Ordinal).Select(g => g.First())
            .Select(m => (Model: m, Ref: ModelBomGenerator.RefSafe("shipped-model:" + m.File.RelativePath))).OrderBy(m => m.Ref, StringComparer.Ordinal).ToList();
        foreach (var (model, reference) in undeclared)
        {
            components.Add(UndeclaredModelJson(model, reference));
            Edge(reference, []);
            // The package ships the model: its component depends on (provides) the file, as it depends on its libraries.
            if (model.PackageRef is { } packageRef && libraries.Any(l => l.BomRef == packageRef))
                Edge(packageRef, [reference]);
        }

        components.AddRange(datasets.Values);
        RemoveDuplicateNestedRefs(components, appRef);
        if (appRef is not null)
            Edge(appRef, libraries.Where(l => l.IsDirect).Select(l => l.BomRef).Concat(models.Select(m => m.ModelRef)).Concat(undeclared.Select(u => u.Ref)));

        var bom = new JsonObject
        {
            ["$schema"] = CycloneDxSchemas.SchemaId(SpecVersion),
            ["bomFormat"] = "CycloneDX",
            ["specVersion"] = SpecVersion,
            ["version"] = 1,
            ["metadata"] = metadata,
            ["components"] = new JsonArray(components.Select(c => (JsonNode)c).ToArray()),
            ["dependencies"] = new JsonArray(dependencies.Select(d => (JsonNode)new JsonObject
            {
                ["ref"] = d.Key,
                ["dependsOn"] = new JsonArray(d.Value.Select(v => (JsonNode)v).ToArray()),
            }).ToArray()),
        };

        var formulas = models.Where(m => m.Formula is not null).Select(m => (JsonNode)m.Formula!.DeepClone()).ToArray();
        if (formulas.Length > 0)
            bom["formulation"] = new JsonArray(formulas);

        return WithSerialNumber(bom);
    }

    /// <summary>
    /// Two fine-tunes of one base each carry that base in their pedigree, but a bom-ref must be unique in the whole
    /// BOM. Top-level components keep theirs; a nested copy of a ref already taken keeps its identity (name, purl,
    /// hashes) without the bom-ref, and the dependency graph points at the first copy.
    /// </summary>
    private static void RemoveDuplicateNestedRefs(IReadOnlyList<JsonObject> components, string? appRef)
    {
        var taken = new HashSet<string>(StringComparer.Ordinal);
        if (appRef is not null)
            taken.Add(appRef);
        foreach (var component in components)
        {
            if (component["bom-ref"]?.GetValue<string>() is { } reference)
                taken.Add(reference);
        }

        foreach (var component in components)
            RemoveDuplicateRefs(Nested(component), taken);
    }

    private static void RemoveDuplicateRefs(IEnumerable<JsonObject> nested, HashSet<string> taken)
    {
        foreach (var component in nested)
        {
            if (component["bom-ref"]?.GetValue<string>() is { } reference && !taken.Add(reference))
                component.Remove("bom-ref");
            RemoveDuplicateRefs(Nested(component), taken);
        }
    }

    private static IEnumerable<JsonObject> Nested(JsonObject component)
    {
        if (component["components"] is JsonArray children)
        {
            foreach (var child in children.OfType<JsonObject>())
                yield return child;
        }

        if (component["pedigree"] is JsonObject pedigree)
        {
            foreach (var relation in new[] { "ancestors", "descendants", "variants" })
            {
                if (pedigree[relation] is JsonArray related)
                {
                    foreach (var relative in related.OfType<JsonObject>())
                        yield return relative;
                }
            }
        }
    }

    public static string Serialize(JsonObject bom) => bom.ToJsonString(WriteOptions) + "\n";

    /// <summary>
    /// serialNumber = urn:uuid of the first 16 bytes of SHA-256 over the serialized BOM without serialNumber,
    /// with the version nibble set to 5 and the RFC 4122 variant bits: same content, same serial number.
    /// </summary>
    public static JsonObject WithSerialNumber(JsonObject bom)
    {
        bom.Remove("serialNumber");
        var digest = SHA256.HashData(Encoding.UTF8.GetBytes(Serialize(bom)));
        digest[6] = (byte)((digest[6] & 0x0F) | 0x50);
        digest[8] = (byte)((digest[8] & 0x3F) | 0x80);
        var hex = Convert.ToHexStringLower(digest.AsSpan(0, 16));
        var serial = $"urn:uuid:{hex[..8]}-{hex[8..12]}-{hex[12..16]}-{hex[16..20]}-{hex[20..32]}";

        var ordered = new JsonObject();
        foreach (var key in bom.Select(p => p.Key).ToList())
        {
            var value = bom[key];
            bom.Remove(key);
            ordered[key] = value;
            if (key == "specVersion")
                ordered["serialNumber"] = serial;
        }

        return ordered;
    }

    private static JsonObject LibraryJson(LibraryComponent library)
    {
        var json = new JsonObject
        {
            ["type"] = "library",
            ["bom-ref"] = library.BomRef,
            ["name"] = library.Name,
            ["version"] = library.Version,
            ["scope"] = library.Scope switch
            {
                LibraryScope.Optional => "optional",
                LibraryScope.Excluded => "excluded",
                _ => "required",
            },
        };
        if (library.Sha512Base64 is { Length: > 0 } sha)
        {
            try
            {
                json["hashes"] = new JsonArray(new JsonObject { ["alg"] = "SHA-512", ["content"] = Convert.ToHexStringLower(Convert.FromBase64String(sha)) });
            }
            catch (FormatException ex)
            {
                throw Diagnostics.Diagnostics.HashMalformed.Exception($"package {library.Name} {library.Version}: SHA-512 '{sha}' is not base64", inner: ex);
            }
        }

        if (ModelBomGenerator.LicenseChoice(library.License, library.LicenseName, library.LicenseUrl) is { } licenses)
            json["licenses"] = licenses;
        json["purl"] = library.Purl ?? $"pkg:nuget/{library.Name}@{library.Version}";
        json["properties"] = new JsonArray(
            [ModelBomGenerator.Property("provenancegate:dependency", library.IsDirect ? "direct" : "transitive"),
             .. library.Properties.Select(p => (JsonNode)ModelBomGenerator.Property(p.Name, p.Value))]);
        return json;
    }

    private static JsonObject UndeclaredModelJson(ShippedModelComponent model, string reference)
    {
        var file = model.File;
        var json = new JsonObject
        {
            ["type"] = "machine-learning-model",
            ["bom-ref"] = reference,
            ["name"] = file.RelativePath,
            ["hashes"] = new JsonArray(new JsonObject { ["alg"] = "SHA-256", ["content"] = file.Sha256 }),
        };
        if (file.Origin.Package is { } package && file.Origin.PackagePath is { } packagePath)
        {
            json["version"] = package.Version;
            json["purl"] = package.FilePurl(packagePath);
        }

        var properties = new JsonArray(
            ModelBomGenerator.Property("provenancegate:declared", "false"),
            ModelBomGenerator.Property("provenancegate:weights:format", file.Format),
            ModelBomGenerator.Property("provenancegate:file:size", file.Size.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ModelBomGenerator.Property("provenancegate:shipped:path", file.RelativePath));
        if (file.Origin.Package is { } origin)
        {
            properties.Add(ModelBomGenerator.Property("provenancegate:origin", "nuget"));
            properties.Add(ModelBomGenerator.Property("provenancegate:nuget:package", origin.Purl));
            properties.Add(ModelBomGenerator.Property("provenancegate:nuget:path", file.Origin.PackagePath!));
        }
        else
        {
            properties.Add(ModelBomGenerator.Property("provenancegate:origin", "project"));
        }

        json["properties"] = properties;
        // Tokenizers and configs beside the model describe it: listed under it, hashed, never counted as models.
        if (file.Sidecars.Count > 0)
        {
            var root = file.FullPath[..^file.RelativePath.Length];
            json["components"] = new JsonArray(file.Sidecars.Select(sidecar => (JsonNode)new JsonObject
            {
                ["type"] = "file",
                ["name"] = sidecar,
                ["hashes"] = new JsonArray(new JsonObject { ["alg"] = "SHA-256", ["content"] = FileHasher.Sha256(Path.Combine(root, sidecar)) }),
            }).ToArray());
        }

        return json;
    }

    private static string ToolVersion()
    {
        var version = typeof(AiBomBuilder).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";
        // Drop the "+commit" suffix so the BOM does not change with every commit of the tool.
        var plus = version.IndexOf('+', StringComparison.Ordinal);
        return plus < 0 ? version : version[..plus];
    }
}
