using System.IO.Compression;
using System.Text;

namespace ProvenanceGate.Tests.Verify;

/// <summary>Writes small pickle streams opcode by opcode, the way CPython's pickler lays them out.</summary>
internal sealed class PickleBuilder
{
    private readonly List<byte> _bytes = [];

    public PickleBuilder Proto(int version) => Op(0x80).Raw((byte)version);

    /// <summary>GLOBAL 'module\nname\n' (protocols 0-3).</summary>
    public PickleBuilder Global(string module, string name) => Op('c').Raw(Encoding.UTF8.GetBytes(module + "\n" + name + "\n"));

    /// <summary>SHORT_BINUNICODE, then MEMOIZE (protocol 4 memoizes each string).</summary>
    public PickleBuilder ShortUnicode(string text, bool memoize = true)
    {
        var utf8 = Encoding.UTF8.GetBytes(text);
        Op(0x8c).Raw((byte)utf8.Length).Raw(utf8);
        return memoize ? Op(0x94) : this;
    }

    public PickleBuilder BinGet(byte index) => Op('h').Raw(index);

    public PickleBuilder StackGlobal() => Op(0x93);

    public PickleBuilder Op(char opcode) => Raw((byte)opcode);

    public PickleBuilder Op(byte opcode) => Raw(opcode);

    public PickleBuilder Raw(params byte[] bytes)
    {
        _bytes.AddRange(bytes);
        return this;
    }

    public PickleBuilder Stop() => Op('.');

    public byte[] ToArray() => _bytes.ToArray();

    /// <summary>A protocol-2 pickle equivalent to <c>pickle.dumps(os.system)</c> applied to 'echo pwned' via REDUCE.</summary>
    public static byte[] OsSystem() => new PickleBuilder().Proto(2).Global("os", "system")
        .Op('X').Raw(BitConverter.GetBytes(10)).Raw(Encoding.UTF8.GetBytes("echo pwned")).Op(0x85).Op('R').Stop().ToArray();

    /// <summary>What torch.save writes for a one-tensor state dict (protocol 2): OrderedDict + _rebuild_tensor_v2 + FloatStorage.</summary>
    public static byte[] TorchStateDict() => new PickleBuilder().Proto(2)
        .Global("collections", "OrderedDict").Op(')').Op('R')
        .Op('X').Raw(BitConverter.GetBytes(6)).Raw("weight"u8.ToArray())
        .Global("torch._utils", "_rebuild_tensor_v2")
        .Op('(').Op('(').Op('X').Raw(BitConverter.GetBytes(7)).Raw("storage"u8.ToArray())
        .Global("torch", "FloatStorage")
        .Op('X').Raw(BitConverter.GetBytes(1)).Raw("0"u8.ToArray())
        .Op('X').Raw(BitConverter.GetBytes(3)).Raw("cpu"u8.ToArray())
        .Op('K').Raw(4).Op('t').Op('Q')
        .Op('K').Raw(0).Op('K').Raw(4).Op(0x85).Op('K').Raw(1).Op(0x85).Op(0x89)
        .Global("collections", "OrderedDict").Op(')').Op('R').Op('t').Op('R')
        .Op('s').Stop().ToArray();

    /// <summary>A torch zip checkpoint: archive/data.pkl plus a storage entry, as torch.save (zip format) writes it.</summary>
    public static byte[] TorchZip(byte[] dataPkl)
    {
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            using (var entry = zip.CreateEntry("archive/data.pkl", CompressionLevel.NoCompression).Open())
                entry.Write(dataPkl);
            using (var entry = zip.CreateEntry("archive/data/0", CompressionLevel.NoCompression).Open())
                entry.Write(new byte[16]);
            using (var entry = zip.CreateEntry("archive/version", CompressionLevel.NoCompression).Open())
                entry.Write("3\n"u8);
        }

        return buffer.ToArray();
    }
}
