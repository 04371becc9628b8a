using System.Buffers;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using ProvenanceGate.Formats.Weights;

namespace ProvenanceGate.Formats.Onnx;

/// <summary>
/// A weight stored [in, out] (a MatMul initializer) presented as Hugging Face's [out, in], in its stored element type
/// (elements are only reordered, so BF16 keeps its fast paths). Logical rows are stored columns: a matrix up to
/// <see cref="WholeBytes"/> is read with one sequential read and transposed from memory; a larger one a panel of
/// columns at a time, each stored row contributing one contiguous slice per panel. Either buffer is dropped once its
/// last row has been handed out, so memory is bounded by <see cref="WholeBytes"/> per worker whatever the model size.
/// </summary>
/// <param name="wholeBytes">Largest matrix read whole (tests lower it to exercise panels).</param>
/// <param name="panelBytes">Bound on a panel.</param>
internal sealed class TransposedDecoder(int elementSize, long storedRows, long storedColumns, int wholeBytes = TransposedDecoder.WholeBytes, int panelBytes = TransposedDecoder.PanelBytes) : ITensorDecoder, ITransposedStorage
{
    public long StoredRows => storedRows;

    public long StoredColumns => storedColumns;

    /// <summary>Matrices up to this size are read whole (one sequential read beats a strided walk).</summary>
    public const int WholeBytes = 32 << 20;

    /// <summary>Bound on an assembled panel of a larger matrix.</summary>
    public const int PanelBytes = 16 << 20;

    /// <summary>Width of a panel for a request of fewer rows than this (one anchor row): one cache line of BF16 per stored row.</summary>
    public const int NarrowColumns = 32;

    /// <summary>Stored rows read per panel tile: the transposing writes then fill whole cache lines (32 BF16), not single elements.</summary>
    private const int TileRows = 32;

    private readonly Lock _lock = new();
    private byte[]? _buffer;
    private bool _whole;
    private long _panelFirst = -1;
    private int _panelColumns;

    public long Read(SafeFileHandle handle, WeightTensor tensor, long firstElement, Span<float> destination) =>
        ReadRaw(handle, tensor, firstElement, MemoryMarshal.AsBytes(destination));

    public long ReadRaw(SafeFileHandle handle, WeightTensor tensor, long firstElement, Span<byte> destination)
    {
        lock (_lock)
        {
            var firstRow = firstElement / storedRows;
            var rows = destination.Length / elementSize / storedRows;
            var rowBytes = checked((int)(storedRows * elementSize));
            long bytesRead = 0;
            for (var row = firstRow; row < firstRow + rows;)
            {
                if (_buffer is null || (!_whole && (row < _panelFirst || row >= _panelFirst + _panelColumns)))
                    bytesRead += Load(handle, tensor, row, narrow: rows < NarrowColumns);
                var target = destination.Slice(checked((int)((row - firstRow) * rowBytes)));
                long take;
                if (_whole)
                {
                    take = firstRow + rows - row;
                    // Logical rows [row, row + take) are stored columns: a transpose of that column band.
                    Transpose(_buffer.AsSpan(checked((int)(row * elementSize))), checked((int)storedColumns), checked((int)storedRows), (int)take, target, checked((int)storedRows));
                }
                else
                {
                    take = Math.Min(firstRow + rows - row, _panelFirst + _panelColumns - row);
                    _buffer.AsSpan(checked((int)((row - _panelFirst) * rowBytes)), checked((int)(take * rowBytes))).CopyTo(target);
                }

                row += take;
                if (row == storedColumns)
                    Release();
            }

            return bytesRead;
        }
    }

    /// <param name="narrow">
    /// A request for a few rows (the anchor rows read before the streaming pass, in no particular order): a panel of
    /// <see cref="NarrowColumns"/> columns serves it, so a few scattered rows cost a few narrow strided reads instead of
    /// a full panel (and its transpose) each.
    /// </param>
    private long Load(SafeFileHandle handle, WeightTensor tensor, long firstColumn, bool narrow)
    {
        Release();
        var total = storedRows * storedColumns * elementSize;
        if (total <= wholeBytes)
        {
            _buffer = ArrayPool<byte>.Shared.Rent((int)total);
            _whole = true;
            ProtobufReader.ReadAt(handle, _buffer.AsSpan(0, (int)total), tensor.FileOffset, tensor.FilePath);
            return total;
        }

        var columns = (int)Math.Clamp(narrow ? NarrowColumns : panelBytes / elementSize / storedRows, 1, storedColumns - firstColumn);
        _buffer = ArrayPool<byte>.Shared.Rent(checked((int)(columns * storedRows * elementSize)));
        _whole = false;
        _panelFirst = firstColumn;
        _panelColumns = columns;
        var tileRows = (int)Math.Min(TileRows, storedRows);
        var sliceBytes = columns * elementSize;
        var tile = ArrayPool<byte>.Shared.Rent(tileRows * sliceBytes);
        try
        {
            for (long stored = 0; stored < storedRows; stored += tileRows)
            {
                var count = (int)Math.Min(tileRows, storedRows - stored);
                for (var t = 0; t < count; t++)
                {
                    var offset = tensor.FileOffset + ((((stored + t) * storedColumns) + firstColumn) * elementSize);
                    ProtobufReader.ReadAt(handle, tile.AsSpan(t * sliceBytes, sliceBytes), offset, tensor.FilePath);
                }

                Transpose(tile, columns, count, columns, _buffer.AsSpan(checked((int)(stored * elementSize))), checked((int)storedRows));
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(tile);
        }

        return storedRows * columns * elementSize;
    }

    /// <summary>
    /// destination[c * destinationStride + r] = source[r * sourceStride + c] for r &lt; rows, c &lt; columns, in elements
    /// of <c>elementSize</c> bytes; spans start at element (0, 0).
    /// </summary>
    private void Transpose(ReadOnlySpan<byte> source, int sourceStride, int rows, int columns, Span<byte> destination, int destinationStride)
    {
        switch (elementSize)
        {
            case 1: Transpose<byte>(source, sourceStride, rows, columns, destination, destinationStride); break;
            case 2 when BlockTranspose.IsSupported: BlockTranspose.Transpose16(MemoryMarshal.Cast<byte, ushort>(source), sourceStride, rows, columns, MemoryMarshal.Cast<byte, ushort>(destination), destinationStride); break;
            case 4 when BlockTranspose.IsSupported: BlockTranspose.Transpose32(MemoryMarshal.Cast<byte, uint>(source), sourceStride, rows, columns, MemoryMarshal.Cast<byte, uint>(destination), destinationStride); break;
            case 2: Transpose(MemoryMarshal.Cast<byte, ushort>(source), sourceStride, rows, columns, MemoryMarshal.Cast<byte, ushort>(destination), destinationStride); break;
            case 4: Transpose(MemoryMarshal.Cast<byte, uint>(source), sourceStride, rows, columns, MemoryMarshal.Cast<byte, uint>(destination), destinationStride); break;
            default: Transpose(MemoryMarshal.Cast<byte, ulong>(source), sourceStride, rows, columns, MemoryMarshal.Cast<byte, ulong>(destination), destinationStride); break;
        }
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    internal static void Transpose<T>(ReadOnlySpan<T> source, int sourceStride, int rows, int columns, Span<T> destination, int destinationStride)
    {
        if (rows == 0 || columns == 0)
            return;
        BlockTranspose.RequireFits(source.Length, sourceStride, rows, columns, destination.Length, destinationStride);
        ref var from = ref MemoryMarshal.GetReference(source);
        ref var to = ref MemoryMarshal.GetReference(destination);
        // Tiles of 8 source rows: row strides are often powers of two (4 KiB), so more rows would all land in one L1 set
        // (8-way) and evict each other on every read; 8 rows stay resident while 256 columns are gathered from them.
        const int RowBlock = 8, ColumnBlock = 256;
        for (var r0 = 0; r0 < rows; r0 += RowBlock)
        {
            var rEnd = Math.Min(rows, r0 + RowBlock);
            for (var c0 = 0; c0 < columns; c0 += ColumnBlock)
            {
                var cEnd = Math.Min(columns, c0 + ColumnBlock);
                for (var c = c0; c < cEnd; c++)
                {
                    ref var target = ref System.Runtime.CompilerServices.Unsafe.Add(ref to, (nint)c * destinationStride);
                    for (var r = r0; r < rEnd; r++)
                        System.Runtime.CompilerServices.Unsafe.Add(ref target, r) = System.Runtime.CompilerServices.Unsafe.Add(ref from, ((nint)r * sourceStride) + c);
                }
            }
        }
    }

    private void Release()
    {
        if (_buffer is not null)
            ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = null;
        _whole = false;
        _panelFirst = -1;
        _panelColumns = 0;
    }
}

/// <summary>
/// An initializer stored in ONNX's typed <c>int32_data</c> field: one varint per element (float16 and bfloat16 as their
/// 16-bit patterns, int8/uint8 as values). Read forward from a cursor, so sequential requests cost one pass.
/// </summary>
internal sealed class VarintDecoder(int dataType, long length) : ITensorDecoder
{
    private const int WindowBytes = 64 << 10;

    private readonly Lock _lock = new();
    private long _cursorElement;
    private long _cursorOffset;

    public static bool Supports(int dataType) => dataType is OnnxTypes.Float16 or OnnxTypes.BFloat16 or OnnxTypes.Int8 or OnnxTypes.UInt8;

    public long Read(SafeFileHandle handle, WeightTensor tensor, long firstElement, Span<float> destination)
    {
        lock (_lock)
        {
            if (firstElement < _cursorElement)
                (_cursorElement, _cursorOffset) = (0, 0);
            var window = ArrayPool<byte>.Shared.Rent(WindowBytes);
            try
            {
                var start = _cursorOffset;
                var windowStart = -1L;
                var windowLength = 0;
                var produced = 0;
                while (_cursorElement < firstElement + destination.Length)
                {
                    ulong value = 0;
                    for (var shift = 0; ; shift += 7)
                    {
                        if (_cursorOffset >= length || shift > 63)
                            throw Diagnostics.Diagnostics.OnnxMalformed.Exception($"{tensor.FilePath}: tensor '{tensor.StoredName ?? tensor.Name}': typed data ends before its elements", tensor.FilePath);
                        if (_cursorOffset < windowStart || _cursorOffset >= windowStart + windowLength)
                        {
                            windowStart = _cursorOffset;
                            windowLength = (int)Math.Min(WindowBytes, length - _cursorOffset);
                            ProtobufReader.ReadAt(handle, window.AsSpan(0, windowLength), tensor.FileOffset + windowStart, tensor.FilePath);
                        }

                        var b = window[_cursorOffset++ - windowStart];
                        value |= (ulong)(b & 0x7F) << shift;
                        if ((b & 0x80) == 0)
                            break;
                    }

                    if (_cursorElement++ >= firstElement)
                        destination[produced++] = Widen((uint)value);
                }

                return _cursorOffset - start;
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(window);
            }
        }
    }

    private float Widen(uint value) => dataType switch
    {
        OnnxTypes.Float16 => (float)BitConverter.UInt16BitsToHalf((ushort)value),
        OnnxTypes.BFloat16 => BitConverter.UInt32BitsToSingle(value << 16),
        OnnxTypes.Int8 => (sbyte)(byte)value,
        _ => (byte)value,
    };
}
