using System.Buffers;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using ProvenanceGate.Fingerprinting;
using ProvenanceGate.Formats.Safetensors;
using ProvenanceGate.Formats.Weights;

namespace ProvenanceGate.Formats.Onnx;

/// <summary>
/// A weight stored [in, out] (a MatMul initializer) presented as Hugging Face's [out, in]. Logical rows are stored
/// columns, so they are assembled a panel of columns at a time: each stored row contributes one contiguous slice per
/// panel, and the panel is kept only until its last row has been handed out. Memory: one panel, at most
/// <see cref="PanelBytes"/>, whatever the matrix size.
/// </summary>
internal sealed class TransposedDecoder(SafetensorsDType storedType, long storedRows, long storedColumns) : ITensorDecoder
{
    /// <summary>Bound on the assembled panel (float32 values).</summary>
    public const int PanelBytes = 8 << 20;

    /// <summary>Stored rows read per tile: the transposing writes then land in runs, not single floats.</summary>
    private const int TileRows = 16;

    private readonly Lock _lock = new();
    private float[]? _panel;
    private long _panelFirst = -1;
    private int _panelColumns;

    public long Read(SafeFileHandle handle, WeightTensor tensor, long firstElement, Span<float> destination)
    {
        lock (_lock)
        {
            // Logical row length is storedRows; logical rows are stored columns.
            var firstRow = firstElement / storedRows;
            var rows = destination.Length / storedRows;
            long bytesRead = 0;
            var written = 0L;
            for (var row = firstRow; row < firstRow + rows;)
            {
                if (_panel is null || row < _panelFirst || row >= _panelFirst + _panelColumns)
                    bytesRead += LoadPanel(handle, tensor, row);
                var take = Math.Min(firstRow + rows - row, _panelFirst + _panelColumns - row);
                var count = checked((int)(take * storedRows));
                _panel.AsSpan(checked((int)((row - _panelFirst) * storedRows)), count).CopyTo(destination.Slice(checked((int)written), count));
                written += count;
                row += take;
                if (row == storedColumns)
                    Release();
            }

            return bytesRead;
        }
    }

    private long LoadPanel(SafeFileHandle handle, WeightTensor tensor, long firstColumn)
    {
        var size = SafetensorsDTypes.SizeOf(storedType);
        var columns = (int)Math.Clamp(PanelBytes / sizeof(float) / storedRows, 1, storedColumns - firstColumn);
        Release();
        _panel = ArrayPool<float>.Shared.Rent(checked((int)(columns * storedRows)));
        _panelFirst = firstColumn;
        _panelColumns = columns;
        var tileRows = (int)Math.Min(TileRows, storedRows);
        var raw = ArrayPool<byte>.Shared.Rent(columns * size);
        var tile = ArrayPool<float>.Shared.Rent(tileRows * columns);
        try
        {
            for (long stored = 0; stored < storedRows; stored += tileRows)
            {
                var count = (int)Math.Min(tileRows, storedRows - stored);
                for (var t = 0; t < count; t++)
                {
                    var offset = tensor.FileOffset + ((((stored + t) * storedColumns) + firstColumn) * size);
                    ProtobufReader.ReadAt(handle, raw.AsSpan(0, columns * size), offset, tensor.FilePath);
                    Widen(raw.AsSpan(0, columns * size), tile.AsSpan(t * columns, columns));
                }

                for (var c = 0; c < columns; c++)
                {
                    var target = _panel.AsSpan(checked((int)((c * storedRows) + stored)), count);
                    for (var t = 0; t < count; t++)
                        target[t] = tile[(t * columns) + c];
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(raw);
            ArrayPool<float>.Shared.Return(tile);
        }

        return storedRows * columns * size;
    }

    private void Widen(ReadOnlySpan<byte> raw, Span<float> values)
    {
        switch (storedType)
        {
            case SafetensorsDType.F32: MemoryMarshal.Cast<byte, float>(raw).CopyTo(values); break;
            case SafetensorsDType.F16: NumericKernels.Default.ConvertF16(raw, values); break;
            case SafetensorsDType.BF16: NumericKernels.Default.ConvertBF16(raw, values); break;
            case SafetensorsDType.F64:
                var doubles = MemoryMarshal.Cast<byte, double>(raw);
                for (var i = 0; i < values.Length; i++)
                    values[i] = (float)doubles[i];
                break;
            case SafetensorsDType.I8:
                for (var i = 0; i < values.Length; i++)
                    values[i] = (sbyte)raw[i];
                break;
            case SafetensorsDType.U8:
                for (var i = 0; i < values.Length; i++)
                    values[i] = raw[i];
                break;
            default:
                throw new NotSupportedException($"transposed {storedType} weights are not decoded");
        }
    }

    private void Release()
    {
        if (_panel is not null)
            ArrayPool<float>.Shared.Return(_panel);
        _panel = null;
        _panelFirst = -1;
        _panelColumns = 0;
    }

    /// <summary>The stored types <see cref="Widen"/> handles.</summary>
    public static bool Supports(SafetensorsDType type) => type is SafetensorsDType.F32 or SafetensorsDType.F16 or SafetensorsDType.BF16
        or SafetensorsDType.F64 or SafetensorsDType.I8 or SafetensorsDType.U8;
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
