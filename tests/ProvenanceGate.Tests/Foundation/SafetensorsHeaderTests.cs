using System.Buffers.Binary;
using System.Text;
using ProvenanceGate.Diagnostics;
using ProvenanceGate.Formats.Safetensors;
using ProvenanceGate.Models;

namespace ProvenanceGate.Tests.Foundation;

public sealed class SafetensorsHeaderTests
{
    [TestCase(SafetensorsDType.F32)]
    [TestCase(SafetensorsDType.F16)]
    [TestCase(SafetensorsDType.BF16)]
    public void Round_trips_a_generated_model(SafetensorsDType dtype)
    {
        using var temp = new TempDirectory();
        var spec = new SyntheticModelSpec();
        var tensors = SyntheticModel.CreateTensors(spec);
        var path = temp.Combine("model.safetensors");
        File.WriteAllBytes(path, SafetensorsWriter.Serialize(tensors, dtype));

        var header = SafetensorsHeader.Read(path);
        Assert.That(header.Tensors.Select(t => t.Name), Is.EquivalentTo(tensors.Select(t => t.Name)));
        Assert.That(header.Tensors, Has.All.Property(nameof(SafetensorsTensorInfo.DType)).EqualTo(dtype));
        Assert.That(header.ParameterCount, Is.EqualTo(tensors.Sum(t => t.ElementCount)));
        Assert.That(header.Metadata["format"], Is.EqualTo("pt"));
        Assert.That(header.DataStart % 8, Is.EqualTo(0));
    }

    [Test]
    public void Generation_is_deterministic()
    {
        var a = SafetensorsWriter.Serialize(SyntheticModel.CreateTensors(new SyntheticModelSpec { Seed = 7 }), SafetensorsDType.F16);
        var b = SafetensorsWriter.Serialize(SyntheticModel.CreateTensors(new SyntheticModelSpec { Seed = 7 }), SafetensorsDType.F16);
        var c = SafetensorsWriter.Serialize(SyntheticModel.CreateTensors(new SyntheticModelSpec { Seed = 8 }), SafetensorsDType.F16);
        Assert.That(a, Is.EqualTo(b));
        Assert.That(a, Is.Not.EqualTo(c));
    }

    private static IEnumerable<TestCaseData> MalformedHeaders()
    {
        yield return new TestCaseData("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", 4, "runs past the end").SetName("Offsets beyond the file");
        yield return new TestCaseData("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}""", 12, "overlap").SetName("Overlapping tensors");
        yield return new TestCaseData("""{"a":{"dtype":"Q4","shape":[2],"data_offsets":[0,8]}}""", 8, "unknown dtype").SetName("Unknown dtype");
        yield return new TestCaseData("""{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}""", 8, "needs 12 bytes").SetName("Shape and bytes disagree");
        yield return new TestCaseData("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}""", 8, "ends before it begins").SetName("Reversed offsets");
        yield return new TestCaseData("""{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}""", 8, "invalid shape").SetName("Negative dimension");
        yield return new TestCaseData("""[1,2]""", 0, "not a JSON object").SetName("Header is an array");
        yield return new TestCaseData("""{"a":""", 0, "not valid JSON").SetName("Truncated JSON");
        yield return new TestCaseData("""{"a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,8]}}""", 8, "overflows").SetName("Shape overflow");
    }

    [TestCaseSource(nameof(MalformedHeaders))]
    public void Malformed_headers_are_PG3001(string json, int dataBytes, string reason)
    {
        using var temp = new TempDirectory();
        var path = temp.Combine("bad.safetensors");
        var header = Encoding.UTF8.GetBytes(json);
        var bytes = new byte[8 + header.Length + dataBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)header.Length);
        header.CopyTo(bytes, 8);
        File.WriteAllBytes(path, bytes);

        var ex = Assert.Throws<ProvenanceException>(() => SafetensorsHeader.Read(path))!;
        Assert.That(ex.Diagnostic.Code, Is.EqualTo("PG3001"));
        Assert.That(ex.Message, Does.Contain(reason));
        Assert.That(ex.Diagnostic.File, Is.EqualTo(path));
    }

    [Test]
    public void Header_length_beyond_the_file_and_huge_headers_are_refused_before_allocation()
    {
        using var temp = new TempDirectory();
        var path = temp.Combine("huge.safetensors");
        var bytes = new byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, ulong.MaxValue / 2);
        File.WriteAllBytes(path, bytes);
        Assert.That(Assert.Throws<ProvenanceException>(() => SafetensorsHeader.Read(path))!.Message, Does.Contain("exceeds"));

        BinaryPrimitives.WriteUInt64LittleEndian(bytes, 1000);
        File.WriteAllBytes(path, bytes);
        Assert.That(Assert.Throws<ProvenanceException>(() => SafetensorsHeader.Read(path))!.Message, Does.Contain("past the end"));

        File.WriteAllBytes(path, new byte[3]);
        Assert.That(Assert.Throws<ProvenanceException>(() => SafetensorsHeader.Read(path))!.Message, Does.Contain("shorter"));
    }

    [Test]
    public void Non_utf8_header_is_refused()
    {
        using var temp = new TempDirectory();
        var path = temp.Combine("latin1.safetensors");
        byte[] header = [(byte)'{', (byte)'"', 0xFF, (byte)'"', (byte)':', (byte)'1', (byte)'}', (byte)' '];
        var bytes = new byte[8 + header.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)header.Length);
        header.CopyTo(bytes, 8);
        File.WriteAllBytes(path, bytes);
        Assert.That(Assert.Throws<ProvenanceException>(() => SafetensorsHeader.Read(path))!.Message, Does.Contain("UTF-8"));
    }
}
