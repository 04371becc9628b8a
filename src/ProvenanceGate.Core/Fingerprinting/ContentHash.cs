using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ProvenanceGate.Fingerprinting;

/// <summary>
/// 128-bit content hash of a tensor's values, independent of the dtype they are stored in: values that are all
/// exactly representable in bfloat16 are hashed as their 16-bit patterns, any others as float32 patterns, so a
/// BF16 tensor re-saved losslessly as F32 (or F16) hashes the same. It is a re-upload detector, not a
/// cryptographic commitment: the comparer never calls weights identical on hashes alone (the weight signals must
/// agree too), so a crafted collision cannot forge lineage.
/// </summary>
/// <remarks>
/// The canonical byte stream is cut into 256-byte blocks whatever the read chunks are; 32 independent
/// multiply/rotate chains take one 8-byte word each per block (one chain is bound by the latency of its two
/// multiplications; 32 keep the vector units busy). Each chain is order-dependent, so permuting rows changes the
/// hash. Schema 3 hashes BF16 tensors from their own bytes (four values per word, no widening: half the work of
/// schema 2, which widened every value to float32 first); float32 streams hash as in schema 2.
/// </remarks>
internal sealed class ContentHash
{
    private readonly Chain _narrow;
    private readonly Chain _wide;
    private readonly bool _vectorised;
    private bool _allNarrow = true;
    private bool _rawInput;
    private long _count;

    /// <param name="vectorised">False forces the scalar loops (tests check both give the same hash).</param>
    public ContentHash(bool vectorised = true)
    {
        _vectorised = vectorised && Vector256.IsHardwareAccelerated;
        _narrow = new Chain(_vectorised);
        _wide = new Chain(_vectorised);
    }

    /// <summary>Appends float32 values (any dtype converted). Not to be mixed with the bfloat16 appends in one hash.</summary>
    public void Append(ReadOnlySpan<float> values)
    {
        if (_rawInput)
            throw new InvalidOperationException("a hash takes float32 or bfloat16 input, not both");
        _count += values.Length;
        var bits = MemoryMarshal.Cast<float, uint>(values);
        _wide.Append(MemoryMarshal.AsBytes(bits));
        if (!_allNarrow)
            return;
        // While every value is bfloat16-exact the narrow stream is kept too; the first one that is not settles it.
        Span<ushort> packed = stackalloc ushort[256];
        for (var start = 0; start < bits.Length && _allNarrow; start += packed.Length)
        {
            var part = bits.Slice(start, Math.Min(packed.Length, bits.Length - start));
            for (var i = 0; i < part.Length; i++)
            {
                if ((part[i] & 0xFFFF) != 0)
                {
                    _allNarrow = false;
                    break;
                }

                packed[i] = (ushort)(part[i] >> 16);
            }

            if (_allNarrow)
                _narrow.Append(MemoryMarshal.AsBytes(packed[..part.Length]));
        }
    }

    /// <summary>Appends bfloat16 values straight from their little-endian bytes.</summary>
    public void AppendBFloat16(ReadOnlySpan<byte> source)
    {
        StartRaw();
        _count += source.Length / 2;
        _narrow.Append(source);
    }

    /// <summary>
    /// <see cref="AppendBFloat16"/> for whole rows that also returns each row's sum of squares, computed from the
    /// registers the hash has just loaded: one pass over the bytes instead of two. Only where 512-bit vectors are
    /// available and rows are whole hash blocks (128 values: every common hidden and intermediate size); returns
    /// false, having done nothing, otherwise.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool TryAppendBFloat16Rows(ReadOnlySpan<byte> source, int rowLength, Span<double> rowSumsOfSquares)
    {
        var rowBytes = rowLength * 2;
        if (!Vector512.IsHardwareAccelerated || !_vectorised || _narrow.Carried != 0 || rowLength <= 0 || rowBytes % Chain.BlockBytes != 0
            || source.Length % rowBytes != 0 || rowSumsOfSquares.Length < source.Length / rowBytes || (_count > 0 && !_rawInput))
            return false;
        StartRaw();
        _count += source.Length / 2;
        var lanes = _narrow.Lanes.AsSpan();
        Vector512<ulong> l0 = Vector512.Create<ulong>(lanes), l1 = Vector512.Create<ulong>(lanes[8..]), l2 = Vector512.Create<ulong>(lanes[16..]), l3 = Vector512.Create<ulong>(lanes[24..]);
        var p1 = Vector512.Create(Chain.Prime1);
        var p2 = Vector512.Create(Chain.Prime2);
        ref var start = ref MemoryMarshal.GetReference(source);
        var rows = source.Length / rowBytes;
        for (var r = 0; r < rows; r++)
        {
            Vector512<float> s0 = default, s1 = default, s2 = default, s3 = default, s4 = default, s5 = default, s6 = default, s7 = default;
            var end = (r + 1) * rowBytes;
            for (var i = r * rowBytes; i < end; i += Chain.BlockBytes)
            {
                var w0 = Vector512.LoadUnsafe(ref start, (nuint)i).AsUInt64();
                var w1 = Vector512.LoadUnsafe(ref start, (nuint)i + 64).AsUInt64();
                var w2 = Vector512.LoadUnsafe(ref start, (nuint)i + 128).AsUInt64();
                var w3 = Vector512.LoadUnsafe(ref start, (nuint)i + 192).AsUInt64();
                l0 = Chain.Step(l0, w0, p1, p2);
                l1 = Chain.Step(l1, w1, p1, p2);
                l2 = Chain.Step(l2, w2, p1, p2);
                l3 = Chain.Step(l3, w3, p1, p2);
                // The squares do not care about order: each bfloat16 becomes the top half of a float32 in place.
                (var a, var b) = SimdNumericKernels.BFloat16ToSingleUnordered(w0.AsUInt16());
                s0 = Vector512.FusedMultiplyAdd(a, a, s0);
                s1 = Vector512.FusedMultiplyAdd(b, b, s1);
                (a, b) = SimdNumericKernels.BFloat16ToSingleUnordered(w1.AsUInt16());
                s2 = Vector512.FusedMultiplyAdd(a, a, s2);
                s3 = Vector512.FusedMultiplyAdd(b, b, s3);
                (a, b) = SimdNumericKernels.BFloat16ToSingleUnordered(w2.AsUInt16());
                s4 = Vector512.FusedMultiplyAdd(a, a, s4);
                s5 = Vector512.FusedMultiplyAdd(b, b, s5);
                (a, b) = SimdNumericKernels.BFloat16ToSingleUnordered(w3.AsUInt16());
                s6 = Vector512.FusedMultiplyAdd(a, a, s6);
                s7 = Vector512.FusedMultiplyAdd(b, b, s7);
            }

            var (low, high) = Vector512.Widen(((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7)));
            rowSumsOfSquares[r] = Vector512.Sum(low + high);
        }

        l0.CopyTo(lanes);
        l1.CopyTo(lanes[8..]);
        l2.CopyTo(lanes[16..]);
        l3.CopyTo(lanes[24..]);
        return true;
    }

    public string Finish() => _allNarrow ? _narrow.Finish(_count, narrow: true) : _wide.Finish(_count, narrow: false);

    private void StartRaw()
    {
        if (_count > 0 && !_rawInput)
            throw new InvalidOperationException("a hash takes float32 or bfloat16 input, not both");
        _rawInput = true;
    }

    /// <summary>The 32 chains over one canonical byte stream, with the bytes of an unfinished block carried over.</summary>
    private sealed class Chain(bool vectorised)
    {
        public const ulong Prime1 = 0x9E3779B185EBCA87UL;
        public const ulong Prime2 = 0xC2B2AE3D27D4EB4FUL;
        public const int BlockBytes = LaneCount * 8;
        private const int LaneCount = 32;

        private readonly byte[] _carry = new byte[BlockBytes];

        public ulong[] Lanes { get; } = InitialLanes();

        public int Carried { get; private set; }

        private static ulong[] InitialLanes()
        {
            var lanes = new ulong[LaneCount];
            var seed = 0x243F6A8885A308D3UL;
            for (var i = 0; i < LaneCount; i++)
            {
                seed = (seed + 0x9E3779B97F4A7C15UL) * Prime1;
                lanes[i] = seed ^ (seed >> 29);
            }

            return lanes;
        }

        public void Append(ReadOnlySpan<byte> bytes)
        {
            if (Carried > 0)
            {
                var take = Math.Min(BlockBytes - Carried, bytes.Length);
                bytes[..take].CopyTo(_carry.AsSpan(Carried));
                Carried += take;
                bytes = bytes[take..];
                if (Carried < BlockBytes)
                    return;
                Blocks(MemoryMarshal.Cast<byte, ulong>(_carry.AsSpan()));
                Carried = 0;
            }

            var whole = bytes.Length / BlockBytes * BlockBytes;
            Blocks(MemoryMarshal.Cast<byte, ulong>(bytes[..whole]));
            bytes[whole..].CopyTo(_carry);
            Carried = bytes.Length - whole;
        }

        /// <summary>Lane j takes word j of every 32-word block; the vector and scalar loops give identical results.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void Blocks(ReadOnlySpan<ulong> words)
        {
            var lanes = Lanes.AsSpan();
            var i = 0;
            ref var start = ref MemoryMarshal.GetReference(words);
            if (vectorised && Vector512.IsHardwareAccelerated && words.Length >= LaneCount)
            {
                Vector512<ulong> l0 = Vector512.Create<ulong>(lanes), l1 = Vector512.Create<ulong>(lanes[8..]), l2 = Vector512.Create<ulong>(lanes[16..]), l3 = Vector512.Create<ulong>(lanes[24..]);
                var p1 = Vector512.Create(Prime1);
                var p2 = Vector512.Create(Prime2);
                for (; i + LaneCount <= words.Length; i += LaneCount)
                {
                    l0 = Step(l0, Vector512.LoadUnsafe(ref start, (nuint)i), p1, p2);
                    l1 = Step(l1, Vector512.LoadUnsafe(ref start, (nuint)i + 8), p1, p2);
                    l2 = Step(l2, Vector512.LoadUnsafe(ref start, (nuint)i + 16), p1, p2);
                    l3 = Step(l3, Vector512.LoadUnsafe(ref start, (nuint)i + 24), p1, p2);
                }

                l0.CopyTo(lanes);
                l1.CopyTo(lanes[8..]);
                l2.CopyTo(lanes[16..]);
                l3.CopyTo(lanes[24..]);
            }
            else if (vectorised && words.Length >= LaneCount)
            {
                Vector256<ulong> l0 = Vector256.Create<ulong>(lanes), l1 = Vector256.Create<ulong>(lanes[4..]), l2 = Vector256.Create<ulong>(lanes[8..]), l3 = Vector256.Create<ulong>(lanes[12..]);
                Vector256<ulong> l4 = Vector256.Create<ulong>(lanes[16..]), l5 = Vector256.Create<ulong>(lanes[20..]), l6 = Vector256.Create<ulong>(lanes[24..]), l7 = Vector256.Create<ulong>(lanes[28..]);
                var p1 = Vector256.Create(Prime1);
                var p2 = Vector256.Create(Prime2);
                for (; i + LaneCount <= words.Length; i += LaneCount)
                {
                    l0 = Step(l0, Vector256.LoadUnsafe(ref start, (nuint)i), p1, p2);
                    l1 = Step(l1, Vector256.LoadUnsafe(ref start, (nuint)i + 4), p1, p2);
                    l2 = Step(l2, Vector256.LoadUnsafe(ref start, (nuint)i + 8), p1, p2);
                    l3 = Step(l3, Vector256.LoadUnsafe(ref start, (nuint)i + 12), p1, p2);
                    l4 = Step(l4, Vector256.LoadUnsafe(ref start, (nuint)i + 16), p1, p2);
                    l5 = Step(l5, Vector256.LoadUnsafe(ref start, (nuint)i + 20), p1, p2);
                    l6 = Step(l6, Vector256.LoadUnsafe(ref start, (nuint)i + 24), p1, p2);
                    l7 = Step(l7, Vector256.LoadUnsafe(ref start, (nuint)i + 28), p1, p2);
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

            for (; i + LaneCount <= words.Length; i += LaneCount)
            {
                for (var j = 0; j < LaneCount; j++)
                    Mix(ref lanes[j], words[i + j]);
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<ulong> Step(Vector512<ulong> lane, Vector512<ulong> word, Vector512<ulong> p1, Vector512<ulong> p2)
        {
            var x = lane ^ (word * p2);
            return (Avx512F.IsSupported ? Avx512F.RotateLeft(x, 31) : Vector512.ShiftLeft(x, 31) | Vector512.ShiftRightLogical(x, 33)) * p1;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<ulong> Step(Vector256<ulong> lane, Vector256<ulong> word, Vector256<ulong> p1, Vector256<ulong> p2)
        {
            var x = lane ^ (word * p2);
            return (Avx512F.VL.IsSupported ? Avx512F.VL.RotateLeft(x, 31) : Vector256.ShiftLeft(x, 31) | Vector256.ShiftRightLogical(x, 33)) * p1;
        }

        private static void Mix(ref ulong lane, ulong word) => lane = BitOperations.RotateLeft(lane ^ (word * Prime2), 31) * Prime1;

        /// <param name="count">Values hashed (the stream's length in values, not bytes).</param>
        /// <param name="narrow">True for the bfloat16 stream: part of the digest, so the two streams never meet.</param>
        public string Finish(long count, bool narrow)
        {
            var lanes = Lanes;
            // The carried tail in 4-byte units (a bfloat16 stream may end on half of one: zero-padded).
            Span<byte> tail = stackalloc byte[BlockBytes];
            _carry.AsSpan(0, Carried).CopyTo(tail);
            var units = MemoryMarshal.Cast<byte, uint>(tail);
            var unitCount = (Carried + 3) / 4;
            for (var i = 0; i < unitCount; i++)
                Mix(ref lanes[i % LaneCount], units[i] | ((ulong)(i + 1) << 32));
            // Fold the 32 lanes into 4 (order-dependent), then the final avalanche.
            ulong a = 0, b = 0, c = 0, d = 0;
            for (var j = 0; j < LaneCount; j += 4)
            {
                a = (BitOperations.RotateLeft(a, 27) ^ lanes[j]) * Prime1;
                b = (BitOperations.RotateLeft(b, 27) ^ lanes[j + 1]) * Prime1;
                c = (BitOperations.RotateLeft(c, 27) ^ lanes[j + 2]) * Prime1;
                d = (BitOperations.RotateLeft(d, 27) ^ lanes[j + 3]) * Prime1;
            }

            var length = (ulong)count ^ (narrow ? 0xB5UL << 56 : 0);
            var low = Avalanche(a ^ BitOperations.RotateLeft(b, 17) ^ BitOperations.RotateLeft(c, 29) ^ BitOperations.RotateLeft(d, 43) ^ length);
            var high = Avalanche(d ^ BitOperations.RotateLeft(c, 13) ^ BitOperations.RotateLeft(b, 37) ^ BitOperations.RotateLeft(a, 53) ^ (length * Prime1));
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
}
