using System.Buffers;
using Microsoft.Win32.SafeHandles;
using ProvenanceGate.Fingerprinting;
using ProvenanceGate.Formats.Safetensors;

namespace ProvenanceGate.Formats.Weights;

/// <summary>
/// Logical float32 values of any tensor, for decoders that build one tensor from others (a LoRA merge reads its base
/// weight this way, whatever format and dtype the base is stored in).
/// </summary>
public static class TensorValues
{
    /// <summary>
    /// Writes elements <c>[firstElement, firstElement + destination.Length)</c> of <paramref name="tensor"/> to
    /// <paramref name="destination"/>, through its decoder when it has one. Returns the stored bytes read.
    /// </summary>
    public static long Read(SafeFileHandle handle, WeightTensor tensor, long firstElement, Span<float> destination)
    {
        if (tensor.Decoder is { } decoder)
            return decoder.Read(handle, tensor, firstElement, destination);
        var size = SafetensorsDTypes.SizeOf(tensor.DType);
        var buffer = ArrayPool<byte>.Shared.Rent(TensorReader.ChunkBytes);
        try
        {
            var perChunk = TensorReader.ChunkBytes / size;
            long total = 0;
            for (var done = 0; done < destination.Length; done += perChunk)
            {
                var count = Math.Min(perChunk, destination.Length - done);
                var bytes = buffer.AsSpan(0, count * size);
                ReadExactly(handle, bytes, tensor.FileOffset + ((firstElement + done) * size), tensor.FilePath);
                RowBlock.Decode(tensor.DType, bytes, destination.Slice(done, count), NumericKernels.Default);
                total += bytes.Length;
            }

            return total;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>A whole (small) tensor as float32, read through its own file handle.</summary>
    public static float[] ReadAll(WeightTensor tensor)
    {
        using var handle = File.OpenHandle(tensor.FilePath, FileMode.Open, FileAccess.Read, FileShare.Read);
        var values = new float[tensor.ElementCount];
        Read(handle, tensor, 0, values);
        return values;
    }

    internal static void ReadExactly(SafeFileHandle handle, Span<byte> buffer, long offset, string path)
    {
        var total = 0;
        while (total < buffer.Length)
        {
            var read = RandomAccess.Read(handle, buffer[total..], offset + total);
            if (read == 0)
                throw Diagnostics.Diagnostics.FileUnreadable.Exception($"{path}: file ended early (truncated while reading)", path);
            total += read;
        }
    }
}
