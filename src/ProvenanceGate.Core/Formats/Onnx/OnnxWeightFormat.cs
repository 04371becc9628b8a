using System.Text.Json;
using ProvenanceGate.Formats.Config;
using ProvenanceGate.Formats.Safetensors;
using ProvenanceGate.Formats.Weights;

namespace ProvenanceGate.Formats.Onnx;

/// <summary>
/// ONNX models: one <c>.onnx</c> file, a directory of them, or the ONNX Runtime GenAI layout (<c>genai_config.json</c>
/// naming the decoder's file, with its architecture facts). Initializers are located in the model file or its external
/// data files and streamed later; their roles come from the graph (<see cref="OnnxGraphRoles"/>).
/// </summary>
internal sealed class OnnxWeightFormat : IWeightFormat
{
    public const string GenAiConfigFileName = "genai_config.json";

    public string Name => "onnx";

    public bool Detect(string path) => File.Exists(path)
        ? path.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase)
        : Directory.Exists(path) && Directory.EnumerateFiles(path, "*.onnx").Any();

    public WeightSet Open(string path)
    {
        var directory = File.Exists(path) ? Path.GetDirectoryName(Path.GetFullPath(path))! : path;
        var genAiPath = Path.Combine(directory, GenAiConfigFileName);
        (string? DecoderFile, ModelConfig Config)? genAi = File.Exists(genAiPath) ? ReadGenAiConfig(genAiPath) : null;
        var files = File.Exists(path) ? [path] : ModelFiles(directory, genAi?.DecoderFile, genAiPath);

        var tensors = new List<WeightTensor>();
        var weightFiles = new List<string>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var file in files)
        {
            weightFiles.Add(file);
            var model = OnnxModel.Read(file);
            var roles = OnnxGraphRoles.Resolve(model);
            foreach (var initializer in model.Initializers)
            {
                if (ToWeight(initializer, roles) is not { } tensor)
                    continue;
                // Several graphs of one export (decoder, decoder with past) share their weights: the first copy counts.
                if (!names.Add(tensor.Name))
                {
                    if (files.Count == 1)
                        throw Diagnostics.Diagnostics.OnnxMalformed.Exception($"{file}: initializer '{initializer.Name}' appears twice", file);
                    continue;
                }

                tensors.Add(tensor);
                if (initializer.Storage == OnnxStorage.External && !weightFiles.Contains(initializer.FilePath, StringComparer.Ordinal))
                    weightFiles.Add(initializer.FilePath);
            }
        }

        return new WeightSet(Name, tensors, weightFiles, genAi is null ? [] : [genAiPath]) { Config = genAi?.Config };
    }

    private static List<string> ModelFiles(string directory, string? decoderFile, string genAiPath)
    {
        if (decoderFile is null)
            return Directory.EnumerateFiles(directory, "*.onnx").Order(StringComparer.Ordinal).ToList();
        var full = Path.GetFullPath(Path.Combine(directory, decoderFile));
        if (!full.StartsWith(Path.GetFullPath(directory) + Path.DirectorySeparatorChar, StringComparison.Ordinal) || !File.Exists(full))
            throw Diagnostics.Diagnostics.OnnxGenAiConfigMalformed.Exception($"{genAiPath}: model.decoder.filename '{decoderFile}' is not a file inside the model directory", genAiPath);
        return [full];
    }

    /// <summary>A weight tensor for an initializer the fingerprint can read, or null (strings, 4-bit, unlocated data).</summary>
    private static WeightTensor? ToWeight(OnnxInitializer initializer, Dictionary<string, OnnxWeightRole> roles)
    {
        var role = roles.GetValueOrDefault(initializer.Name);
        var name = role?.Name ?? initializer.Name;
        var storedName = name == initializer.Name ? null : initializer.Name;
        switch (initializer.Storage)
        {
            case OnnxStorage.Raw or OnnxStorage.PackedFixed or OnnxStorage.External when OnnxTypes.ToDType(initializer.DataType) is { } dtype:
                if (role is { Transposed: true } && TensorReader.IsDecodable(dtype))
                {
                    var (rows, columns) = (initializer.Dims[0], initializer.Dims[1]);
                    return new WeightTensor(name, dtype, [columns, rows], initializer.FilePath, initializer.Offset, initializer.Length)
                    {
                        Decoder = new TransposedDecoder(SafetensorsDTypes.SizeOf(dtype), rows, columns),
                        StoredName = storedName,
                    };
                }

                return new WeightTensor(name, dtype, initializer.Dims, initializer.FilePath, initializer.Offset, initializer.Length) { StoredName = storedName };
            case OnnxStorage.PackedVarint when VarintDecoder.Supports(initializer.DataType):
                // Typed fields hold small tensors (norms, biases, Constant-like weights): presented as stored.
                return new WeightTensor(initializer.Name, SafetensorsDType.F32, initializer.Dims, initializer.FilePath, initializer.Offset, initializer.Length)
                {
                    Decoder = new VarintDecoder(initializer.DataType, initializer.Length),
                    StoredType = OnnxTypes.ToDType(initializer.DataType)!.Value.ToString(),
                };
            default:
                return null;
        }
    }

    /// <summary>The decoder file name and architecture facts of an ONNX Runtime GenAI <c>genai_config.json</c>.</summary>
    internal static (string? DecoderFile, ModelConfig Config) ReadGenAiConfig(string path)
    {
        var bytes = IO.JsonInput.Read(path, IO.InputLimit.ModelConfig, Diagnostics.Diagnostics.OnnxGenAiConfigMalformed, maxDepth: 64);
        try
        {
            using var document = JsonDocument.Parse(bytes, new JsonDocumentOptions { MaxDepth = 64 });
            if (document.RootElement.ValueKind != JsonValueKind.Object
                || !document.RootElement.TryGetProperty("model", out var model) || model.ValueKind != JsonValueKind.Object)
                throw GenAiError(path, "no \"model\" object");
            var decoder = model.TryGetProperty("decoder", out var d) && d.ValueKind == JsonValueKind.Object ? d : default;
            var type = String(model, "type");
            return (decoder.ValueKind == JsonValueKind.Object ? String(decoder, "filename") : null, new ModelConfig
            {
                ModelType = type,
                HiddenSize = Long(decoder, "hidden_size"),
                Layers = Long(decoder, "num_hidden_layers"),
                AttentionHeads = Long(decoder, "num_attention_heads"),
                KeyValueHeads = Long(decoder, "num_key_value_heads") is var kv and > 0 ? kv : null,
                VocabSize = Long(model, "vocab_size"),
                MaxPositionEmbeddings = Long(model, "context_length"),
            });
        }
        catch (JsonException ex)
        {
            throw GenAiError(path, $"not valid JSON: {ex.Message}");
        }
    }

    private static long Long(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var number) ? number : 0;

    private static string? String(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static Diagnostics.ProvenanceException GenAiError(string path, string reason) =>
        Diagnostics.Diagnostics.OnnxGenAiConfigMalformed.Exception($"{path}: {reason}", path);
}
