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
/// The canonical byte stream (the values in row-major order of the tensor's logical shape) is cut into 8-byte words;
/// word k contributes a term that mixes the word with its position, and the hash is two sums of such terms (mod
/// 2^64) with different position keys, then an avalanche with the value count. A sum does not care in which order
/// its terms arrive, so a tensor stored transposed (ONNX's MatMul weights) is hashed from its stored rows, as they
/// lie, with each word given its logical position: no transpose. The position is in every term, so moving a value
/// or swapping rows changes the hash. Schema 5 (schemas 3 and 4 chained 32 lanes in stream order, which only a row
/// order read could feed).
/// </remarks>
internal sealed class ContentHash
{
    private readonly Sums _narrow;
    private readonly Sums _wide;
    private bool _allNarrow = true;
    private bool _rawInput;
    private long _count;

    /// <param name="vectorised">False forces the scalar loops (tests check both give the same hash).</param>
    public ContentHash(bool vectorised = true)
    {
        var vectors = vectorised && Avx2.IsSupported;
        _narrow = new Sums(vectors);
        _wide = new Sums(vectors);
    }

    /// <summary>Appends float32 values (any dtype converted). Not to be mixed with the bfloat16 appends in one hash.</summary>
    public void Append(ReadOnlySpan<float> values)
    {
        StartFloat();
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
            if (!PackNarrow(part, packed))
                return;
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
    /// available and rows are a multiple of 32 values; returns false, having done nothing, otherwise.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool TryAppendBFloat16Rows(ReadOnlySpan<byte> source, int rowLength, Span<double> rowSumsOfSquares)
    {
        var rowBytes = rowLength * 2;
        if (!Avx512F.IsSupported || !_narrow.Vectorised || _narrow.Carried != 0 || rowLength <= 0 || rowBytes % 64 != 0
            || source.Length % rowBytes != 0 || rowSumsOfSquares.Length < source.Length / rowBytes || (_count > 0 && !_rawInput))
            return false;
        StartRaw();
        _count += source.Length / 2;
        var (step1, step2) = (Vector512.Create(unchecked(8 * Sums.Key1)), Vector512.Create(unchecked(8 * Sums.Key2)));
        var first = _narrow.NextWord;
        var key1 = Vector512.Create((ulong)(first + 1) * Sums.Key1) + (Vector512<ulong>.Indices * Sums.Key1);
        var key2 = Vector512.Create((ulong)(first + 1) * Sums.Key2) + (Vector512<ulong>.Indices * Sums.Key2);
        Vector512<ulong> sum1 = default, sum2 = default;
        ref var start = ref MemoryMarshal.GetReference(source);
        var rows = source.Length / rowBytes;
        for (var r = 0; r < rows; r++)
        {
            Vector512<float> s0 = default, s1 = default;
            var end = (r + 1) * rowBytes;
            for (var i = r * rowBytes; i < end; i += 64)
            {
                var words = Vector512.LoadUnsafe(ref start, (nuint)i).AsUInt64();
                Sums.Terms(words, key1, key2, ref sum1, ref sum2);
                key1 += step1;
                key2 += step2;
                // The squares do not care about order: each bfloat16 becomes the top half of a float32 in place.
                var (a, b) = SimdNumericKernels.BFloat16ToSingleUnordered(words.AsUInt16());
                s0 = Vector512.FusedMultiplyAdd(a, a, s0);
                s1 = Vector512.FusedMultiplyAdd(b, b, s1);
            }

            var (low, high) = Vector512.Widen(s0 + s1);
            rowSumsOfSquares[r] = Vector512.Sum(low + high);
        }

        _narrow.Add(Vector512.Sum(sum1), Vector512.Sum(sum2), source.Length / 8);
        return true;
    }

    /// <summary>
    /// Appends stored rows <paramref name="firstStoredRow"/>... of a tensor stored transposed (<c>stored[c][r] =
    /// logical[r][c]</c>, <paramref name="storedRowLength"/> = the logical row count), as bfloat16 bytes, and adds each
    /// stored value's square to <paramref name="logicalRowSquares"/>[r] (the logical rows' sums of squares). Every word
    /// of the logical stream is four logical columns of one logical row: four consecutive stored rows at one position.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void AppendBFloat16Transposed(ReadOnlySpan<byte> source, int storedRowLength, long firstStoredRow, long logicalRowLength, Span<float> logicalRowSquares)
    {
        var storedRows = RequireTransposedGroups(source.Length / 2, storedRowLength, firstStoredRow, logicalRowLength, logicalRowSquares);
        StartRaw();
        _count += (long)storedRows * storedRowLength;
        NarrowTransposed(MemoryMarshal.Cast<byte, ushort>(source), storedRows, storedRowLength, firstStoredRow, logicalRowLength, logicalRowSquares);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void NarrowTransposed(ReadOnlySpan<ushort> values, int storedRows, int storedRowLength, long firstStoredRow, long logicalRowLength, Span<float> logicalRowSquares)
    {
        var wordsPerRow = logicalRowLength / 4;
        ulong sum1 = 0, sum2 = 0;
        for (var g = 0; g < storedRows / 4; g++)
        {
            var group = values.Slice(g * 4 * storedRowLength, 4 * storedRowLength);
            // Word (r, q) has index r * wordsPerRow + q; its keys grow by wordsPerRow keys per logical row.
            var q = (firstStoredRow / 4) + g;
            var r = 0;
            if (_narrow.Vectorised)
                r = Transposed16(group, storedRowLength, q, wordsPerRow, logicalRowSquares, ref sum1, ref sum2);
            for (; r < storedRowLength; r++)
            {
                ulong v0 = group[r], v1 = group[storedRowLength + r], v2 = group[(2 * storedRowLength) + r], v3 = group[(3 * storedRowLength) + r];
                Sums.Term(v0 | (v1 << 16) | (v2 << 32) | (v3 << 48), (r * wordsPerRow) + q, ref sum1, ref sum2);
                logicalRowSquares[r] += Square(v0) + Square(v1) + Square(v2) + Square(v3);
            }
        }

        _narrow.Add(sum1, sum2, 0);

        static float Square(ulong bfloat16)
        {
            var value = BitConverter.UInt32BitsToSingle((uint)bfloat16 << 16);
            return value * value;
        }
    }

    /// <summary>
    /// <see cref="AppendBFloat16Transposed"/> for float32 values (any dtype converted): the float32 stream, and the
    /// bfloat16 stream while every value is bfloat16-exact.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void AppendTransposed(ReadOnlySpan<float> values, int storedRowLength, long firstStoredRow, long logicalRowLength, Span<float> logicalRowSquares)
    {
        var storedRows = RequireTransposedGroups(values.Length, storedRowLength, firstStoredRow, logicalRowLength, logicalRowSquares);
        StartFloat();
        _count += (long)storedRows * storedRowLength;
        var bits = MemoryMarshal.Cast<float, uint>(values);
        // Wide word (r, p) holds logical columns 2p, 2p + 1: stored rows 4q, 4q + 1 (p = 2q) or 4q + 2, 4q + 3 (p = 2q + 1).
        var pairsPerRow = logicalRowLength / 2;
        ulong sum1 = 0, sum2 = 0;
        var narrow = _allNarrow;
        for (var g = 0; g < storedRows / 4; g++)
        {
            var group = bits.Slice(g * 4 * storedRowLength, 4 * storedRowLength);
            var p = ((firstStoredRow / 4) + g) * 2;
            var r = 0;
            if (_wide.Vectorised)
                r = Transposed32(group, storedRowLength, p, pairsPerRow, logicalRowSquares, ref sum1, ref sum2, ref narrow);
            for (; r < storedRowLength; r++)
            {
                uint v0 = group[r], v1 = group[storedRowLength + r], v2 = group[(2 * storedRowLength) + r], v3 = group[(3 * storedRowLength) + r];
                Sums.Term(v0 | ((ulong)v1 << 32), (r * pairsPerRow) + p, ref sum1, ref sum2);
                Sums.Term(v2 | ((ulong)v3 << 32), (r * pairsPerRow) + p + 1, ref sum1, ref sum2);
                narrow &= ((v0 | v1 | v2 | v3) & 0xFFFF) == 0;
                var (f0, f1, f2, f3) = (BitConverter.UInt32BitsToSingle(v0), BitConverter.UInt32BitsToSingle(v1), BitConverter.UInt32BitsToSingle(v2), BitConverter.UInt32BitsToSingle(v3));
                logicalRowSquares[r] += (f0 * f0) + (f1 * f1) + (f2 * f2) + (f3 * f3);
            }
        }

        _wide.Add(sum1, sum2, 0);
        _allNarrow = narrow;
        if (!narrow)
            return;
        // Every value so far is bfloat16-exact (untrained or bf16-born weights): the narrow stream from the top halves.
        var packed = new ushort[values.Length];
        PackNarrow(bits, packed);
        NarrowTransposed(packed, storedRows, storedRowLength, firstStoredRow, logicalRowLength, new float[storedRowLength]);
    }

    public string Finish() => _allNarrow ? _narrow.Finish(_count, narrow: true) : _wide.Finish(_count, narrow: false);

    /// <summary>True when <paramref name="logicalColumns"/> and <paramref name="logicalRowLength"/> allow <see cref="AppendBFloat16Transposed"/>.</summary>
    public static bool TransposedGroupsFit(long logicalColumns, long logicalRowLength) => logicalRowLength % 4 == 0 && logicalColumns % 4 == 0;

    private static int RequireTransposedGroups(int valueCount, int storedRowLength, long firstStoredRow, long logicalRowLength, Span<float> squares)
    {
        var storedRows = storedRowLength <= 0 ? 0 : valueCount / storedRowLength;
        if (storedRowLength <= 0 || valueCount % storedRowLength != 0 || storedRows % 4 != 0 || firstStoredRow % 4 != 0
            || logicalRowLength % 4 != 0 || firstStoredRow + storedRows > logicalRowLength || squares.Length < storedRowLength)
            throw new ArgumentException("transposed appends take whole groups of four stored rows of a logical row length divisible by four");
        return storedRows;
    }

    /// <summary>The vector part of one group of four stored rows, 16 positions at a time; returns the first position left.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int Transposed16(ReadOnlySpan<ushort> group, int length, long q, long wordsPerRow, Span<float> squares, ref ulong sum1, ref ulong sum2)
    {
        if (length < 16)
            return 0;
        ref var row0 = ref MemoryMarshal.GetReference(group);
        ref var row1 = ref Unsafe.Add(ref row0, length);
        ref var row2 = ref Unsafe.Add(ref row1, length);
        ref var row3 = ref Unsafe.Add(ref row2, length);
        ref var square = ref MemoryMarshal.GetReference(squares);
        // After the in-lane interleaves, the four word vectors hold positions {0,1,8,9}, {2,3,10,11}, {4,5,12,13} and
        // {6,7,14,15} of each 16: their keys are (position * wordsPerRow + q + 1) * Key.
        var stride1 = (ulong)wordsPerRow * Sums.Key1;
        var stride2 = (ulong)wordsPerRow * Sums.Key2;
        var lanes = Vector256.Create(0UL, 1, 8, 9);
        var (o1, o2) = (lanes * stride1, lanes * stride2);
        var (two1, two2) = (Vector256.Create(2 * stride1), Vector256.Create(2 * stride2));
        var (step1, step2) = (Vector256.Create(16 * stride1), Vector256.Create(16 * stride2));
        var key1 = Vector256.Create((ulong)(q + 1) * Sums.Key1) + o1;
        var key2 = Vector256.Create((ulong)(q + 1) * Sums.Key2) + o2;
        Vector256<ulong> acc1 = default, acc2 = default;
        var r = 0;
        for (; r + 16 <= length; r += 16)
        {
            var s0 = Vector256.LoadUnsafe(ref row0, (nuint)r);
            var s1 = Vector256.LoadUnsafe(ref row1, (nuint)r);
            var s2 = Vector256.LoadUnsafe(ref row2, (nuint)r);
            var s3 = Vector256.LoadUnsafe(ref row3, (nuint)r);
            var a = Avx2.UnpackLow(s0, s1).AsUInt32();
            var b = Avx2.UnpackHigh(s0, s1).AsUInt32();
            var c = Avx2.UnpackLow(s2, s3).AsUInt32();
            var d = Avx2.UnpackHigh(s2, s3).AsUInt32();
            Sums.Terms(Avx2.UnpackLow(a, c).AsUInt64(), key1, key2, ref acc1, ref acc2);
            Sums.Terms(Avx2.UnpackHigh(a, c).AsUInt64(), key1 + two1, key2 + two2, ref acc1, ref acc2);
            Sums.Terms(Avx2.UnpackLow(b, d).AsUInt64(), key1 + two1 + two1, key2 + two2 + two2, ref acc1, ref acc2);
            Sums.Terms(Avx2.UnpackHigh(b, d).AsUInt64(), key1 + two1 + two1 + two1, key2 + two2 + two2 + two2, ref acc1, ref acc2);
            key1 += step1;
            key2 += step2;
            var low = Square(s0, isHigh: false) + Square(s1, isHigh: false) + Square(s2, isHigh: false) + Square(s3, isHigh: false);
            var high = Square(s0, isHigh: true) + Square(s1, isHigh: true) + Square(s2, isHigh: true) + Square(s3, isHigh: true);
            // low holds positions 0-3 and 8-11, high 4-7 and 12-15: put them back in order.
            var first = Avx2.Permute2x128(low, high, 0x20);
            var second = Avx2.Permute2x128(low, high, 0x31);
            (Vector256.LoadUnsafe(ref square, (nuint)r) + first).StoreUnsafe(ref square, (nuint)r);
            (Vector256.LoadUnsafe(ref square, (nuint)r + 8) + second).StoreUnsafe(ref square, (nuint)r + 8);
        }

        sum1 += Vector256.Sum(acc1);
        sum2 += Vector256.Sum(acc2);
        return r;

        static Vector256<float> Square(Vector256<ushort> values, bool isHigh)
        {
            var wide = (isHigh ? Avx2.UnpackHigh(Vector256<ushort>.Zero, values) : Avx2.UnpackLow(Vector256<ushort>.Zero, values)).AsSingle();
            return wide * wide;
        }
    }

    /// <summary>
    /// The vector part of one group of four stored float32 rows, 8 positions at a time; returns the first position left.
    /// Wide word (r, p) pairs stored rows 0 and 1, word (r, p + 1) rows 2 and 3.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int Transposed32(ReadOnlySpan<uint> group, int length, long p, long pairsPerRow, Span<float> squares, ref ulong sum1, ref ulong sum2, ref bool narrow)
    {
        if (length < 8)
            return 0;
        ref var row0 = ref MemoryMarshal.GetReference(group);
        ref var row1 = ref Unsafe.Add(ref row0, length);
        ref var row2 = ref Unsafe.Add(ref row1, length);
        ref var row3 = ref Unsafe.Add(ref row2, length);
        ref var square = ref MemoryMarshal.GetReference(squares);
        // After the in-lane interleaves the word vectors hold positions {0,1,4,5} and {2,3,6,7} of each 8.
        var stride1 = (ulong)pairsPerRow * Sums.Key1;
        var stride2 = (ulong)pairsPerRow * Sums.Key2;
        var lanes = Vector256.Create(0UL, 1, 4, 5);
        var key1 = Vector256.Create((ulong)(p + 1) * Sums.Key1) + (lanes * stride1);
        var key2 = Vector256.Create((ulong)(p + 1) * Sums.Key2) + (lanes * stride2);
        var (two1, two2) = (Vector256.Create(2 * stride1), Vector256.Create(2 * stride2));
        var (next1, next2) = (Vector256.Create(Sums.Key1), Vector256.Create(Sums.Key2));
        var (step1, step2) = (Vector256.Create(8 * stride1), Vector256.Create(8 * stride2));
        Vector256<ulong> acc1 = default, acc2 = default;
        var lowBits = Vector256<uint>.Zero;
        var r = 0;
        for (; r + 8 <= length; r += 8)
        {
            var s0 = Vector256.LoadUnsafe(ref row0, (nuint)r);
            var s1 = Vector256.LoadUnsafe(ref row1, (nuint)r);
            var s2 = Vector256.LoadUnsafe(ref row2, (nuint)r);
            var s3 = Vector256.LoadUnsafe(ref row3, (nuint)r);
            Sums.Terms(Avx2.UnpackLow(s0, s1).AsUInt64(), key1, key2, ref acc1, ref acc2);
            Sums.Terms(Avx2.UnpackHigh(s0, s1).AsUInt64(), key1 + two1, key2 + two2, ref acc1, ref acc2);
            Sums.Terms(Avx2.UnpackLow(s2, s3).AsUInt64(), key1 + next1, key2 + next2, ref acc1, ref acc2);
            Sums.Terms(Avx2.UnpackHigh(s2, s3).AsUInt64(), key1 + two1 + next1, key2 + two2 + next2, ref acc1, ref acc2);
            key1 += step1;
            key2 += step2;
            lowBits |= s0 | s1 | s2 | s3;
            var (f0, f1, f2, f3) = (s0.AsSingle(), s1.AsSingle(), s2.AsSingle(), s3.AsSingle());
            (Vector256.LoadUnsafe(ref square, (nuint)r) + ((f0 * f0) + (f1 * f1) + (f2 * f2) + (f3 * f3))).StoreUnsafe(ref square, (nuint)r);
        }

        sum1 += Vector256.Sum(acc1);
        sum2 += Vector256.Sum(acc2);
        narrow &= (lowBits & Vector256.Create(0xFFFFu)) == Vector256<uint>.Zero;
        return r;
    }

    /// <summary>The top halves of <paramref name="bits"/>, or false (and the narrow stream given up) at the first value that is not bfloat16-exact.</summary>
    private bool PackNarrow(ReadOnlySpan<uint> bits, Span<ushort> packed)
    {
        for (var i = 0; i < bits.Length; i++)
        {
            if ((bits[i] & 0xFFFF) != 0)
            {
                _allNarrow = false;
                return false;
            }

            packed[i] = (ushort)(bits[i] >> 16);
        }

        return true;
    }

    private void StartRaw()
    {
        if (_count > 0 && !_rawInput)
            throw new InvalidOperationException("a hash takes float32 or bfloat16 input, not both");
        _rawInput = true;
    }

    private void StartFloat()
    {
        if (_rawInput)
            throw new InvalidOperationException("a hash takes float32 or bfloat16 input, not both");
    }

    /// <summary>The two position-keyed sums over one canonical byte stream, with the bytes of an unfinished word carried over.</summary>
    private sealed class Sums(bool vectorised)
    {
        public const ulong Key1 = 0x9E3779B185EBCA87UL;
        public const ulong Key2 = 0xC2B2AE3D27D4EB4FUL;

        private readonly byte[] _carry = new byte[8];
        private ulong _sum1;
        private ulong _sum2;

        public bool Vectorised => vectorised;

        /// <summary>Index of the next word of a stream appended in order.</summary>
        public long NextWord { get; private set; }

        public int Carried { get; private set; }

        /// <summary>Word k's term: the product of the halves of the word keyed by its position, plus the word itself (rotated in the first sum), so no word is lost to a zero half.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Term(ulong word, long index, ref ulong sum1, ref ulong sum2)
        {
            var x = word ^ ((ulong)(index + 1) * Key1);
            var y = word ^ ((ulong)(index + 1) * Key2);
            sum1 += ((x & 0xFFFFFFFF) * (x >> 32)) + BitOperations.RotateLeft(word, 32);
            sum2 += ((y & 0xFFFFFFFF) * (y >> 32)) + word;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Terms(Vector512<ulong> words, Vector512<ulong> key1, Vector512<ulong> key2, ref Vector512<ulong> sum1, ref Vector512<ulong> sum2)
        {
            var x = words ^ key1;
            var y = words ^ key2;
            sum1 += Avx512F.Multiply(x.AsUInt32(), Avx512F.ShiftRightLogical(x, 32).AsUInt32()) + Avx512F.RotateLeft(words, 32);
            sum2 += Avx512F.Multiply(y.AsUInt32(), Avx512F.ShiftRightLogical(y, 32).AsUInt32()) + words;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Terms(Vector256<ulong> words, Vector256<ulong> key1, Vector256<ulong> key2, ref Vector256<ulong> sum1, ref Vector256<ulong> sum2)
        {
            var x = words ^ key1;
            var y = words ^ key2;
            sum1 += Avx2.Multiply(x.AsUInt32(), Avx2.ShiftRightLogical(x, 32).AsUInt32()) + Avx2.Shuffle(words.AsUInt32(), 0b10_11_00_01).AsUInt64();
            sum2 += Avx2.Multiply(y.AsUInt32(), Avx2.ShiftRightLogical(y, 32).AsUInt32()) + words;
        }

        /// <summary>Adds terms computed elsewhere, for <paramref name="words"/> words appended in order (0 for positioned ones).</summary>
        public void Add(ulong sum1, ulong sum2, long words)
        {
            _sum1 += sum1;
            _sum2 += sum2;
            NextWord += words;
        }

        public void Append(ReadOnlySpan<byte> bytes)
        {
            if (Carried > 0)
            {
                var take = Math.Min(8 - Carried, bytes.Length);
                bytes[..take].CopyTo(_carry.AsSpan(Carried));
                Carried += take;
                bytes = bytes[take..];
                if (Carried < 8)
                    return;
                Words(MemoryMarshal.Cast<byte, ulong>(_carry.AsSpan()));
                Carried = 0;
            }

            var whole = bytes.Length / 8 * 8;
            Words(MemoryMarshal.Cast<byte, ulong>(bytes[..whole]));
            bytes[whole..].CopyTo(_carry);
            Carried = bytes.Length - whole;
        }

        /// <summary>Words NextWord, NextWord + 1, ...; the vector and scalar loops give identical sums.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void Words(ReadOnlySpan<ulong> words)
        {
            var i = 0;
            ulong sum1 = 0, sum2 = 0;
            ref var start = ref MemoryMarshal.GetReference(words);
            var first = (ulong)NextWord + 1;
            if (vectorised && Avx512F.IsSupported && words.Length >= 8)
            {
                var key1 = Vector512.Create(first * Key1) + (Vector512<ulong>.Indices * Key1);
                var key2 = Vector512.Create(first * Key2) + (Vector512<ulong>.Indices * Key2);
                var (step1, step2) = (Vector512.Create(unchecked(8 * Key1)), Vector512.Create(unchecked(8 * Key2)));
                Vector512<ulong> acc1 = default, acc2 = default;
                for (; i + 8 <= words.Length; i += 8)
                {
                    Terms(Vector512.LoadUnsafe(ref start, (nuint)i), key1, key2, ref acc1, ref acc2);
                    key1 += step1;
                    key2 += step2;
                }

                sum1 = Vector512.Sum(acc1);
                sum2 = Vector512.Sum(acc2);
            }
            else if (vectorised && words.Length >= 4)
            {
                var key1 = Vector256.Create(first * Key1) + (Vector256<ulong>.Indices * Key1);
                var key2 = Vector256.Create(first * Key2) + (Vector256<ulong>.Indices * Key2);
                var (step1, step2) = (Vector256.Create(unchecked(4 * Key1)), Vector256.Create(unchecked(4 * Key2)));
                Vector256<ulong> acc1 = default, acc2 = default;
                for (; i + 4 <= words.Length; i += 4)
                {
                    Terms(Vector256.LoadUnsafe(ref start, (nuint)i), key1, key2, ref acc1, ref acc2);
                    key1 += step1;
                    key2 += step2;
                }

                sum1 = Vector256.Sum(acc1);
                sum2 = Vector256.Sum(acc2);
            }

            for (; i < words.Length; i++)
                Term(words[i], NextWord + i, ref sum1, ref sum2);
            Add(sum1, sum2, words.Length);
        }

        /// <param name="count">Values hashed (the stream's length in values, not bytes).</param>
        /// <param name="narrow">True for the bfloat16 stream: part of the digest, so the two streams never meet.</param>
        public string Finish(long count, bool narrow)
        {
            ulong sum1 = _sum1, sum2 = _sum2;
            if (Carried > 0)
            {
                // The unfinished last word, zero-padded (the value count tells the padding from zeros).
                Span<byte> tail = stackalloc byte[8];
                _carry.AsSpan(0, Carried).CopyTo(tail);
                Term(MemoryMarshal.Read<ulong>(tail), NextWord, ref sum1, ref sum2);
            }

            var length = (ulong)count ^ (narrow ? 0xB5UL << 56 : 0);
            var low = Avalanche(sum1 ^ BitOperations.RotateLeft(sum2, 29) ^ length);
            var high = Avalanche(sum2 ^ BitOperations.RotateLeft(sum1, 41) ^ (length * Key1));
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
