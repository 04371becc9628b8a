using ProvenanceGate.Fingerprinting;
using ProvenanceGate.Formats.Safetensors;
using ProvenanceGate.Formats.Weights;

namespace ProvenanceGate.Tests.Fingerprinting;

/// <summary>Row blocks hand over raw bytes; every float view of them must agree with plain decoding.</summary>
public sealed class TensorReaderTests
{
    private static readonly int[] Columns = [0, 3, 17, 63, 99];

    [TestCase(SafetensorsDType.BF16)]
    [TestCase(SafetensorsDType.F32)]
    [TestCase(SafetensorsDType.F16)]
    [TestCase(SafetensorsDType.F64)]
    public void Block_views_match_the_decoded_values(SafetensorsDType dtype)
    {
        const int Rows = 3000, Width = 100;
        using var temp = new TempDirectory();
        var random = new Random(5);
        var values = Enumerable.Range(0, Rows * Width).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
        File.WriteAllBytes(temp.Combine("model.safetensors"), SafetensorsWriter.Serialize([new NamedTensor("w.weight", [Rows, Width], values)], dtype));
        var tensor = WeightFormats.Open(temp.Path)!.Tensors[0];
        // What the file holds, decoded the plain way (values rounded to the dtype).
        var decoded = new float[Rows * Width];
        using (var reference = new TensorReader(NumericKernels.Scalar))
            reference.ReadBlocks(tensor, block => block.Values.CopyTo(decoded.AsSpan((int)block.FirstRow * Width)));

        using var reader = new TensorReader();
        var blocks = 0;
        var seen = 0L;
        var row = new float[Width];
        var gathered = new float[Columns.Length * 2];
        reader.ReadBlocks(tensor, block =>
        {
            blocks++;
            Assert.That(block.FirstRow, Is.EqualTo(seen));
            for (var r = 0; r < block.RowCount; r++)
            {
                var expected = decoded.AsSpan((int)(block.FirstRow + r) * Width, Width).ToArray();
                block.CopyRow(r, row);
                Assert.That(row, Is.EqualTo(expected));
                block.Gather(r, Columns, gathered, 2);
                Assert.That(Enumerable.Range(0, Columns.Length).Select(i => gathered[i * 2]), Is.EqualTo(Columns.Select(c => expected[c])));
                Assert.That(block.Value(r, 42), Is.EqualTo(expected[42]));
                Assert.That(block.SumOfSquares(r), Is.EqualTo(NumericKernels.Scalar.SumOfSquares(expected)).Within(1e-4).Percent);
            }

            seen += block.RowCount;
        });
        Assert.That(seen, Is.EqualTo(Rows));
        Assert.That(blocks, Is.GreaterThan(1), "the tensor is larger than one read chunk");
        Assert.That(reader.BytesRead, Is.EqualTo(tensor.ByteLength));
    }

    [Test]
    public void A_gather_outside_the_row_is_refused()
    {
        using var temp = new TempDirectory();
        File.WriteAllBytes(temp.Combine("model.safetensors"), SafetensorsWriter.Serialize([new NamedTensor("w.weight", [2, 4], new float[8])], SafetensorsDType.BF16));
        using var reader = new TensorReader();
        reader.ReadBlocks(WeightFormats.Open(temp.Path)!.Tensors[0], block =>
            Assert.Throws<ArgumentOutOfRangeException>(() => block.Gather(0, [1, 4], new float[2], 1)));
    }
}
