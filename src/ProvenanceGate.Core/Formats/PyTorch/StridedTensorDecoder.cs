using System.Buffers;
using Microsoft.Win32.SafeHandles;
using ProvenanceGate.Fingerprinting;
using ProvenanceGate.Formats.Safetensors;
using ProvenanceGate.Formats.Weights;

namespace ProvenanceGate.Formats.PyTorch;

/// <summary>
/// A tensor saved as a non-contiguous view of its storage (a transposed or sliced tensor put straight into a state
/// dict): each logical row is gathered from the storage by its strides. The tensor's <see cref="WeightTensor.FileOffset"/>
/// is the storage's first byte; rows whose elements are adjacent are read in one piece, others element by element
/// through a small window.
/// </summary>
internal sealed class StridedTensorDecoder(SafetensorsDType storedType, long storageOffset, long[] stride) : ITensorDecoder
{
    /// <summary>A strided row whose span fits this window is read in one piece and gathered.</summary>
    private const int WindowBytes = 1 << 20;

    public long Read(SafeFileHandle handle, WeightTensor tensor, long firstElement, Span<float> destination)
    {
        var size = SafetensorsDTypes.SizeOf(storedType);
        var shape = tensor.Shape;
        var rowLength = (int)tensor.RowLength;
        var lastStride = shape.Count == 0 ? 1 : stride[^1];
        var rows = destination.Length / rowLength;
        var firstRow = firstElement / rowLength;
        long read = 0;
        var span = rowLength == 0 ? 0 : ((rowLength - 1) * lastStride) + 1;
        var window = ArrayPool<byte>.Shared.Rent((int)Math.Min(WindowBytes, Math.Max(span, 1) * size));
        try
        {
            for (var r = 0; r < rows; r++)
            {
                var start = storageOffset + RowStart(shape, firstRow + r);
                var values = destination.Slice(r * rowLength, rowLength);
                if (span * size <= window.Length)
                {
                    var bytes = window.AsSpan(0, (int)(span * size));
                    TensorValues.ReadExactly(handle, bytes, tensor.FileOffset + (start * size), tensor.FilePath);
                    read += bytes.Length;
                    if (lastStride == 1)
                    {
                        RowBlock.Decode(storedType, bytes, values, NumericKernels.Default);
                        continue;
                    }

                    for (var c = 0; c < rowLength; c++)
                        RowBlock.Decode(storedType, bytes.Slice((int)(c * lastStride * size), size), values.Slice(c, 1), NumericKernels.Default);
                    continue;
                }

                for (var c = 0; c < rowLength; c++)
                {
                    var element = window.AsSpan(0, size);
                    TensorValues.ReadExactly(handle, element, tensor.FileOffset + ((start + (c * lastStride)) * size), tensor.FilePath);
                    RowBlock.Decode(storedType, element, values.Slice(c, 1), NumericKernels.Default);
                    read += size;
                }
            }

            return read;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(window);
        }
    }

    /// <summary>Storage element of the first value of logical row <paramref name="row"/> (row-major over all but the last dimension).</summary>
    private long RowStart(IReadOnlyList<long> shape, long row)
    {
        long offset = 0;
        for (var d = shape.Count - 2; d >= 0; d--)
        {
            offset += row % shape[d] * stride[d];
            row /= shape[d];
        }

        return offset;
    }
}
