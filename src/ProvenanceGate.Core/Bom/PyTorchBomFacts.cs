using System.Globalization;
using System.Text.Json.Nodes;
using ProvenanceGate.Diagnostics;
using ProvenanceGate.Formats.PyTorch;

namespace ProvenanceGate.Bom;

/// <summary>
/// BOM facts of PyTorch checkpoint files (<c>.bin</c>, <c>.pt</c>, <c>.pth</c>): serialisation, dtypes, tensor and
/// parameter counts, read by walking the pickle without executing it. A file the reader refuses (a pickle importing
/// code or unknown globals, trainer state) gets the reason instead of facts: the BOM still describes it, the gate judges it.
/// </summary>
internal sealed class PyTorchBomFacts
{
    public const string Source = "pytorch checkpoint pickle (walked, not executed)";

    private readonly Dictionary<string, (TorchCheckpoint? Checkpoint, string? Refusal)> _read = new(StringComparer.Ordinal);

    /// <summary>Per-file properties; none for files that are not checkpoints.</summary>
    public IEnumerable<JsonObject> FileProperties(ModelFile file)
    {
        if (file.Role != ModelFileRole.Weights || !PyTorchWeightFormat.IsCheckpointFile(file.FullPath))
            yield break;
        var (checkpoint, refusal) = Read(file.FullPath);
        if (checkpoint is null)
        {
            yield return ModelBomGenerator.Property("provenancegate:pytorch:unread", refusal!);
            yield break;
        }

        yield return ModelBomGenerator.Property("provenancegate:pytorch:serialization", checkpoint.Serialization);
        yield return ModelBomGenerator.Property("provenancegate:pytorch:dtypes", string.Join(",", DTypes([checkpoint])));
        yield return ModelBomGenerator.Property("provenancegate:pytorch:tensor-count", checkpoint.Tensors.Count.ToString(CultureInfo.InvariantCulture));
        yield return ModelBomGenerator.Property("provenancegate:pytorch:parameter-count", Parameters([checkpoint]).ToString(CultureInfo.InvariantCulture));
    }

    /// <summary>Parameter count and dtypes over the readable weight checkpoints (trainer state excluded), or null when there are none.</summary>
    public (long Parameters, List<string> DTypes)? ModelFacts(IEnumerable<ModelFile> weightFiles)
    {
        var checkpoints = weightFiles
            .Where(f => PyTorchWeightFormat.IsCheckpointFile(f.FullPath) && !PyTorchWeightFormat.IsTrainerFile(f.FullPath))
            .Select(f => Read(f.FullPath).Checkpoint)
            .OfType<TorchCheckpoint>()
            .ToList();
        return checkpoints.Count == 0 ? null : (Parameters(checkpoints), DTypes(checkpoints));
    }

    private (TorchCheckpoint? Checkpoint, string? Refusal) Read(string path)
    {
        if (!_read.TryGetValue(path, out var result))
        {
            try
            {
                result = (TorchCheckpoint.Read(path), null);
            }
            catch (ProvenanceException ex)
            {
                result = (null, $"{ex.Diagnostic.Code}: {ex.Message[(ex.Message.StartsWith(path, StringComparison.Ordinal) ? path.Length : 0)..].TrimStart(':', ' ')}");
            }

            _read[path] = result;
        }

        return result;
    }

    private static long Parameters(IEnumerable<TorchCheckpoint> checkpoints) => checkpoints.SelectMany(c => c.Tensors).Sum(t => t.ElementCount);

    private static List<string> DTypes(IEnumerable<TorchCheckpoint> checkpoints) =>
        checkpoints.SelectMany(c => c.Tensors).Select(t => t.StorageTypeName).Distinct().Order(StringComparer.Ordinal).ToList();
}
