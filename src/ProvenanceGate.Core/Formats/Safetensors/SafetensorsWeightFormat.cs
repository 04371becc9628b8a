using System.Text.Json;
using ProvenanceGate.Formats.Weights;

namespace ProvenanceGate.Formats.Safetensors;

/// <summary>
/// Safetensors checkpoints: a single <c>model.safetensors</c>, a sharded set described by
/// <c>model.safetensors.index.json</c>, or any other <c>*.safetensors</c> files in the directory.
/// Only headers are read here; data is streamed later by <see cref="TensorReader"/>.
/// </summary>
internal sealed class SafetensorsWeightFormat : IWeightFormat
{
    public const string IndexFileName = "model.safetensors.index.json";

    public string Name => "safetensors";

    public bool Detect(string directory) =>
        File.Exists(Path.Combine(directory, IndexFileName)) || Directory.EnumerateFiles(directory, "*.safetensors").Any();

    public WeightSet Open(string directory)
    {
        var indexPath = Path.Combine(directory, IndexFileName);
        if (File.Exists(indexPath))
            return OpenSharded(directory, indexPath);

        var files = Directory.EnumerateFiles(directory, "*.safetensors").Order(StringComparer.Ordinal).ToList();
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
            // A NUL makes Path throw ArgumentException: the index, not the caller, is at fault.
            if (shard.Contains('\0', StringComparison.Ordinal))
                throw IndexError(indexPath, "a shard name contains a NUL character");
            var shardPath = Path.GetFullPath(Path.Combine(root, shard));
            if (!shardPath.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal) || shard.Contains('/', StringComparison.Ordinal) || shard.Contains('\\', StringComparison.Ordinal))
                throw IndexError(indexPath, $"shard '{shard}' is not a file inside the model directory");
            if (!File.Exists(shardPath))
                throw IndexError(indexPath, $"shard '{shard}' does not exist");
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

    private static Dictionary<string, string> ReadIndex(string indexPath)
    {
        var info = new FileInfo(indexPath);
        if (info.Length > SafetensorsHeader.MaxHeaderBytes)
            throw IndexError(indexPath, $"index is {info.Length} bytes, above the {SafetensorsHeader.MaxHeaderBytes}-byte limit");
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(indexPath), new JsonDocumentOptions { MaxDepth = 16 });
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
