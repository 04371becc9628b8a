using Microsoft.Win32.SafeHandles;
using ProvenanceGate.Formats.Config;
using ProvenanceGate.Formats.Safetensors;
using ProvenanceGate.Formats.Tokenizers;

namespace ProvenanceGate.Formats.Weights;

/// <summary>One stored tensor: where its bytes are and how to decode them. Shapes are row-major.</summary>
/// <remarks>
/// <see cref="Name"/> is the name the fingerprint's role resolution sees: formats whose exporters rename tensors
/// (ONNX's <c>onnx::MatMul_123</c>, GGUF's <c>blk.0.attn_q.weight</c>) may give a Hugging Face-style name here and keep
/// their own in <see cref="StoredName"/>. <see cref="Shape"/> is the logical shape in Hugging Face orientation.
/// </remarks>
public sealed record WeightTensor(string Name, SafetensorsDType DType, IReadOnlyList<long> Shape, string FilePath, long FileOffset, long ByteLength)
{
    public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);

    /// <summary>Length of one row: the last dimension (a 1-D tensor is one row).</summary>
    public long RowLength => Shape.Count == 0 ? 1 : Shape[^1];

    public long RowCount => RowLength == 0 ? 0 : ElementCount / RowLength;

    /// <summary>
    /// Set when the stored bytes are not plain row-major elements of <see cref="DType"/> (quantised blocks, a
    /// transposed initialiser, rows permuted by a converter): <see cref="TensorReader"/> then asks the decoder for
    /// float32 values, and <see cref="DType"/> is <see cref="SafetensorsDType.F32"/>. A decoder that only reorders
    /// stored elements may keep the stored <see cref="DType"/> and implement <see cref="ITensorDecoder.ReadRaw"/>.
    /// </summary>
    public ITensorDecoder? Decoder { get; init; }

    /// <summary>The format's own element type when it has no <see cref="SafetensorsDType"/> (e.g. <c>Q8_0</c>, <c>Q4_K</c>).</summary>
    public string? StoredType { get; init; }

    /// <summary>The format's own tensor name, when <see cref="Name"/> was mapped to a Hugging Face-style name.</summary>
    public string? StoredName { get; init; }

    /// <summary>The element type as the file stores it, for reports.</summary>
    public string StorageTypeName => StoredType ?? DType.ToString();
}

/// <summary>Produces a tensor's logical float32 values from whatever its format stores.</summary>
public interface ITensorDecoder
{
    /// <summary>
    /// Writes the logical elements <c>[firstElement, firstElement + destination.Length)</c> of
    /// <paramref name="tensor"/>, in row-major order of its logical <see cref="WeightTensor.Shape"/>, to
    /// <paramref name="destination"/>, reading through <paramref name="handle"/> (open on the tensor's file).
    /// Requests always cover whole rows. Returns the number of stored bytes read (for throughput reporting).
    /// Malformed or truncated data is a <see cref="Diagnostics.ProvenanceException"/>, never another exception.
    /// </summary>
    long Read(SafeFileHandle handle, WeightTensor tensor, long firstElement, Span<float> destination);

    /// <summary>
    /// Like <see cref="Read"/>, for a tensor whose <see cref="WeightTensor.DType"/> is not F32: writes the logical
    /// elements as raw bytes of that dtype (a decoder that only reorders elements, such as a transposed initialiser,
    /// so BF16 keeps its fast paths instead of being widened).
    /// </summary>
    long ReadRaw(SafeFileHandle handle, WeightTensor tensor, long firstElement, Span<byte> destination) =>
        throw new NotSupportedException($"{GetType().Name} decodes to float32 only; declare the tensor F32");
}

/// <summary>
/// A decoder whose tensor is stored transposed (<c>stored[c][r] = logical[r][c]</c>, an ONNX MatMul weight): a reader
/// may stream the stored rows as they lie and place each value itself, instead of asking the decoder for logical rows.
/// </summary>
public interface ITransposedStorage
{
    /// <summary>Stored rows: the logical row length.</summary>
    long StoredRows { get; }

    /// <summary>Stored row length: the logical row count.</summary>
    long StoredColumns { get; }
}

/// <summary>The tensors of one checkpoint (possibly sharded) plus the files they live in.</summary>
public sealed record WeightSet(string Format, IReadOnlyList<WeightTensor> Tensors, IReadOnlyList<string> WeightFiles, IReadOnlyList<string> IndexFiles)
{
    /// <summary>Architecture facts the weight file itself carries (GGUF metadata, ONNX Runtime GenAI config), used when there is no config.json.</summary>
    public ModelConfig? Config { get; init; }

    /// <summary>A tokenizer the weight file itself carries (GGUF <c>tokenizer.ggml.*</c>), used when there are no tokenizer files.</summary>
    public TokenizerData? Tokenizer { get; init; }

    /// <summary>
    /// Per weight file, a SHA-256 of the bytes that describe its tensors (and, where the format has them, checksums of
    /// their data), which a fingerprint records instead of hashing the whole file. Files without one are hashed whole.
    /// </summary>
    public IReadOnlyDictionary<string, string>? HeaderDigests { get; init; }

    /// <summary>
    /// Per weight file, the length of its leading header (names, shapes, types, offsets): a fingerprint records the
    /// header's digest instead of hashing every weight byte a second time. Files not listed are hashed whole.
    /// </summary>
    public IReadOnlyDictionary<string, long> HeaderLengths { get; init; } = new Dictionary<string, long>();
}

/// <summary>
/// A checkpoint format. New formats (GGUF, ONNX, PyTorch zip) are one new implementation each; tensors they
/// cannot express as a <see cref="SafetensorsDType"/> get an <see cref="ITensorDecoder"/>.
/// </summary>
public interface IWeightFormat
{
    string Name { get; }

    /// <summary>True when <paramref name="path"/> (a model directory, or a single model file) holds weights in this format.</summary>
    bool Detect(string path);

    /// <summary>The weights of <paramref name="path"/>: a model directory, or a single model file that <see cref="Detect"/> accepted.</summary>
    WeightSet Open(string path);
}

public static class WeightFormats
{
    public static IReadOnlyList<IWeightFormat> All { get; } = [new SafetensorsWeightFormat(), new Gguf.GgufWeightFormat(), new Onnx.OnnxWeightFormat(), new PyTorch.PyTorchWeightFormat()];

    /// <summary>A single file that a known format reads as a model (never a <c>.json</c> file: those are fingerprints and metadata).</summary>
    public static bool IsModelFile(string path) =>
        File.Exists(path) && !path.EndsWith(".json", StringComparison.OrdinalIgnoreCase) && All.Any(f => f.Detect(path));

    /// <summary>The weights of a model directory or a single model file, or null when no known format is present.</summary>
    public static WeightSet? Open(string path)
    {
        foreach (var format in All)
        {
            if (format.Detect(path))
                return format.Open(path);
        }

        return null;
    }
}
