using ProvenanceGate.Fingerprinting;
using ProvenanceGate.Formats.Safetensors;

namespace ProvenanceGate.Tests.Fingerprinting;

public sealed class ContentHashTests
{
    private static string Hash(float[] values, int chunk, bool vectorised = true)
    {
        var hash = new ContentHash(vectorised);
        for (var start = 0; start < values.Length; start += chunk)
            hash.Append(values.AsSpan(start, Math.Min(chunk, values.Length - start)));
        return hash.Finish();
    }

    [Test]
    public void Chunking_does_not_change_the_hash([Values(0, 1, 2, 7, 8, 9, 31, 1000, 1001)] int length)
    {
        var random = new Random(length);
        var values = Enumerable.Range(0, length).Select(_ => (float)random.NextDouble()).ToArray();
        var whole = Hash(values, Math.Max(1, length));
        // Odd chunks exercise the carried half-word and the scalar tail; large ones the vector loop.
        foreach (var chunk in new[] { 1, 3, 5, 8, 17, 64 })
            Assert.That(Hash(values, chunk), Is.EqualTo(whole), $"chunk {chunk}");
    }

    [Test]
    public void Any_change_changes_the_hash()
    {
        var values = Enumerable.Range(0, 257).Select(i => (float)i).ToArray();
        var original = Hash(values, 257);
        for (var i = 0; i < values.Length; i += 16)
        {
            var changed = (float[])values.Clone();
            changed[i] = BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(changed[i]) ^ 1);
            Assert.That(Hash(changed, 257), Is.Not.EqualTo(original), $"element {i}");
        }

        Assert.That(Hash(values[..256], 256), Is.Not.EqualTo(original), "length is part of the hash");
    }

    [Test]
    public void Vector_and_scalar_loops_agree([Values(63, 64, 65, 4096, 5000)] int length)
    {
        var random = new Random(length);
        var values = Enumerable.Range(0, length).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
        foreach (var chunk in new[] { 7, 64, 1000, length })
            Assert.That(Hash(values, chunk, vectorised: false), Is.EqualTo(Hash(values, length)), $"chunk {chunk}");
    }

    [Test]
    public void Swapping_two_rows_changes_the_hash()
    {
        // Every term carries its word's position: the same rows in another order are another tensor.
        var random = new Random(5);
        var values = Enumerable.Range(0, 64 * 8).Select(_ => (float)random.NextDouble()).ToArray();
        var swapped = (float[])values.Clone();
        values.AsSpan(0, 64).CopyTo(swapped.AsSpan(64));
        values.AsSpan(64, 64).CopyTo(swapped.AsSpan(0));
        Assert.That(Hash(swapped, swapped.Length), Is.Not.EqualTo(Hash(values, values.Length)));
    }

    private static float[] Bf16Values(int length, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, length)
            .Select(_ => BitConverter.UInt32BitsToSingle((uint)SafetensorsWriter.ToBFloat16((float)(random.NextDouble() - 0.5)) << 16)).ToArray();
    }

    private static byte[] Bf16Bytes(float[] values) =>
        values.SelectMany(v => BitConverter.GetBytes((ushort)(BitConverter.SingleToUInt32Bits(v) >> 16))).ToArray();

    private static string HashBf16(byte[] raw, int chunkValues, bool vectorised = true)
    {
        var hash = new ContentHash(vectorised);
        for (var start = 0; start < raw.Length; start += chunkValues * 2)
            hash.AppendBFloat16(raw.AsSpan(start, Math.Min(chunkValues * 2, raw.Length - start)));
        return hash.Finish();
    }

    [Test]
    public void Bfloat16_bytes_hash_like_the_same_values_given_as_float32([Values(0, 1, 2, 3, 127, 128, 129, 1000, 4097)] int length)
    {
        // The dtype container is not part of the identity: BF16 weights re-saved as F32 must hash the same.
        var values = Bf16Values(length, length);
        var raw = Bf16Bytes(values);
        var expected = Hash(values, Math.Max(1, length));
        foreach (var chunk in new[] { 1, 3, 64, 128, 1000 })
        {
            Assert.That(HashBf16(raw, chunk), Is.EqualTo(expected), $"bf16 chunk {chunk}");
            Assert.That(HashBf16(raw, chunk, vectorised: false), Is.EqualTo(expected), $"scalar bf16 chunk {chunk}");
            Assert.That(Hash(values, chunk), Is.EqualTo(expected), $"float chunk {chunk}");
        }
    }

    [Test]
    public void One_value_that_is_not_bfloat16_exact_moves_the_whole_tensor_to_the_float32_stream()
    {
        var values = Bf16Values(300, 7);
        var inexact = (float[])values.Clone();
        inexact[299] = BitConverter.UInt32BitsToSingle(BitConverter.SingleToUInt32Bits(inexact[299]) | 1);
        var narrow = HashBf16(Bf16Bytes(values), 300);
        Assert.That(Hash(inexact, 300), Is.Not.EqualTo(narrow));
        Assert.That(Hash(inexact, 7), Is.EqualTo(Hash(inexact, 300)), "the switch does not depend on where a chunk ends");
        Assert.That(Hash(inexact, 300, vectorised: false), Is.EqualTo(Hash(inexact, 300)));
    }

    [Test]
    public void Fused_rows_hash_and_measure_like_the_separate_passes([Values(128, 256, 2048)] int rowLength)
    {
        Assume.That(System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated, "the fused pass needs 512-bit vectors");
        const int Rows = 5;
        var values = Bf16Values(rowLength * Rows, rowLength);
        var raw = Bf16Bytes(values);
        var fused = new ContentHash();
        var sums = new double[Rows];
        // Two calls: the chain state carries over between blocks of rows.
        Assert.That(fused.TryAppendBFloat16Rows(raw.AsSpan(0, rowLength * 2 * 2), rowLength, sums), Is.True);
        Assert.That(fused.TryAppendBFloat16Rows(raw.AsSpan(rowLength * 2 * 2), rowLength, sums.AsSpan(2)), Is.True);
        Assert.That(fused.Finish(), Is.EqualTo(HashBf16(raw, rowLength)));
        for (var r = 0; r < Rows; r++)
        {
            var expected = NumericKernels.Scalar.SumOfSquares(values.AsSpan(r * rowLength, rowLength));
            Assert.That(sums[r], Is.EqualTo(expected).Within(1e-5).Percent, $"row {r}");
        }
    }

    [Test]
    public void Rows_that_are_not_whole_vectors_are_left_to_the_separate_passes()
    {
        var raw = Bf16Bytes(Bf16Values(36 * 4, 3));
        var hash = new ContentHash();
        Assert.That(hash.TryAppendBFloat16Rows(raw, 36, new double[4]), Is.False);
        Assert.That(hash.Finish(), Is.EqualTo(new ContentHash().Finish()), "nothing was hashed");
    }

    [Test]
    public void Float_and_bfloat16_input_are_not_mixed_in_one_hash()
    {
        var hash = new ContentHash();
        hash.Append([1f, 2f]);
        Assert.Throws<InvalidOperationException>(() => hash.AppendBFloat16(new byte[4]));
        var raw = new ContentHash();
        raw.AppendBFloat16(new byte[4]);
        Assert.Throws<InvalidOperationException>(() => raw.Append([1f]));
    }

    /// <summary>values (rows × columns, row-major) as a transposed store: stored[c][r] = values[r][c].</summary>
    private static float[] Transpose(float[] values, int rows, int columns)
    {
        var stored = new float[values.Length];
        for (var r = 0; r < rows; r++)
        {
            for (var c = 0; c < columns; c++)
                stored[(c * rows) + r] = values[(r * columns) + c];
        }

        return stored;
    }

    [Test]
    public void A_transposed_store_hashes_like_its_rows_in_order([Values(1, 15, 16, 33, 100)] int rows, [Values(4, 8, 64)] int columns, [Values] bool vectorised)
    {
        // The ONNX path: stored rows are logical columns, handed over in groups of four, in blocks of any size.
        var values = Bf16Values(rows * columns, rows + columns);
        var stored = Transpose(values, rows, columns);
        var expected = Hash(values, values.Length);
        foreach (var groupsPerBlock in new[] { 1, 3, columns / 4 })
        {
            var bf16 = new ContentHash(vectorised);
            var floats = new ContentHash(vectorised);
            var bf16Squares = new float[rows];
            var floatSquares = new float[rows];
            var storedBytes = Bf16Bytes(stored);
            for (var c = 0; c < columns; c += 4 * groupsPerBlock)
            {
                var take = Math.Min(4 * groupsPerBlock, columns - c);
                bf16.AppendBFloat16Transposed(storedBytes.AsSpan(c * rows * 2, take * rows * 2), rows, c, columns, bf16Squares);
                floats.AppendTransposed(stored.AsSpan(c * rows, take * rows), rows, c, columns, floatSquares);
            }

            Assert.That(bf16.Finish(), Is.EqualTo(expected), $"bf16, {groupsPerBlock} groups per block");
            Assert.That(floats.Finish(), Is.EqualTo(expected), $"float32, {groupsPerBlock} groups per block");
            for (var r = 0; r < rows; r++)
            {
                var row = NumericKernels.Scalar.SumOfSquares(values.AsSpan(r * columns, columns));
                Assert.That(bf16Squares[r], Is.EqualTo(row).Within(1e-4).Percent, $"row {r} (bf16)");
                Assert.That(floatSquares[r], Is.EqualTo(row).Within(1e-4).Percent, $"row {r} (float32)");
            }
        }
    }

    [Test]
    public void A_transposed_float32_store_that_is_not_bfloat16_exact_hashes_like_its_rows([Values] bool vectorised)
    {
        const int Rows = 37, Columns = 12;
        var random = new Random(11);
        var values = Enumerable.Range(0, Rows * Columns).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
        var hash = new ContentHash(vectorised);
        hash.AppendTransposed(Transpose(values, Rows, Columns), Rows, 0, Columns, new float[Rows]);
        Assert.That(hash.Finish(), Is.EqualTo(Hash(values, values.Length)));
    }

    [Test]
    public void A_transposed_store_with_two_columns_swapped_hashes_differently()
    {
        const int Rows = 32, Columns = 8;
        var values = Bf16Values(Rows * Columns, 9);
        var stored = Transpose(values, Rows, Columns);
        var swapped = (float[])stored.Clone();
        stored.AsSpan(0, Rows).CopyTo(swapped.AsSpan(Rows));
        stored.AsSpan(Rows, Rows).CopyTo(swapped.AsSpan(0));
        string HashOf(float[] s)
        {
            var hash = new ContentHash();
            hash.AppendBFloat16Transposed(Bf16Bytes(s), Rows, 0, Columns, new float[Rows]);
            return hash.Finish();
        }

        Assert.That(HashOf(swapped), Is.Not.EqualTo(HashOf(stored)));
        Assert.That(HashOf(stored), Is.EqualTo(Hash(values, values.Length)));
    }

    [Test]
    public void Transposed_appends_take_whole_groups_of_four_stored_rows()
    {
        var hash = new ContentHash();
        Assert.Throws<ArgumentException>(() => hash.AppendBFloat16Transposed(new byte[3 * 8 * 2], 8, 0, 8, new float[8]), "three stored rows");
        Assert.Throws<ArgumentException>(() => hash.AppendBFloat16Transposed(new byte[4 * 8 * 2], 8, 2, 8, new float[8]), "a group that starts mid-way");
        Assert.Throws<ArgumentException>(() => hash.AppendBFloat16Transposed(new byte[4 * 8 * 2], 8, 0, 6, new float[8]), "a logical row length not divisible by four");
        Assert.That(ContentHash.TransposedGroupsFit(8, 12), Is.True);
        Assert.That(ContentHash.TransposedGroupsFit(6, 12), Is.False);
    }
}
