using System.Text.Json;
using Microsoft.Win32.SafeHandles;
using ProvenanceGate.Diagnostics;
using ProvenanceGate.Formats.Safetensors;
using ProvenanceGate.Formats.Weights;

namespace ProvenanceGate.Formats.Peft;

/// <summary>The facts of <c>adapter_config.json</c> the merge and the BOM use.</summary>
public sealed record PeftAdapterConfig(string PeftType, long? Rank, double? Alpha, IReadOnlyList<string> TargetModules, string? BaseModel, bool FanInFanOut, bool UseRsLora);

/// <summary>
/// A PEFT adapter directory (<c>adapter_config.json</c> plus <c>adapter_model.safetensors</c> or <c>.bin</c>). Alone, its
/// LoRA factors say nothing about lineage; merged with a base model they are the weights the adapter runs as:
/// W + (alpha/r)·B·A, computed a block of rows at a time by <see cref="LoraMergeDecoder"/>, never the whole model in memory.
/// </summary>
public static class PeftAdapter
{
    public const string ConfigFileName = "adapter_config.json";

    /// <summary>One LoRA factor held in memory while its tensor is merged (r × in or out × r floats).</summary>
    private const long MaxFactorBytes = 256L << 20;

    private const string Prefix = "base_model.model.";

    /// <summary>A directory with <c>adapter_config.json</c> and the adapter's own weights (a merged model that kept the config is not one).</summary>
    public static bool IsAdapter(string path) => Directory.Exists(path) && File.Exists(Path.Combine(path, ConfigFileName))
        && (File.Exists(Path.Combine(path, "adapter_model.safetensors")) || File.Exists(Path.Combine(path, "adapter_model.bin")));

    public static PeftAdapterConfig ReadConfig(string directory)
    {
        var path = Path.Combine(directory, ConfigFileName);
        if (new FileInfo(path).Length > 1 << 20)
            throw Malformed(path, "adapter_config.json is larger than 1 MiB");
        try
        {
            using var document = JsonDocument.Parse(IO.InputFile.ReadAllBytes(path, IO.InputLimit.ModelConfig), new JsonDocumentOptions { MaxDepth = 16 });
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw Malformed(path, "not a JSON object");
            var modules = root.TryGetProperty("target_modules", out var targets) ? targets.ValueKind switch
            {
                JsonValueKind.Array => targets.EnumerateArray().Where(t => t.ValueKind == JsonValueKind.String).Select(t => t.GetString()!).ToList(),
                JsonValueKind.String => [targets.GetString()!],
                _ => [],
            } : [];
            return new PeftAdapterConfig(
                String(root, "peft_type") ?? throw Malformed(path, "no \"peft_type\""),
                root.TryGetProperty("r", out var r) && r.ValueKind == JsonValueKind.Number && r.TryGetInt64(out var rank) ? rank : null,
                root.TryGetProperty("lora_alpha", out var a) && a.ValueKind == JsonValueKind.Number ? a.GetDouble() : null,
                modules,
                String(root, "base_model_name_or_path"),
                root.TryGetProperty("fan_in_fan_out", out var f) && f.ValueKind == JsonValueKind.True,
                root.TryGetProperty("use_rslora", out var rs) && rs.ValueKind == JsonValueKind.True);
        }
        catch (JsonException ex)
        {
            throw Malformed(path, $"not valid JSON: {ex.Message}");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw Diagnostics.Diagnostics.FileUnreadable.Exception($"cannot read '{path}': {ex.Message}", path, inner: ex);
        }
    }

    private static string? String(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    /// <summary>
    /// The base weights with every LoRA target replaced by its merged tensor (and every tensor the adapter saves whole,
    /// PEFT's <c>modules_to_save</c>, by the adapter's copy). Factors that fit no base tensor are an error (PG3045).
    /// </summary>
    public static WeightSet Merge(string adapterDirectory, WeightSet baseWeights)
    {
        var configPath = Path.Combine(adapterDirectory, ConfigFileName);
        var config = ReadConfig(adapterDirectory);
        if (!string.Equals(config.PeftType, "LORA", StringComparison.OrdinalIgnoreCase))
            throw Malformed(configPath, $"peft_type '{config.PeftType}' is not merged; only LORA adapters are");
        if (config.Alpha is not { } alpha || !double.IsFinite(alpha))
            throw Malformed(configPath, "no numeric \"lora_alpha\"");
        var adapterWeights = WeightFormats.Open(adapterDirectory);
        if (adapterWeights is null || adapterWeights.Tensors.Count == 0)
            throw Malformed(configPath, "the adapter holds no adapter_model.safetensors or adapter_model.bin weights");

        var baseByName = baseWeights.Tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
        var factorsA = new Dictionary<string, WeightTensor>(StringComparer.Ordinal);
        var factorsB = new Dictionary<string, WeightTensor>(StringComparer.Ordinal);
        var replaced = new Dictionary<string, WeightTensor>(StringComparer.Ordinal);
        foreach (var tensor in adapterWeights.Tensors)
        {
            var name = tensor.Name.StartsWith(Prefix, StringComparison.Ordinal) ? tensor.Name[Prefix.Length..] : tensor.Name;
            if (name.EndsWith(".lora_A.weight", StringComparison.Ordinal))
                factorsA[name[..^".lora_A.weight".Length]] = tensor;
            else if (name.EndsWith(".lora_B.weight", StringComparison.Ordinal))
                factorsB[name[..^".lora_B.weight".Length]] = tensor;
            else if (name.Contains(".lora_", StringComparison.Ordinal))
                throw Malformed(configPath, $"adapter tensor '{tensor.Name}' is a LoRA variant this merge does not reproduce");
            else if (BaseTensor(baseByName, name) is { } target)
                replaced[target.Name] = Replacement(tensor, target, adapterDirectory);
            else
                throw Mismatch(adapterDirectory, $"adapter tensor '{tensor.Name}' has no counterpart in the base model");
        }

        if (factorsA.Count == 0)
            throw Malformed(configPath, "the adapter holds no lora_A/lora_B weights");
        foreach (var module in factorsA.Keys.Concat(factorsB.Keys).Distinct(StringComparer.Ordinal))
        {
            if (!factorsA.TryGetValue(module, out var a) || !factorsB.TryGetValue(module, out var b))
                throw Malformed(configPath, $"module '{module}' has only one of its lora_A and lora_B weights");
            var target = BaseTensor(baseByName, module + ".weight")
                ?? throw Mismatch(adapterDirectory, $"LoRA target '{module}.weight' is not a tensor of the base model");
            replaced[target.Name] = Merged(target, a, b, alpha, config, adapterDirectory);
        }

        var tensors = baseWeights.Tensors.Select(t => replaced.GetValueOrDefault(t.Name) ?? t).ToList();
        return new WeightSet(baseWeights.Format + "+lora", tensors, [.. baseWeights.WeightFiles, .. adapterWeights.WeightFiles], [.. baseWeights.IndexFiles, .. adapterWeights.IndexFiles])
        {
            Config = baseWeights.Config,
            Tokenizer = baseWeights.Tokenizer,
            HeaderDigests = new[] { baseWeights.HeaderDigests, adapterWeights.HeaderDigests }.OfType<IReadOnlyDictionary<string, string>>()
                .SelectMany(d => d).ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal),
        };
    }

    /// <summary>A base tensor by the adapter's module name, allowing for a base saved without its task head's "model." prefix.</summary>
    private static WeightTensor? BaseTensor(Dictionary<string, WeightTensor> baseByName, string name) =>
        baseByName.GetValueOrDefault(name)
        ?? (name.StartsWith("model.", StringComparison.Ordinal) ? baseByName.GetValueOrDefault(name["model.".Length..]) : baseByName.GetValueOrDefault("model." + name));

    private static WeightTensor Replacement(WeightTensor tensor, WeightTensor target, string adapterDirectory)
    {
        if (!tensor.Shape.SequenceEqual(target.Shape))
            throw Mismatch(adapterDirectory, $"adapter tensor '{tensor.Name}' [{string.Join(", ", tensor.Shape)}] replaces base tensor '{target.Name}' [{string.Join(", ", target.Shape)}]");
        return tensor with { Name = target.Name };
    }

    private static WeightTensor Merged(WeightTensor target, WeightTensor a, WeightTensor b, double alpha, PeftAdapterConfig config, string adapterDirectory)
    {
        if (target.Shape.Count != 2 || a.Shape.Count != 2 || b.Shape.Count != 2)
            throw Mismatch(adapterDirectory, $"LoRA factors of '{target.Name}' are not matrices");
        var rank = a.Shape[0];
        // W is [out, in] (or [in, out] for Conv1D layers, fan_in_fan_out); A is [r, in] and B is [out, r].
        var (outFeatures, inFeatures) = config.FanInFanOut ? (target.Shape[1], target.Shape[0]) : (target.Shape[0], target.Shape[1]);
        if (rank <= 0 || a.Shape[1] != inFeatures || b.Shape[0] != outFeatures || b.Shape[1] != rank)
            throw Mismatch(adapterDirectory,
                $"LoRA factors A [{string.Join(", ", a.Shape)}] and B [{string.Join(", ", b.Shape)}] do not fit base tensor '{target.Name}' [{string.Join(", ", target.Shape)}]");
        if (!TensorReader.IsDecodable(a.DType) || !TensorReader.IsDecodable(b.DType) || !TensorReader.IsDecodable(target.DType))
            throw Mismatch(adapterDirectory, $"'{target.Name}' or its LoRA factors are not floating-point tensors");
        if (a.ElementCount * 4 > MaxFactorBytes || b.ElementCount * 4 > MaxFactorBytes)
            throw Malformed(Path.Combine(adapterDirectory, ConfigFileName), $"LoRA factors of '{target.Name}' exceed {MaxFactorBytes} bytes");
        var scale = config.UseRsLora ? alpha / Math.Sqrt(rank) : alpha / rank;
        return target with
        {
            DType = SafetensorsDType.F32,
            Decoder = new LoraMergeDecoder(target, a, b, (float)scale, config.FanInFanOut),
            StoredType = target.StorageTypeName + "+lora",
        };
    }

    private static ProvenanceException Malformed(string path, string reason) =>
        Diagnostics.Diagnostics.AdapterMalformed.Exception($"{path}: {reason}", path);

    private static ProvenanceException Mismatch(string directory, string reason) =>
        Diagnostics.Diagnostics.AdapterBaseMismatch.Exception($"{directory}: {reason}", directory);
}

/// <summary>
/// Rows of W + scale·B·A (or its transpose for fan_in_fan_out layers): the base rows are read through the base tensor
/// (any format, any dtype), the small factors are loaded when the tensor's first rows are asked for and dropped after
/// its last, so memory holds one tensor's factors at a time per worker.
/// </summary>
internal sealed class LoraMergeDecoder(WeightTensor baseTensor, WeightTensor a, WeightTensor b, float scale, bool fanInFanOut) : ITensorDecoder
{
    private readonly Lock _lock = new();
    private float[]? _a;
    private float[]? _bOrTransposed;

    public long Read(SafeFileHandle handle, WeightTensor tensor, long firstElement, Span<float> destination)
    {
        var read = TensorValues.Read(handle, baseTensor, firstElement, destination);
        var rank = (int)a.Shape[0];
        var columns = (int)tensor.RowLength;
        float[] factorA, factorB;
        lock (_lock)
        {
            if (_a is null || _bOrTransposed is null)
            {
                _a = TensorValues.ReadAll(a);
                var bValues = TensorValues.ReadAll(b);
                read += a.ByteLength + b.ByteLength;
                if (fanInFanOut)
                {
                    // Row i of the stored [in, out] matrix needs column i of A against the rows of Bᵀ ([r, out]).
                    var outFeatures = (int)b.Shape[0];
                    var transposed = new float[bValues.Length];
                    for (var j = 0; j < outFeatures; j++)
                    {
                        for (var k = 0; k < rank; k++)
                            transposed[(k * outFeatures) + j] = bValues[(j * rank) + k];
                    }

                    bValues = transposed;
                }

                _bOrTransposed = bValues;
            }

            factorA = _a;
            factorB = _bOrTransposed;
        }

        var firstRow = firstElement / columns;
        var rows = destination.Length / columns;
        for (var r = 0; r < rows; r++)
        {
            var row = destination.Slice(r * columns, columns);
            var i = (int)(firstRow + r);
            for (var k = 0; k < rank; k++)
            {
                // Plain layout: row i += scale·B[i,k]·A[k,:]. fan_in_fan_out: row i += scale·A[k,i]·Bᵀ[k,:].
                if (fanInFanOut)
                    System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(factorB.AsSpan(k * columns, columns), scale * factorA[(k * (int)a.Shape[1]) + i], row, row);
                else
                    System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(factorA.AsSpan(k * columns, columns), scale * factorB[(i * rank) + k], row, row);
            }
        }

        if (firstElement + destination.Length >= tensor.ElementCount)
        {
            lock (_lock)
            {
                _a = null;
                _bOrTransposed = null;
            }
        }

        return read;
    }
}
