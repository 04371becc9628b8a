using System.Buffers;
using System.IO.MemoryMappedFiles;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using ProvenanceGate.Fingerprinting;
using ProvenanceGate.Formats.Safetensors;
using ProvenanceGate.IO;

namespace ProvenanceGate.Formats.Weights;

/// <summary>
/// Streams a tensor a bounded block of whole rows at a time (never the whole tensor in memory). Tensors stored as
/// they are read are mapped into memory, one tensor at a time, and the blocks handed over where they lie in the page
/// cache: no copy (a positioned read costs a kernel copy of every byte, which measured as much CPU as all the
/// fingerprint's own work on BF16). Small tensors, decoded ones and files that cannot be mapped are read with
/// positioned reads into one buffer. Blocks are handed over raw, so the hot dtypes (BF16, F32) are consumed where
/// they lie and only the rare ones pay for a float copy.
/// </summary>
public sealed unsafe class TensorReader : IDisposable
{
    /// <summary>
    /// Raw bytes per read: small enough that the block (and, for rare dtypes, its float copy) stays in L2 while
    /// every pass of the caller runs over it, large enough that system calls are a rounding error.
    /// </summary>
    public const int ChunkBytes = 256 << 10;

    private readonly Dictionary<string, SafeFileHandle> _handles = new(StringComparer.Ordinal);
    private readonly Dictionary<string, MappedFile?> _maps = new(StringComparer.Ordinal);
    private readonly RowBlock _block;
    private byte[] _raw = [];

    public TensorReader(INumericKernels? kernels = null)
    {
        _block = new RowBlock(kernels ?? NumericKernels.Default);
    }

    /// <summary>Bytes read so far (for throughput reporting).</summary>
    public long BytesRead { get; private set; }

    /// <summary>
    /// Calls <paramref name="onBlock"/> with consecutive blocks of whole rows. A row longer than a chunk is cut
    /// into pieces of <see cref="EffectiveRowLength"/> values, delivered as rows of their own.
    /// The block is reused: it is valid only during the call.
    /// </summary>
    public void ReadBlocks(WeightTensor tensor, Action<RowBlock> onBlock) => ReadBlocks(tensor, onBlock, rowGroup: 1);

    /// <summary>
    /// <see cref="ReadBlocks(WeightTensor, Action{RowBlock})"/> in blocks of a multiple of <paramref name="rowGroup"/> whole rows
    /// (rows are never cut when it is above 1, so a block may pass a chunk by up to <paramref name="rowGroup"/> rows).
    /// </summary>
    public void ReadBlocks(WeightTensor tensor, Action<RowBlock> onBlock, int rowGroup)
    {
        var elementSize = SafetensorsDTypes.SizeOf(tensor.DType);
        var rowLength = rowGroup > 1 ? tensor.RowLength : EffectiveRowLength(tensor);
        if (rowLength == 0 || tensor.ElementCount == 0)
            return;
        if (rowGroup > 1 && tensor.RowCount % rowGroup != 0)
            throw new ArgumentException($"'{tensor.Name}' has {tensor.RowCount} rows, not groups of {rowGroup}", nameof(rowGroup));
        var rowBytes = rowLength * elementSize;
        var rowsPerChunk = (int)Math.Max(rowGroup, ChunkBytes / rowBytes / rowGroup * rowGroup);
        var handle = Handle(tensor.FilePath);
        var totalRows = tensor.ElementCount / rowLength;
        if (MapTensor(tensor, handle) is var start && start != null)
        {
            for (long row = 0; row < totalRows; row += rowsPerChunk)
            {
                var rows = (int)Math.Min(rowsPerChunk, totalRows - row);
                var bytes = (int)(rows * rowBytes);
                _block.Reset(tensor.DType, start + (row * rowBytes), bytes, (int)rowLength, row, rows);
                onBlock(_block);
                BytesRead += bytes;
            }

            return;
        }

        EnsureRaw(checked((int)(rowsPerChunk * rowBytes)));
        for (long row = 0; row < totalRows; row += rowsPerChunk)
        {
            var rows = (int)Math.Min(rowsPerChunk, totalRows - row);
            var bytes = (int)(rows * rowBytes);
            ReadRows(handle, tensor, row, rowLength, bytes);
            fixed (byte* raw = _raw)
            {
                _block.Reset(tensor.DType, raw, bytes, (int)rowLength, row, rows);
                onBlock(_block);
            }
        }
    }

    /// <summary>Smallest tensor worth a mapping: below one read chunk, a single positioned read is as cheap.</summary>
    private const long MinMappedBytes = ChunkBytes;

    /// <summary>
    /// The address of the tensor's bytes in a read-only view of its whole file, or null where it is read instead:
    /// decoded tensors, small ones, a 32-bit process, a file the platform cannot map, or a tensor whose bytes are fewer than
    /// its shape needs or reach past the file's end (the positioned read then reports the truncation as an input error;
    /// a mapping would fault).
    /// </summary>
    /// <remarks>
    /// One view per file for the reader's life, not one per tensor: unmapping in a process whose other threads run
    /// costs a TLB shootdown (an interrupt to every core, and a VM exit under a hypervisor), which measured as a fifth
    /// of a 2 GB fingerprint's CPU time when every tensor was a view of its own.
    /// </remarks>
    private byte* MapTensor(WeightTensor tensor, SafeFileHandle handle)
    {
        if (tensor.Decoder is not null || tensor.ByteLength < MinMappedBytes || !Environment.Is64BitProcess
            || tensor.ByteLength < tensor.ElementCount * SafetensorsDTypes.SizeOf(tensor.DType)
            || tensor.FileOffset < 0 || tensor.FileOffset + tensor.ByteLength > RandomAccess.GetLength(handle))
            return null;
        if (!_maps.TryGetValue(tensor.FilePath, out var map))
        {
            // Mapped only under a read lease, so no other process can truncate the file beneath the mapping (SIGBUS).
            map = ReadLease.TryTake(handle) ? MappedFile.TryCreate(handle) : null;
            _maps[tensor.FilePath] = map;
        }
        else if (map is not null && ReadLease.IsBreaking(handle))
        {
            // A writer waits for this file: let it go and read the rest (a truncation then shows as a short read).
            map.Dispose();
            ReadLease.Release(handle);
            _maps[tensor.FilePath] = map = null;
        }

        return map is not null && tensor.FileOffset + tensor.ByteLength <= map.Length ? map.Start + tensor.FileOffset : null;
    }

    /// <summary>A whole file mapped read-only, its view's pointer acquired until disposed.</summary>
    private sealed class MappedFile : IDisposable
    {
        private readonly MemoryMappedFile _file;
        private readonly MemoryMappedViewAccessor _accessor;

        private MappedFile(MemoryMappedFile file, MemoryMappedViewAccessor accessor)
        {
            _file = file;
            _accessor = accessor;
            byte* pointer = null;
            accessor.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
            Start = pointer + accessor.PointerOffset;
            Length = accessor.Capacity;
        }

        public byte* Start { get; }

        public long Length { get; }

        /// <summary>The mapping, or null (lease released) where the platform cannot map the file.</summary>
        public static MappedFile? TryCreate(SafeFileHandle handle)
        {
            MemoryMappedFile? file = null;
            try
            {
                file = MemoryMappedFile.CreateFromFile(handle, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: true);
                return new MappedFile(file, file.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read));
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
            {
                file?.Dispose();
                ReadLease.Release(handle);
                return null;
            }
        }

        public void Dispose()
        {
            _accessor.SafeMemoryMappedViewHandle.ReleasePointer();
            _accessor.Dispose();
            _file.Dispose();
        }
    }

    /// <summary>
    /// Row <paramref name="row"/> of <paramref name="tensor"/> as float32 (a positioned read of that row alone): the few
    /// anchor rows and norm gains the rotation-invariant signals need before the main pass. Rows must fit a chunk.
    /// </summary>
    public void ReadRow(WeightTensor tensor, long row, Span<float> destination)
    {
        var rowLength = tensor.RowLength;
        if (EffectiveRowLength(tensor) != rowLength || row < 0 || row >= tensor.RowCount || destination.Length < rowLength)
            throw new ArgumentOutOfRangeException(nameof(row), $"row {row} of '{tensor.Name}' cannot be read whole");
        var rowBytes = (int)(rowLength * SafetensorsDTypes.SizeOf(tensor.DType));
        EnsureRaw(rowBytes);
        ReadRows(Handle(tensor.FilePath), tensor, row, rowLength, rowBytes);
        fixed (byte* raw = _raw)
        {
            _block.Reset(tensor.DType, raw, rowBytes, (int)rowLength, row, 1);
            _block.CopyRow(0, destination);
        }
    }

    /// <summary>
    /// Rows <paramref name="rows"/> of <paramref name="tensor"/> as float32, row i at <c>destination[i * RowLength..]</c>.
    /// For a matrix stored transposed whose file can be mapped, one walk over its stored rows picks every requested
    /// position (a logical row is a stored column: read alone it would cost one small read per stored row); otherwise
    /// <see cref="ReadRow"/> per row.
    /// </summary>
    public void ReadRows(WeightTensor tensor, IReadOnlyList<long> rows, Span<float> destination)
    {
        var rowLength = tensor.RowLength;
        if (destination.Length < rows.Count * rowLength)
            throw new ArgumentOutOfRangeException(nameof(destination));
        if (tensor.Decoder is ITransposedStorage transposed && tensor.DType is SafetensorsDType.BF16 or SafetensorsDType.F16 or SafetensorsDType.F32
            && transposed.StoredRows == rowLength && transposed.StoredColumns == tensor.RowCount && rows.All(r => r >= 0 && r < tensor.RowCount)
            && MapTensor(tensor with { Decoder = null }, Handle(tensor.FilePath)) is var start && start != null)
        {
            var size = SafetensorsDTypes.SizeOf(tensor.DType);
            var storedRowBytes = tensor.RowCount * size;
            for (long c = 0; c < rowLength; c++)
            {
                var storedRow = start + (c * storedRowBytes);
                for (var i = 0; i < rows.Count; i++)
                {
                    var at = storedRow + (rows[i] * size);
                    destination[(int)((i * rowLength) + c)] = tensor.DType switch
                    {
                        SafetensorsDType.BF16 => BitConverter.UInt32BitsToSingle((uint)*(ushort*)at << 16),
                        SafetensorsDType.F16 => (float)*(Half*)at,
                        _ => *(float*)at,
                    };
                }
            }

            BytesRead += rowLength * rows.Count * size;
            return;
        }

        for (var i = 0; i < rows.Count; i++)
            ReadRow(tensor, rows[i], destination.Slice((int)(i * rowLength), (int)rowLength));
    }

    /// <summary>
    /// Fills the first <paramref name="bytes"/> of the read buffer with rows from <paramref name="firstRow"/> on, as
    /// stored or through the tensor's decoder (quantised, transposed, permuted or merged tensors are never read raw).
    /// </summary>
    private void ReadRows(SafeFileHandle handle, WeightTensor tensor, long firstRow, long rowLength, int bytes)
    {
        if (tensor.Decoder is { } decoder)
        {
            BytesRead += tensor.DType == SafetensorsDType.F32
                ? decoder.Read(handle, tensor, firstRow * rowLength, MemoryMarshal.Cast<byte, float>(_raw.AsSpan(0, bytes)))
                : decoder.ReadRaw(handle, tensor, firstRow * rowLength, _raw.AsSpan(0, bytes));
        }
        else
        {
            ReadExactly(handle, _raw.AsSpan(0, bytes), tensor.FileOffset + (firstRow * rowLength * SafetensorsDTypes.SizeOf(tensor.DType)), tensor.FilePath);
        }
    }

    /// <summary>
    /// The row length <see cref="ReadBlocks"/> delivers: the tensor's own rows, or, when one row is longer than a
    /// chunk (huge 1-D or packed tensors), the largest divisor of it that fits, so memory stays bounded.
    /// </summary>
    public static long EffectiveRowLength(WeightTensor tensor)
    {
        var rowLength = tensor.RowLength;
        if (tensor.Decoder is not null)
            return rowLength;
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

    /// <summary>Whether a <see cref="RowBlock"/> can decode this dtype (integer tensors wider than 8 bits are packed data, not weights).</summary>
    public static bool IsDecodable(SafetensorsDType dtype) => SafetensorsDTypes.IsFloatingPoint(dtype) || dtype is SafetensorsDType.I8 or SafetensorsDType.U8;

    private void EnsureRaw(int bytes)
    {
        if (_raw.Length >= bytes)
            return;
        if (_raw.Length > 0)
            ArrayPool<byte>.Shared.Return(_raw);
        _raw = ArrayPool<byte>.Shared.Rent(bytes);
    }

    private void ReadExactly(SafeFileHandle handle, Span<byte> buffer, long offset, string path)
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

    private SafeFileHandle Handle(string path)
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
        foreach (var (path, map) in _maps)
        {
            if (map is null)
                continue;
            map.Dispose();
            ReadLease.Release(_handles[path]);
        }

        _maps.Clear();
        foreach (var handle in _handles.Values)
            handle.Dispose();
        _handles.Clear();
        if (_raw.Length > 0)
            ArrayPool<byte>.Shared.Return(_raw);
        _raw = [];
        _block.Dispose();
    }
}

/// <summary>
/// A block of whole rows as stored (raw bytes in the tensor's dtype) with the float views the signals need:
/// a row's sum of squares and single values straight from BF16/F32 bytes, and a float copy of the block made only
/// when asked for (and only once per block).
/// </summary>
public sealed unsafe class RowBlock : IDisposable
{
    private readonly INumericKernels _kernels;
    private byte* _raw;
    private int _byteCount;
    private float[] _decoded = [];
    private bool _isDecoded;

    internal RowBlock(INumericKernels kernels)
    {
        _kernels = kernels;
    }

    public SafetensorsDType DType { get; private set; }

    public int RowLength { get; private set; }

    /// <summary>Index of the block's first row within the tensor.</summary>
    public long FirstRow { get; private set; }

    public int RowCount { get; private set; }

    /// <summary>The block's bytes as stored: valid only during the call that hands the block over.</summary>
    public ReadOnlySpan<byte> Raw => new(_raw, _byteCount);

    /// <summary>The block as float32: the bytes themselves for F32, a converted copy for every other dtype.</summary>
    public ReadOnlySpan<float> Values
    {
        get
        {
            if (DType == SafetensorsDType.F32)
                return MemoryMarshal.Cast<byte, float>(Raw);
            var count = RowLength * RowCount;
            if (!_isDecoded)
            {
                if (_decoded.Length < count)
                {
                    if (_decoded.Length > 0)
                        ArrayPool<float>.Shared.Return(_decoded);
                    _decoded = ArrayPool<float>.Shared.Rent(count);
                }

                Decode(Raw, _decoded.AsSpan(0, count));
                _isDecoded = true;
            }

            return _decoded.AsSpan(0, count);
        }
    }

    /// <param name="raw">Pinned or mapped memory that stays put while the block is in use.</param>
    internal void Reset(SafetensorsDType dtype, byte* raw, int byteCount, int rowLength, long firstRow, int rowCount)
    {
        DType = dtype;
        _raw = raw;
        _byteCount = byteCount;
        RowLength = rowLength;
        FirstRow = firstRow;
        RowCount = rowCount;
        _isDecoded = false;
    }

    /// <summary>Sum of squares of row <paramref name="row"/> of the block, without a float copy for BF16 and F32.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public double SumOfSquares(int row) => DType switch
    {
        SafetensorsDType.BF16 => _kernels.SumOfSquaresBF16(RawRow(row)),
        _ => _kernels.SumOfSquares(Values.Slice(row * RowLength, RowLength)),
    };

    /// <summary>Writes row <paramref name="row"/> of the block to <paramref name="destination"/> as float32.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void CopyRow(int row, Span<float> destination)
    {
        if (_isDecoded)
            _decoded.AsSpan(row * RowLength, RowLength).CopyTo(destination);
        else
            Decode(RawRow(row), destination[..RowLength]);
    }

    /// <summary>Value <paramref name="column"/> of row <paramref name="row"/> as float32.</summary>
    public float Value(int row, int column)
    {
        Span<float> value = stackalloc float[1];
        Gather(row, [column], value, 0);
        return value[0];
    }

    /// <summary>
    /// destination[i * stride] = value <paramref name="columns"/>[i] of row <paramref name="row"/>: a few columns
    /// of every row (the Gram coordinates) without converting the rest of the row. Columns must be ascending.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Gather(int row, ReadOnlySpan<int> columns, Span<float> destination, int stride)
    {
        if (columns.Length == 0)
            return;
        // One range check for the whole gather; the loops below run unchecked (a row has thousands of values,
        // the gather a few dozen, and per-element checks cost more than the loads).
        var last = (columns.Length - 1) * stride;
        if ((uint)row >= (uint)RowCount || (uint)last >= (uint)destination.Length || columns[^1] >= RowLength || columns[0] < 0)
            throw new ArgumentOutOfRangeException(nameof(columns));
        ref var column = ref MemoryMarshal.GetReference(columns);
        ref var target = ref MemoryMarshal.GetReference(destination);
        switch (DType)
        {
            case SafetensorsDType.BF16:
                ref var bf16 = ref Unsafe.Add(ref Unsafe.As<byte, ushort>(ref MemoryMarshal.GetReference(Raw)), row * RowLength);
                for (var i = 0; i < columns.Length; i++)
                    Unsafe.Add(ref target, i * stride) = BitConverter.UInt32BitsToSingle((uint)Unsafe.Add(ref bf16, Unsafe.Add(ref column, i)) << 16);
                break;
            default:
                var values = Values.Slice(row * RowLength, RowLength);
                for (var i = 0; i < columns.Length; i++)
                    Unsafe.Add(ref target, i * stride) = values[Unsafe.Add(ref column, i)];
                break;
        }
    }

    private ReadOnlySpan<byte> RawRow(int row)
    {
        var size = SafetensorsDTypes.SizeOf(DType);
        return Raw.Slice(row * RowLength * size, RowLength * size);
    }

    private void Decode(ReadOnlySpan<byte> raw, Span<float> values) => Decode(DType, raw, values, _kernels);

    /// <summary>Stored elements of <paramref name="dtype"/> as float32 (every dtype <see cref="TensorReader.IsDecodable"/> accepts).</summary>
    internal static void Decode(SafetensorsDType dtype, ReadOnlySpan<byte> raw, Span<float> values, INumericKernels kernels)
    {
        switch (dtype)
        {
            case SafetensorsDType.F32:
                MemoryMarshal.Cast<byte, float>(raw).CopyTo(values);
                break;
            case SafetensorsDType.F16:
                kernels.ConvertF16(raw, values);
                break;
            case SafetensorsDType.BF16:
                kernels.ConvertBF16(raw, values);
                break;
            case SafetensorsDType.F8_E4M3:
                kernels.ConvertF8E4M3(raw, values);
                break;
            case SafetensorsDType.F8_E5M2:
                kernels.ConvertF8E5M2(raw, values);
                break;
            case SafetensorsDType.F64:
                var doubles = MemoryMarshal.Cast<byte, double>(raw);
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

    public void Dispose()
    {
        if (_decoded.Length > 0)
            ArrayPool<float>.Shared.Return(_decoded);
        _decoded = [];
        _raw = null;
    }
}
