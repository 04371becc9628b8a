using YamlDotNet.RepresentationModel;

namespace ProvenanceGate.Bom;

/// <summary>
/// The provenance declaration (<c>provenance.yaml</c> or JSON, <c>schemaVersion: 1</c>): what no model file says.
/// The schema is documented in README.md ("Provenance declaration"). Unknown keys are errors (PG1004), so a typo
/// never silently drops a fact.
/// </summary>
public sealed record ModelDeclaration
{
    public const int CurrentSchemaVersion = 1;

    public string? SourceFile { get; init; }

    public DeclaredModel Model { get; init; } = new();

    public IReadOnlyList<DeclaredBaseModel> BaseModels { get; init; } = [];

    public IReadOnlyList<DeclaredDataset> Datasets { get; init; } = [];

    public DeclaredTraining? Training { get; init; }

    public IReadOnlyList<DeclaredMetric> Evaluation { get; init; } = [];

    public IReadOnlyList<string> IntendedUse { get; init; } = [];

    public IReadOnlyList<string> ProhibitedUse { get; init; } = [];

    public IReadOnlyList<string> Users { get; init; } = [];

    public IReadOnlyList<string> Limitations { get; init; } = [];

    public IReadOnlyList<DeclaredEthicalConsideration> EthicalConsiderations { get; init; } = [];

    public IReadOnlyList<DeclaredSafetyFilter> SafetyFilters { get; init; } = [];

    public IReadOnlyList<DeclaredApproval> Approvals { get; init; } = [];

    public static ModelDeclaration Load(string path)
    {
        var text = IO.InputFile.ReadAllText(path, IO.InputLimit.Declaration);
        return Parse(text, path);
    }

    public static ModelDeclaration Parse(string text, string path)
    {
        var r = new YamlReader(path, Diagnostics.Diagnostics.DeclarationInvalid, Diagnostics.Diagnostics.DeclarationUnknownKey);
        var node = YamlReader.Load(text, path, Diagnostics.Diagnostics.DeclarationInvalid)
            ?? throw Diagnostics.Diagnostics.DeclarationInvalid.Exception($"{path}: the declaration is empty", path);
        var root = r.Mapping(node, "the declaration", "schemaVersion", "model", "baseModels", "datasets", "training", "evaluation",
            "intendedUse", "prohibitedUse", "users", "limitations", "ethicalConsiderations", "safetyFilters", "approvals");

        var version = r.Int(root, "schemaVersion") ?? throw r.Fail(root, "'schemaVersion' is required (use schemaVersion: 1)");
        if (version != CurrentSchemaVersion)
            throw r.Fail(YamlReader.Get(root, "schemaVersion")!, $"schemaVersion {version} is not supported; this version reads schemaVersion {CurrentSchemaVersion}");

        return new ModelDeclaration
        {
            SourceFile = path,
            Model = YamlReader.Get(root, "model") is { } model ? ReadModel(r, model) : new DeclaredModel(),
            BaseModels = r.Sequence(root, "baseModels").Select(n => ReadBaseModel(r, n)).ToList(),
            Datasets = r.Sequence(root, "datasets").Select(n => ReadDataset(r, n)).ToList(),
            Training = YamlReader.Get(root, "training") is { } training ? ReadTraining(r, training) : null,
            Evaluation = r.Sequence(root, "evaluation").Select(n => ReadMetric(r, n)).ToList(),
            IntendedUse = r.Strings(root, "intendedUse"),
            ProhibitedUse = r.Strings(root, "prohibitedUse"),
            Users = r.Strings(root, "users"),
            Limitations = r.Strings(root, "limitations"),
            EthicalConsiderations = r.Sequence(root, "ethicalConsiderations").Select(n =>
            {
                var m = r.Mapping(n, "an ethicalConsiderations entry", "name", "mitigation");
                return new DeclaredEthicalConsideration(Required(r, m, "name"), r.String(m, "mitigation"));
            }).ToList(),
            SafetyFilters = r.Sequence(root, "safetyFilters").Select(n =>
            {
                var m = r.Mapping(n, "a safetyFilters entry", "name", "description", "version");
                return new DeclaredSafetyFilter(Required(r, m, "name"), r.String(m, "description"), r.String(m, "version"));
            }).ToList(),
            Approvals = r.Sequence(root, "approvals").Select(n =>
            {
                var m = r.Mapping(n, "an approvals entry", "approver", "role", "date", "reviewBy", "scope");
                return new DeclaredApproval(Required(r, m, "approver"), r.String(m, "role"),
                    r.Date(m, "date") ?? throw r.Fail(m, "an approval needs a 'date'"), r.Date(m, "reviewBy"), r.String(m, "scope"));
            }).ToList(),
        };
    }

    private static string Required(YamlReader r, YamlMappingNode mapping, string key) =>
        r.String(mapping, key) is { Length: > 0 } value ? value : throw r.Fail(mapping, $"'{key}' is required here");

    private static DeclaredModel ReadModel(YamlReader r, YamlNode node)
    {
        var m = r.Mapping(node, "model", "id", "name", "group", "version", "revision", "description", "license", "purl",
            "supplier", "authors", "task", "approach", "architectureFamily", "modelArchitecture", "inputs", "outputs", "language", "url");
        var approach = r.String(m, "approach");
        if (approach is not null && !DeclaredModel.Approaches.Contains(approach, StringComparer.Ordinal))
            throw r.Fail(YamlReader.Get(m, "approach")!, $"approach '{approach}' is not one of {string.Join(", ", DeclaredModel.Approaches)}");
        return new DeclaredModel
        {
            Id = r.String(m, "id"),
            Name = r.String(m, "name"),
            Group = r.String(m, "group"),
            Version = r.String(m, "version"),
            Revision = r.String(m, "revision"),
            Description = r.String(m, "description"),
            License = r.String(m, "license"),
            Purl = r.String(m, "purl"),
            Supplier = YamlReader.Get(m, "supplier") is { } supplier ? ReadSupplier(r, supplier) : null,
            Authors = r.Strings(m, "authors"),
            Task = r.String(m, "task"),
            Approach = approach,
            ArchitectureFamily = r.String(m, "architectureFamily"),
            ModelArchitecture = r.String(m, "modelArchitecture"),
            Inputs = r.Strings(m, "inputs"),
            Outputs = r.Strings(m, "outputs"),
            Language = r.Strings(m, "language"),
            Url = r.String(m, "url"),
        };
    }

    private static DeclaredSupplier ReadSupplier(YamlReader r, YamlNode node)
    {
        if (node is YamlScalarNode scalar)
            return new DeclaredSupplier(scalar.Value ?? "", null, null);
        var m = r.Mapping(node, "supplier", "name", "url", "email");
        return new DeclaredSupplier(Required(r, m, "name"), r.String(m, "url"), r.String(m, "email"));
    }

    private static DeclaredBaseModel ReadBaseModel(YamlReader r, YamlNode node)
    {
        var m = r.Mapping(node, "a baseModels entry", "id", "relation", "revision", "version", "sha256", "purl", "license", "url");
        var relation = r.String(m, "relation") ?? "fine-tune";
        if (!DeclaredBaseModel.Relations.Contains(relation, StringComparer.Ordinal))
            throw r.Fail(YamlReader.Get(m, "relation")!, $"relation '{relation}' is not one of {string.Join(", ", DeclaredBaseModel.Relations)}");
        var sha256 = r.String(m, "sha256");
        if (sha256 is not null && (sha256.Length != 64 || !sha256.All(Uri.IsHexDigit)))
            throw r.Fail(YamlReader.Get(m, "sha256")!, "sha256 must be 64 hex digits");
        return new DeclaredBaseModel(Required(r, m, "id"), relation, r.String(m, "revision"), r.String(m, "version"),
            sha256?.ToLowerInvariant(), r.String(m, "purl"), r.String(m, "license"), r.String(m, "url"));
    }

    private static DeclaredDataset ReadDataset(YamlReader r, YamlNode node)
    {
        var m = r.Mapping(node, "a datasets entry", "name", "version", "url", "license", "description", "consentBasis", "containsPii",
            "sensitiveData", "knownBiases", "filtering", "classification", "sha256", "split", "size");
        return new DeclaredDataset
        {
            Name = Required(r, m, "name"),
            Version = r.String(m, "version"),
            Url = r.String(m, "url"),
            License = r.String(m, "license"),
            Description = r.String(m, "description"),
            ConsentBasis = r.String(m, "consentBasis"),
            ContainsPii = r.Bool(m, "containsPii"),
            SensitiveData = r.Strings(m, "sensitiveData"),
            KnownBiases = r.Strings(m, "knownBiases"),
            Filtering = r.Strings(m, "filtering"),
            Classification = r.String(m, "classification"),
            Sha256 = r.String(m, "sha256")?.ToLowerInvariant(),
            Split = r.String(m, "split"),
            Size = r.String(m, "size"),
        };
    }

    private static DeclaredTraining ReadTraining(YamlReader r, YamlNode node)
    {
        var m = r.Mapping(node, "training", "method", "description", "hyperparameters", "seeds", "hardware", "frameworks", "startedAt", "finishedAt", "steps", "tokens", "energy");
        var method = r.String(m, "method");
        if (method is not null && !DeclaredTraining.Methods.Contains(method, StringComparer.Ordinal))
            throw r.Fail(YamlReader.Get(m, "method")!, $"training method '{method}' is not one of {string.Join(", ", DeclaredTraining.Methods)}");
        return new DeclaredTraining
        {
            Method = method,
            Description = r.String(m, "description"),
            Hyperparameters = r.ScalarMap(m, "hyperparameters"),
            Seeds = r.ScalarMap(m, "seeds"),
            Hardware = r.String(m, "hardware"),
            Frameworks = r.Sequence(m, "frameworks").Select(n =>
            {
                var f = r.Mapping(n, "a frameworks entry", "name", "version");
                return new DeclaredFramework(Required(r, f, "name"), r.String(f, "version"));
            }).ToList(),
            StartedAt = r.String(m, "startedAt"),
            FinishedAt = r.String(m, "finishedAt"),
            Steps = r.String(m, "steps"),
            Tokens = r.String(m, "tokens"),
            Energy = YamlReader.Get(m, "energy") is { } energy ? ReadEnergy(r, energy) : null,
        };
    }

    private static DeclaredEnergy ReadEnergy(YamlReader r, YamlNode node)
    {
        var m = r.Mapping(node, "training.energy", "activity", "consumptionKwh", "co2eqTonnes", "co2OffsetTonnes", "provider", "energySource");
        var activity = r.String(m, "activity") ?? "training";
        if (!DeclaredEnergy.Activities.Contains(activity, StringComparer.Ordinal))
            throw r.Fail(YamlReader.Get(m, "activity")!, $"activity '{activity}' is not one of {string.Join(", ", DeclaredEnergy.Activities)}");
        var source = r.String(m, "energySource") ?? "unknown";
        if (!DeclaredEnergy.Sources.Contains(source, StringComparer.Ordinal))
            throw r.Fail(YamlReader.Get(m, "energySource")!, $"energySource '{source}' is not one of {string.Join(", ", DeclaredEnergy.Sources)}");
        return new DeclaredEnergy(activity, Number(r, m, "consumptionKwh") ?? throw r.Fail(m, "'consumptionKwh' is required in training.energy"),
            Number(r, m, "co2eqTonnes"), Number(r, m, "co2OffsetTonnes"), Required(r, m, "provider"), source);
    }

    private static decimal? Number(YamlReader r, YamlMappingNode mapping, string key)
    {
        var text = r.String(mapping, key);
        if (text is null)
            return null;
        return decimal.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var value) && value >= 0
            ? value
            : throw r.Fail(YamlReader.Get(mapping, key)!, $"'{key}' must be a non-negative number, not '{text}'");
    }

    private static DeclaredMetric ReadMetric(YamlReader r, YamlNode node)
    {
        var m = r.Mapping(node, "an evaluation entry", "metric", "value", "dataset", "slice", "lowerBound", "upperBound");
        return new DeclaredMetric(Required(r, m, "metric"), Required(r, m, "value"), r.String(m, "dataset"), r.String(m, "slice"),
            r.String(m, "lowerBound"), r.String(m, "upperBound"));
    }
}

public sealed record DeclaredModel
{
    public static IReadOnlyList<string> Approaches { get; } = ["supervised", "unsupervised", "reinforcement-learning", "semi-supervised", "self-supervised"];

    /// <summary>Hugging Face repository id, <c>namespace/name</c>; gives the purl with <see cref="Revision"/>.</summary>
    public string? Id { get; init; }

    public string? Name { get; init; }

    public string? Group { get; init; }

    public string? Version { get; init; }

    /// <summary>The repository commit the files come from.</summary>
    public string? Revision { get; init; }

    public string? Description { get; init; }

    public string? License { get; init; }

    public string? Purl { get; init; }

    public DeclaredSupplier? Supplier { get; init; }

    public IReadOnlyList<string> Authors { get; init; } = [];

    public string? Task { get; init; }

    public string? Approach { get; init; }

    public string? ArchitectureFamily { get; init; }

    public string? ModelArchitecture { get; init; }

    public IReadOnlyList<string> Inputs { get; init; } = [];

    public IReadOnlyList<string> Outputs { get; init; } = [];

    public IReadOnlyList<string> Language { get; init; } = [];

    public string? Url { get; init; }
}

public sealed record DeclaredSupplier(string Name, string? Url, string? Email);

public sealed record DeclaredBaseModel(string Id, string Relation, string? Revision, string? Version, string? Sha256, string? Purl, string? License, string? Url)
{
    public static IReadOnlyList<string> Relations { get; } = ["fine-tune", "adapter", "merge", "quantized", "distilled", "repackaged"];
}

public sealed record DeclaredDataset
{
    public required string Name { get; init; }

    public string? Version { get; init; }

    public string? Url { get; init; }

    public string? License { get; init; }

    public string? Description { get; init; }

    public string? ConsentBasis { get; init; }

    public bool? ContainsPii { get; init; }

    public IReadOnlyList<string> SensitiveData { get; init; } = [];

    public IReadOnlyList<string> KnownBiases { get; init; } = [];

    public IReadOnlyList<string> Filtering { get; init; } = [];

    public string? Classification { get; init; }

    public string? Sha256 { get; init; }

    public string? Split { get; init; }

    public string? Size { get; init; }
}

public sealed record DeclaredTraining
{
    public static IReadOnlyList<string> Methods { get; } = ["full", "sft", "rlhf", "dpo", "adapter", "prompt", "lora", "alora", "qlora", "distillation", "pretraining", "other"];

    public string? Method { get; init; }

    public string? Description { get; init; }

    public IReadOnlyList<KeyValuePair<string, string>> Hyperparameters { get; init; } = [];

    public IReadOnlyList<KeyValuePair<string, string>> Seeds { get; init; } = [];

    public string? Hardware { get; init; }

    public IReadOnlyList<DeclaredFramework> Frameworks { get; init; } = [];

    public string? StartedAt { get; init; }

    public string? FinishedAt { get; init; }

    public string? Steps { get; init; }

    public string? Tokens { get; init; }

    public DeclaredEnergy? Energy { get; init; }
}

/// <summary>Energy used by a lifecycle activity (CycloneDX 1.6+ environmentalConsiderations; properties in 1.5).</summary>
public sealed record DeclaredEnergy(string Activity, decimal ConsumptionKwh, decimal? Co2eqTonnes, decimal? Co2OffsetTonnes, string Provider, string EnergySource)
{
    public static IReadOnlyList<string> Activities { get; } = ["design", "data-collection", "data-preparation", "training", "fine-tuning", "validation", "deployment", "inference", "other"];

    public static IReadOnlyList<string> Sources { get; } = ["coal", "oil", "natural-gas", "nuclear", "wind", "solar", "geothermal", "hydropower", "biofuel", "unknown", "other"];
}

public sealed record DeclaredFramework(string Name, string? Version);

public sealed record DeclaredMetric(string Metric, string Value, string? Dataset, string? Slice, string? LowerBound, string? UpperBound);

public sealed record DeclaredEthicalConsideration(string Name, string? Mitigation);

public sealed record DeclaredSafetyFilter(string Name, string? Description, string? Version);

public sealed record DeclaredApproval(string Approver, string? Role, DateOnly Date, DateOnly? ReviewBy, string? Scope);
