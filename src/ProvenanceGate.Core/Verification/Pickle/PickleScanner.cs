using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace ProvenanceGate.Verification.Pickle;

/// <summary>How dangerous an imported global is.</summary>
public enum GlobalKind
{
    /// <summary>Tensor rebuild helpers and plain containers: the format is unsafe, this content is not.</summary>
    KnownData,

    /// <summary>Imports code that can run commands, touch files or the network, or import more code.</summary>
    Code,

    /// <summary>Neither: an arbitrary class or function the loader would call.</summary>
    Unknown,
}

public sealed record PickleGlobal(string Module, string Name, GlobalKind Kind, string Entry, long Offset)
{
    public string FullName => Module + "." + Name;
}

/// <summary>What one file contains: every global its pickles import, or why it could not be read.</summary>
public sealed record PickleScanResult(string Path, bool IsZip, IReadOnlyList<PickleGlobal> Globals, string? Error)
{
    public IEnumerable<PickleGlobal> CodeImports => Globals.Where(g => g.Kind == GlobalKind.Code);

    public IEnumerable<PickleGlobal> UnknownGlobals => Globals.Where(g => g.Kind == GlobalKind.Unknown);
}

/// <summary>
/// Inspects pickle streams (protocols 0-5) without unpickling them: a walk over the opcodes that records every global
/// imported by GLOBAL, STACK_GLOBAL and INST. Torch zip checkpoints are opened through their central directory and each
/// <c>*.pkl</c> member is walked; legacy torch files are a run of concatenated pickles followed by raw storage bytes.
/// </summary>
public static class PickleScanner
{
    /// <summary>File extensions of pickle-based weight formats.</summary>
    public static IReadOnlySet<string> PickleExtensions { get; } = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
    {
        ".bin", ".pt", ".pth", ".pkl", ".pickle", ".ckpt", ".joblib",
    };

    /// <summary>A zip member larger than this is not a pickle a checkpoint would carry; refuse instead of exhausting memory.</summary>
    private const long MaxPickleMemberBytes = 512L * 1024 * 1024;

    // Real checkpoints memoize a few thousand names; STACK_GLOBAL reads two stack entries.
    private const int MaxMemoStrings = 1 << 20;
    private const int MaxRecent = 4096;

    public static bool IsPickleFormat(string path) => PickleExtensions.Contains(System.IO.Path.GetExtension(path));

    public static PickleScanResult Scan(string path, IReadOnlyCollection<string>? extraAllowedGlobals = null)
    {
        IO.InputFile.EnsureRegularFile(path, "pickle file");
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
            Span<byte> magic = stackalloc byte[4];
            var read = stream.ReadAtLeast(magic, 4, throwOnEndOfStream: false);
            stream.Position = 0;
            if (read == 4 && magic.SequenceEqual("PK\u0003\u0004"u8))
                return ScanZip(path, stream, extraAllowedGlobals);

            // A .bin that is not a pickle (e.g. raw tensors) has no protocol marker or opcode at byte 0: nothing to import.
            var globals = new List<PickleGlobal>();
            WalkConcatenated(stream, "", globals, extraAllowedGlobals);
            return new PickleScanResult(path, false, globals, null);
        }
        catch (PickleFormatException ex)
        {
            return new PickleScanResult(path, false, [], ex.Message);
        }
        catch (InvalidDataException ex)
        {
            return new PickleScanResult(path, true, [], "corrupt zip: " + ex.Message);
        }
    }

    private static PickleScanResult ScanZip(string path, Stream stream, IReadOnlyCollection<string>? extraAllowedGlobals)
    {
        var globals = new List<PickleGlobal>();
        using var zip = new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: true);
        var pickles = zip.Entries.Where(e => e.FullName.EndsWith(".pkl", StringComparison.OrdinalIgnoreCase)).ToList();
        if (pickles.Count == 0)
            return new PickleScanResult(path, true, globals, "zip archive holds no .pkl member (not a torch checkpoint)");
        foreach (var entry in pickles)
        {
            if (entry.Length > MaxPickleMemberBytes)
                return new PickleScanResult(path, true, globals, $"member '{entry.FullName}' is {entry.Length} bytes, above the {MaxPickleMemberBytes}-byte limit");
            using var member = entry.Open();
            using var buffer = new MemoryStream();
            member.CopyTo(buffer);
            buffer.Position = 0;
            try
            {
                WalkConcatenated(buffer, entry.FullName, globals, extraAllowedGlobals);
            }
            catch (PickleFormatException ex)
            {
                return new PickleScanResult(path, true, globals, $"{entry.FullName}: {ex.Message}");
            }
        }

        return new PickleScanResult(path, true, globals, null);
    }

    /// <summary>Walks one pickle after another for as long as the next byte starts a protocol-2+ pickle.</summary>
    private static void WalkConcatenated(Stream stream, string entry, List<PickleGlobal> globals, IReadOnlyCollection<string>? extraAllowedGlobals)
    {
        var first = true;
        while (stream.Position < stream.Length)
        {
            var next = stream.ReadByte();
            stream.Position--;
            // The first pickle may be protocol 0/1 (no PROTO opcode); later ones in a torch legacy file start with PROTO.
            if (!first && next != 0x80)
                return;
            Walk(stream, entry, globals, extraAllowedGlobals);
            first = false;
        }
    }

    /// <summary>Walks one pickle to its STOP opcode.</summary>
    internal static void Walk(Stream stream, string entry, List<PickleGlobal> globals, IReadOnlyCollection<string>? extraAllowedGlobals)
    {
        var reader = new PickleInstructionReader(stream);
        // Strings recently pushed, and the memo: enough of the pickle machine to resolve STACK_GLOBAL's operands.
        // Memory stays bounded however long the pickle: only the top of the stack is ever needed, so old pushes are
        // dropped, and the memo keeps strings only (its length, what MEMOIZE numbers by, is counted apart).
        var recent = new List<string?>();
        var memo = new Dictionary<long, string>();
        long memoLength = 0;
        void Remember(long key)
        {
            // PUT indices are sequential in practice, so the memo's length is one past the largest.
            memoLength = Math.Max(memoLength, key + 1);
            if (recent.Count > 0 && recent[^1] is { } text)
            {
                if (memo.Count >= MaxMemoStrings && !memo.ContainsKey(key))
                    throw new PickleFormatException($"the memo holds more than {MaxMemoStrings} strings");
                memo[key] = text;
            }
            else
            {
                memo.Remove(key);
            }
        }

        while (true)
        {
            if (recent.Count > MaxRecent)
                recent.RemoveRange(0, recent.Count - (MaxRecent / 2));
            var instruction = reader.Next();
            var offset = instruction.Offset;
            switch (instruction.Opcode)
            {
                case (byte)'.': // STOP
                    return;
                case (byte)'c': // GLOBAL module\nname\n
                case (byte)'i': // INST module\nname\n: import and call
                    globals.Add(Classify(instruction.Text!, instruction.Name!, entry, offset, extraAllowedGlobals));
                    recent.Add(null);
                    break;

                case 0x93: // STACK_GLOBAL: module and name are the two strings on top of the stack
                {
                    if (recent.Count < 2 || recent[^1] is not { } name || recent[^2] is not { } module)
                    {
                        globals.Add(new PickleGlobal("?", "?", GlobalKind.Unknown, entry, offset));
                    }
                    else
                    {
                        globals.Add(Classify(module, name, entry, offset, extraAllowedGlobals));
                        recent.RemoveRange(recent.Count - 2, 2);
                    }

                    recent.Add(null);
                    break;
                }

                // Strings: remembered for STACK_GLOBAL.
                case (byte)'S': // STRING
                case (byte)'V': // UNICODE
                case (byte)'T': // BINSTRING
                case (byte)'U': // SHORT_BINSTRING
                case 0x8c: // SHORT_BINUNICODE
                case (byte)'X': // BINUNICODE
                case 0x8d: // BINUNICODE8
                    recent.Add(instruction.Text);
                    break;

                // Memo: strings stored and fetched again (pickle memoizes module names it reuses).
                case 0x94: // MEMOIZE
                    Remember(memoLength);
                    break;
                case (byte)'p': // PUT n\n
                case (byte)'q': // BINPUT
                case (byte)'r': // LONG_BINPUT
                    Remember(MemoIndex(instruction));
                    break;
                case (byte)'g': // GET n\n
                case (byte)'h': // BINGET
                case (byte)'j': // LONG_BINGET
                    recent.Add(memo.GetValueOrDefault(MemoIndex(instruction)));
                    break;

                // Extension registry: a global named by number; its target cannot be known offline, so it is unknown.
                case 0x82: // EXT1
                case 0x83: // EXT2
                case 0x84: // EXT4
                    globals.Add(new PickleGlobal("copyreg", "extension", GlobalKind.Unknown, entry, offset));
                    recent.Add(null);
                    break;

                // Framing and protocol markers push nothing.
                case 0x80: // PROTO
                case 0x95: // FRAME
                    break;

                // Everything else: stack effects beyond strings do not matter for imports; a non-string push masks older strings.
                default:
                    recent.Add(null);
                    break;
            }

            // Only the top of the stack matters for STACK_GLOBAL; keep the window small.
            if (recent.Count > 64)
                recent.RemoveRange(0, recent.Count - 8);
        }
    }

    private static long MemoIndex(PickleInstruction instruction) =>
        instruction.Integer >= 0 ? instruction.Integer : throw new PickleFormatException($"memo index '{instruction.Text}' is not a number");

    /// <summary>Modules whose import means code execution, file, process or network access, or loading more code.</summary>
    private static readonly string[] CodeModules =
    [
        "os", "posix", "nt", "subprocess", "sys", "shutil", "socket", "runpy", "importlib", "pickle", "_pickle", "cPickle",
        "pty", "commands", "webbrowser", "ctypes", "multiprocessing", "code", "codeop", "marshal", "types", "asyncio",
        "http", "httplib", "urllib", "urllib2", "requests", "ftplib", "smtplib", "telnetlib", "platform", "signal",
        "tempfile", "glob", "pathlib", "io", "_io", "bdb", "pdb", "timeit", "trace", "profile", "cProfile", "dill",
        "torch.hub", "torch.jit", "torch.serialization", "numpy.testing", "pip", "setuptools", "distutils", "zipimport",
    ];

    /// <summary>builtins that evaluate code, import, or reach arbitrary attributes.</summary>
    private static readonly string[] CodeBuiltins =
    [
        "eval", "exec", "execfile", "compile", "__import__", "getattr", "setattr", "delattr", "open", "input", "breakpoint",
        "globals", "locals", "vars", "apply", "reload", "memoryview",
    ];

    /// <summary>Globals that torch and numpy checkpoints use to rebuild tensors and containers.</summary>
    private static readonly string[] KnownDataGlobals =
    [
        "torch._utils._rebuild_tensor", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor_v3",
        "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state", "torch._utils._rebuild_qtensor",
        "torch._utils._rebuild_sparse_tensor", "torch._tensor._rebuild_from_type_v2", "torch.Size", "torch.device",
        "collections.OrderedDict", "collections.defaultdict", "builtins.set", "builtins.frozenset", "builtins.dict", "builtins.list",
        "builtins.tuple", "builtins.bytearray", "builtins.slice", "builtins.complex", "builtins.float", "builtins.int", "builtins.str",
        "__builtin__.set", "numpy.core.multiarray._reconstruct", "numpy._core.multiarray._reconstruct", "numpy.ndarray", "numpy.dtype",
        "numpy.core.multiarray.scalar", "numpy._core.multiarray.scalar", "_codecs.encode",
        "torch._utils._rebuild_device_tensor_from_numpy", "torch._utils._rebuild_meta_tensor_no_storage", "torch._utils._rebuild_wrapper_subclass",
        "torch.storage.UntypedStorage", "torch.storage.TypedStorage", "torch.serialization._get_layout",
    ];

    internal static PickleGlobal Classify(string module, string name, string entry, long offset, IReadOnlyCollection<string>? extraAllowedGlobals)
    {
        var fullName = module + "." + name;
        // Exact known-data names first: a few tensor helpers live in modules that are otherwise code (torch.serialization).
        // A policy's allowGlobals never overrides the code list.
        GlobalKind kind;
        if (KnownDataGlobals.Contains(fullName, StringComparer.Ordinal) || IsTorchStorageOrDtype(module, name))
            kind = GlobalKind.KnownData;
        else if (IsCode(module, name))
            kind = GlobalKind.Code;
        else if (extraAllowedGlobals?.Contains(fullName) ?? false)
            kind = GlobalKind.KnownData;
        else
            kind = GlobalKind.Unknown;
        return new PickleGlobal(module, name, kind, entry, offset);
    }

    private static bool IsCode(string module, string name)
    {
        if (module is "builtins" or "__builtin__" or "__builtins__")
            return CodeBuiltins.Contains(name, StringComparer.Ordinal);
        if (module == "operator" && name is "attrgetter" or "methodcaller" or "getitem")
            return true;
        return CodeModules.Any(m => module == m || module.StartsWith(m + ".", StringComparison.Ordinal));
    }

    /// <summary>torch.FloatStorage, torch.HalfStorage, torch.BFloat16Storage... and dtypes such as torch.float16.</summary>
    private static bool IsTorchStorageOrDtype(string module, string name) =>
        module == "torch" && (name.EndsWith("Storage", StringComparison.Ordinal) || name == "bool" ||
            (name.Length > 0 && name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_') && (name.StartsWith("float", StringComparison.Ordinal) || name.StartsWith("bfloat", StringComparison.Ordinal) ||
             name.StartsWith("int", StringComparison.Ordinal) || name.StartsWith("uint", StringComparison.Ordinal) || name.StartsWith("complex", StringComparison.Ordinal))));
}

/// <summary>A pickle that cannot be walked: truncated, an unknown opcode, a length beyond the file.</summary>
public sealed class PickleFormatException(string message) : Exception(message);
