using ProvenanceGate.Formats.Onnx;

namespace ProvenanceGate.Tests.Fingerprinting;

/// <summary>
/// Hostile or damaged ONNX files: a PG error and exit 2 from the commands users run, never a crash, a hang, a huge
/// allocation, or a read outside the model directory.
/// </summary>
public sealed class OnnxMalformedTests
{
    private static ProtobufWriter Graph(params ProtobufWriter[] initializers)
    {
        var graph = new ProtobufWriter().String(2, "g");
        foreach (var initializer in initializers)
            graph.Message(5, initializer);
        return graph;
    }

    private static IEnumerable<TestCaseData> BadModels()
    {
        var exported = File.ReadAllBytes(RepoPaths.TestData("onnx", "dev-ft", "model.onnx"));
        yield return new TestCaseData(exported[..(exported.Length / 2)], "PG3020").SetName("truncated export");
        yield return new TestCaseData(exported[..3], "PG3020").SetName("truncated to three bytes");
        yield return new TestCaseData(new ProtobufWriter().Varint(1, 8).LengthOnly(7, 1UL << 62).ToArray(), "PG3020").SetName("graph length of 2^62");
        yield return new TestCaseData(new ProtobufWriter().Varint(1, 8).LengthOnly(7, ulong.MaxValue).ToArray(), "PG3020").SetName("graph length of 2^64-1");
        yield return new TestCaseData("not a protobuf at all, just text\n"u8.ToArray(), "PG3020").SetName("text named .onnx");
        yield return new TestCaseData(new ProtobufWriter().Varint(1, 8).ToArray(), "PG3020").SetName("no graph");

        var rawTooShort = new ProtobufWriter().Varint(1, 1000).Varint(1, 1000).Varint(2, 1).String(8, "w").Bytes(9, new byte[16]);
        yield return new TestCaseData(OnnxProtoWriter.Model(Graph(rawTooShort)), "PG3020").SetName("raw_data shorter than its dims");
        var absurdDims = new ProtobufWriter().Varint(1, 1L << 40).Varint(1, 1L << 40).Varint(2, 1).String(8, "w").Bytes(9, new byte[16]);
        yield return new TestCaseData(OnnxProtoWriter.Model(Graph(absurdDims)), "PG3020").SetName("absurd element count");
        var manyDims = new ProtobufWriter();
        for (var i = 0; i < 100; i++)
            manyDims.Varint(1, 1);
        yield return new TestCaseData(OnnxProtoWriter.Model(Graph(manyDims.Varint(2, 1).String(8, "w"))), "PG3020").SetName("a hundred dimensions");

        // If-node subgraphs nested 1,000 deep: rejected at the depth bound, not by a stack overflow.
        var nested = new ProtobufWriter().String(2, "leaf");
        for (var i = 0; i < 1_000; i++)
            nested = new ProtobufWriter().Message(1, new ProtobufWriter().String(4, "If").Message(5, new ProtobufWriter().String(1, "then_branch").Message(6, nested)));
        yield return new TestCaseData(OnnxProtoWriter.Model(nested), "PG3020").SetName("subgraphs nested 1000 deep");

        yield return new TestCaseData(OnnxProtoWriter.Model(Graph(OnnxProtoWriter.ExternalInitializer("w", [2, 2], ("location", "../outside.bin")))), "PG3021").SetName("external data location escapes with ..");
        yield return new TestCaseData(OnnxProtoWriter.Model(Graph(OnnxProtoWriter.ExternalInitializer("w", [2, 2], ("location", "/etc/passwd")))), "PG3021").SetName("external data location is absolute");
        yield return new TestCaseData(OnnxProtoWriter.Model(Graph(OnnxProtoWriter.ExternalInitializer("w", [2, 2]))), "PG3021").SetName("external data without a location");
        yield return new TestCaseData(OnnxProtoWriter.Model(Graph(OnnxProtoWriter.ExternalInitializer("w", [2, 2], ("location", "missing.bin")))), "PG3021").SetName("external data file missing");
        yield return new TestCaseData(OnnxProtoWriter.Model(Graph(OnnxProtoWriter.ExternalInitializer("w", [2, 2], ("location", "data.bin"), ("offset", "9223372036854775000")))), "PG3021").SetName("external data offset past the file");
        yield return new TestCaseData(OnnxProtoWriter.Model(Graph(OnnxProtoWriter.ExternalInitializer("w", [4096, 4096], ("location", "data.bin")))), "PG3021").SetName("external data region longer than the file");
        yield return new TestCaseData(OnnxProtoWriter.Model(Graph(OnnxProtoWriter.ExternalInitializer("w", [2, 2], ("location", "data.bin"), ("offset", "-4")))), "PG3021").SetName("external data offset negative");
        yield return new TestCaseData(OnnxProtoWriter.Model(Graph(OnnxProtoWriter.ExternalInitializer("w", [2, 2], ("location", "escape-link")))), "PG3021").SetName("external data through a link leaving the directory");
        yield return new TestCaseData(OnnxProtoWriter.Model(Graph(OnnxProtoWriter.ExternalInitializer("w", [2, 2], ("location", "loop-a")))), "PG3021").SetName("external data through a link cycle");
    }

    [TestCaseSource(nameof(BadModels))]
    public void Malformed_onnx_is_a_PG_error_with_exit_2(byte[] content, string code)
    {
        using var temp = new TempDirectory();
        var outside = temp.Combine("outside");
        Directory.CreateDirectory(outside);
        File.WriteAllBytes(Path.Combine(outside, "secret.bin"), new byte[64]);
        var directory = temp.Combine("model");
        Directory.CreateDirectory(directory);
        File.WriteAllBytes(Path.Combine(directory, "data.bin"), new byte[64]);
        // Links only where the case uses them: the BOM's own directory walk has its own rules about links.
        var text = System.Text.Encoding.Latin1.GetString(content);
        if (text.Contains("escape-link", StringComparison.Ordinal))
            File.CreateSymbolicLink(Path.Combine(directory, "escape-link"), Path.Combine(outside, "secret.bin"));
        if (text.Contains("loop-a", StringComparison.Ordinal))
        {
            File.CreateSymbolicLink(Path.Combine(directory, "loop-a"), Path.Combine(directory, "loop-b"));
            File.CreateSymbolicLink(Path.Combine(directory, "loop-b"), Path.Combine(directory, "loop-a"));
        }
        var model = Path.Combine(directory, "model.onnx");
        File.WriteAllBytes(model, content);

        var allocated = GC.GetAllocatedBytesForCurrentThread();
        var thrown = Assert.Throws<Diagnostics.ProvenanceException>(() => OnnxModel.Read(model))!;
        Assert.That(thrown.Diagnostic.Code, Is.EqualTo(code), thrown.Message);
        Assert.That(GC.GetAllocatedBytesForCurrentThread() - allocated, Is.LessThan(64L << 20), "no allocation sized by a declared length");

        foreach (var args in new[] { new[] { "fingerprint", "--no-cache", model, "-o", temp.Combine("out.json") }, ["compare", "--no-cache", model, directory], ["bom", directory] })
        {
            var result = Cli.Run(args);
            Assert.That(result.ExitCode, Is.EqualTo(2), $"{args[0]}: {result.Stderr}");
            // The BOM walks the directory first, and its walk refuses a link leaving it (PG0012) or a link loop (PG0013)
            // before any ONNX is read.
            var expected = args[0] != "bom" ? code
                : text.Contains("loop-a", StringComparison.Ordinal) ? "PG0013"
                : text.Contains("escape-link", StringComparison.Ordinal) ? "PG0012" : code;
            Assert.That(result.Stderr, Does.Contain($"error {expected}:"), args[0]);
            Assert.That(result.Stderr, Does.Not.Contain("   at "), "no stack trace");
        }

        Assert.That(File.Exists(temp.Combine("out.json")), Is.False, "no fingerprint is written for a bad model");
    }

    [Test]
    public void A_location_inside_the_directory_through_a_link_that_stays_inside_is_read()
    {
        using var temp = new TempDirectory();
        var directory = temp.Combine("model");
        Directory.CreateDirectory(Path.Combine(directory, "weights"));
        File.WriteAllBytes(Path.Combine(directory, "weights", "data.bin"), new byte[16]);
        File.CreateSymbolicLink(Path.Combine(directory, "data-link"), Path.Combine(directory, "weights", "data.bin"));
        var model = Path.Combine(directory, "model.onnx");
        File.WriteAllBytes(model, OnnxProtoWriter.Model(Graph(OnnxProtoWriter.ExternalInitializer("w", [2, 2], ("location", "data-link")))));
        var read = OnnxModel.Read(model);
        Assert.That(read.Initializers.Single().FilePath, Is.EqualTo(Path.Combine(Path.GetFullPath(directory), "weights", "data.bin")));
        Assert.That(read.Initializers.Single().Length, Is.EqualTo(16));
    }
}
