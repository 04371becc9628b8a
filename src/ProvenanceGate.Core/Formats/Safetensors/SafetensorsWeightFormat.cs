using System.Text.Json;
using ProvenanceGate.Formats.Weights;

namespace ProvenanceGate.Formats.Safetensors;

/// <summary>
/// Safetensors checkpoints: a single <c>model.safetensors</c>, a sharded set described by
/// <c>model.safetensors.index.json</c>, any other <c>*.safetensors</c> files in the directory, or one such file given by path.
/// Only headers are read here; data is streamed later by <see cref="TensorReader"/>.
/// </summary>
internal sealed class SafetensorsWeightFormat : IWeightFormat
{
    public const string IndexFileName = "model.safetensors.index.json";

    public string Name => "safetensors";

    public bool Detect(string path) => File.Exists(path)
        ? path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase)
        : Directory.Exists(path) && (File.Exists(Path.Combine(path, IndexFileName)) || Directory.EnumerateFiles(path, "*.safetensors").Any());

    public WeightSet Open(string path)
    {
        var indexPath = Path.Combine(path, IndexFileName);
        if (!File.Exists(path) && File.Exists(indexPath))
            return OpenSharded(path, indexPath);

        var files = File.Exists(path) ? [path] : Directory.EnumerateFiles(path, "*.safetensors").Order(StringComparer.Ordinal).ToList();
        var tensors = new List<WeightTensor>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var file in files)
        {
            foreach (var info in SafetensorsHeader.Read(file).Tensors)
            {
                if (!names.Add(info.Name))
                    throw Diagnostics.Diagnostics.SafetensorsMalformed.Exception($"{file}: tensor '{info.Name}' also appears in another file", file);
                tensors.Add(ToWeight(file, info));
            }
        }

        return new WeightSet(Name, tensors, files, []);
    }

    private WeightSet OpenSharded(string directory, string indexPath)
    {
        var weightMap = ReadIndex(indexPath);
        var root = Path.GetFullPath(directory);
        var tensors = new List<WeightTensor>();
        var files = new List<string>();
        foreach (var shard in weightMap.Values.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
        {
            var shardPath = ShardPath(root, shard, indexPath, Diagnostics.Diagnostics.SafetensorsIndexMalformed);
            files.Add(shardPath);
            var header = SafetensorsHeader.Read(shardPath);
            var inShard = header.Tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
            foreach (var (name, file) in weightMap)
            {
                if (!string.Equals(file, shard, StringComparison.Ordinal))
                    continue;
                if (!inShard.TryGetValue(name, out var info))
                    throw IndexError(indexPath, $"tensor '{name}' is mapped to '{shard}' but that shard does not contain it");
                tensors.Add(ToWeight(shardPath, info));
            }
        }

        return new WeightSet(Name, tensors, files, [indexPath]);
    }

    /// <summary>A shard named by an index: a plain file name inside the model directory that exists.</summary>
    internal static string ShardPath(string root, string shard, string indexPath, Diagnostics.DiagnosticDescriptor code)
    {
        // A NUL makes Path throw ArgumentException: the index, not the caller, is at fault.
        if (shard.Contains('\0', StringComparison.Ordinal))
            throw code.Exception($"{indexPath}: a shard name contains a NUL character", indexPath);
        var shardPath = Path.GetFullPath(Path.Combine(root, shard));
        if (!shardPath.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal) || shard.Contains('/', StringComparison.Ordinal) || shard.Contains('\\', StringComparison.Ordinal))
            throw code.Exception($"{indexPath}: shard '{shard}' is not a file inside the model directory", indexPath);
        if (!File.Exists(shardPath))
            throw code.Exception($"{indexPath}: shard '{shard}' does not exist", indexPath);
        return shardPath;
    }

    private static Dictionary<string, string> ReadIndex(string indexPath) => ReadIndex(indexPath, Diagnostics.Diagnostics.SafetensorsIndexMalformed);

    /// <summary>The weight_map of a Hugging Face index file (the same layout for safetensors and pytorch_model.bin shards).</summary>
    internal static Dictionary<string, string> ReadIndex(string indexPath, Diagnostics.DiagnosticDescriptor code)
    {
        Diagnostics.ProvenanceException IndexError(string path, string reason) => code.Exception($"{path}: {reason}", path);

        var bytes = IO.JsonInput.Read(indexPath, IO.InputLimit.SafetensorsIndex, code, maxDepth: 16);
        try
        {
            using var document = JsonDocument.Parse(bytes, new JsonDocumentOptions { MaxDepth = 16 });
            if (document.RootElement.ValueKind != JsonValueKind.Object
                || !document.RootElement.TryGetProperty("weight_map", out var map)
                || map.ValueKind != JsonValueKind.Object)
                throw IndexError(indexPath, "no \"weight_map\" object");
            var result = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var entry in map.EnumerateObject())
            {
                if (entry.Value.ValueKind != JsonValueKind.String || string.IsNullOrEmpty(entry.Value.GetString()))
                    throw IndexError(indexPath, $"weight_map entry '{entry.Name}' is not a file name");
                if (!result.TryAdd(entry.Name, entry.Value.GetString()!))
                    throw IndexError(indexPath, $"tensor '{entry.Name}' appears twice in weight_map");
            }

            if (result.Count == 0)
                throw IndexError(indexPath, "weight_map is empty");
            return result;
        }
        catch (JsonException ex)
        {
            throw IndexError(indexPath, $"not valid JSON: {ex.Message}");
        }
    }

    private static WeightTensor ToWeight(string file, SafetensorsTensorInfo info) =>
        new(info.Name, info.DType, info.Shape, file, info.FileOffset, info.ByteLength);

    private static Diagnostics.ProvenanceException IndexError(string path, string reason) =>
        Diagnostics.Diagnostics.SafetensorsIndexMalformed.Exception($"{path}: {reason}", path);
}
