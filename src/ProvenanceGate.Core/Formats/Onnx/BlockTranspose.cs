using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace ProvenanceGate.Formats.Onnx;

/// <summary>
/// Transposes of 16- and 32-bit elements in register blocks (8×8 and 4×4, by interleaving rows pairwise): every weight of
/// a torch.onnx.export model passes through a transpose, which element by element costs as much as the rest of the
/// fingerprint. Edges that are not whole blocks go through <see cref="TransposedDecoder.Transpose{T}"/>.
/// </summary>
internal static class BlockTranspose
{
    /// <summary>Columns per strip (a multiple of 8).</summary>
    private const int StripColumns = 64;

    public static bool IsSupported => Sse2.IsSupported || AdvSimd.Arm64.IsSupported;

    /// <summary>
    /// The one range check of a transpose of <paramref name="rows"/> × <paramref name="columns"/> elements (the loops run
    /// unchecked: they touch every element of the model).
    /// </summary>
    internal static void RequireFits(int sourceLength, int sourceStride, int rows, int columns, int destinationLength, int destinationStride)
    {
        if ((((long)(rows - 1) * sourceStride) + columns > sourceLength) || (((long)(columns - 1) * destinationStride) + rows > destinationLength))
            throw new ArgumentOutOfRangeException(nameof(destinationLength));
    }

    /// <summary>destination[c * destinationStride + r] = source[r * sourceStride + c] for r &lt; rows, c &lt; columns.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Transpose16(ReadOnlySpan<ushort> source, int sourceStride, int rows, int columns, Span<ushort> destination, int destinationStride)
    {
        if (rows == 0 || columns == 0)
            return;
        RequireFits(source.Length, sourceStride, rows, columns, destination.Length, destinationStride);
        ref var from = ref MemoryMarshal.GetReference(source);
        ref var to = ref MemoryMarshal.GetReference(destination);
        var fullRows = rows & ~7;
        var fullColumns = columns & ~7;
        // Column strips outer, every row inside: the strip's destination rows are written front to back, whole cache
        // lines at a time, while its source (rows × a strip's bytes) stays in L2.
        for (var c0 = 0; c0 < fullColumns; c0 += StripColumns)
        for (var r = 0; r < fullRows; r += 8)
        {
            ref var band = ref Unsafe.Add(ref from, (nint)r * sourceStride);
            for (var c = c0; c < Math.Min(fullColumns, c0 + StripColumns); c += 8)
            {
                ref var block = ref Unsafe.Add(ref band, c);
                var t0 = Zip16(Row(ref block, 0, sourceStride), Row(ref block, 1, sourceStride), out var t1);
                var t2 = Zip16(Row(ref block, 2, sourceStride), Row(ref block, 3, sourceStride), out var t3);
                var t4 = Zip16(Row(ref block, 4, sourceStride), Row(ref block, 5, sourceStride), out var t5);
                var t6 = Zip16(Row(ref block, 6, sourceStride), Row(ref block, 7, sourceStride), out var t7);
                var u0 = Zip32(t0, t2, out var u1);
                var u2 = Zip32(t1, t3, out var u3);
                var u4 = Zip32(t4, t6, out var u5);
                var u6 = Zip32(t5, t7, out var u7);
                ref var target = ref Unsafe.Add(ref to, ((nint)c * destinationStride) + r);
                Store(Zip64(u0, u4, out var v1), ref target, 0, destinationStride);
                Store(v1, ref target, 1, destinationStride);
                Store(Zip64(u1, u5, out var v3), ref target, 2, destinationStride);
                Store(v3, ref target, 3, destinationStride);
                Store(Zip64(u2, u6, out var v5), ref target, 4, destinationStride);
                Store(v5, ref target, 5, destinationStride);
                Store(Zip64(u3, u7, out var v7), ref target, 6, destinationStride);
                Store(v7, ref target, 7, destinationStride);
            }
        }

        Edges(source, sourceStride, rows, columns, destination, destinationStride, fullRows, fullColumns);
    }

    /// <summary>As <see cref="Transpose16"/>, for 32-bit elements (float32 exports) in 4×4 blocks.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Transpose32(ReadOnlySpan<uint> source, int sourceStride, int rows, int columns, Span<uint> destination, int destinationStride)
    {
        if (rows == 0 || columns == 0)
            return;
        RequireFits(source.Length, sourceStride, rows, columns, destination.Length, destinationStride);
        ref var from = ref MemoryMarshal.GetReference(source);
        ref var to = ref MemoryMarshal.GetReference(destination);
        var fullRows = rows & ~3;
        var fullColumns = columns & ~3;
        for (var c0 = 0; c0 < fullColumns; c0 += StripColumns)
        for (var r = 0; r < fullRows; r += 4)
        {
            ref var band = ref Unsafe.Add(ref from, (nint)r * sourceStride);
            for (var c = c0; c < Math.Min(fullColumns, c0 + StripColumns); c += 4)
            {
                ref var block = ref Unsafe.Add(ref band, c);
                var t0 = Zip32(Row(ref block, 0, sourceStride), Row(ref block, 1, sourceStride), out var t1);
                var t2 = Zip32(Row(ref block, 2, sourceStride), Row(ref block, 3, sourceStride), out var t3);
                ref var target = ref Unsafe.Add(ref to, ((nint)c * destinationStride) + r);
                Store(Zip64(t0, t2, out var v1), ref target, 0, destinationStride);
                Store(v1, ref target, 1, destinationStride);
                Store(Zip64(t1, t3, out var v3), ref target, 2, destinationStride);
                Store(v3, ref target, 3, destinationStride);
            }
        }

        Edges(source, sourceStride, rows, columns, destination, destinationStride, fullRows, fullColumns);
    }

    /// <summary>The columns right of the blocks (all rows), then the rows below them.</summary>
    private static void Edges<T>(ReadOnlySpan<T> source, int sourceStride, int rows, int columns, Span<T> destination, int destinationStride, int fullRows, int fullColumns)
    {
        if (fullColumns < columns)
            TransposedDecoder.Transpose(source[fullColumns..], sourceStride, rows, columns - fullColumns, destination[(fullColumns * destinationStride)..], destinationStride);
        if (fullRows < rows && fullColumns > 0)
            TransposedDecoder.Transpose(source[(fullRows * sourceStride)..], sourceStride, rows - fullRows, fullColumns, destination[fullRows..], destinationStride);
    }

    private static Vector128<byte> Row<T>(ref T block, int row, int stride) where T : unmanaged =>
        Unsafe.ReadUnaligned<Vector128<byte>>(ref Unsafe.As<T, byte>(ref Unsafe.Add(ref block, (nint)row * stride)));

    private static void Store<T>(Vector128<byte> value, ref T target, int row, int stride) where T : unmanaged =>
        Unsafe.WriteUnaligned(ref Unsafe.As<T, byte>(ref Unsafe.Add(ref target, (nint)row * stride)), value);

    /// <summary>Interleaves the 16-bit lanes of a and b: returns the low halves' interleave, <paramref name="high"/> the high halves'.</summary>
    private static Vector128<byte> Zip16(Vector128<byte> a, Vector128<byte> b, out Vector128<byte> high)
    {
        if (Sse2.IsSupported)
        {
            high = Sse2.UnpackHigh(a.AsUInt16(), b.AsUInt16()).AsByte();
            return Sse2.UnpackLow(a.AsUInt16(), b.AsUInt16()).AsByte();
        }

        high = AdvSimd.Arm64.ZipHigh(a.AsUInt16(), b.AsUInt16()).AsByte();
        return AdvSimd.Arm64.ZipLow(a.AsUInt16(), b.AsUInt16()).AsByte();
    }

    private static Vector128<byte> Zip32(Vector128<byte> a, Vector128<byte> b, out Vector128<byte> high)
    {
        if (Sse2.IsSupported)
        {
            high = Sse2.UnpackHigh(a.AsUInt32(), b.AsUInt32()).AsByte();
            return Sse2.UnpackLow(a.AsUInt32(), b.AsUInt32()).AsByte();
        }

        high = AdvSimd.Arm64.ZipHigh(a.AsUInt32(), b.AsUInt32()).AsByte();
        return AdvSimd.Arm64.ZipLow(a.AsUInt32(), b.AsUInt32()).AsByte();
    }

    private static Vector128<byte> Zip64(Vector128<byte> a, Vector128<byte> b, out Vector128<byte> high)
    {
        if (Sse2.IsSupported)
        {
            high = Sse2.UnpackHigh(a.AsUInt64(), b.AsUInt64()).AsByte();
            return Sse2.UnpackLow(a.AsUInt64(), b.AsUInt64()).AsByte();
        }

        high = AdvSimd.Arm64.ZipHigh(a.AsUInt64(), b.AsUInt64()).AsByte();
        return AdvSimd.Arm64.ZipLow(a.AsUInt64(), b.AsUInt64()).AsByte();
    }
}
