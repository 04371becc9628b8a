using System.Text;
using ProvenanceGate.Diagnostics;
using ProvenanceGate.Fingerprinting;
using ProvenanceGate.Formats.Gguf;
using ProvenanceGate.Formats.Weights;

namespace ProvenanceGate.Tests.Gguf;

/// <summary>Malformed GGUF files: a PG error and exit 2, never a crash, a hang or an allocation the file cannot back.</summary>
public sealed class GgufMalformedTests
{
    /// <summary>Hand-written GGUF bytes: header fields, then whatever the case needs.</summary>
    private sealed class Raw
    {
        private readonly List<byte> _bytes = [];

        public Raw(uint version = 3, ulong tensors = 0, ulong keys = 0)
        {
            U32(GgufFile.Magic).U32(version).U64(tensors).U64(keys);
        }

        public Raw String(string text) => Bytes(Encoding.UTF8.GetBytes(text), withLength: true);

        public Raw Bytes(byte[] bytes, bool withLength = false)
        {
            if (withLength)
                U64((ulong)bytes.Length);
            _bytes.AddRange(bytes);
            return this;
        }

        public Raw U32(uint value) => Bytes(BitConverter.GetBytes(value));

        public Raw U64(ulong value) => Bytes(BitConverter.GetBytes(value));

        /// <summary>A tensor info: name, dimensions in GGUF order, type, offset.</summary>
        public Raw Tensor(string name, ulong[] dimensions, uint type, ulong offset)
        {
            String(name).U32((uint)dimensions.Length);
            foreach (var dimension in dimensions)
                U64(dimension);
            return U32(type).U64(offset);
        }

        public Raw Pad(int bytes) => Bytes(new byte[bytes]);

        public byte[] ToArray() => [.. _bytes];
    }

    private static IEnumerable<TestCaseData> BadFiles()
    {
        yield return new TestCaseData(new Raw().ToArray()[..10], "too short").SetName("shorter than a header");
        yield return new TestCaseData(new Raw(version: 1).Pad(16).ToArray(), "version 1").SetName("GGUF version 1");
        yield return new TestCaseData(new Raw(version: 0x03000000).Pad(16).ToArray(), "big-endian").SetName("big-endian GGUF");
        yield return new TestCaseData(new Raw(tensors: ulong.MaxValue).Pad(16).ToArray(), "cannot fit").SetName("absurd tensor count");
        yield return new TestCaseData(new Raw(keys: 1UL << 40).Pad(16).ToArray(), "cannot fit").SetName("absurd key count");
        yield return new TestCaseData(new Raw(keys: 1).U64(ulong.MaxValue).Pad(16).ToArray(), "runs past the end").SetName("absurd key length");
        yield return new TestCaseData(new Raw(keys: 1).String("k").U32(8).U64(1UL << 62).Pad(16).ToArray(), "runs past the end").SetName("absurd string value length");
        yield return new TestCaseData(new Raw(keys: 1).String("k").U32(9).U32(4).U64(1UL << 40).Pad(64).ToArray(), "cannot fit").SetName("absurd array length");
        var nested = new Raw(keys: 1).String("k").U32(9);
        for (var i = 0; i < 8; i++)
            nested.U32(9).U64(1);
        yield return new TestCaseData(nested.Pad(64).ToArray(), "nested deeper").SetName("arrays nested too deep");
        yield return new TestCaseData(new Raw(keys: 1).String("k").U32(13).Pad(16).ToArray(), "unknown metadata value type").SetName("unknown value type");
        yield return new TestCaseData(new Raw(keys: 1).String("k").U32(7).Bytes([2]).Pad(16).ToArray(), "bool value").SetName("bool that is neither 0 nor 1");
        yield return new TestCaseData(new Raw(keys: 2).String("k").U32(4).U32(1).String("k").U32(4).U32(1).Pad(16).ToArray(), "appears twice").SetName("duplicate key");
        yield return new TestCaseData(new Raw(keys: 1).Bytes([0xff, 0xfe], withLength: true).U32(4).U32(1).Pad(16).ToArray(), "UTF-8").SetName("key not UTF-8");
        yield return new TestCaseData(new Raw(keys: 1).String("general.alignment").U32(4).U32(3).Pad(16).ToArray(), "power-of-two").SetName("alignment not a power of two");
        yield return new TestCaseData(new Raw(tensors: 1).Tensor("t", [1, 1, 1, 1, 1], 0, 0).Pad(64).ToArray(), "dimensions").SetName("five dimensions");
        yield return new TestCaseData(new Raw(tensors: 1).Tensor("t", [1UL << 40], 0, 0).Pad(64).ToArray(), "dimension 0").SetName("absurd dimension");
        yield return new TestCaseData(new Raw(tensors: 1).Tensor("t", [int.MaxValue, int.MaxValue, int.MaxValue, int.MaxValue], 0, 0).Pad(64).ToArray(), "too many elements").SetName("element count overflow");
        yield return new TestCaseData(new Raw(tensors: 1).Tensor("t", [1024, 1024], 0, 0).Pad(64).ToArray(), "cannot fit").SetName("tensor larger than the file");
        yield return new TestCaseData(new Raw(tensors: 1).Tensor("t", [8], 99, 0).Pad(64).ToArray(), "unknown ggml type").SetName("unknown tensor type");
        yield return new TestCaseData(new Raw(tensors: 1).Tensor("t", [8], 0, 1UL << 50).Pad(64).ToArray(), "beyond the end").SetName("offset beyond the file");
        yield return new TestCaseData(new Raw(tensors: 1).Tensor("t", [8], 0, 4).Pad(64).ToArray(), "not a multiple of the alignment").SetName("unaligned offset");
        yield return new TestCaseData(new Raw(tensors: 1).Tensor("t", [31, 2], 8, 0).Pad(256).ToArray(), "not a multiple").SetName("row not whole Q8_0 blocks");
        yield return new TestCaseData(new Raw(tensors: 2).Tensor("t", [8], 0, 0).Tensor("t", [8], 0, 32).Pad(128).ToArray(), "appears twice").SetName("duplicate tensor name");
        yield return new TestCaseData(new Raw(tensors: 1).Tensor("t", [8], 0, 0).Pad(23).ToArray(), "past the end").SetName("tensor data truncated");
    }

    [TestCaseSource(nameof(BadFiles))]
    public void Malformed_gguf_is_PG3030(byte[] content, string reason)
    {
        using var temp = new TempDirectory();
        var path = temp.Combine("bad.gguf");
        File.WriteAllBytes(path, content);
        var error = Assert.Throws<ProvenanceException>(() => WeightFormats.Open(path));
        Assert.That(error!.Diagnostic.Code, Is.EqualTo("PG3030"), error.Message);
        Assert.That(error.Message, Does.Contain(reason));
        Assert.That(error.Diagnostic.File, Is.EqualTo(path));
    }

    [Test]
    public void Truncated_fixture_fails_cleanly_at_every_cut()
    {
        using var temp = new TempDirectory();
        var whole = File.ReadAllBytes(GgufFixtures.Trained("dev-ft", GgmlType.Q8_0, baseModel: "dev-base"));
        var dataStart = GgufFile.Read(GgufFixtures.Trained("dev-ft", GgmlType.Q8_0, baseModel: "dev-base")).DataOffset;
        var path = temp.Combine("cut.gguf");
        foreach (var length in new long[] { 4, 23, 100, 5000, dataStart / 2, dataStart - 1, dataStart + 10, whole.Length - 1 })
        {
            File.WriteAllBytes(path, whole[..(int)length]);
            var error = Assert.Throws<ProvenanceException>(() => Fingerprinter.FromModelDirectory(path), $"cut at {length}");
            Assert.That(error!.Diagnostic.Code, Is.EqualTo("PG3030"), $"cut at {length}: {error.Message}");
        }
    }

    [Test]
    public void Corrupted_headers_are_read_or_rejected_never_crash()
    {
        using var temp = new TempDirectory();
        var original = File.ReadAllBytes(GgufFixtures.Trained("dev-base", GgmlType.F16));
        var headerEnd = (int)GgufFile.Read(GgufFixtures.Trained("dev-base", GgmlType.F16)).DataOffset;
        var random = new Random(5);
        var path = temp.Combine("fuzz.gguf");
        var rejected = 0;
        for (var i = 0; i < 300; i++)
        {
            var bytes = (byte[])original.Clone();
            for (var flips = random.Next(1, 4); flips > 0; flips--)
                bytes[random.Next(headerEnd)] ^= (byte)(1 << random.Next(8));
            File.WriteAllBytes(path, bytes);
            try
            {
                WeightFormats.Open(path);
            }
            catch (ProvenanceException ex)
            {
                Assert.That(ex.Diagnostic.Code, Is.AnyOf("PG3030", "PG3003"), ex.Message);
                rejected++;
            }
        }

        Assert.That(rejected, Is.GreaterThan(10), "corruption is noticed");
    }

    [Test]
    public void Cli_fingerprint_of_a_truncated_gguf_exits_2_without_output()
    {
        using var temp = new TempDirectory();
        var path = temp.Combine("cut.gguf");
        var whole = File.ReadAllBytes(GgufFixtures.Trained("dev-base", GgmlType.F16));
        File.WriteAllBytes(path, whole[..(whole.Length / 2)]);
        var output = temp.Combine("cut.fingerprint.json");

        var result = Cli.Run("fingerprint", "--no-cache", path, "-o", output);

        Assert.That(result.ExitCode, Is.EqualTo(2), result.Stderr);
        Assert.That(result.Stderr, Does.Contain("error PG3030"));
        Assert.That(result.Stderr, Does.Not.Contain("   at "), "no stack trace");
        Assert.That(File.Exists(output), Is.False);
    }

    [Test]
    public void Tensors_of_types_not_dequantised_are_counted_but_not_read()
    {
        using var temp = new TempDirectory();
        var path = temp.Combine("iq.gguf");
        var layout = GgmlTypes.Layout(GgmlType.IQ2_XXS);
        var f32 = new float[256];
        GgufWriter.Write(path, [new("general.architecture", GgufWriter.Value("llama"))],
        [
            new GgufTensorSource("blk.0.ffn_up.weight", [4, 256], GgmlType.IQ2_XXS, s => s.Write(new byte[4 * layout.BlockBytes])),
            new GgufTensorSource("blk.0.ffn_norm.weight", [256], GgmlType.F32, s => s.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(f32.AsSpan()))),
        ]);

        var fingerprint = Fingerprinter.FromModelDirectory(path);
        Assert.That(fingerprint.Model.ParameterCount, Is.EqualTo((4 * 256) + 256));
        Assert.That(fingerprint.Model.DTypes, Does.Contain("IQ2_XXS"));
    }
}
