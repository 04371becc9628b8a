using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using System.Text;

namespace ProvenanceGate.Verification.Pickle;

/// <summary>
/// One pickle opcode with its decoded argument. Which fields are set depends on the opcode: <see cref="Text"/> for
/// strings and newline arguments (null when a string is too long to keep), <see cref="Name"/> as well for GLOBAL and
/// INST, <see cref="Integer"/> for ints, memo indices and protocol numbers, <see cref="Float"/> for floats,
/// <see cref="BigInteger"/> for LONG1/LONG4 of at most 64 bytes, <see cref="Length"/> for skipped byte arguments.
/// </summary>
internal readonly record struct PickleInstruction(byte Opcode, long Offset)
{
    public string? Text { get; init; }

    public string? Name { get; init; }

    public long Integer { get; init; }

    public double Float { get; init; }

    public BigInteger? BigInteger { get; init; }

    public long Length { get; init; }
}

/// <summary>
/// Decodes a pickle stream (protocols 0-5) one opcode at a time, never executing anything: the one opcode decoder
/// behind both the import scan (<see cref="PickleScanner"/>) and the tensor reader of PyTorch checkpoints. Every
/// length is checked against the stream before it is read, so a lying pickle cannot make the caller allocate.
/// </summary>
internal sealed class PickleInstructionReader(Stream stream)
{
    private const int MaxLine = 4096;

    /// <summary>Strings longer than this are skipped (<see cref="PickleInstruction.Text"/> is null): no name or key is this long.</summary>
    public const int MaxString = 1 << 20;

    private const int MaxLongBytes = 64;

    public PickleInstruction Next()
    {
        var offset = stream.Position;
        var opcode = Byte();
        var instruction = new PickleInstruction(opcode, offset);
        switch (opcode)
        {
            case (byte)'c': // GLOBAL module\nname\n
            case (byte)'i': // INST module\nname\n
                return instruction with { Text = Line(), Name = Line() };
            case (byte)'S': // STRING 'text'\n
                return instruction with { Text = Unquote(Line()) };
            case (byte)'V': // UNICODE raw-unicode-escape\n
            case (byte)'P': // PERSID\n
            case (byte)'F': // FLOAT\n
                var line = Line();
                return instruction with { Text = line, Float = opcode == 'F' && double.TryParse(line, NumberStyles.Float, CultureInfo.InvariantCulture, out var f) ? f : 0 };
            case (byte)'I': // INT\n ("01"/"00" are True/False in protocol 0)
            case (byte)'L': // LONG\n ("123L")
            case (byte)'p': // PUT n\n
            case (byte)'g': // GET n\n
                var number = Line();
                return instruction with { Text = number, Integer = long.TryParse(number.TrimEnd('L'), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : -1 };
            case (byte)'T': // BINSTRING
                return instruction with { Text = Text(Int32()) };
            case (byte)'U': // SHORT_BINSTRING
            case 0x8c: // SHORT_BINUNICODE
                return instruction with { Text = Text(Byte()) };
            case (byte)'X': // BINUNICODE
                return instruction with { Text = Text(UInt32()) };
            case 0x8d: // BINUNICODE8
                return instruction with { Text = Text(Int64()) };
            case (byte)'q': // BINPUT
            case (byte)'h': // BINGET
            case (byte)'K': // BININT1
            case 0x82: // EXT1
                return instruction with { Integer = Byte() };
            case (byte)'r': // LONG_BINPUT
            case (byte)'j': // LONG_BINGET
                return instruction with { Integer = UInt32() };
            case (byte)'M': // BININT2
            case 0x83: // EXT2
                return instruction with { Integer = BinaryPrimitives.ReadUInt16LittleEndian(Read(2)) };
            case (byte)'J': // BININT
                return instruction with { Integer = Int32() };
            case 0x84: // EXT4
                return instruction with { Integer = Int32() };
            case 0x80: // PROTO
                var protocol = Byte();
                return protocol > 5 ? throw new PickleFormatException($"unsupported pickle protocol at offset {offset}") : instruction with { Integer = protocol };
            case 0x95: // FRAME (8-byte length, framing only)
                Skip(8);
                return instruction;
            case (byte)'G': // BINFLOAT (big-endian)
                return instruction with { Float = BinaryPrimitives.ReadDoubleBigEndian(Read(8)) };
            case 0x8a: // LONG1
                return Long(instruction, Byte());
            case 0x8b: // LONG4
                return Long(instruction, Int32());
            case (byte)'B': // BINBYTES
                return Bytes(instruction, UInt32());
            case (byte)'C': // SHORT_BINBYTES
                return Bytes(instruction, Byte());
            case 0x8e: // BINBYTES8
            case 0x96: // BYTEARRAY8
                return Bytes(instruction, Int64());
            case (byte)'.': // STOP
            case 0x93: // STACK_GLOBAL
            case 0x94: // MEMOIZE
            case (byte)'(': // MARK
            case (byte)'0': // POP
            case (byte)'1': // POP_MARK
            case (byte)'2': // DUP
            case (byte)'N': // NONE
            case (byte)'Q': // BINPERSID
            case (byte)'R': // REDUCE
            case (byte)'a': // APPEND
            case (byte)'b': // BUILD
            case (byte)'d': // DICT
            case (byte)'}': // EMPTY_DICT
            case (byte)'e': // APPENDS
            case (byte)'l': // LIST
            case (byte)']': // EMPTY_LIST
            case (byte)'o': // OBJ
            case (byte)'s': // SETITEM
            case (byte)'t': // TUPLE
            case (byte)')': // EMPTY_TUPLE
            case (byte)'u': // SETITEMS
            case 0x81: // NEWOBJ
            case 0x85: // TUPLE1
            case 0x86: // TUPLE2
            case 0x87: // TUPLE3
            case 0x88: // NEWTRUE
            case 0x89: // NEWFALSE
            case 0x8f: // EMPTY_SET
            case 0x90: // ADDITEMS
            case 0x91: // FROZENSET
            case 0x92: // NEWOBJ_EX
            case 0x97: // NEXT_BUFFER
            case 0x98: // READONLY_BUFFER
                return instruction;
            default:
                throw new PickleFormatException($"unknown opcode 0x{opcode:x2} at offset {offset}");
        }
    }

    private PickleInstruction Long(PickleInstruction instruction, long length)
    {
        if (length < 0 || length > stream.Length - stream.Position)
            throw new PickleFormatException($"argument of {length} bytes runs past the end at offset {stream.Position}");
        if (length > MaxLongBytes)
        {
            Skip(length);
            return instruction with { Length = length };
        }

        return instruction with { Length = length, BigInteger = new BigInteger(Read((int)length), isUnsigned: false, isBigEndian: false) };
    }

    private PickleInstruction Bytes(PickleInstruction instruction, long length)
    {
        Skip(length);
        return instruction with { Length = length };
    }

    private byte Byte()
    {
        var value = stream.ReadByte();
        return value < 0 ? throw new PickleFormatException("pickle ends without a STOP opcode") : (byte)value;
    }

    private int Int32() => BinaryPrimitives.ReadInt32LittleEndian(Read(4));

    private long UInt32() => BinaryPrimitives.ReadUInt32LittleEndian(Read(4));

    private long Int64() => BinaryPrimitives.ReadInt64LittleEndian(Read(8));

    private string Line()
    {
        var bytes = new List<byte>();
        while (true)
        {
            var b = Byte();
            if (b == (byte)'\n')
                break;
            if (bytes.Count >= MaxLine)
                throw new PickleFormatException($"text argument longer than {MaxLine} bytes at offset {stream.Position}");
            bytes.Add(b);
        }

        return Encoding.UTF8.GetString(bytes.ToArray()).TrimEnd('\r');
    }

    private string? Text(long length)
    {
        if (length < 0 || length > stream.Length - stream.Position)
            throw new PickleFormatException($"string of {length} bytes runs past the end at offset {stream.Position}");
        if (length > MaxString)
        {
            stream.Position += length;
            return null;
        }

        return Encoding.UTF8.GetString(Read((int)length));
    }

    private void Skip(long length)
    {
        if (length < 0 || length > stream.Length - stream.Position)
            throw new PickleFormatException($"argument of {length} bytes runs past the end at offset {stream.Position}");
        stream.Position += length;
    }

    private byte[] Read(int length)
    {
        var buffer = new byte[length];
        if (stream.ReadAtLeast(buffer, length, throwOnEndOfStream: false) < length)
            throw new PickleFormatException("pickle ends in the middle of an opcode argument");
        return buffer;
    }

    private static string Unquote(string text) =>
        text.Length >= 2 && (text[0] == '\'' || text[0] == '"') && text[^1] == text[0] ? text[1..^1] : text;
}
