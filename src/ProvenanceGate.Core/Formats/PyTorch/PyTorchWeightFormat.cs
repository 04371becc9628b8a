using ProvenanceGate.Formats.Safetensors;
using ProvenanceGate.Formats.Weights;

namespace ProvenanceGate.Formats.PyTorch;

/// <summary>
/// PyTorch checkpoints: <c>pytorch_model.bin</c>, shards listed by <c>pytorch_model.bin.index.json</c>, a PEFT
/// <c>adapter_model.bin</c>, other <c>*.bin</c>/<c>*.pt</c>/<c>*.pth</c> weight files, or one such file given by path.
/// Trainer side files (optimizer and scheduler state, training arguments, RNG state) are not weights and are skipped.
/// </summary>
internal sealed class PyTorchWeightFormat : IWeightFormat
{
    public const string IndexFileName = "pytorch_model.bin.index.json";

    private static readonly string[] Extensions = [".bin", ".pt", ".pth"];

    private static readonly string[] TrainerFiles = ["training_args.bin", "optimizer.pt", "scheduler.pt", "scaler.pt", "trainer_state.pt"];

    public string Name => "pytorch";

    public static bool IsCheckpointFile(string path) => Extensions.Any(e => path.EndsWith(e, StringComparison.OrdinalIgnoreCase));

    /// <summary>Optimizer, scheduler, RNG state and training arguments a Trainer saves beside the weights.</summary>
    public static bool IsTrainerFile(string path) => TrainerFiles.Contains(Path.GetFileName(path), StringComparer.OrdinalIgnoreCase)
        || Path.GetFileName(path).StartsWith("rng_state", StringComparison.OrdinalIgnoreCase);

    public bool Detect(string path) => File.Exists(path)
        ? IsCheckpointFile(path)
        : Directory.Exists(path) && (File.Exists(Path.Combine(path, IndexFileName)) || WeightFiles(path).Count > 0);

    public WeightSet Open(string path)
    {
        var indexPath = Path.Combine(path, IndexFileName);
        if (!File.Exists(path) && File.Exists(indexPath))
            return OpenSharded(path, indexPath);

        var files = File.Exists(path) ? [path] : WeightFiles(path);
        var tensors = new List<WeightTensor>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        var digests = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var file in files)
        {
            var checkpoint = TorchCheckpoint.Read(file);
            digests[file] = checkpoint.HeaderSha256;
            foreach (var tensor in checkpoint.Tensors)
            {
                if (!names.Add(tensor.Name))
                    throw Diagnostics.Diagnostics.PyTorchMalformed.Exception($"{file}: tensor '{tensor.Name}' also appears in another file", file);
                tensors.Add(tensor);
            }
        }

        return new WeightSet(Name, tensors, files, []) { HeaderDigests = digests };
    }

    /// <summary>The weight files of a directory: the Hugging Face names when present, else every checkpoint file but trainer state.</summary>
    public static List<string> WeightFiles(string directory)
    {
        foreach (var name in new[] { "pytorch_model.bin", "adapter_model.bin" })
        {
            var file = Path.Combine(directory, name);
            if (File.Exists(file))
                return [file];
        }

        return Directory.EnumerateFiles(directory)
            .Where(f => IsCheckpointFile(f) && !IsTrainerFile(f))
            .Order(StringComparer.Ordinal)
            .ToList();
    }

    private WeightSet OpenSharded(string directory, string indexPath)
    {
        var code = Diagnostics.Diagnostics.PyTorchIndexMalformed;
        var weightMap = SafetensorsWeightFormat.ReadIndex(indexPath, code);
        var root = Path.GetFullPath(directory);
        var tensors = new List<WeightTensor>();
        var files = new List<string>();
        var digests = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var shard in weightMap.Values.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
        {
            var shardPath = SafetensorsWeightFormat.ShardPath(root, shard, indexPath, code);
            files.Add(shardPath);
            var checkpoint = TorchCheckpoint.Read(shardPath);
            digests[shardPath] = checkpoint.HeaderSha256;
            var inShard = checkpoint.Tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
            foreach (var (name, file) in weightMap)
            {
                if (!string.Equals(file, shard, StringComparison.Ordinal))
                    continue;
                if (!inShard.TryGetValue(name, out var tensor))
                    throw code.Exception($"{indexPath}: tensor '{name}' is mapped to '{shard}' but that shard does not contain it", indexPath);
                tensors.Add(tensor);
            }
        }

        return new WeightSet(Name, tensors, files, [indexPath]) { HeaderDigests = digests };
    }
}
