using System.Buffers;
using ProvenanceGate.Fingerprinting;
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

/// <summary>
/// Streams a tensor as float32 rows, a bounded chunk at a time (never the whole tensor in memory):
/// positioned reads into a pooled buffer, converted with the numeric kernels.
/// </summary>
public sealed class TensorReader : IDisposable
{
    /// <summary>About 4 MiB of raw bytes per read: large enough for sequential throughput, small enough to stay bounded.</summary>
    public const int ChunkBytes = 4 << 20;

    /// <summary>Values decoded per callback (128 KiB of float32) unless one row is longer.</summary>
    public const int DecodeBlockElements = 32 << 10;

    private readonly INumericKernels _kernels;
    private readonly Dictionary<string, Microsoft.Win32.SafeHandles.SafeFileHandle> _handles = new(StringComparer.Ordinal);
    private byte[] _raw = [];
    private float[] _values = [];

    public TensorReader(INumericKernels? kernels = null)
    {
        _kernels = kernels ?? NumericKernels.Default;
    }

    /// <summary>Bytes read so far (for throughput reporting).</summary>
    public long BytesRead { get; private set; }

    /// <summary>
    /// Calls <paramref name="onRows"/> with consecutive blocks of whole rows (values, first row index, row count).
    /// A row longer than the chunk is delivered alone in a buffer sized for it.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public void ReadRows(WeightTensor tensor, Action<ReadOnlySpan<float>, long, int> onRows)
    {
        var elementSize = SafetensorsDTypes.SizeOf(tensor.DType);
        var rowLength = EffectiveRowLength(tensor);
        var rowBytes = rowLength * elementSize;
        if (rowLength == 0 || tensor.ElementCount == 0)
            return;
        var rowsPerChunk = (int)Math.Max(1, ChunkBytes / rowBytes);
        var chunkElements = checked((int)(rowsPerChunk * rowLength));
        // Values are decoded and handed over a cache-sized block at a time, so every pass the caller makes over
        // them (hash, norms, Gram) reads from L2 instead of streaming a chunk-sized float copy through memory.
        var rowsPerBlock = (int)Math.Max(1, Math.Min(rowsPerChunk, DecodeBlockElements / rowLength));
        EnsureBuffers(checked(chunkElements * elementSize), checked((int)(rowsPerBlock * rowLength)));

        var handle = Handle(tensor.FilePath);
        var totalRows = tensor.ElementCount / rowLength;
        for (long row = 0; row < totalRows; row += rowsPerChunk)
        {
            var rows = (int)Math.Min(rowsPerChunk, totalRows - row);
            var elements = (int)(rows * rowLength);
            var bytes = elements * elementSize;
            var raw = _raw.AsSpan(0, bytes);
            ReadExactly(handle, raw, tensor.FileOffset + (row * rowBytes), tensor.FilePath);
            for (var done = 0; done < rows; done += rowsPerBlock)
            {
                var blockRows = Math.Min(rowsPerBlock, rows - done);
                var blockElements = (int)(blockRows * rowLength);
                var values = _values.AsSpan(0, blockElements);
                Decode(tensor.DType, raw.Slice((int)(done * rowBytes), blockElements * elementSize), values);
                onRows(values, row + done, blockRows);
            }
        }
    }

    /// <summary>
    /// The row length <see cref="ReadRows"/> delivers: the tensor's own rows, or, when one row is longer than a
    /// chunk (huge 1-D or packed tensors), the largest divisor of it that fits, so memory stays bounded.
    /// </summary>
    public static long EffectiveRowLength(WeightTensor tensor)
    {
        var rowLength = tensor.RowLength;
        var maxElements = ChunkBytes / SafetensorsDTypes.SizeOf(tensor.DType);
        if (rowLength <= maxElements)
            return rowLength;
        for (long candidate = maxElements; candidate > 1; candidate--)
        {
            if (rowLength % candidate == 0)
                return candidate;
        }

        return 1;
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public void Decode(SafetensorsDType dtype, ReadOnlySpan<byte> raw, Span<float> values)
    {
        switch (dtype)
        {
            case SafetensorsDType.F32:
                System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(raw).CopyTo(values);
                break;
            case SafetensorsDType.F16:
                _kernels.ConvertF16(raw, values);
                break;
            case SafetensorsDType.BF16:
                _kernels.ConvertBF16(raw, values);
                break;
            case SafetensorsDType.F8_E4M3:
                _kernels.ConvertF8E4M3(raw, values);
                break;
            case SafetensorsDType.F8_E5M2:
                _kernels.ConvertF8E5M2(raw, values);
                break;
            case SafetensorsDType.F64:
                var doubles = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, double>(raw);
                for (var i = 0; i < doubles.Length; i++)
                    values[i] = (float)doubles[i];
                break;
            case SafetensorsDType.I8:
                for (var i = 0; i < raw.Length; i++)
                    values[i] = (sbyte)raw[i];
                break;
            case SafetensorsDType.U8:
                for (var i = 0; i < raw.Length; i++)
                    values[i] = raw[i];
                break;
            default:
                throw new NotSupportedException($"dtype {dtype} is not decoded to float");
        }
    }

    /// <summary>Whether <see cref="Decode"/> handles this dtype (integer tensors wider than 8 bits are packed data, not weights).</summary>
    public static bool IsDecodable(SafetensorsDType dtype) => SafetensorsDTypes.IsFloatingPoint(dtype) || dtype is SafetensorsDType.I8 or SafetensorsDType.U8;

    private void EnsureBuffers(int rawBytes, int elements)
    {
        if (_raw.Length < rawBytes)
        {
            if (_raw.Length > 0)
                ArrayPool<byte>.Shared.Return(_raw);
            _raw = ArrayPool<byte>.Shared.Rent(rawBytes);
        }

        if (_values.Length < elements)
        {
            if (_values.Length > 0)
                ArrayPool<float>.Shared.Return(_values);
            _values = ArrayPool<float>.Shared.Rent(elements);
        }
    }

    private void ReadExactly(Microsoft.Win32.SafeHandles.SafeFileHandle handle, Span<byte> buffer, long offset, string path)
    {
        var total = 0;
        while (total < buffer.Length)
        {
            var read = RandomAccess.Read(handle, buffer[total..], offset + total);
            if (read == 0)
                throw Diagnostics.Diagnostics.SafetensorsMalformed.Exception($"{path}: file ended early (truncated while reading)", path);
            total += read;
        }

        BytesRead += total;
    }

    private Microsoft.Win32.SafeHandles.SafeFileHandle Handle(string path)
    {
        if (!_handles.TryGetValue(path, out var handle))
        {
            handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.SequentialScan);
            _handles[path] = handle;
        }

        return handle;
    }

    public void Dispose()
    {
        foreach (var handle in _handles.Values)
            handle.Dispose();
        _handles.Clear();
        if (_raw.Length > 0)
            ArrayPool<byte>.Shared.Return(_raw);
        if (_values.Length > 0)
            ArrayPool<float>.Shared.Return(_values);
        _raw = [];
        _values = [];
    }
}
