using ProvenanceGate.Formats.Safetensors;

namespace ProvenanceGate.Formats.Weights;

/// <summary>One stored tensor: where its bytes are and how to decode them. Shapes are row-major.</summary>
public sealed record WeightTensor(string Name, SafetensorsDType DType, IReadOnlyList<long> Shape, string FilePath, long FileOffset, long ByteLength)
{
    public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);

    /// <summary>Length of one row: the last dimension (a 1-D tensor is one row).</summary>
    public long RowLength => Shape.Count == 0 ? 1 : Shape[^1];

    public long RowCount => RowLength == 0 ? 0 : ElementCount / RowLength;
}

/// <summary>The tensors of one checkpoint (possibly sharded) plus the files they live in.</summary>
public sealed record WeightSet(string Format, IReadOnlyList<WeightTensor> Tensors, IReadOnlyList<string> WeightFiles, IReadOnlyList<string> IndexFiles);

/// <summary>
/// A checkpoint format. New formats (GGUF, ONNX, PyTorch zip) are one new implementation each; tensors they
/// cannot express as a <see cref="SafetensorsDType"/> should be dequantised by their own reader.
/// </summary>
public interface IWeightFormat
{
    string Name { get; }

    /// <summary>True when <paramref name="directory"/> holds weights in this format.</summary>
    bool Detect(string directory);

    WeightSet Open(string directory);
}

public static class WeightFormats
{
    public static IReadOnlyList<IWeightFormat> All { get; } = [new SafetensorsWeightFormat()];

    /// <summary>The weights of a model directory, or null when no known format is present.</summary>
    public static WeightSet? Open(string directory)
    {
        foreach (var format in All)
        {
            if (format.Detect(directory))
                return format.Open(directory);
        }

        return null;
    }
}
