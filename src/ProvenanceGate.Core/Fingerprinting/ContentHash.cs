using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace ProvenanceGate.Fingerprinting;

/// <summary>
/// 128-bit content hash of a tensor's values canonicalised to float32 (so an F16 tensor re-saved losslessly as
/// F32 hashes the same), fast enough to run at memory speed. The value stream is cut into 256-byte blocks whatever
/// the read chunks are, so the hash depends only on the values. It is a re-upload detector, not a cryptographic
/// commitment: the comparer never calls weights identical on hashes alone (the weight signals must agree too),
/// so a crafted collision cannot forge lineage.
/// </summary>
/// <remarks>
/// 32 independent multiply/rotate chains, one 8-byte word each per block: a single chain is bound by the latency
/// of its two multiplications, 32 of them keep the vector units busy (schema 2; schema 1 had 4 chains and ran at
/// a quarter of the speed). Each chain is order-dependent, so permuting rows changes the hash.
/// </remarks>
internal sealed class ContentHash
{
    private const ulong Prime1 = 0x9E3779B185EBCA87UL;
    private const ulong Prime2 = 0xC2B2AE3D27D4EB4FUL;
    private const int Lanes = 32;
    private const int BlockValues = Lanes * 2;

    private readonly uint[] _carry = new uint[BlockValues];
    private readonly ulong[] _lanes = InitialLanes();
    private readonly bool _vectorised;
    private int _carried;
    private long _count;

    /// <param name="vectorised">False forces the scalar loop (tests check both give the same hash).</param>
    public ContentHash(bool vectorised = true)
    {
        _vectorised = vectorised && Vector256.IsHardwareAccelerated;
    }

    private static ulong[] InitialLanes()
    {
        var lanes = new ulong[Lanes];
        var seed = 0x243F6A8885A308D3UL;
        for (var i = 0; i < Lanes; i++)
        {
            seed = (seed + 0x9E3779B97F4A7C15UL) * Prime1;
            lanes[i] = seed ^ (seed >> 29);
        }

        return lanes;
    }

    public void Append(ReadOnlySpan<float> values)
    {
        var bits = MemoryMarshal.Cast<float, uint>(values);
        _count += bits.Length;
        if (_carried > 0)
        {
            var take = Math.Min(BlockValues - _carried, bits.Length);
            bits[..take].CopyTo(_carry.AsSpan(_carried));
            _carried += take;
            bits = bits[take..];
            if (_carried < BlockValues)
                return;
            Blocks(MemoryMarshal.Cast<uint, ulong>(_carry.AsSpan()));
            _carried = 0;
        }

        var whole = bits.Length / BlockValues * BlockValues;
        Blocks(MemoryMarshal.Cast<uint, ulong>(bits[..whole]));
        bits[whole..].CopyTo(_carry);
        _carried = bits.Length - whole;
    }

    /// <summary>
    /// Appends bfloat16 values straight from their bytes: the same hash as appending them converted to float32
    /// (a bfloat16 is the top half of a float32), without the float copy. Whole 64-value blocks are widened in
    /// registers; a partial block at either end goes through <see cref="Append(ReadOnlySpan{float})"/>.
    /// </summary>
    public void AppendBFloat16(ReadOnlySpan<byte> source)
    {
        var values = MemoryMarshal.Cast<byte, ushort>(source);
        if (_carried > 0 || !_vectorised)
        {
            var fill = _vectorised ? Math.Min(BlockValues - _carried, values.Length) : values.Length;
            AppendWidened(values[..fill]);
            values = values[fill..];
        }

        var whole = values.Length / BlockValues * BlockValues;
        if (whole > 0)
        {
            _count += whole;
            BlocksBFloat16(values[..whole]);
        }

        AppendWidened(values[whole..]);
    }

    /// <summary>
    /// <see cref="AppendBFloat16"/> for whole rows that also returns each row's sum of squares, computed from the
    /// registers the hash has just widened: one pass over the bytes instead of two. Only for rows of a multiple of
    /// 64 values starting on a block boundary (every real weight matrix); returns false, having done nothing, otherwise.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public bool TryAppendBFloat16Rows(ReadOnlySpan<byte> source, int rowLength, Span<double> rowSumsOfSquares)
    {
        var values = MemoryMarshal.Cast<byte, ushort>(source);
        if (!Vector512.IsHardwareAccelerated || !_vectorised || _carried != 0 || rowLength <= 0 || rowLength % BlockValues != 0
            || values.Length % rowLength != 0 || rowSumsOfSquares.Length < values.Length / rowLength)
            return false;
        _count += values.Length;
        var lanes = _lanes.AsSpan();
        ref var start = ref MemoryMarshal.GetReference(values);
        Vector512<ulong> l0 = Vector512.Create<ulong>(lanes), l1 = Vector512.Create<ulong>(lanes[8..]), l2 = Vector512.Create<ulong>(lanes[16..]), l3 = Vector512.Create<ulong>(lanes[24..]);
        var p1 = Vector512.Create(Prime1);
        var p2 = Vector512.Create(Prime2);
        var rows = values.Length / rowLength;
        for (var r = 0; r < rows; r++)
        {
            Vector512<float> s0 = default, s1 = default, s2 = default, s3 = default;
            var end = (r + 1) * rowLength;
            for (var i = r * rowLength; i < end; i += BlockValues)
            {
                var (w0, w1) = Vector512.Widen(Vector512.LoadUnsafe(ref start, (nuint)i));
                var (w2, w3) = Vector512.Widen(Vector512.LoadUnsafe(ref start, (nuint)i + 32));
                w0 = Vector512.ShiftLeft(w0, 16);
                w1 = Vector512.ShiftLeft(w1, 16);
                w2 = Vector512.ShiftLeft(w2, 16);
                w3 = Vector512.ShiftLeft(w3, 16);
                l0 = Step(l0, w0.AsUInt64(), p1, p2);
                l1 = Step(l1, w1.AsUInt64(), p1, p2);
                l2 = Step(l2, w2.AsUInt64(), p1, p2);
                l3 = Step(l3, w3.AsUInt64(), p1, p2);
                s0 = Vector512.FusedMultiplyAdd(w0.AsSingle(), w0.AsSingle(), s0);
                s1 = Vector512.FusedMultiplyAdd(w1.AsSingle(), w1.AsSingle(), s1);
                s2 = Vector512.FusedMultiplyAdd(w2.AsSingle(), w2.AsSingle(), s2);
                s3 = Vector512.FusedMultiplyAdd(w3.AsSingle(), w3.AsSingle(), s3);
            }

            var (low, high) = Vector512.Widen((s0 + s1) + (s2 + s3));
            rowSumsOfSquares[r] = Vector512.Sum(low + high);
        }

        l0.CopyTo(lanes);
        l1.CopyTo(lanes[8..]);
        l2.CopyTo(lanes[16..]);
        l3.CopyTo(lanes[24..]);
        return true;
    }

    private void AppendWidened(ReadOnlySpan<ushort> values)
    {
        Span<float> buffer = stackalloc float[BlockValues];
        for (var start = 0; start < values.Length; start += BlockValues)
        {
            var part = values.Slice(start, Math.Min(BlockValues, values.Length - start));
            for (var i = 0; i < part.Length; i++)
                buffer[i] = BitConverter.UInt32BitsToSingle((uint)part[i] << 16);
            Append(buffer[..part.Length]);
        }
    }

    /// <summary>
    /// <see cref="Blocks"/> over bfloat16 input: each 8-byte word is two widened values. 512-bit registers where
    /// the machine has them (the 32 lanes are four registers), else 256-bit; both give the lanes the same words.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private void BlocksBFloat16(ReadOnlySpan<ushort> values)
    {
        var lanes = _lanes.AsSpan();
        ref var start = ref MemoryMarshal.GetReference(values);
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<ulong> l0 = Vector512.Create<ulong>(lanes), l1 = Vector512.Create<ulong>(lanes[8..]), l2 = Vector512.Create<ulong>(lanes[16..]), l3 = Vector512.Create<ulong>(lanes[24..]);
            var p1 = Vector512.Create(Prime1);
            var p2 = Vector512.Create(Prime2);
            for (var i = 0; i < values.Length; i += BlockValues)
            {
                var (w0, w1) = Vector512.Widen(Vector512.LoadUnsafe(ref start, (nuint)i));
                var (w2, w3) = Vector512.Widen(Vector512.LoadUnsafe(ref start, (nuint)i + 32));
                l0 = Step(l0, Vector512.ShiftLeft(w0, 16).AsUInt64(), p1, p2);
                l1 = Step(l1, Vector512.ShiftLeft(w1, 16).AsUInt64(), p1, p2);
                l2 = Step(l2, Vector512.ShiftLeft(w2, 16).AsUInt64(), p1, p2);
                l3 = Step(l3, Vector512.ShiftLeft(w3, 16).AsUInt64(), p1, p2);
            }

            l0.CopyTo(lanes);
            l1.CopyTo(lanes[8..]);
            l2.CopyTo(lanes[16..]);
            l3.CopyTo(lanes[24..]);
            return;
        }

        Vector256<ulong> m0 = Vector256.Create<ulong>(lanes), m1 = Vector256.Create<ulong>(lanes[4..]), m2 = Vector256.Create<ulong>(lanes[8..]), m3 = Vector256.Create<ulong>(lanes[12..]);
        Vector256<ulong> m4 = Vector256.Create<ulong>(lanes[16..]), m5 = Vector256.Create<ulong>(lanes[20..]), m6 = Vector256.Create<ulong>(lanes[24..]), m7 = Vector256.Create<ulong>(lanes[28..]);
        var q1 = Vector256.Create(Prime1);
        var q2 = Vector256.Create(Prime2);
        for (var i = 0; i < values.Length; i += BlockValues)
        {
            var (w0, w1) = Vector256.Widen(Vector256.LoadUnsafe(ref start, (nuint)i));
            var (w2, w3) = Vector256.Widen(Vector256.LoadUnsafe(ref start, (nuint)i + 16));
            var (w4, w5) = Vector256.Widen(Vector256.LoadUnsafe(ref start, (nuint)i + 32));
            var (w6, w7) = Vector256.Widen(Vector256.LoadUnsafe(ref start, (nuint)i + 48));
            m0 = Step(m0, Vector256.ShiftLeft(w0, 16).AsUInt64(), q1, q2);
            m1 = Step(m1, Vector256.ShiftLeft(w1, 16).AsUInt64(), q1, q2);
            m2 = Step(m2, Vector256.ShiftLeft(w2, 16).AsUInt64(), q1, q2);
            m3 = Step(m3, Vector256.ShiftLeft(w3, 16).AsUInt64(), q1, q2);
            m4 = Step(m4, Vector256.ShiftLeft(w4, 16).AsUInt64(), q1, q2);
            m5 = Step(m5, Vector256.ShiftLeft(w5, 16).AsUInt64(), q1, q2);
            m6 = Step(m6, Vector256.ShiftLeft(w6, 16).AsUInt64(), q1, q2);
            m7 = Step(m7, Vector256.ShiftLeft(w7, 16).AsUInt64(), q1, q2);
        }

        m0.CopyTo(lanes);
        m1.CopyTo(lanes[4..]);
        m2.CopyTo(lanes[8..]);
        m3.CopyTo(lanes[12..]);
        m4.CopyTo(lanes[16..]);
        m5.CopyTo(lanes[20..]);
        m6.CopyTo(lanes[24..]);
        m7.CopyTo(lanes[28..]);
    }

    /// <summary>Lane j takes word j of every 32-word block; the vector and scalar loops give identical results.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private void Blocks(ReadOnlySpan<ulong> words)
    {
        var i = 0;
        if (_vectorised && words.Length >= Lanes)
        {
            var lanes = _lanes.AsSpan();
            Vector256<ulong> l0 = Vector256.Create<ulong>(lanes), l1 = Vector256.Create<ulong>(lanes[4..]), l2 = Vector256.Create<ulong>(lanes[8..]), l3 = Vector256.Create<ulong>(lanes[12..]);
            Vector256<ulong> l4 = Vector256.Create<ulong>(lanes[16..]), l5 = Vector256.Create<ulong>(lanes[20..]), l6 = Vector256.Create<ulong>(lanes[24..]), l7 = Vector256.Create<ulong>(lanes[28..]);
            var p1 = Vector256.Create(Prime1);
            var p2 = Vector256.Create(Prime2);
            ref var start = ref MemoryMarshal.GetReference(words);
            for (; i + Lanes <= words.Length; i += Lanes)
            {
                ref var block = ref System.Runtime.CompilerServices.Unsafe.Add(ref start, i);
                l0 = Step(l0, Vector256.LoadUnsafe(ref block, 0), p1, p2);
                l1 = Step(l1, Vector256.LoadUnsafe(ref block, 4), p1, p2);
                l2 = Step(l2, Vector256.LoadUnsafe(ref block, 8), p1, p2);
                l3 = Step(l3, Vector256.LoadUnsafe(ref block, 12), p1, p2);
                l4 = Step(l4, Vector256.LoadUnsafe(ref block, 16), p1, p2);
                l5 = Step(l5, Vector256.LoadUnsafe(ref block, 20), p1, p2);
                l6 = Step(l6, Vector256.LoadUnsafe(ref block, 24), p1, p2);
                l7 = Step(l7, Vector256.LoadUnsafe(ref block, 28), p1, p2);
            }

            l0.CopyTo(lanes);
            l1.CopyTo(lanes[4..]);
            l2.CopyTo(lanes[8..]);
            l3.CopyTo(lanes[12..]);
            l4.CopyTo(lanes[16..]);
            l5.CopyTo(lanes[20..]);
            l6.CopyTo(lanes[24..]);
            l7.CopyTo(lanes[28..]);
        }

        for (; i + Lanes <= words.Length; i += Lanes)
        {
            for (var j = 0; j < Lanes; j++)
                Mix(ref _lanes[j], words[i + j]);
        }
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static Vector512<ulong> Step(Vector512<ulong> lane, Vector512<ulong> word, Vector512<ulong> p1, Vector512<ulong> p2)
    {
        var x = lane ^ (word * p2);
        return (System.Runtime.Intrinsics.X86.Avx512F.IsSupported ? System.Runtime.Intrinsics.X86.Avx512F.RotateLeft(x, 31) : Vector512.ShiftLeft(x, 31) | Vector512.ShiftRightLogical(x, 33)) * p1;
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static Vector256<ulong> Step(Vector256<ulong> lane, Vector256<ulong> word, Vector256<ulong> p1, Vector256<ulong> p2)
    {
        var x = lane ^ (word * p2);
        return (System.Runtime.Intrinsics.X86.Avx512F.VL.IsSupported ? System.Runtime.Intrinsics.X86.Avx512F.VL.RotateLeft(x, 31) : Vector256.ShiftLeft(x, 31) | Vector256.ShiftRightLogical(x, 33)) * p1;
    }

    private static void Mix(ref ulong lane, ulong word) => lane = BitOperations.RotateLeft(lane ^ (word * Prime2), 31) * Prime1;

    public string Finish()
    {
        for (var i = 0; i < _carried; i++)
            Mix(ref _lanes[i % Lanes], _carry[i] | ((ulong)(i + 1) << 32));
        // Fold the 32 lanes into 4 (order-dependent), then the schema-1 finalisation.
        ulong a = 0, b = 0, c = 0, d = 0;
        for (var j = 0; j < Lanes; j += 4)
        {
            a = (BitOperations.RotateLeft(a, 27) ^ _lanes[j]) * Prime1;
            b = (BitOperations.RotateLeft(b, 27) ^ _lanes[j + 1]) * Prime1;
            c = (BitOperations.RotateLeft(c, 27) ^ _lanes[j + 2]) * Prime1;
            d = (BitOperations.RotateLeft(d, 27) ^ _lanes[j + 3]) * Prime1;
        }

        var low = Avalanche(a ^ BitOperations.RotateLeft(b, 17) ^ BitOperations.RotateLeft(c, 29) ^ BitOperations.RotateLeft(d, 43) ^ (ulong)_count);
        var high = Avalanche(d ^ BitOperations.RotateLeft(c, 13) ^ BitOperations.RotateLeft(b, 37) ^ BitOperations.RotateLeft(a, 53) ^ ((ulong)_count * Prime1));
        return $"{high:x16}{low:x16}";
    }

    private static ulong Avalanche(ulong x)
    {
        x ^= x >> 33;
        x *= 0xFF51AFD7ED558CCDUL;
        x ^= x >> 33;
        x *= 0xC4CEB9FE1A85EC53UL;
        return x ^ (x >> 33);
    }
}
