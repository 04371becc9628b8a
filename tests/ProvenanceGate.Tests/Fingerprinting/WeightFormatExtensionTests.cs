using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using ProvenanceGate.Fingerprinting;
using ProvenanceGate.Formats.Safetensors;
using ProvenanceGate.Formats.Weights;

namespace ProvenanceGate.Tests.Fingerprinting;

/// <summary>The seams new weight formats plug into: decoded tensors and single model files.</summary>
public sealed class WeightFormatExtensionTests
{
    [Test]
    public void A_decoder_delivers_logical_rows_in_float32_blocks()
    {
        const int Rows = 700, Width = 130;
        using var temp = new TempDirectory();
        var random = new Random(11);
        var logical = Enumerable.Range(0, Rows * Width).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
        // Stored transposed, as ONNX MatMul initialisers are: [Width, Rows].
        var stored = new float[Rows * Width];
        for (var r = 0; r < Rows; r++)
        {
            for (var c = 0; c < Width; c++)
                stored[(c * Rows) + r] = logical[(r * Width) + c];
        }

        File.WriteAllBytes(temp.Combine("model.safetensors"), SafetensorsWriter.Serialize([new NamedTensor("w.weight", [Width, Rows], stored)], SafetensorsDType.F32));
        var raw = WeightFormats.Open(temp.Path)!.Tensors[0];
        var tensor = raw with { Shape = [Rows, Width], Decoder = new TransposingDecoder(Width, Rows), StoredName = "onnx::MatMul_7" };

        var seen = new float[Rows * Width];
        var blocks = 0;
        using var reader = new TensorReader();
        reader.ReadBlocks(tensor, block =>
        {
            blocks++;
            Assert.That(block.DType, Is.EqualTo(SafetensorsDType.F32));
            Assert.That(block.RowLength, Is.EqualTo(Width));
            block.Values.CopyTo(seen.AsSpan((int)block.FirstRow * Width));
        });

        Assert.That(seen, Is.EqualTo(logical));
        Assert.That(blocks, Is.GreaterThan(1), "the tensor spans several read chunks");
        Assert.That(reader.BytesRead, Is.EqualTo(blocks * raw.ByteLength), "the decoder's stored-byte count is what the reader reports");
    }

    [Test]
    public void A_single_safetensors_file_fingerprints_the_same_weights_as_its_directory()
    {
        var directory = RepoPaths.TestData("trained", "models", "dev-base");
        var fromDirectory = Fingerprinter.FromModelDirectory(directory);
        var fromFile = Fingerprinter.FromModelDirectory(Path.Combine(directory, "model.safetensors"));

        Assert.That(fromFile.Name, Is.EqualTo("model"));
        Assert.That(fromFile.Config?.ArchHash, Is.EqualTo(fromDirectory.Config!.ArchHash), "a bare safetensors file is read with the config.json beside it");
        Assert.That(fromFile.Tokenizer?.VocabularyDigest, Is.EqualTo(fromDirectory.Tokenizer!.VocabularyDigest), "and with the tokenizer beside it");
        Assert.That(fromFile.Weights!.TensorHashes, Is.EqualTo(fromDirectory.Weights!.TensorHashes));
        Assert.That(fromFile.Model.ParameterCount, Is.EqualTo(fromDirectory.Model.ParameterCount));
    }

    /// <summary>Reads the whole stored [columns, rows] matrix on each call: fine for a test, not for real formats.</summary>
    private sealed class TransposingDecoder(int storedRows, int storedColumns) : ITensorDecoder
    {
        public long Read(SafeFileHandle handle, WeightTensor tensor, long firstElement, Span<float> destination)
        {
            var bytes = new byte[tensor.ByteLength];
            RandomAccess.Read(handle, bytes, tensor.FileOffset);
            var stored = MemoryMarshal.Cast<byte, float>(bytes);
            for (var i = 0; i < destination.Length; i++)
            {
                var element = firstElement + i;
                var row = element / storedRows;
                var column = element % storedRows;
                destination[i] = stored[(int)((column * storedColumns) + row)];
            }

            return bytes.Length;
        }
    }
}
