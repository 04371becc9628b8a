using System.Buffers.Binary;
using System.Text;
using ProvenanceGate.Diagnostics;
using ProvenanceGate.Fingerprinting;
using ProvenanceGate.Formats.Safetensors;
using ProvenanceGate.Models;

namespace ProvenanceGate.Tests.Fingerprinting;

/// <summary>Bad inputs give a PG error naming the file and exit code 2: never a crash, a hang or partial output.</summary>
public sealed class MalformedInputTests
{
    private static byte[] Safetensors(string header, int dataBytes)
    {
        var json = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + json.Length + dataBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)json.Length);
        json.CopyTo(bytes, 8);
        return bytes;
    }

    private static IEnumerable<TestCaseData> BadWeights()
    {
        yield return new TestCaseData(Safetensors("{}", 0)[..6]).SetName("shorter than the length prefix");
        var beyond = new byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(beyond, 4096);
        yield return new TestCaseData(beyond).SetName("header length beyond the file");
        var huge = new byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(huge, ulong.MaxValue);
        yield return new TestCaseData(huge).SetName("huge header length");
        yield return new TestCaseData(Safetensors("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12)).SetName("overlapping offsets");
        yield return new TestCaseData(Safetensors("{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 8)).SetName("out-of-range offsets (truncated file)");
        yield return new TestCaseData(Safetensors("{\"a\":{\"dtype\":\"F99\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8)).SetName("unknown dtype");
        yield return new TestCaseData(Safetensors("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8)).SetName("shape and byte length disagree");
        yield return new TestCaseData(Safetensors("{\"a\":", 0)).SetName("header is not JSON");
        yield return new TestCaseData(Safetensors("\"\xff\"", 0)).SetName("header is not UTF-8");
    }

    [TestCaseSource(nameof(BadWeights))]
    public void Malformed_safetensors_is_PG3001_exit_2(byte[] content)
    {
        using var temp = new TempDirectory();
        var model = temp.Combine("model");
        Directory.CreateDirectory(model);
        File.WriteAllBytes(Path.Combine(model, "model.safetensors"), content);
        var output = temp.Combine("out.fingerprint.json");

        var result = Cli.Run("fingerprint", "--no-cache", model, "-o", output);

        Assert.That(result.ExitCode, Is.EqualTo(ExitCodes.InputError), result.Stderr);
        Assert.That(result.Stderr, Does.Contain("error PG3001").And.Contain("model.safetensors"));
        Assert.That(result.Stderr, Does.Not.Contain("   at "));
        Assert.That(File.Exists(output), Is.False, "no partial output");
    }

    [Test]
    public void File_truncated_after_the_header_was_validated_is_a_PG_error()
    {
        // The header claims data the file no longer has by the time it is streamed.
        using var temp = new TempDirectory();
        var tensors = SyntheticModel.CreateTensors(new SyntheticModelSpec());
        var bytes = SafetensorsWriter.Serialize(tensors, SafetensorsDType.F32);
        var path = temp.Combine("model.safetensors");
        File.WriteAllBytes(path, bytes);
        var weights = Formats.Weights.WeightFormats.Open(temp.Path)!;
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        using var reader = new Formats.Weights.TensorReader();
        var last = weights.Tensors.MaxBy(t => t.FileOffset)!;
        var exception = Assert.Throws<ProvenanceException>(() => reader.ReadBlocks(last, _ => { }));
        Assert.That(exception!.Diagnostic.Code, Is.EqualTo("PG3001"));
    }

    private static IEnumerable<TestCaseData> BadIndexes()
    {
        yield return new TestCaseData("{\"weight_map\": ").SetName("index is not JSON");
        yield return new TestCaseData("{\"metadata\": {}}").SetName("index without weight_map");
        yield return new TestCaseData("{\"weight_map\": {\"a\": \"missing.safetensors\"}}").SetName("index names a missing shard");
        yield return new TestCaseData("{\"weight_map\": {\"a\": \"../escape.safetensors\"}}").SetName("index escapes the directory");
        yield return new TestCaseData("{\"weight_map\": {\"not.there\": \"model-00001-of-00001.safetensors\"}}").SetName("index names a tensor the shard lacks");
        yield return new TestCaseData("{\"weight_map\": {\"a\": 5}}").SetName("index maps to a number");
    }

    [TestCaseSource(nameof(BadIndexes))]
    public void Malformed_index_is_PG3002(string index)
    {
        using var temp = new TempDirectory();
        SyntheticModel.WriteDirectory(temp.Path, new SyntheticModelSpec(), SyntheticModel.CreateTensors(new SyntheticModelSpec()));
        File.Move(temp.Combine("model.safetensors"), temp.Combine("model-00001-of-00001.safetensors"));
        File.WriteAllText(temp.Combine("model.safetensors.index.json"), index);
        var result = Cli.Run("fingerprint", "--no-cache", temp.Path, "-o", temp.Combine("x.fingerprint.json"));
        Assert.That(result.ExitCode, Is.EqualTo(ExitCodes.InputError), result.Stderr);
        Assert.That(result.Stderr, Does.Contain("error PG3002").And.Contain("model.safetensors.index.json"));
    }

    [TestCase("tokenizer.json", new byte[] { 0x7B, 0xFF, 0xFE, 0x7D }, TestName = "tokenizer.json that is not UTF-8")]
    [TestCase("tokenizer.json", new byte[] { 0x7B, 0x7D }, TestName = "tokenizer.json without a model")]
    [TestCase("tokenizer.model", new byte[] { 0x0A, 0x7F, 0x01 }, TestName = "tokenizer.model with a length past the end")]
    [TestCase("tokenizer.model", new byte[] { 0x0A, 0x02, 0x0A, 0x05 }, TestName = "tokenizer.model piece truncated")]
    [TestCase("tokenizer.model", new byte[] { 0x0A, 0x03, 0x0A, 0x01, 0xFF }, TestName = "tokenizer.model piece that is not UTF-8")]
    public void Malformed_tokenizer_is_PG3003(string file, byte[] content)
    {
        using var temp = new TempDirectory();
        File.WriteAllBytes(temp.Combine(file), content);
        var result = Cli.Run("fingerprint", "--no-cache", temp.Path, "-o", temp.Combine("x.fingerprint.json"));
        Assert.That(result.ExitCode, Is.EqualTo(ExitCodes.InputError), result.Stderr);
        Assert.That(result.Stderr, Does.Contain("error PG3003").And.Contain(file));
    }

    [Test]
    public void Malformed_config_is_PG3004()
    {
        using var temp = new TempDirectory();
        File.WriteAllText(temp.Combine("config.json"), "[1, 2");
        var result = Cli.Run("fingerprint", "--no-cache", temp.Path);
        Assert.That(result.ExitCode, Is.EqualTo(ExitCodes.InputError));
        Assert.That(result.Stderr, Does.Contain("error PG3004"));
    }

    [TestCase("{", "PG3005", TestName = "fingerprint file that is not JSON")]
    [TestCase("{\"schemaVersion\": 99, \"name\": \"x\"}", "PG3006", TestName = "fingerprint file from a future schema")]
    [TestCase("{\"schemaVersion\": 0, \"name\": \"x\"}", "PG3006", TestName = "fingerprint file with schema 0")]
    [TestCase("{\"schemaVersion\": 1, \"name\": \"x\"}", "PG3016", TestName = "fingerprint file from a retired schema")]
    [TestCase("{\"schemaVersion\": 4, \"name\": \"x\"}", "PG3016", TestName = "fingerprint file with schema 4 tensor hashes")]
    [TestCase("{\"schemaVersion\": 5}", "PG3005", TestName = "fingerprint file without name or model")]
    [TestCase("{\"name\": \"x\", \"model\": {\"format\": \"s\", \"parameterCount\": 1, \"tensorCount\": 1, \"weightBytes\": 1, \"dTypes\": []}}", "PG3005", TestName = "fingerprint file without schemaVersion")]
    [TestCase("{\"schemaVersion\": \"1\", \"name\": \"x\"}", "PG3005", TestName = "fingerprint file with a string schemaVersion")]
    [TestCase("{\"schemaVersion\": 5, \"name\": \"x\", \"model\": {\"format\": \"s\", \"parameterCount\": 1, \"tensorCount\": 1, \"weightBytes\": 1, \"dTypes\": []}, \"weights\": {\"residualWidth\": 4, \"vectorSubset\": [0, 9], \"tensorHashes\": [], \"layers\": [], \"finalNorm\": \"\"}}", "PG3005", TestName = "fingerprint file with a subset out of range")]
    [TestCase("{\"schemaVersion\": 5, \"name\": \"x\", \"model\": {\"format\": \"s\", \"parameterCount\": 1, \"tensorCount\": 1, \"weightBytes\": 1, \"dTypes\": []}, \"weights\": {\"residualWidth\": 4, \"vectorSubset\": [], \"tensorHashes\": [], \"frame\": {\"anchorHashes\": \"AAAAAAAAAAABAAAAAAAAAA==\", \"gram\": \"AAA=\", \"logits\": \"\"}, \"layers\": [], \"finalNorm\": \"\"}}", "PG3005", TestName = "fingerprint file with an inconsistent anchor frame")]
    [TestCase("{\"schemaVersion\": 5, \"name\": \"x\", \"model\": {\"format\": \"s\", \"parameterCount\": 1, \"tensorCount\": 1, \"weightBytes\": 1, \"dTypes\": []}, \"tokenizer\": {\"kind\": \"bpe\", \"vocabularySize\": 1, \"mergeCount\": 0, \"mergesDigest\": \"\", \"vocabularyDigest\": \"\", \"sketch\": \"!!\"}}", "PG3005", TestName = "fingerprint file with bad base64")]
    public void Malformed_fingerprint_file_is_a_PG_error(string content, string code)
    {
        using var temp = new TempDirectory();
        var path = temp.Combine("bad.fingerprint.json");
        File.WriteAllText(path, content);
        var result = Cli.Run("compare", path, path);
        Assert.That(result.ExitCode, Is.EqualTo(ExitCodes.InputError), result.Stderr);
        Assert.That(result.Stderr, Does.Contain("error " + code).And.Contain("bad.fingerprint.json"));
    }

    [Test]
    public void Empty_directory_is_PG3007_and_missing_path_is_PG0002()
    {
        using var temp = new TempDirectory();
        Assert.That(Cli.Run("fingerprint", "--no-cache", temp.Path).Stderr, Does.Contain("error PG3007"));
        var missing = Cli.Run("compare", temp.Combine("nope"), temp.Combine("nope"));
        Assert.That(missing.ExitCode, Is.EqualTo(ExitCodes.InputError));
        Assert.That(missing.Stderr, Does.Contain("error PG0002"));
    }

    [Test]
    public void Rows_longer_than_a_chunk_are_streamed_in_bounded_pieces()
    {
        using var temp = new TempDirectory();
        var values = Enumerable.Range(0, 3_000_000).Select(i => (float)Math.Sin(i)).ToArray();
        File.WriteAllBytes(temp.Combine("model.safetensors"), SafetensorsWriter.Serialize([new NamedTensor("packed.weight", [values.Length], values)], SafetensorsDType.F32));
        var weights = Formats.Weights.WeightFormats.Open(temp.Path)!;
        var pieceLength = Formats.Weights.TensorReader.EffectiveRowLength(weights.Tensors[0]);
        Assert.That(pieceLength * sizeof(float), Is.LessThanOrEqualTo(Formats.Weights.TensorReader.ChunkBytes));
        Assert.That(values.Length % pieceLength, Is.Zero);
        Assert.That(values.Length / pieceLength, Is.GreaterThan(1));

        var fingerprint = Fingerprinter.FromModelDirectory(temp.Path);
        Assert.That(fingerprint.Weights!.TensorHashes, Has.Length.EqualTo(1));
        Assert.That(fingerprint.Model.ParameterCount, Is.EqualTo(3_000_000));
    }
}
