using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using ProvenanceGate.Diagnostics;
using ProvenanceGate.Formats.Safetensors;
using ProvenanceGate.Licensing;
using YamlDotNet.RepresentationModel;

namespace ProvenanceGate.Bom;

/// <summary>Per-model overrides (from the MSBuild item or the CLI); they win over every file and the declaration.</summary>
public sealed record ModelOptions
{
    public string? Name { get; init; }

    public string? Version { get; init; }

    /// <summary>Base model id (e.g. <c>org/base</c>), as if the card said <c>base_model</c>.</summary>
    public string? BaseModel { get; init; }

    public string? License { get; init; }

    public string? DeclarationPath { get; init; }

    /// <summary>Files to leave out of the listing (e.g. the BOM being written into the model directory).</summary>
    public IReadOnlyList<string> Exclude { get; init; } = [];
}

/// <summary>A model's share of a BOM: its component tree plus the datasets, graph edges and formula it brings.</summary>
public sealed record ModelBomPart(
    string ModelRef,
    JsonObject Component,
    IReadOnlyList<JsonObject> DataComponents,
    IReadOnlyDictionary<string, IReadOnlyList<string>> Dependencies,
    JsonObject? Formula,
    IReadOnlyList<Diagnostic> Warnings)
{
    /// <summary>
    /// <c>modelCard.considerations.environmentalConsiderations</c>, which CycloneDX has only from 1.6 on:
    /// <see cref="AiBomBuilder"/> adds it for 1.6+; the same facts are always in <c>provenancegate:energy:*</c> properties.
    /// </summary>
    public JsonObject? EnvironmentalConsiderations { get; init; }
}

/// <summary>
/// Builds the CycloneDX component tree of one Hugging Face-style model directory. Sources, first one wins:
/// per-model options, README.md front matter, config.json, adapter_config.json, generation_config.json,
/// tokenizer files, then the provenance declaration for what no file says. Every field records its source in a
/// <c>provenancegate:source:&lt;field&gt;</c> property.
/// </summary>
public static partial class ModelBomGenerator
{
    public const string FrontMatterSource = "README.md#front-matter";
    public const string DeclarationSource = "declaration";
    public const string OptionsSource = "options";

    private static readonly Dictionary<string, string> TuneMethods = new(StringComparer.Ordinal)
    {
        ["full"] = "full", ["sft"] = "sft", ["rlhf"] = "rlhf", ["adapter"] = "adapter", ["prompt"] = "prompt",
        ["lora"] = "lora", ["alora"] = "alora", ["qlora"] = "qlora",
    };

    private static readonly string[] ConfigHyperparameters = ["hidden_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads", "vocab_size"];

    private static readonly string[] OtherConfigKeys = ["intermediate_size", "head_dim", "hidden_act", "rope_theta", "rms_norm_eps", "layer_norm_eps", "tie_word_embeddings", "torch_dtype", "rotary_pct", "sliding_window"];

    public static ModelBomPart Generate(string modelDirectory, ModelOptions? options = null, IProgress<long>? progress = null)
    {
        options ??= new ModelOptions();
        var declaration = options.DeclarationPath is null ? null : ModelDeclaration.Load(options.DeclarationPath);
        var exclude = options.Exclude.Concat(options.DeclarationPath is null ? [] : [options.DeclarationPath]);
        var directory = ModelDirectory.Read(modelDirectory, exclude);
        var hashes = FileHasher.Sha256(directory.Files.Select(f => f.FullPath).ToList(), progress);
        return new Builder(directory, declaration, options, hashes).Build();
    }

    /// <summary>
    /// The weights digest: SHA-256 over the lines <c>"&lt;sha256&gt;  &lt;path&gt;\n"</c> of the weight files in ordinal path order,
    /// i.e. of what <c>sha256sum</c> prints for them. One value that changes when any shard changes.
    /// </summary>
    public static string WeightsDigest(IEnumerable<(string RelativePath, string Sha256)> weightFiles)
    {
        var manifest = new StringBuilder();
        foreach (var (path, sha) in weightFiles.OrderBy(f => f.RelativePath, StringComparer.Ordinal))
            manifest.Append(sha).Append("  ").Append(path).Append('\n');
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(manifest.ToString())));
    }

    /// <summary>CycloneDX licences for a licence string: an SPDX id, an SPDX expression, or a named licence (HF slugs such as llama3).</summary>
    public static JsonArray? LicenseChoice(string? license, string? name = null, string? url = null)
    {
        if (string.IsNullOrWhiteSpace(license) && string.IsNullOrWhiteSpace(name))
            return null;
        if (!string.IsNullOrWhiteSpace(license) && SpdxExpression.TryParse(license, out var expression, out _))
        {
            if (expression.Root is SpdxLicense { OrLater: false, Exception: null, IsLicenseRef: false } single)
                return [new JsonObject { ["license"] = WithUrl(new JsonObject { ["id"] = single.Id }, url) }];
            return [new JsonObject { ["expression"] = expression.ToString() }];
        }

        var licenseName = license is null or "other" && !string.IsNullOrWhiteSpace(name) ? name! : license!;
        return [new JsonObject { ["license"] = WithUrl(new JsonObject { ["name"] = licenseName }, url) }];

        static JsonObject WithUrl(JsonObject license, string? url)
        {
            if (!string.IsNullOrWhiteSpace(url))
                license["url"] = url;
            return license;
        }
    }

    /// <summary><c>pkg:huggingface/&lt;namespace&gt;/&lt;name&gt;@&lt;revision&gt;</c>; null for an id without a namespace.</summary>
    public static string? HuggingFacePurl(string id, string? revision)
    {
        var slash = id.IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0 || slash == id.Length - 1 || id.IndexOf('/', slash + 1) >= 0)
            return null;
        var purl = $"pkg:huggingface/{PurlEncode(id[..slash])}/{PurlEncode(id[(slash + 1)..])}";
        return string.IsNullOrEmpty(revision) ? purl : purl + "@" + PurlEncode(revision.ToLowerInvariant());
    }

    private static string PurlEncode(string segment) =>
        string.Concat(segment.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' or '~' ? c.ToString() : Uri.EscapeDataString(c.ToString())));

    internal static string RefSafe(string text) => SafeRef().Replace(text, "-");

    [GeneratedRegex(@"[^A-Za-z0-9._\-/@:+]")]
    private static partial Regex SafeRef();

    internal static string HumanCount(long count) => count switch
    {
        >= 1_000_000_000 => (count / 1e9).ToString("0.##", CultureInfo.InvariantCulture) + "B",
        >= 1_000_000 => (count / 1e6).ToString("0.##", CultureInfo.InvariantCulture) + "M",
        >= 1_000 => (count / 1e3).ToString("0.##", CultureInfo.InvariantCulture) + "K",
        _ => count.ToString(CultureInfo.InvariantCulture),
    };

    private sealed class Builder(ModelDirectory directory, ModelDeclaration? declaration, ModelOptions options, IReadOnlyDictionary<string, string> hashes)
    {
        private readonly JsonArray _properties = [];
        private readonly JsonArray _sourceProperties = [];
        private readonly PyTorchBomFacts _pytorch = new();
        private readonly List<Diagnostic> _warnings = [];
        private readonly YamlMappingNode? _card = directory.FrontMatter;
        private readonly DeclaredModel _declared = declaration?.Model ?? new DeclaredModel();
        private readonly OnnxBomFacts _onnx = new(directory);
        private readonly GgufFacts? _gguf = GgufFacts.Read(directory.Files.Where(f => f.Role == ModelFileRole.Weights)).FirstOrDefault();

        public ModelBomPart Build()
        {
            // Identity
            var id = _declared.Id;
            var (name, nameSource) = First(
                (options.Name, OptionsSource),
                (_declared.Name, DeclarationSource),
                (id is null ? null : id[(id.LastIndexOf('/') + 1)..], DeclarationSource),
                (CardString("model_name"), FrontMatterSource),
                (Path.GetFileName(Path.GetFullPath(directory.Path).TrimEnd('/', '\\')), "directory name"));
            var group = _declared.Group ?? (id is not null && id.Contains('/', StringComparison.Ordinal) ? id[..id.IndexOf('/', StringComparison.Ordinal)] : null);
            var (version, versionSource) = First((options.Version, OptionsSource), (_declared.Version, DeclarationSource), (_declared.Revision, DeclarationSource));
            var purl = _declared.Purl ?? (id is null ? null : HuggingFacePurl(id, _declared.Revision));
            var modelRef = purl ?? RefSafe($"model:{(group is null ? "" : group + "/")}{name}{(version is null ? "" : "@" + version)}");

            var component = new JsonObject { ["type"] = "machine-learning-model", ["bom-ref"] = modelRef };
            if (_declared.Supplier is { } supplier)
            {
                var entity = new JsonObject { ["name"] = supplier.Name };
                if (supplier.Url is not null)
                    entity["url"] = new JsonArray(supplier.Url);
                if (supplier.Email is not null)
                    entity["contact"] = new JsonArray(new JsonObject { ["email"] = supplier.Email });
                component["supplier"] = entity;
                Source("supplier", DeclarationSource);
            }

            if (_declared.Authors.Count > 0)
                component["author"] = string.Join(", ", _declared.Authors);
            if (group is not null)
                component["group"] = group;
            component["name"] = name!;
            Source("name", nameSource!);
            if (version is not null)
            {
                component["version"] = version;
                Source("version", versionSource!);
            }

            if (_declared.Description is not null)
                component["description"] = _declared.Description;

            var weightFiles = directory.Files.Where(f => f.Role == ModelFileRole.Weights || _onnx.IsExternalData(f)).ToList();
            AddLicense(component);
            if (purl is not null)
            {
                component["purl"] = purl;
                Source("purl", DeclarationSource);
            }

            AddExternalReferences(component, id);

            // Lineage and datasets
            var ancestors = BaseModels();
            var datasets = Datasets();
            if (ancestors.Count > 0)
            {
                component["pedigree"] = new JsonObject
                {
                    ["ancestors"] = new JsonArray(ancestors.Select(a => (JsonNode)a.Component).ToArray()),
                    ["notes"] = string.Join("; ", ancestors.Select(a => $"{a.Relation} of {a.Id}")),
                };
            }

            component["components"] = new JsonArray(directory.Files.Select(f => (JsonNode)FileComponent(f, modelRef)).ToArray());
            component["modelCard"] = ModelCard(datasets.Select(d => d.Ref).ToList());

            // Properties: facts first, then provenance of each field.
            AddWeightFacts(weightFiles);
            AddConfigFacts();
            AddAdapterFacts();
            AddTokenizerFacts();
            AddDeclaredFacts();
            foreach (var property in _sourceProperties)
                _properties.Add(property!.DeepClone());
            component["properties"] = _properties;

            var dependencies = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal)
            {
                [modelRef] = ancestors.Select(a => a.Ref).Concat(datasets.Select(d => d.Ref)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList(),
            };
            foreach (var ancestor in ancestors)
                dependencies.TryAdd(ancestor.Ref, []);
            foreach (var dataset in datasets)
                dependencies.TryAdd(dataset.Ref, []);

            var formula = Formula(modelRef, ancestors.Select(a => a.Ref).ToList(), datasets.Select(d => d.Ref).ToList());
            return new ModelBomPart(modelRef, component, datasets.Select(d => d.Component).ToList(), dependencies, formula, _warnings)
            {
                EnvironmentalConsiderations = Environmental(),
            };
        }

        private void AddLicense(JsonObject component)
        {
            var cardLicense = CardStrings("license");
            var (license, source) = First(
                (options.License, OptionsSource),
                (cardLicense.Count == 0 ? null : string.Join(" OR ", cardLicense), FrontMatterSource),
                (_gguf?.License, _gguf?.MetadataSource ?? ""),
                (_declared.License, DeclarationSource));
            if (license is null)
                return;
            if (source == FrontMatterSource && _declared.License is { } declared && !string.Equals(declared, license, StringComparison.OrdinalIgnoreCase))
                _warnings.Add(Diagnostics.Diagnostics.DeclarationConflict.Warning(
                    $"the declaration says licence '{declared}' but README.md says '{license}'; using README.md", declaration?.SourceFile));
            var licenseName = source == FrontMatterSource ? CardString("license_name") : null;
            var licenseLink = source == FrontMatterSource ? CardString("license_link") : null;
            component["licenses"] = LicenseChoice(license, licenseName, licenseLink);
            Source("license", source!);
        }

        private void AddExternalReferences(JsonObject component, string? id)
        {
            var references = new JsonArray();
            if (id is not null && HuggingFacePurl(id, null) is not null)
                references.Add(new JsonObject { ["type"] = "model-card", ["url"] = $"https://huggingface.co/{id}" });
            if (_declared.Url is not null)
                references.Add(new JsonObject { ["type"] = "website", ["url"] = _declared.Url });
            if (references.Count > 0)
                component["externalReferences"] = references;
        }

        private sealed record Ancestor(string Id, string Ref, string Relation, JsonObject Component);

        private List<Ancestor> BaseModels()
        {
            var ids = new List<(string Id, string Source)>();
            if (options.BaseModel is not null)
            {
                // An explicit override replaces what the files say; the declaration may still add facts about it.
                ids.Add((options.BaseModel, OptionsSource));
            }
            else
            {
                ids.AddRange(CardStrings("base_model").Select(b => (b, FrontMatterSource)));
                if (directory.AdapterConfig?["base_model_name_or_path"] is JsonValue adapterBase && adapterBase.TryGetValue<string>(out var adapterBaseId))
                    ids.Add((adapterBaseId, "adapter_config.json"));
                ids.AddRange((_gguf?.BaseModels() ?? []).Select(b => (b, _gguf!.MetadataSource)));
                foreach (var declared in declaration?.BaseModels ?? [])
                    ids.Add((declared.Id, DeclarationSource));
            }

            var cardRelation = NormalizeRelation(CardString("base_model_relation"));
            var result = new List<Ancestor>();
            foreach (var group in ids.GroupBy(i => i.Id, StringComparer.Ordinal))
            {
                var baseId = group.Key;
                var declared = declaration?.BaseModels.FirstOrDefault(b => b.Id == baseId);
                var (relation, relationSource) = First(
                    (cardRelation, FrontMatterSource),
                    (declared?.Relation, DeclarationSource),
                    (directory.AdapterConfig is null ? null : "adapter", "adapter_config.json"),
                    ("fine-tune", "default"));
                var revision = declared?.Revision;
                var purl = declared?.Purl ?? HuggingFacePurl(baseId, revision);
                var version = declared?.Version ?? revision;
                var reference = purl ?? RefSafe($"model:{baseId}{(version is null ? "" : "@" + version)}");
                var slash = baseId.LastIndexOf('/');
                var ancestor = new JsonObject { ["type"] = "machine-learning-model", ["bom-ref"] = reference };
                if (slash > 0)
                    ancestor["group"] = baseId[..slash];
                ancestor["name"] = baseId[(slash + 1)..];
                if (version is not null)
                    ancestor["version"] = version;
                if (declared?.License is { } baseLicense)
                    ancestor["licenses"] = LicenseChoice(baseLicense);
                if (purl is not null)
                    ancestor["purl"] = purl;
                if (declared?.Url is not null || HuggingFacePurl(baseId, null) is not null)
                    ancestor["externalReferences"] = new JsonArray(new JsonObject { ["type"] = "model-card", ["url"] = declared?.Url ?? $"https://huggingface.co/{baseId}" });
                var properties = new JsonArray(
                    Property("provenancegate:lineage:relation", relation!),
                    Property("provenancegate:lineage:id", baseId));
                if (revision is not null)
                    properties.Add(Property("provenancegate:lineage:revision", revision));
                if (declared?.Sha256 is { } digest)
                {
                    ancestor["hashes"] = new JsonArray(new JsonObject { ["alg"] = "SHA-256", ["content"] = digest });
                    properties.Add(Property("provenancegate:weights:sha256", digest));
                }

                properties.Add(Property("provenancegate:source:base-model", string.Join(", ", group.Select(g => g.Source).Distinct())));
                properties.Add(Property("provenancegate:source:relation", relationSource!));
                ancestor["properties"] = properties;
                result.Add(new Ancestor(baseId, reference, relation!, ancestor));
            }

            if (result.Count > 0 && result.Select(a => a.Relation).FirstOrDefault() is { } firstRelation)
                Prop("provenancegate:lineage:relation", firstRelation);
            return result;
        }

        private static string? NormalizeRelation(string? relation) => relation?.ToLowerInvariant() switch
        {
            null => null,
            "finetune" or "fine-tune" or "fine_tune" or "finetuned" => "fine-tune",
            "merge" or "merged" => "merge",
            "quantized" or "quantised" => "quantized",
            "distilled" or "distillation" => "distilled",
            "adapter" => "adapter",
            var other => other,
        };

        private sealed record Dataset(string Ref, JsonObject Component);

        private List<Dataset> Datasets()
        {
            var names = CardStrings("datasets").Select(n => (Name: n, Source: FrontMatterSource)).ToList();
            foreach (var declared in declaration?.Datasets ?? [])
            {
                if (!names.Any(n => n.Name == declared.Name))
                    names.Add((declared.Name, DeclarationSource));
            }

            return names.Select(entry =>
            {
                var declared = declaration?.Datasets.FirstOrDefault(d => d.Name == entry.Name);
                var reference = RefSafe("dataset:" + entry.Name + (declared?.Version is { } v ? "@" + v : ""));
                var slash = entry.Name.LastIndexOf('/');
                var component = new JsonObject { ["type"] = "data", ["bom-ref"] = reference };
                if (slash > 0)
                    component["group"] = entry.Name[..slash];
                component["name"] = entry.Name[(slash + 1)..];
                if (declared?.Version is not null)
                    component["version"] = declared.Version;
                if (declared?.Description is not null)
                    component["description"] = declared.Description;
                if (declared?.Sha256 is { Length: 64 } sha)
                    component["hashes"] = new JsonArray(new JsonObject { ["alg"] = "SHA-256", ["content"] = sha });
                if (LicenseChoice(declared?.License) is { } licenses)
                    component["licenses"] = licenses;
                var url = declared?.Url ?? (slash > 0 && entry.Source == FrontMatterSource ? $"https://huggingface.co/datasets/{entry.Name}" : null);
                if (url is not null)
                    component["externalReferences"] = new JsonArray(new JsonObject { ["type"] = "distribution", ["url"] = url });

                var data = new JsonObject { ["type"] = "dataset", ["name"] = entry.Name };
                if (declared?.Description is not null)
                    data["description"] = declared.Description;
                if (url is not null)
                    data["contents"] = new JsonObject { ["url"] = url };
                if (declared?.Classification is not null)
                    data["classification"] = declared.Classification;
                var sensitive = declared?.SensitiveData.ToList() ?? [];
                if (sensitive.Count > 0)
                    data["sensitiveData"] = new JsonArray(sensitive.Select(s => (JsonNode)s).ToArray());
                component["data"] = new JsonArray(data);

                var properties = new JsonArray();
                if (declared?.ConsentBasis is not null)
                    properties.Add(Property("provenancegate:dataset:consent-basis", declared.ConsentBasis));
                if (declared?.ContainsPii is { } pii)
                    properties.Add(Property("provenancegate:dataset:contains-pii", pii ? "true" : "false"));
                foreach (var bias in declared?.KnownBiases ?? [])
                    properties.Add(Property("provenancegate:dataset:known-bias", bias));
                foreach (var filter in declared?.Filtering ?? [])
                    properties.Add(Property("provenancegate:dataset:filtering", filter));
                if (declared?.Split is not null)
                    properties.Add(Property("provenancegate:dataset:split", declared.Split));
                if (declared?.Size is not null)
                    properties.Add(Property("provenancegate:dataset:size", declared.Size));
                var source = entry.Source == FrontMatterSource && declared is not null ? $"{FrontMatterSource}, {DeclarationSource}" : entry.Source;
                properties.Add(Property("provenancegate:source:dataset", source));
                component["properties"] = properties;
                return new Dataset(reference, component);
            }).ToList();
        }

        private JsonObject FileComponent(ModelFile file, string modelRef)
        {
            var properties = new JsonArray(
                Property("provenancegate:file:role", file.Role switch
                {
                    _ when _onnx.IsExternalData(file) => "weights",
                    ModelFileRole.Weights => "weights",
                    ModelFileRole.WeightsIndex => "weights-index",
                    ModelFileRole.Config => "config",
                    ModelFileRole.Tokenizer => "tokenizer",
                    ModelFileRole.ModelCard => "model-card",
                    _ => "other",
                }),
                Property("provenancegate:file:size", file.Length.ToString(CultureInfo.InvariantCulture)));
            if (file.Role == ModelFileRole.Weights)
                properties.Add(Property("provenancegate:weights:format", WeightFormat(file.RelativePath)));
            if (directory.SafetensorsHeaders.TryGetValue(file.RelativePath, out var header))
            {
                properties.Add(Property("provenancegate:safetensors:dtypes", string.Join(",", header.Tensors.Select(t => t.DType.ToString()).Distinct().Order(StringComparer.Ordinal))));
                properties.Add(Property("provenancegate:safetensors:tensor-count", header.Tensors.Count.ToString(CultureInfo.InvariantCulture)));
                properties.Add(Property("provenancegate:safetensors:parameter-count", header.ParameterCount.ToString(CultureInfo.InvariantCulture)));
                foreach (var (key, value) in header.Metadata.OrderBy(m => m.Key, StringComparer.Ordinal))
                    properties.Add(Property("provenancegate:safetensors:metadata:" + key, value));
            }

            foreach (var property in _pytorch.FileProperties(file))
                properties.Add(property);
            _onnx.AddFileFacts(file, properties);

            return new JsonObject
            {
                ["type"] = "file",
                ["bom-ref"] = modelRef + "#file:" + file.RelativePath,
                ["name"] = file.RelativePath,
                ["hashes"] = new JsonArray(new JsonObject { ["alg"] = "SHA-256", ["content"] = hashes[file.FullPath] }),
                ["properties"] = properties,
            };
        }

        private static string WeightFormat(string path)
        {
            var extension = Path.GetExtension(path).TrimStart('.').ToLowerInvariant();
            return extension switch
            {
                "bin" or "pt" or "pth" or "ckpt" => "pytorch-pickle",
                "h5" => "keras-h5",
                "msgpack" => "flax-msgpack",
                _ => extension,
            };
        }

        private JsonObject ModelCard(List<string> datasetRefs)
        {
            var parameters = new JsonObject();
            var (approach, approachSource) = First((_declared.Approach, DeclarationSource));
            if (approach is not null)
            {
                parameters["approach"] = new JsonObject { ["type"] = approach };
                Source("approach", approachSource!);
            }

            var (task, taskSource) = First((CardString("pipeline_tag"), FrontMatterSource), (_declared.Task, DeclarationSource));
            if (task is not null)
            {
                parameters["task"] = task;
                Source("task", taskSource!);
            }

            var (family, familySource) = First((ConfigString("model_type"), "config.json"), (_declared.ArchitectureFamily, DeclarationSource), (CardString("library_name"), FrontMatterSource));
            if (family is not null)
            {
                parameters["architectureFamily"] = family;
                Source("architectureFamily", familySource!);
            }

            var architectures = directory.Config?["architectures"] as JsonArray;
            var (architecture, architectureSource) = First(
                (architectures is { Count: > 0 } && architectures[0] is JsonValue a && a.TryGetValue<string>(out var arch) ? arch : null, "config.json"),
                (_declared.ModelArchitecture, DeclarationSource));
            if (architecture is not null)
            {
                parameters["modelArchitecture"] = architecture;
                Source("modelArchitecture", architectureSource!);
            }

            if (datasetRefs.Count > 0)
                parameters["datasets"] = new JsonArray(datasetRefs.Select(r => (JsonNode)new JsonObject { ["ref"] = r }).ToArray());

            var inputs = _declared.Inputs.Count > 0 ? _declared.Inputs : DefaultFormats(task);
            var outputs = _declared.Outputs.Count > 0 ? _declared.Outputs : DefaultFormats(task);
            if (inputs.Count > 0)
                parameters["inputs"] = new JsonArray(inputs.Select(i => (JsonNode)new JsonObject { ["format"] = i }).ToArray());
            if (outputs.Count > 0)
                parameters["outputs"] = new JsonArray(outputs.Select(o => (JsonNode)new JsonObject { ["format"] = o }).ToArray());

            var card = new JsonObject();
            if (parameters.Count > 0)
                card["modelParameters"] = parameters;

            var metrics = CardMetrics();
            var metricsSource = metrics.Count > 0 ? FrontMatterSource : null;
            if (metrics.Count == 0 && declaration?.Evaluation.Count > 0)
            {
                metricsSource = DeclarationSource;
                foreach (var metric in declaration.Evaluation)
                {
                    var entry = new JsonObject { ["type"] = metric.Metric, ["value"] = metric.Value };
                    if ((metric.Slice ?? metric.Dataset) is { } slice)
                        entry["slice"] = slice;
                    if (metric.LowerBound is not null || metric.UpperBound is not null)
                    {
                        var interval = new JsonObject();
                        if (metric.LowerBound is not null)
                            interval["lowerBound"] = metric.LowerBound;
                        if (metric.UpperBound is not null)
                            interval["upperBound"] = metric.UpperBound;
                        entry["confidenceInterval"] = interval;
                    }

                    metrics.Add(entry);
                }
            }

            if (metrics.Count > 0)
            {
                card["quantitativeAnalysis"] = new JsonObject { ["performanceMetrics"] = metrics };
                Source("performanceMetrics", metricsSource!);
            }

            var considerations = new JsonObject();
            if (declaration is not null)
            {
                AddStrings(considerations, "users", declaration.Users);
                AddStrings(considerations, "useCases", declaration.IntendedUse);
                AddStrings(considerations, "technicalLimitations", declaration.Limitations.Concat(declaration.ProhibitedUse.Select(p => "Prohibited use: " + p)).ToList());
                if (declaration.EthicalConsiderations.Count > 0)
                {
                    considerations["ethicalConsiderations"] = new JsonArray(declaration.EthicalConsiderations.Select(e =>
                    {
                        var entry = new JsonObject { ["name"] = e.Name };
                        if (e.Mitigation is not null)
                            entry["mitigationStrategy"] = e.Mitigation;
                        return (JsonNode)entry;
                    }).ToArray());
                }

                if (considerations.Count > 0)
                    Source("considerations", DeclarationSource);
            }

            if (considerations.Count > 0)
                card["considerations"] = considerations;
            return card;
        }

        private static List<string> DefaultFormats(string? task) => task switch
        {
            "text-generation" or "text2text-generation" or "summarization" or "translation" or "fill-mask" or "question-answering" => ["text"],
            _ => [],
        };

        private static void AddStrings(JsonObject target, string key, IReadOnlyList<string> values)
        {
            if (values.Count > 0)
                target[key] = new JsonArray(values.Select(v => (JsonNode)v).ToArray());
        }

        private JsonArray CardMetrics()
        {
            var metrics = new JsonArray();
            if (_card is null || YamlReader.Get(_card, "model-index") is not YamlSequenceNode index)
                return metrics;
            var reader = new YamlReader(directory.Path + "/README.md", Diagnostics.Diagnostics.ModelCardMalformed, null);
            foreach (var entry in index.Children)
            {
                var model = reader.Mapping(entry, "a model-index entry");
                foreach (var result in reader.Sequence(model, "results"))
                {
                    var resultMap = reader.Mapping(result, "a model-index result");
                    var dataset = YamlReader.Get(resultMap, "dataset") is YamlMappingNode d ? reader.String(d, "name") ?? reader.String(d, "type") : null;
                    foreach (var metric in reader.Sequence(resultMap, "metrics"))
                    {
                        var metricMap = reader.Mapping(metric, "a model-index metric");
                        var type = reader.String(metricMap, "name") ?? reader.String(metricMap, "type");
                        var value = reader.String(metricMap, "value");
                        if (type is null || value is null)
                            throw reader.Fail(metric, "a model-index metric needs a type (or name) and a value");
                        var item = new JsonObject { ["type"] = type, ["value"] = value };
                        if (dataset is not null)
                            item["slice"] = dataset;
                        metrics.Add(item);
                    }
                }
            }

            return metrics;
        }

        private void AddWeightFacts(List<ModelFile> weightFiles)
        {
            if (weightFiles.Count == 0)
                return;
            var headers = weightFiles.Where(f => directory.SafetensorsHeaders.ContainsKey(f.RelativePath)).Select(f => directory.SafetensorsHeaders[f.RelativePath]).ToList();
            if (headers.Count > 0)
            {
                var parameters = headers.Sum(h => h.ParameterCount);
                var dtypes = headers.SelectMany(h => h.Tensors).Select(t => t.DType.ToString()).Distinct().Order(StringComparer.Ordinal).ToList();
                Prop("cdx:ai-ml:model:parameter:count", HumanCount(parameters));
                Prop("cdx:ai-ml:model:hyperparameter:quantization", QuantizationLabel(dtypes));
                Prop("provenancegate:weights:parameter-count", parameters.ToString(CultureInfo.InvariantCulture));
                Prop("provenancegate:weights:dtypes", string.Join(",", dtypes));
                Source("parameter-count", "safetensors header");
            }
            else if (_gguf is not null)
            {
                foreach (var (name, value) in _gguf.WeightProperties())
                    Prop(name, value);
                Source("parameter-count", _gguf.TensorSource);
            }
            else if (_pytorch.ModelFacts(weightFiles) is var (parameters, dtypes))
            {
                Prop("cdx:ai-ml:model:parameter:count", HumanCount(parameters));
                Prop("cdx:ai-ml:model:hyperparameter:quantization", QuantizationLabel(dtypes));
                Prop("provenancegate:weights:parameter-count", parameters.ToString(CultureInfo.InvariantCulture));
                Prop("provenancegate:weights:dtypes", string.Join(",", dtypes));
                Source("parameter-count", PyTorchBomFacts.Source);
            }
            else
            {
                _onnx.AddModelFacts(Prop, Source);
            }

            Prop("provenancegate:weights:format", string.Join(",", weightFiles.Where(f => !_onnx.IsExternalData(f)).Select(f => WeightFormat(f.RelativePath)).Distinct().Order(StringComparer.Ordinal)));
            Prop("provenancegate:weights:file-count", weightFiles.Count.ToString(CultureInfo.InvariantCulture));
            Prop("provenancegate:weights:total-bytes", weightFiles.Sum(f => f.Length).ToString(CultureInfo.InvariantCulture));
            Prop("provenancegate:weights:sha256", WeightsDigest(weightFiles.Select(f => (f.RelativePath, hashes[f.FullPath]))));
        }

        private string QuantizationLabel(List<string> dtypes)
        {
            if (directory.Config?["quantization_config"] is JsonObject quantization)
            {
                var method = quantization["quant_method"]?.ToString();
                var bits = quantization["bits"]?.ToString() ?? (quantization["load_in_4bit"]?.ToString() == "true" ? "4" : null);
                if (method is not null)
                    return bits is null ? method : $"{method}-{bits}bit";
            }

            return string.Join(",", dtypes.Select(d => d.ToLowerInvariant()));
        }

        /// <summary>adapter_config.json's facts, with or without a config.json beside it (adapters usually ship none).</summary>
        private void AddAdapterFacts()
        {
            if (directory.AdapterConfig is not { } adapter)
                return;
            foreach (var key in new[] { "peft_type", "task_type", "r", "lora_alpha", "lora_dropout", "base_model_name_or_path", "revision" })
            {
                if (ConfigScalar(adapter, key) is { } value)
                    Prop("provenancegate:adapter:" + key, value);
            }

            if (adapter["target_modules"] is JsonArray modules)
                Prop("provenancegate:adapter:target_modules", string.Join(",", modules.Select(m => m?.ToString())));
            else if (ConfigScalar(adapter, "target_modules") is { } pattern)
                Prop("provenancegate:adapter:target_modules", pattern);
            Source("adapter", "adapter_config.json");
        }

        private void AddConfigFacts()
        {
            if (_gguf is not null)
            {
                // A config.json beside the GGUF file wins for the shared hyperparameter names; the GGUF keys are always listed.
                foreach (var (name, value) in _gguf.MetadataProperties().Where(p => directory.Config is null || !p.Name.StartsWith("cdx:", StringComparison.Ordinal)))
                    Prop(name, value);
                if (directory.Config is null && _gguf.HasHyperparameters)
                    Source("hyperparameters", _gguf.MetadataSource);
            }

            if (directory.Config is not { } config)
            {
                _onnx.AddGenAiFacts(Prop, Source);
                return;
            }

            if ((ConfigScalar(config, "max_position_embeddings") ?? ConfigScalar(config, "n_positions") ?? ConfigScalar(config, "max_seq_len")) is { } context)
                Prop("cdx:ai-ml:model:hyperparameter:context_length", context);
            foreach (var key in ConfigHyperparameters)
            {
                if (ConfigScalar(config, key) is { } value)
                    Prop("cdx:ai-ml:model:hyperparameter:" + key, value);
            }

            foreach (var key in OtherConfigKeys)
            {
                if (ConfigScalar(config, key) is { } value)
                    Prop("provenancegate:config:" + key, value);
            }

            Source("hyperparameters", "config.json");
            if (directory.GenerationConfig is { } generation)
            {
                foreach (var (key, node) in generation.OrderBy(p => p.Key, StringComparer.Ordinal))
                {
                    if (node is JsonValue && !key.StartsWith('_'))
                        Prop("provenancegate:generation:" + key, Scalar(node));
                }
            }
        }

        private void AddTokenizerFacts()
        {
            if (_gguf is { HasTokenizer: true } && directory.TokenizerConfig is null && directory.TokenizerVocabSize is null)
            {
                foreach (var (name, value) in _gguf.TokenizerProperties())
                    Prop(name, value);
                Source("tokenizer", _gguf.MetadataSource);
                return;
            }

            var tokenizerClass = directory.TokenizerConfig is { } tc ? ConfigScalar(tc, "tokenizer_class") : null;
            if (tokenizerClass is not null)
            {
                Prop("cdx:ai-ml:model:tokenizer", tokenizerClass);
                Prop("cdx:ai-ml:model:hyperparameter:tokenizer_class", tokenizerClass);
            }

            if (directory.TokenizerVocabSize is { } vocab)
                Prop("cdx:ai-ml:tokenizer:hyperparameter:vocab_size", vocab.ToString(CultureInfo.InvariantCulture));
            if (directory.TokenizerModelType is { } type)
                Prop("provenancegate:tokenizer:model", type);
            foreach (var token in new[] { "bos_token", "eos_token", "pad_token", "unk_token" })
            {
                var value = TokenText(directory.TokenizerConfig?[token]) ?? TokenText(directory.SpecialTokensMap?[token]);
                if (value is not null)
                    Prop("cdx:ai-ml:tokenizer:hyperparameter:" + token, value);
            }

            if (directory.TokenizerConfig?["chat_template"] is JsonValue template && template.TryGetValue<string>(out var chat))
                Prop("cdx:ai-ml:model:template:chat", chat);
            if (tokenizerClass is not null || directory.TokenizerVocabSize is not null)
                Source("tokenizer", "tokenizer files");

            var languages = CardStrings("language");
            if (languages.Count == 0)
                languages = _declared.Language.ToList();
            if (languages.Count > 0)
            {
                Prop("cdx:ai-ml:model:language", string.Join(",", languages));
                Source("language", CardStrings("language").Count > 0 ? FrontMatterSource : DeclarationSource);
            }

            foreach (var tag in CardStrings("tags"))
                Prop("provenancegate:tag", tag);
        }

        private static string? TokenText(JsonNode? node) => node switch
        {
            JsonValue value when value.TryGetValue<string>(out var text) => text,
            JsonObject added => added["content"]?.ToString(),
            _ => null,
        };

        private void AddDeclaredFacts()
        {
            if (declaration?.Training is { Method: { } method })
            {
                if (TuneMethods.TryGetValue(method, out var tune))
                    Prop("cdx:ai-ml:model:parameter:tune_method", tune);
                Prop("provenancegate:training:method", method);
                Source("training", DeclarationSource);
            }
            else if (directory.AdapterConfig is { } adapter && ConfigScalar(adapter, "peft_type") is { } peft)
            {
                var tune = peft.ToLowerInvariant();
                Prop("cdx:ai-ml:model:parameter:tune_method", TuneMethods.TryGetValue(tune, out var known) ? known : "adapter");
                Source("training", "adapter_config.json");
            }

            if (declaration is null)
                return;
            foreach (var prohibited in declaration.ProhibitedUse)
                Prop("provenancegate:use:prohibited", prohibited);
            foreach (var intended in declaration.IntendedUse)
                Prop("provenancegate:use:intended", intended);

            var n = 1;
            foreach (var filter in declaration.SafetyFilters)
            {
                var prefix = string.Create(CultureInfo.InvariantCulture, $"provenancegate:safety-filter:{n++}:");
                Prop(prefix + "name", filter.Name);
                if (filter.Description is not null)
                    Prop(prefix + "description", filter.Description);
                if (filter.Version is not null)
                    Prop(prefix + "version", filter.Version);
            }

            n = 1;
            foreach (var approval in declaration.Approvals)
            {
                var prefix = string.Create(CultureInfo.InvariantCulture, $"provenancegate:approval:{n++}:");
                Prop(prefix + "approver", approval.Approver);
                if (approval.Role is not null)
                    Prop(prefix + "role", approval.Role);
                Prop(prefix + "date", approval.Date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
                if (approval.ReviewBy is { } reviewBy)
                    Prop(prefix + "review-by", reviewBy.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
                if (approval.Scope is not null)
                    Prop(prefix + "scope", approval.Scope);
            }

            if (declaration.Training?.Energy is { } energy)
            {
                Prop("provenancegate:energy:activity", energy.Activity);
                Prop("provenancegate:energy:kwh", energy.ConsumptionKwh.ToString(CultureInfo.InvariantCulture));
                if (energy.Co2eqTonnes is { } co2)
                    Prop("provenancegate:energy:co2eq-tonnes", co2.ToString(CultureInfo.InvariantCulture));
                if (energy.Co2OffsetTonnes is { } offset)
                    Prop("provenancegate:energy:co2-offset-tonnes", offset.ToString(CultureInfo.InvariantCulture));
                Prop("provenancegate:energy:provider", energy.Provider);
                Prop("provenancegate:energy:source", energy.EnergySource);
                Source("energy", DeclarationSource);
            }

            if (declaration.SafetyFilters.Count > 0)
                Source("safety-filters", DeclarationSource);
            if (declaration.Approvals.Count > 0)
                Source("approvals", DeclarationSource);
            Prop("provenancegate:declaration", Path.GetFileName(declaration.SourceFile ?? "declaration"));
        }

        private JsonObject? Environmental()
        {
            if (declaration?.Training?.Energy is not { } energy)
                return null;
            var consumption = new JsonObject
            {
                ["activity"] = energy.Activity,
                ["energyProviders"] = new JsonArray(new JsonObject
                {
                    ["organization"] = new JsonObject { ["name"] = energy.Provider },
                    ["energySource"] = energy.EnergySource,
                    ["energyProvided"] = new JsonObject { ["value"] = energy.ConsumptionKwh, ["unit"] = "kWh" },
                }),
                ["activityEnergyCost"] = new JsonObject { ["value"] = energy.ConsumptionKwh, ["unit"] = "kWh" },
            };
            if (energy.Co2eqTonnes is { } co2)
                consumption["co2CostEquivalent"] = new JsonObject { ["value"] = co2, ["unit"] = "tCO2eq" };
            if (energy.Co2OffsetTonnes is { } offset)
                consumption["co2CostOffset"] = new JsonObject { ["value"] = offset, ["unit"] = "tCO2eq" };
            return new JsonObject { ["energyConsumptions"] = new JsonArray(consumption) };
        }

        private JsonObject? Formula(string modelRef, List<string> baseRefs, List<string> datasetRefs)
        {
            if (declaration?.Training is not { } training)
                return null;
            var inputs = new JsonArray();
            foreach (var reference in datasetRefs.Concat(baseRefs))
                inputs.Add(new JsonObject { ["resource"] = new JsonObject { ["ref"] = reference } });
            if (training.Hyperparameters.Count > 0)
            {
                inputs.Add(new JsonObject
                {
                    ["parameters"] = new JsonArray(training.Hyperparameters.Select(h => (JsonNode)new JsonObject { ["name"] = h.Key, ["value"] = h.Value }).ToArray()),
                });
            }

            var workflowRef = "training:" + modelRef;
            var workflow = new JsonObject
            {
                ["bom-ref"] = workflowRef,
                ["uid"] = workflowRef,
                ["name"] = "training",
            };
            if (training.Description is not null)
                workflow["description"] = training.Description;
            workflow["taskTypes"] = new JsonArray("build");
            var properties = new JsonArray();
            if (training.StartedAt is not null)
            {
                if (JsonFormats.IsValid("date-time", training.StartedAt))
                    workflow["timeStart"] = training.StartedAt;
                else
                    properties.Add(Property("provenancegate:training:started-at", training.StartedAt));
            }

            if (training.FinishedAt is not null)
            {
                if (JsonFormats.IsValid("date-time", training.FinishedAt))
                    workflow["timeEnd"] = training.FinishedAt;
                else
                    properties.Add(Property("provenancegate:training:finished-at", training.FinishedAt));
            }

            if (inputs.Count > 0)
                workflow["inputs"] = inputs;
            workflow["outputs"] = new JsonArray(new JsonObject { ["resource"] = new JsonObject { ["ref"] = modelRef }, ["type"] = "artifact" });
            if (training.Method is not null)
                properties.Add(Property("provenancegate:training:method", training.Method));
            foreach (var (key, value) in training.Seeds)
                properties.Add(Property("provenancegate:training:seed:" + key, value));
            if (training.Hardware is not null)
                properties.Add(Property("provenancegate:training:hardware", training.Hardware));
            foreach (var framework in training.Frameworks)
                properties.Add(Property("provenancegate:training:framework:" + framework.Name, framework.Version ?? ""));
            if (training.Steps is not null)
                properties.Add(Property("provenancegate:training:steps", training.Steps));
            if (training.Tokens is not null)
                properties.Add(Property("provenancegate:training:tokens", training.Tokens));
            properties.Add(Property("provenancegate:source:training", DeclarationSource));
            workflow["properties"] = properties;
            return new JsonObject
            {
                ["bom-ref"] = "formula:" + modelRef,
                ["workflows"] = new JsonArray(workflow),
            };
        }

        private string? CardString(string key)
        {
            if (_card is null)
                return null;
            return YamlReader.Get(_card, key) switch
            {
                YamlScalarNode scalar => scalar.Value,
                YamlSequenceNode { Children.Count: > 0 } sequence when sequence.Children[0] is YamlScalarNode first => first.Value,
                _ => null,
            };
        }

        private List<string> CardStrings(string key)
        {
            if (_card is null)
                return [];
            var reader = new YamlReader(Path.Combine(directory.Path, "README.md"), Diagnostics.Diagnostics.ModelCardMalformed, null);
            return reader.Strings(_card, key).Where(s => s.Length > 0).ToList();
        }

        private string? ConfigString(string key) => directory.Config is { } config ? ConfigScalar(config, key) : null;

        private static string? ConfigScalar(JsonObject json, string key) => json[key] is JsonValue value ? Scalar(value) : null;

        private static string Scalar(JsonNode node) => node is JsonValue value && value.TryGetValue<string>(out var text) ? text : node.ToJsonString();

        private void Prop(string name, string value) => _properties.Add(Property(name, value));

        private void Source(string field, string source) => _sourceProperties.Add(Property("provenancegate:source:" + field, source));

        private static (string? Value, string? Source) First(params (string? Value, string Source)[] candidates)
        {
            foreach (var candidate in candidates)
            {
                if (!string.IsNullOrWhiteSpace(candidate.Value))
                    return candidate;
            }

            return (null, null);
        }
    }

    internal static JsonObject Property(string name, string value) => new() { ["name"] = name, ["value"] = value };
}
