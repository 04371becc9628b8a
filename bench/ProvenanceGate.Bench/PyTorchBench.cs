using System.Diagnostics;
using System.IO.Compression;
using System.Text;
using ProvenanceGate.Fingerprinting;
using ProvenanceGate.Formats.Safetensors;

namespace ProvenanceGate.Bench;

/// <summary>
/// The bench model as a <c>pytorch_model.bin</c> in torch.save's zip layout (<c>archive/data.pkl</c>, one stored member
/// per tensor), written here byte for byte from the safetensors copy: the pickle is built opcode by opcode the way
/// torch's pickler lays it out, so no torch is needed. Fingerprint memory and throughput against the safetensors path.
/// </summary>
internal sealed class PyTorchCheckpointScenario : IBenchScenario
{
    public string Name => "pytorch-bin";

    public void Run(BenchReport report, bool quick)
    {
        var safetensors = BenchModel.Get(quick);
        var bin = safetensors + "-bin";
        WriteCheckpoint(safetensors, bin);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Directory.Delete(bin, recursive: true);
        var size = new FileInfo(Path.Combine(bin, "pytorch_model.bin")).Length;

        var (before, peak, hwm) = FingerprintMemoryScenario.MeasureInChild(bin);
        report.Add(Name, $"child process peak RssAnon fingerprinting a {size / 1e9:0.00} GB pytorch_model.bin (runtime baseline {before / 1e6:0} MB; VmHWM {hwm / 1e6:0} MB)",
            peak / 1e6, "MB", "< 512 MB", peak < 512e6);
        report.Add(Name, "checkpoint size", size / 1e9, "GB", quick ? "(quick)" : ">= 2 GB", quick || size >= 2e9);

        // Warm both paths (JIT, page cache), then alternate them so a neighbour's noise hits both alike.
        var hashes = Fingerprinter.FromModelDirectory(safetensors).Weights!.TensorHashes;
        var same = Fingerprinter.FromModelDirectory(bin).Weights!.TensorHashes.SequenceEqual(hashes);
        var rounds = quick ? 3 : 5;
        var times = (Safetensors: new List<double>(), Bin: new List<double>());
        for (var round = 0; round < rounds; round++)
        {
            var stopwatch = Stopwatch.StartNew();
            Fingerprinter.FromModelDirectory(safetensors);
            times.Safetensors.Add(stopwatch.Elapsed.TotalSeconds);
            stopwatch.Restart();
            Fingerprinter.FromModelDirectory(bin);
            times.Bin.Add(stopwatch.Elapsed.TotalSeconds);
        }

        var ratio = Median(times.Bin) / Median(times.Safetensors);
        report.Add(Name, $"fingerprint time .bin / safetensors, same weights (median of {rounds}; tensor hashes {(same ? "equal" : "DIFFER")})", ratio, "x", "<= 1.5x", ratio <= 1.5 && same);
    }

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);

    private static void WriteCheckpoint(string safetensorsDirectory, string directory)
    {
        Directory.CreateDirectory(directory);
        foreach (var file in Directory.EnumerateFiles(safetensorsDirectory).Where(f => !f.EndsWith(".safetensors", StringComparison.Ordinal)))
            File.Copy(file, Path.Combine(directory, Path.GetFileName(file)), overwrite: true);
        var source = Path.Combine(safetensorsDirectory, "model.safetensors");
        var header = SafetensorsHeader.Read(source);
        using var output = new FileStream(Path.Combine(directory, "pytorch_model.bin"), FileMode.Create, FileAccess.ReadWrite, FileShare.None, 1 << 20);
        using var zip = new ZipArchive(output, ZipArchiveMode.Create);
        using (var pickle = zip.CreateEntry("archive/data.pkl", CompressionLevel.NoCompression).Open())
            pickle.Write(StatePickle(header.Tensors));
        using var input = File.OpenRead(source);
        var buffer = new byte[1 << 20];
        for (var key = 0; key < header.Tensors.Count; key++)
        {
            var tensor = header.Tensors[key];
            using var member = zip.CreateEntry($"archive/data/{key}", CompressionLevel.NoCompression).Open();
            input.Position = tensor.FileOffset;
            for (var remaining = tensor.ByteLength; remaining > 0;)
            {
                var read = input.Read(buffer, 0, (int)Math.Min(buffer.Length, remaining));
                member.Write(buffer, 0, read);
                remaining -= read;
            }
        }

        using (var version = zip.CreateEntry("archive/version", CompressionLevel.NoCompression).Open())
            version.Write("3\n"u8);
    }

    /// <summary>An OrderedDict of _rebuild_tensor_v2 calls on BFloat16Storage persistent ids, as torch's pickler (protocol 2) writes it.</summary>
    private static byte[] StatePickle(IReadOnlyList<SafetensorsTensorInfo> tensors)
    {
        using var pickle = new MemoryStream();
        void Op(char opcode) => pickle.WriteByte((byte)opcode);
        void Raw(ReadOnlySpan<byte> bytes) => pickle.Write(bytes);
        void Global(string module, string name) => Raw(Encoding.UTF8.GetBytes($"c{module}\n{name}\n"));
        void Text(string text)
        {
            Op('X');
            Raw(BitConverter.GetBytes(Encoding.UTF8.GetByteCount(text)));
            Raw(Encoding.UTF8.GetBytes(text));
        }

        void Int(long value)
        {
            pickle.WriteByte(0x8a);
            pickle.WriteByte(8);
            Raw(BitConverter.GetBytes(value));
        }

        void Longs(IEnumerable<long> values)
        {
            Op('(');
            foreach (var value in values)
                Int(value);
            Op('t');
        }

        Raw([0x80, 2]);
        Global("collections", "OrderedDict");
        Op(')');
        Op('R');
        Op('(');
        for (var key = 0; key < tensors.Count; key++)
        {
            var tensor = tensors[key];
            var shape = tensor.Shape.ToArray();
            var strides = new long[shape.Length];
            long stride = 1;
            for (var d = shape.Length - 1; d >= 0; d--)
            {
                strides[d] = stride;
                stride *= shape[d];
            }

            Text(tensor.Name);
            Global("torch._utils", "_rebuild_tensor_v2");
            Op('(');
            Op('(');
            Text("storage");
            Global("torch", "BFloat16Storage");
            Text(key.ToString(System.Globalization.CultureInfo.InvariantCulture));
            Text("cpu");
            Int(tensor.ElementCount);
            Op('t');
            Op('Q');
            Int(0);
            Longs(shape);
            Longs(strides);
            pickle.WriteByte(0x89);
            Global("collections", "OrderedDict");
            Op(')');
            Op('R');
            Op('t');
            Op('R');
        }

        Op('u');
        Op('.');
        return pickle.ToArray();
    }
}
