using System.IO.Compression;
using System.Text;
using ProvenanceGate.Diagnostics;
using ProvenanceGate.Formats.Weights;
using ProvenanceGate.Tests.Verify;

namespace ProvenanceGate.Tests.Fingerprinting;

/// <summary>
/// Hostile and damaged checkpoints: a pickle that would run code or import anything outside the tensor allow-list is
/// refused before any weight is read; truncated files and absurd lengths are PG errors (exit 2), never a crash or a hang.
/// </summary>
public sealed class PyTorchMalformedTests
{
    private static string Fixture(params string[] parts) => RepoPaths.TestData(["pytorch", .. parts]);

    /// <summary>The one-tensor state dict torch.save writes, with one more SETITEM appended before STOP.</summary>
    private static byte[] StateDictWith(Func<PickleBuilder, PickleBuilder> extraItem)
    {
        var clean = PickleBuilder.TorchStateDict();
        var builder = new PickleBuilder().Raw(clean[..^1]);
        return extraItem(builder).Op('s').Stop().ToArray();
    }

    private static PickleBuilder Unicode(PickleBuilder builder, string text) =>
        builder.Op('X').Raw(BitConverter.GetBytes(Encoding.UTF8.GetByteCount(text))).Raw(Encoding.UTF8.GetBytes(text));

    private static ProvenanceException OpenFails(string path) =>
        Assert.Throws<ProvenanceException>(() => WeightFormats.Open(path))!;

    private static string Write(TempDirectory temp, string name, byte[] bytes)
    {
        var path = temp.Combine(name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Test]
    public void The_clean_hand_built_state_dict_is_read()
    {
        using var temp = new TempDirectory();
        var weights = WeightFormats.Open(Write(temp, "clean.bin", PickleBuilder.TorchZip(PickleBuilder.TorchStateDict())))!;
        Assert.That(weights.Tensors.Single().Name, Is.EqualTo("weight"));
        Assert.That(weights.Tensors.Single().Shape, Is.EqualTo(Enumerable.Repeat(4L, 1)));
    }

    [Test]
    public void A_reduce_of_os_system_is_refused_and_the_cli_exits_2()
    {
        using var temp = new TempDirectory();
        var evil = StateDictWith(b => Unicode(Unicode(b, "evil").Global("os", "system"), "echo pwned").Op(0x85).Op('R'));
        var path = Write(temp, "pytorch_model.bin", PickleBuilder.TorchZip(evil));

        var error = OpenFails(path);
        Assert.That(error.Diagnostic.Code, Is.EqualTo("PG3041"));
        Assert.That(error.Message, Does.Contain("os.system").And.Contain("would run code").And.Contain("not read"));

        var cli = Cli.Run("fingerprint", path, "--no-cache", "-o", temp.Combine("out.json"));
        Assert.That(cli.ExitCode, Is.EqualTo(2));
        Assert.That(cli.Stderr, Does.Contain("error PG3041"));
        Assert.That(File.Exists(temp.Combine("out.json")), Is.False);
    }

    [TestCase("__main__", "Net", TestName = "An unknown class is refused")]
    [TestCase("numpy.core.multiarray", "_reconstruct", TestName = "A data global the reader does not reproduce is refused")]
    [TestCase("builtins", "eval", TestName = "builtins.eval is refused")]
    public void Globals_outside_the_allow_list_are_refused(string module, string name)
    {
        using var temp = new TempDirectory();
        var pickle = StateDictWith(b => Unicode(b, "extra").Global(module, name).Op(')').Op('R'));
        var error = OpenFails(Write(temp, "model.pt", PickleBuilder.TorchZip(pickle)));
        Assert.That(error.Diagnostic.Code, Is.EqualTo("PG3041"));
        Assert.That(error.Message, Does.Contain(module + "." + name));
    }

    [Test]
    public void A_stack_global_with_a_computed_name_and_object_instantiation_are_refused()
    {
        using var temp = new TempDirectory();
        // STACK_GLOBAL whose operands are not strings (a tuple and None): the name is not known without running it.
        var computed = StateDictWith(b => Unicode(b, "x").Op(')').Op('N').StackGlobal());
        Assert.That(OpenFails(Write(temp, "a.bin", PickleBuilder.TorchZip(computed))).Diagnostic.Code, Is.EqualTo("PG3041"));

        // NEWOBJ on an allow-listed global still instantiates an object: refused.
        var newObject = StateDictWith(b => Unicode(b, "y").Global("collections", "OrderedDict").Op(')').Op(0x81));
        Assert.That(OpenFails(Write(temp, "b.bin", PickleBuilder.TorchZip(newObject))).Diagnostic.Code, Is.EqualTo("PG3041"));
    }

    [Test]
    public void A_malicious_legacy_checkpoint_is_refused()
    {
        using var temp = new TempDirectory();
        // The legacy layout: magic number, protocol 1001, system info, then the object, which here runs a command.
        var magic = new PickleBuilder().Proto(2).Op(0x8a).Raw(10).Raw(Convert.FromHexString("6c fc 9c 46 f9 20 6a a8 50 19".Replace(" ", "", StringComparison.Ordinal))).Stop().ToArray();
        var protocol = new PickleBuilder().Proto(2).Op('M').Raw(0xe9, 0x03).Stop().ToArray();
        var info = Unicode(new PickleBuilder().Proto(2).Op('}').Op('('), "little_endian").Op(0x88).Op('u').Stop().ToArray();
        var evil = Unicode(new PickleBuilder().Proto(2).Global("subprocess", "check_output").Op('('), "id").Op('t').Op('R').Stop().ToArray();
        var path = Write(temp, "legacy.bin", [.. magic, .. protocol, .. info, .. evil]);

        var error = OpenFails(path);
        Assert.That(error.Diagnostic.Code, Is.EqualTo("PG3041"));
        Assert.That(error.Message, Does.Contain("subprocess.check_output"));
    }

    [Test]
    public void A_compressed_storage_is_refused_and_a_missing_one_is_malformed()
    {
        using var temp = new TempDirectory();
        using (var buffer = new MemoryStream())
        {
            using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
            {
                using (var entry = zip.CreateEntry("archive/data.pkl", CompressionLevel.NoCompression).Open())
                    entry.Write(PickleBuilder.TorchStateDict());
                using (var entry = zip.CreateEntry("archive/data/0", CompressionLevel.Optimal).Open())
                    entry.Write(new byte[4096]);
            }

            var error = OpenFails(Write(temp, "deflated.bin", buffer.ToArray()));
            Assert.That(error.Diagnostic.Code, Is.EqualTo("PG3042"));
            Assert.That(error.Message, Does.Contain("compressed"));
        }

        using (var buffer = new MemoryStream())
        {
            using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
            {
                using var entry = zip.CreateEntry("archive/data.pkl", CompressionLevel.NoCompression).Open();
                entry.Write(PickleBuilder.TorchStateDict());
            }

            Assert.That(OpenFails(Write(temp, "missing.bin", buffer.ToArray())).Diagnostic.Code, Is.EqualTo("PG3040"));
        }
    }

    [Test]
    public void Absurd_lengths_and_counts_are_malformed_without_allocating()
    {
        using var temp = new TempDirectory();
        // A string that claims 2 GiB.
        var longString = new PickleBuilder().Proto(2).Op('X').Raw(0xff, 0xff, 0xff, 0x7f).Raw("abc"u8.ToArray()).Stop().ToArray();
        Assert.That(OpenFails(Write(temp, "a.bin", PickleBuilder.TorchZip(longString))).Diagnostic.Code, Is.EqualTo("PG3040"));

        // A storage of 2^60 elements, and a tensor view past the end of its 4-element storage.
        var hugeStorage = PickleBuilder.TorchStateDict();
        var index = IndexOf(hugeStorage, [(byte)'K', 4, (byte)'t', (byte)'Q']);
        var huge = new PickleBuilder().Raw(hugeStorage[..index]).Op(0x8a).Raw(8).Raw(BitConverter.GetBytes(1L << 60)).Raw(hugeStorage[(index + 2)..]).ToArray();
        Assert.That(OpenFails(Write(temp, "b.bin", PickleBuilder.TorchZip(huge))).Diagnostic.Code, Is.EqualTo("PG3040"));

        var view = PickleBuilder.TorchStateDict();
        var shape = IndexOf(view, [(byte)'K', 0, (byte)'K', 4, 0x85]);
        view[shape + 3] = 5;
        var error = OpenFails(Write(temp, "c.bin", PickleBuilder.TorchZip(view)));
        Assert.That(error.Diagnostic.Code, Is.EqualTo("PG3040"));
        Assert.That(error.Message, Does.Contain("reaches element 4"));

        // A central directory that claims 16960 entries in a few hundred bytes.
        var zip = PickleBuilder.TorchZip(PickleBuilder.TorchStateDict());
        var end = LastIndexOf(zip, [0x50, 0x4b, 0x05, 0x06]);
        zip[end + 10] = 0x40;
        zip[end + 11] = 0x42;
        Assert.That(OpenFails(Write(temp, "d.bin", zip)).Diagnostic.Code, Is.EqualTo("PG3040"));
    }

    [TestCase("dev-ft", "pytorch_model.bin")]
    [TestCase("dev-twin-legacy", "pytorch_model.bin")]
    public void Truncated_real_checkpoints_exit_2_with_a_pg_error(string fixture, string file)
    {
        using var temp = new TempDirectory();
        var bytes = File.ReadAllBytes(Fixture(fixture, file));
        foreach (var length in new[] { 3, 100, 1000, bytes.Length / 2, bytes.Length - 1 })
        {
            var path = Write(temp, $"cut-{length}.bin", bytes[..length]);
            var cli = Cli.Run("fingerprint", path, "--no-cache", "-o", temp.Combine("out.json"));
            Assert.That(cli.ExitCode, Is.EqualTo(2), $"{length} bytes: {cli.Stderr}");
            Assert.That(cli.Stderr, Does.Match(@"error PG(3040|0007)"), $"{length} bytes");
        }
    }

    [TestCase("views.pt")]
    [TestCase("views-legacy.pt")]
    public void Random_byte_damage_gives_a_result_or_a_pg_error_never_a_crash(string file)
    {
        using var temp = new TempDirectory();
        var original = File.ReadAllBytes(Fixture("views", file));
        var random = new Random(7);
        var path = temp.Combine(file);
        for (var round = 0; round < 400; round++)
        {
            var bytes = (byte[])original.Clone();
            for (var flips = random.Next(1, 4); flips > 0; flips--)
                bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
            File.WriteAllBytes(path, bytes);
            try
            {
                var weights = WeightFormats.Open(path)!;
                using var reader = new TensorReader();
                foreach (var tensor in weights.Tensors.Where(t => TensorReader.IsDecodable(t.DType)))
                    reader.ReadBlocks(tensor, _ => { });
            }
            catch (ProvenanceException)
            {
                // The expected outcome for most damage.
            }
        }
    }

    private static int IndexOf(byte[] haystack, byte[] needle)
    {
        for (var i = 0; i <= haystack.Length - needle.Length; i++)
        {
            if (haystack.AsSpan(i, needle.Length).SequenceEqual(needle))
                return i;
        }

        throw new InvalidOperationException("pattern not found");
    }

    private static int LastIndexOf(byte[] haystack, byte[] needle)
    {
        for (var i = haystack.Length - needle.Length; i >= 0; i--)
        {
            if (haystack.AsSpan(i, needle.Length).SequenceEqual(needle))
                return i;
        }

        throw new InvalidOperationException("pattern not found");
    }
}
