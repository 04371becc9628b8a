using System.Globalization;
using System.Text.Json.Nodes;
using ProvenanceGate.Formats.Onnx;

namespace ProvenanceGate.Bom;

/// <summary>
/// The BOM facts of the ONNX models in a model directory: per file (IR version, opsets, producer, graph inputs and
/// outputs, initializer and parameter counts, element types, <c>metadata_props</c>), for the model (parameter count,
/// dtypes), and the ONNX Runtime GenAI hyperparameters when there is no config.json. External-data files are weights.
/// </summary>
internal sealed class OnnxBomFacts
{
    private const string InitializersSource = "ONNX initializers";

    private readonly Dictionary<string, OnnxModel> _models = new(StringComparer.Ordinal);
    private readonly HashSet<string> _externalData = new(StringComparer.Ordinal);
    private readonly ModelDirectory _directory;

    public OnnxBomFacts(ModelDirectory directory)
    {
        _directory = directory;
        var root = Path.GetFullPath(directory.Path);
        foreach (var file in directory.Files.Where(f => f.Role == ModelFileRole.Weights && f.RelativePath.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase)))
        {
            var model = OnnxModel.Read(file.FullPath);
            _models[file.RelativePath] = model;
            foreach (var initializer in model.Initializers.Where(i => i.Storage == OnnxStorage.External))
                _externalData.Add(Path.GetRelativePath(root, initializer.FilePath).Replace('\\', '/'));
        }
    }

    /// <summary>Whether the file holds initializers of an ONNX model in the directory (its external data).</summary>
    public bool IsExternalData(ModelFile file) => _externalData.Contains(file.RelativePath);

    public void AddFileFacts(ModelFile file, JsonArray properties)
    {
        if (IsExternalData(file))
        {
            properties.Add(ModelBomGenerator.Property("provenancegate:weights:format", "onnx-external-data"));
            return;
        }

        if (!_models.TryGetValue(file.RelativePath, out var model))
            return;
        void Add(string name, string value) => properties.Add(ModelBomGenerator.Property("provenancegate:onnx:" + name, value));
        Add("ir-version", Number(model.IrVersion));
        foreach (var (domain, version) in model.Opsets)
            Add("opset:" + (domain.Length == 0 ? "ai.onnx" : domain), Number(version));
        if (model.ProducerName is { Length: > 0 } producer)
            Add("producer", model.ProducerVersion is { Length: > 0 } version ? $"{producer} {version}" : producer);
        if (model.Domain is { Length: > 0 } modelDomain)
            Add("domain", modelDomain);
        if (model.ModelVersion != 0)
            Add("model-version", Number(model.ModelVersion));
        if (model.GraphName is { Length: > 0 } graph)
            Add("graph", graph);
        var initializerNames = model.Initializers.Select(i => i.Name).ToHashSet(StringComparer.Ordinal);
        // Graph inputs that are also initializers (IR < 4 lists weights as inputs) are weights, not the model's inputs.
        foreach (var input in model.Inputs.Where(i => !initializerNames.Contains(i.Name)))
            Add("input", input.ToString());
        foreach (var output in model.Outputs)
            Add("output", output.ToString());
        Add("node-count", Number(model.Nodes.Count));
        Add("initializer-count", Number(model.Initializers.Count));
        Add("parameter-count", Number(model.ParameterCount));
        Add("dtypes", string.Join(",", DTypes(model)));
        if (model.Initializers.Any(i => i.Storage == OnnxStorage.External))
            Add("external-data", string.Join(",", model.Initializers.Where(i => i.Storage == OnnxStorage.External)
                .Select(i => Path.GetFileName(i.FilePath)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)));
        foreach (var (key, value) in model.MetadataProps.OrderBy(p => p.Key, StringComparer.Ordinal))
            Add("metadata:" + key, value);
    }

    /// <summary>Model-level weight facts when the weights are ONNX (safetensors headers, when present, win).</summary>
    public bool AddModelFacts(Action<string, string> prop, Action<string, string> source)
    {
        if (_models.Count == 0)
            return false;
        var parameters = _models.Values.Sum(m => m.ParameterCount);
        prop("cdx:ai-ml:model:parameter:count", ModelBomGenerator.HumanCount(parameters));
        prop("cdx:ai-ml:model:hyperparameter:quantization", string.Join(",", _models.Values.SelectMany(DTypes).Distinct().Order(StringComparer.Ordinal).Select(d => d.ToLowerInvariant())));
        prop("provenancegate:weights:parameter-count", Number(parameters));
        prop("provenancegate:weights:dtypes", string.Join(",", _models.Values.SelectMany(DTypes).Distinct().Order(StringComparer.Ordinal)));
        prop("provenancegate:onnx:opset", string.Join(",", _models.Values.Select(m => m.DefaultOpset).OfType<long>().Distinct().Order().Select(Number)));
        source("parameter-count", InitializersSource);
        source("onnx", InitializersSource);
        return true;
    }

    /// <summary>Hyperparameters from <c>genai_config.json</c> (the ONNX Runtime GenAI layout), used when there is no config.json.</summary>
    public void AddGenAiFacts(Action<string, string> prop, Action<string, string> source)
    {
        var path = Path.Combine(_directory.Path, OnnxWeightFormat.GenAiConfigFileName);
        if (_models.Count == 0 || !File.Exists(path))
            return;
        var (_, config) = OnnxWeightFormat.ReadGenAiConfig(path);
        if (config.MaxPositionEmbeddings > 0)
            prop("cdx:ai-ml:model:hyperparameter:context_length", Number(config.MaxPositionEmbeddings));
        foreach (var (key, value) in new[]
                 {
                     ("hidden_size", config.HiddenSize), ("num_hidden_layers", config.Layers), ("num_attention_heads", config.AttentionHeads),
                     ("num_key_value_heads", config.KeyValueHeads ?? 0), ("vocab_size", config.VocabSize),
                 })
        {
            if (value > 0)
                prop("cdx:ai-ml:model:hyperparameter:" + key, Number(value));
        }

        if (config.ModelType is { } type)
            prop("provenancegate:config:model_type", type);
        source("hyperparameters", OnnxWeightFormat.GenAiConfigFileName);
    }

    /// <summary>Element types as safetensors names where one exists (F32, F16, ...), else ONNX's own.</summary>
    private static IEnumerable<string> DTypes(OnnxModel model) =>
        model.Initializers.Select(i => OnnxTypes.ToDType(i.DataType)?.ToString() ?? OnnxModel.DataTypeName(i.DataType)).Distinct().Order(StringComparer.Ordinal);

    private static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);
}
