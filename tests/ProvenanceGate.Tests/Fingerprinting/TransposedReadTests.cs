using System.Runtime.InteropServices;
using ProvenanceGate.Formats.Onnx;
using ProvenanceGate.Formats.Safetensors;
using ProvenanceGate.Formats.Weights;

namespace ProvenanceGate.Tests.Fingerprinting;

/// <summary>
/// torch.onnx.export stores Linear weights transposed: the block transposes (8×8 BF16, 4×4 F32) must give the stored
/// columns as rows for every shape, edges included, and scattered anchor rows must cost narrow column reads, not a
/// panel (or the whole matrix) per row.
/// </summary>
public sealed class TransposedReadTests
{
    private const int Rows = 300, Columns = 701;

    private static (WeightTensor Tensor, float[] Expected) Matrix(TempDirectory temp, SafetensorsDType dtype, int rows, int columns, int wholeBytes, int panelBytes)
    {
        var elementSize = SafetensorsDTypes.SizeOf(dtype);
        var random = new Random(rows * columns);
        var stored = new float[rows * columns];
        for (var i = 0; i < stored.Length; i++)
            stored[i] = dtype == SafetensorsDType.BF16 ? BitConverter.UInt32BitsToSingle((uint)random.Next(0x3000, 0x4000) << 16) : (float)(random.NextDouble() - 0.5);
        var bytes = dtype == SafetensorsDType.BF16
            ? MemoryMarshal.AsBytes(stored.Select(v => (ushort)(BitConverter.SingleToUInt32Bits(v) >> 16)).ToArray().AsSpan()).ToArray()
            : MemoryMarshal.AsBytes(stored.AsSpan()).ToArray();
        var path = temp.Combine($"{dtype}-{rows}x{columns}.bin");
        File.WriteAllBytes(path, [1, 2, 3, .. bytes]);
        var tensor = new WeightTensor("m", dtype, [columns, rows], path, 3, bytes.Length)
        {
            Decoder = new TransposedDecoder(elementSize, rows, columns, wholeBytes, panelBytes),
        };
        var expected = new float[stored.Length];
        for (var r = 0; r < rows; r++)
        {
            for (var c = 0; c < columns; c++)
                expected[(c * rows) + r] = stored[(r * columns) + c];
        }

        return (tensor, expected);
    }

    /// <summary>Every row through the streaming pass the fingerprinter takes (BF16 stays raw until decoded there).</summary>
    private static List<float> ReadAll(TensorReader reader, WeightTensor tensor)
    {
        var all = new List<float>();
        reader.ReadBlocks(tensor, block =>
        {
            var values = new float[block.RowLength];
            for (var i = 0; i < block.RowCount; i++)
            {
                block.CopyRow(i, values);
                all.AddRange(values);
            }
        });
        return all;
    }

    [TestCase(SafetensorsDType.F32, 300, 701, TransposedDecoder.WholeBytes, TestName = "F32 transposed matrix read whole")]
    [TestCase(SafetensorsDType.F32, 300, 701, 0, TestName = "F32 transposed matrix read in panels")]
    [TestCase(SafetensorsDType.BF16, 64, 128, TransposedDecoder.WholeBytes, TestName = "BF16 matrix of whole 8x8 blocks")]
    [TestCase(SafetensorsDType.BF16, 7, 5, TransposedDecoder.WholeBytes, TestName = "BF16 matrix smaller than one block")]
    [TestCase(SafetensorsDType.F32, 9, 3, 0, TestName = "F32 matrix narrower than one block, in panels")]
    public void Block_transpose_gives_the_stored_columns_as_rows(SafetensorsDType dtype, int rows, int columns, int wholeBytes)
    {
        using var temp = new TempDirectory();
        var (tensor, expected) = Matrix(temp, dtype, rows, columns, wholeBytes, panelBytes: rows * SafetensorsDTypes.SizeOf(dtype) * 40);
        using var reader = new TensorReader();
        Assert.That(ReadAll(reader, tensor), Is.EqualTo(expected));
    }

    [TestCase(SafetensorsDType.BF16)]
    [TestCase(SafetensorsDType.F32)]
    public void Scattered_anchor_rows_read_narrow_columns_and_the_pass_after_them_is_whole(SafetensorsDType dtype)
    {
        using var temp = new TempDirectory();
        // Panels of 256 columns, as a matrix too large to read whole would be.
        var (tensor, expected) = Matrix(temp, dtype, Rows, Columns, wholeBytes: 0, panelBytes: Rows * SafetensorsDTypes.SizeOf(dtype) * 256);
        using var reader = new TensorReader();
        int[] anchors = [650, 3, 402, 17, 699, 256, 5, 511];
        var row = new float[Rows];
        foreach (var anchor in anchors)
        {
            reader.ReadRow(tensor, anchor, row);
            Assert.That(row, Is.EqualTo(expected.AsSpan(anchor * Rows, Rows).ToArray()), $"row {anchor}");
        }

        var matrixBytes = (long)Rows * Columns * SafetensorsDTypes.SizeOf(dtype);
        Assert.That(reader.BytesRead, Is.LessThanOrEqualTo((long)anchors.Length * TransposedDecoder.NarrowColumns * Rows * SafetensorsDTypes.SizeOf(dtype)),
            "each scattered row costs a narrow strip of columns");
        Assert.That(reader.BytesRead, Is.LessThan(matrixBytes / 2));

        // The streaming pass after the anchors still gets every row right, from the first.
        var all = ReadAll(reader, tensor);
        Assert.That(all, Is.EqualTo(expected));
    }

    [TestCase(SafetensorsDType.BF16)]
    [TestCase(SafetensorsDType.F32)]
    public void Many_anchor_rows_come_from_one_walk_over_the_mapped_store_and_match_row_by_row_reads(SafetensorsDType dtype)
    {
        using var temp = new TempDirectory();
        var (tensor, expected) = Matrix(temp, dtype, Rows, Columns, TransposedDecoder.WholeBytes, TransposedDecoder.PanelBytes);
        long[] anchors = [650, 3, 402, 17, 699, 256, 5, 511, 3];
        var rows = new float[anchors.Length * Rows];
        using (var reader = new TensorReader())
            reader.ReadRows(tensor, anchors, rows);
        for (var i = 0; i < anchors.Length; i++)
            Assert.That(rows.AsSpan(i * Rows, Rows).ToArray(), Is.EqualTo(expected.AsSpan((int)anchors[i] * Rows, Rows).ToArray()), $"anchor {anchors[i]}");

        // A file that cannot be mapped under a lease (open for writing elsewhere) gives the same rows by positioned reads.
        using var writer = new FileStream(tensor.FilePath, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);
        var read = new float[anchors.Length * Rows];
        using (var reader = new TensorReader())
            reader.ReadRows(tensor, anchors, read);
        Assert.That(read, Is.EqualTo(rows));
    }

    [Test]
    public void Anchor_rows_out_of_range_are_refused()
    {
        using var temp = new TempDirectory();
        var (tensor, _) = Matrix(temp, SafetensorsDType.BF16, Rows, Columns, TransposedDecoder.WholeBytes, TransposedDecoder.PanelBytes);
        using var reader = new TensorReader();
        Assert.Throws<ArgumentOutOfRangeException>(() => reader.ReadRows(tensor, [Columns], new float[Rows]));
        Assert.Throws<ArgumentOutOfRangeException>(() => reader.ReadRows(tensor, [0, 1], new float[Rows]));
    }
}
