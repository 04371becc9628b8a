using System.Numerics;
using ProvenanceGate.Diagnostics;
using ProvenanceGate.Formats.Safetensors;
using ProvenanceGate.Verification.Pickle;

namespace ProvenanceGate.Formats.PyTorch;

/// <summary>A storage a checkpoint's pickle refers to by persistent id: its key, element type and element count.</summary>
internal sealed record TorchStorage(string Key, SafetensorsDType DType, string TypeName, long ElementCount);

/// <summary>What <c>torch._utils._rebuild_tensor_v2</c> would build: a view of a storage.</summary>
internal sealed record TorchTensor(TorchStorage Storage, long StorageOffset, long[] Shape, long[] Stride)
{
    public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);

    /// <summary>Row-major strides for <see cref="Shape"/>: the layout a tensor has when it can be read in place.</summary>
    public bool IsContiguous
    {
        get
        {
            long expected = 1;
            for (var d = Shape.Length - 1; d >= 0; d--)
            {
                if (Shape[d] != 1 && Stride[d] != expected)
                    return false;
                expected *= Shape[d];
            }

            return true;
        }
    }
}

/// <summary>
/// Evaluates a checkpoint's pickle into plain values (dicts, lists, tuples, strings, numbers, tensors) without
/// executing it: opcodes come from the shared <see cref="PickleInstructionReader"/>, and the only globals it may import
/// are the tensor rebuild helpers, storage types and <c>collections.OrderedDict</c>, whose effects are reproduced here.
/// Any other import is refused (PG3041) before anything is read; stack, memo and nesting are bounded.
/// </summary>
internal sealed class TorchPickle
{
    private const int MaxStack = 1 << 22;
    private const int MaxMemo = 1 << 22;
    private const int MaxNesting = 32;

    /// <summary>The globals the reader reproduces; everything else is refused.</summary>
    private static readonly HashSet<string> Callables = new(StringComparer.Ordinal)
    {
        "collections.OrderedDict", "torch._utils._rebuild_tensor", "torch._utils._rebuild_tensor_v2",
        "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state",
    };

    private static readonly Dictionary<string, SafetensorsDType> StorageTypes = new(StringComparer.Ordinal)
    {
        ["FloatStorage"] = SafetensorsDType.F32, ["HalfStorage"] = SafetensorsDType.F16, ["BFloat16Storage"] = SafetensorsDType.BF16,
        ["DoubleStorage"] = SafetensorsDType.F64, ["ByteStorage"] = SafetensorsDType.U8, ["CharStorage"] = SafetensorsDType.I8,
        ["ShortStorage"] = SafetensorsDType.I16, ["IntStorage"] = SafetensorsDType.I32, ["LongStorage"] = SafetensorsDType.I64,
        ["BoolStorage"] = SafetensorsDType.BOOL,
    };

    private readonly string _path;
    private readonly string _entry;
    private readonly Dictionary<string, TorchStorage> _storages;
    private readonly Stack<int> _marks = new();

    private TorchPickle(string path, string entry, Dictionary<string, TorchStorage> storages)
    {
        _path = path;
        _entry = entry;
        _storages = storages;
    }

    private sealed record PyGlobal(string Module, string Name)
    {
        public string FullName => Module + "." + Name;
    }

    /// <summary>An ordered dict; keys are compared as the pickle gave them (strings and integers).</summary>
    internal sealed class PyDict
    {
        public List<KeyValuePair<object?, object?>> Items { get; } = [];
    }

    /// <summary>
    /// Evaluates one pickle from the stream's position to its STOP. <paramref name="storages"/> collects the storages
    /// its persistent ids name (by key), so several pickles of one legacy file share them.
    /// </summary>
    public static object? Load(Stream stream, string path, string entry, Dictionary<string, TorchStorage> storages) =>
        new TorchPickle(path, entry, storages).Run(stream);

    private object? Run(Stream stream)
    {
        var reader = new PickleInstructionReader(stream);
        var stack = new List<object?>();
        var marks = _marks;
        var memo = new Dictionary<long, object?>();
        try
        {
            while (true)
            {
                var op = reader.Next();
                switch (op.Opcode)
                {
                    case (byte)'.': // STOP
                        return stack.Count == 1 ? stack[0] : throw Malformed($"STOP with {stack.Count} values on the stack");
                    case 0x80: // PROTO
                    case 0x95: // FRAME
                        break;
                    case (byte)'c': // GLOBAL
                        Push(stack, Import(op.Text!, op.Name!, op.Offset));
                        break;
                    case 0x93: // STACK_GLOBAL
                    {
                        var name = Pop(stack);
                        var module = Pop(stack);
                        if (module is not string m || name is not string n)
                            throw Refused(new PickleGlobal("?", "?", GlobalKind.Unknown, _entry, op.Offset), "a global whose name is computed at load time");
                        Push(stack, Import(m, n, op.Offset));
                        break;
                    }

                    case (byte)'i': // INST: import and instantiate a class
                        throw Refused(PickleScanner.Classify(op.Text!, op.Name!, _entry, op.Offset, null), "an object instantiation");
                    case (byte)'o': // OBJ
                    case 0x81: // NEWOBJ
                    case 0x92: // NEWOBJ_EX
                        throw Unsafe($"instantiates an object at offset {op.Offset}; a state dict holds only tensors and containers");
                    case 0x82: // EXT1
                    case 0x83: // EXT2
                    case 0x84: // EXT4
                        throw Refused(new PickleGlobal("copyreg", "extension", GlobalKind.Unknown, _entry, op.Offset), "an extension-registry global");
                    case 0x97: // NEXT_BUFFER
                    case 0x98: // READONLY_BUFFER
                        throw Malformed($"out-of-band buffer at offset {op.Offset}");

                    case (byte)'S':
                    case (byte)'V':
                    case (byte)'T':
                    case (byte)'U':
                    case 0x8c:
                    case (byte)'X':
                    case 0x8d:
                        Push(stack, op.Text ?? throw Malformed($"string of more than {PickleInstructionReader.MaxString} bytes at offset {op.Offset}"));
                        break;
                    case (byte)'P': // PERSID (protocol 0 text ids): torch never writes them
                        throw Malformed($"text persistent id at offset {op.Offset}");
                    case (byte)'I':
                        Push(stack, op.Text is "01" ? true : op.Text is "00" ? false : Integer(op));
                        break;
                    case (byte)'L':
                        Push(stack, Integer(op));
                        break;
                    case (byte)'J':
                    case (byte)'K':
                    case (byte)'M':
                        Push(stack, op.Integer);
                        break;
                    case 0x8a: // LONG1
                    case 0x8b: // LONG4
                        Push(stack, op.BigInteger is { } big ? (big >= long.MinValue && big <= long.MaxValue ? (object)(long)big : big) : null);
                        break;
                    case (byte)'F':
                    case (byte)'G':
                        Push(stack, op.Float);
                        break;
                    case (byte)'B':
                    case (byte)'C':
                    case 0x8e:
                    case 0x96:
                        Push(stack, new PyBytes(op.Length));
                        break;
                    case (byte)'N':
                        Push(stack, null);
                        break;
                    case 0x88:
                        Push(stack, true);
                        break;
                    case 0x89:
                        Push(stack, false);
                        break;

                    case (byte)'(': // MARK
                        if (marks.Count >= MaxStack)
                            throw Malformed("too many marks");
                        marks.Push(stack.Count);
                        break;
                    case (byte)'0': // POP
                        Pop(stack);
                        break;
                    case (byte)'1': // POP_MARK
                        PopToMark(stack, marks);
                        break;
                    case (byte)'2': // DUP
                        Push(stack, Peek(stack));
                        break;

                    case (byte)')':
                        Push(stack, Array.Empty<object?>());
                        break;
                    case (byte)'t':
                        Push(stack, PopToMark(stack, marks).ToArray());
                        break;
                    case 0x85:
                    case 0x86:
                    case 0x87:
                    {
                        var count = op.Opcode - 0x84;
                        var items = new object?[count];
                        for (var i = count - 1; i >= 0; i--)
                            items[i] = Pop(stack);
                        Push(stack, items);
                        break;
                    }

                    case (byte)']':
                    case 0x8f: // EMPTY_SET: kept as a list; sets never hold tensors of a state dict
                        Push(stack, new List<object?>());
                        break;
                    case (byte)'l':
                    case 0x91: // FROZENSET
                        Push(stack, PopToMark(stack, marks));
                        break;
                    case (byte)'a':
                    {
                        var value = Pop(stack);
                        AsList(Peek(stack), op.Offset).Add(value);
                        break;
                    }

                    case (byte)'e':
                    case 0x90: // ADDITEMS
                    {
                        var values = PopToMark(stack, marks);
                        AsList(Peek(stack), op.Offset).AddRange(values);
                        break;
                    }

                    case (byte)'}':
                        Push(stack, new PyDict());
                        break;
                    case (byte)'d':
                    {
                        var values = PopToMark(stack, marks);
                        var dict = new PyDict();
                        AddPairs(dict, values, op.Offset);
                        Push(stack, dict);
                        break;
                    }

                    case (byte)'s':
                    {
                        var value = Pop(stack);
                        var key = Pop(stack);
                        AsDict(Peek(stack), op.Offset).Items.Add(new(key, value));
                        break;
                    }

                    case (byte)'u':
                    {
                        var values = PopToMark(stack, marks);
                        AddPairs(AsDict(Peek(stack), op.Offset), values, op.Offset);
                        break;
                    }

                    case 0x94: // MEMOIZE
                        Memo(memo, memo.Count, Peek(stack));
                        break;
                    case (byte)'p':
                    case (byte)'q':
                    case (byte)'r':
                        Memo(memo, op.Integer >= 0 ? op.Integer : throw Malformed($"bad memo index at offset {op.Offset}"), Peek(stack));
                        break;
                    case (byte)'g':
                    case (byte)'h':
                    case (byte)'j':
                        Push(stack, memo.TryGetValue(op.Integer, out var remembered) ? remembered : throw Malformed($"memo entry {op.Integer} read before it is written (offset {op.Offset})"));
                        break;

                    case (byte)'Q': // BINPERSID
                        Push(stack, PersistentLoad(Pop(stack), op.Offset));
                        break;
                    case (byte)'R': // REDUCE
                    {
                        var arguments = Pop(stack);
                        var callable = Pop(stack);
                        Push(stack, Call(callable, arguments as object?[] ?? throw Malformed($"REDUCE arguments are not a tuple at offset {op.Offset}"), op.Offset));
                        break;
                    }

                    case (byte)'b': // BUILD: object state (an OrderedDict's _metadata, a parameter's hooks); nothing a reader needs
                        Pop(stack);
                        Peek(stack);
                        break;
                    default:
                        throw Malformed($"unexpected opcode 0x{op.Opcode:x2} at offset {op.Offset}");
                }
            }
        }
        catch (PickleFormatException ex)
        {
            throw Malformed(ex.Message);
        }
    }

    /// <summary>A bytes value: its content is never needed, only that it is not a tensor.</summary>
    private sealed record PyBytes(long Length);

    private object Integer(PickleInstruction op) =>
        long.TryParse(op.Text?.TrimEnd('L'), System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var value)
            ? value
            : BigInteger.TryParse(op.Text?.TrimEnd('L'), System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var big)
                ? big
                : throw Malformed($"bad integer '{op.Text}' at offset {op.Offset}");

    private PyGlobal Import(string module, string name, long offset)
    {
        var fullName = module + "." + name;
        if (Callables.Contains(fullName) || (module == "torch" && StorageTypes.ContainsKey(name)))
            return new PyGlobal(module, name);
        throw Refused(PickleScanner.Classify(module, name, _entry, offset, null), null);
    }

    private object? Call(object? callable, object?[] arguments, long offset)
    {
        if (callable is not PyGlobal global || !Callables.Contains(global.FullName))
            throw Unsafe($"calls {(callable is PyGlobal g ? g.FullName : "a value that is not a function")} at offset {offset}");
        switch (global.FullName)
        {
            case "collections.OrderedDict":
            {
                var dict = new PyDict();
                if (arguments.Length == 1 && arguments[0] is List<object?> pairs)
                {
                    foreach (var pair in pairs)
                    {
                        if (pair is not object?[] { Length: 2 } kv)
                            throw Malformed($"OrderedDict item is not a pair at offset {offset}");
                        dict.Items.Add(new(kv[0], kv[1]));
                    }
                }
                else if (arguments.Length != 0)
                {
                    throw Malformed($"OrderedDict called with unexpected arguments at offset {offset}");
                }

                return dict;
            }

            case "torch._utils._rebuild_tensor":
            case "torch._utils._rebuild_tensor_v2":
            {
                if (arguments.Length < 4 || arguments[0] is not TorchStorage storage || arguments[1] is not long storageOffset
                    || arguments[2] is not object?[] size || arguments[3] is not object?[] stride || size.Length != stride.Length)
                    throw Malformed($"{global.Name} called with unexpected arguments at offset {offset}");
                var shape = Longs(size, offset);
                var strides = Longs(stride, offset);
                return Validate(new TorchTensor(storage, storageOffset, shape, strides), offset);
            }

            case "torch._utils._rebuild_parameter":
            case "torch._utils._rebuild_parameter_with_state":
                return arguments.Length >= 1 && arguments[0] is TorchTensor tensor ? tensor : throw Malformed($"{global.Name} called without a tensor at offset {offset}");
            default:
                throw Unsafe($"calls {global.FullName} at offset {offset}");
        }
    }

    /// <summary>Shape, stride and offset against the storage: every element the view can reach lies inside it.</summary>
    private TorchTensor Validate(TorchTensor tensor, long offset)
    {
        if (tensor.StorageOffset < 0 || tensor.Shape.Any(s => s < 0) || tensor.Stride.Any(s => s < 0))
            throw Malformed($"tensor with a negative size, stride or offset at offset {offset}");
        try
        {
            long elements = 1, last = tensor.StorageOffset;
            for (var d = 0; d < tensor.Shape.Length; d++)
            {
                elements = checked(elements * tensor.Shape[d]);
                if (tensor.Shape[d] > 0)
                    last = checked(last + (checked(tensor.Shape[d] - 1) * tensor.Stride[d]));
            }

            if (elements > 0 && last >= tensor.Storage.ElementCount)
                throw Malformed($"tensor view reaches element {last} of storage '{tensor.Storage.Key}', which has {tensor.Storage.ElementCount} (offset {offset})");
        }
        catch (OverflowException)
        {
            throw Malformed($"tensor size overflows at offset {offset}");
        }

        return tensor;
    }

    private long[] Longs(object?[] values, long offset) =>
        values.Select(v => v is long l ? l : throw Malformed($"tensor size or stride is not an integer at offset {offset}")).ToArray();

    /// <summary>('storage', storage type, key, location, numel[, view metadata]): what torch.save's persistent_id returns.</summary>
    private TorchStorage PersistentLoad(object? id, long offset)
    {
        if (id is not object?[] { Length: 5 or 6 } tuple || tuple[0] is not "storage")
            throw Unsafe($"persistent id at offset {offset} is not a tensor storage (a pickled module or object?)");
        if (tuple[1] is not PyGlobal type || type.Module != "torch" || !StorageTypes.TryGetValue(type.Name, out var dtype))
            throw Unsupported($"storage type at offset {offset} is not one of torch's typed storages");
        if (tuple[2] is not string key || tuple[4] is not long numel || numel < 0)
            throw Malformed($"storage persistent id at offset {offset} lacks a key or element count");
        if (tuple.Length == 6 && tuple[5] is not null)
            throw Unsupported($"storage view at offset {offset} (pre-1.0 serialisation)");
        if (_storages.TryGetValue(key, out var known))
        {
            if (known.DType != dtype || known.ElementCount != numel)
                throw Malformed($"storage '{key}' is used with two types or sizes");
            return known;
        }

        return _storages[key] = new TorchStorage(key, dtype, type.Name, numel);
    }

    private void AddPairs(PyDict dict, List<object?> values, long offset)
    {
        if (values.Count % 2 != 0)
            throw Malformed($"odd number of dict items at offset {offset}");
        for (var i = 0; i < values.Count; i += 2)
            dict.Items.Add(new(values[i], values[i + 1]));
    }

    private List<object?> AsList(object? value, long offset) => value as List<object?> ?? throw Malformed($"APPEND to a value that is not a list at offset {offset}");

    private PyDict AsDict(object? value, long offset) => value as PyDict ?? throw Malformed($"SETITEM on a value that is not a dict at offset {offset}");

    private void Memo(Dictionary<long, object?> memo, long index, object? value)
    {
        if (memo.Count >= MaxMemo && !memo.ContainsKey(index))
            throw Malformed($"more than {MaxMemo} memo entries");
        memo[index] = value;
    }

    private void Push(List<object?> stack, object? value)
    {
        if (stack.Count >= MaxStack)
            throw Malformed($"more than {MaxStack} values on the pickle stack");
        stack.Add(value);
    }

    private object? Pop(List<object?> stack)
    {
        if (stack.Count == 0 || (_marks.Count > 0 && stack.Count <= _marks.Peek()))
            throw Malformed("pickle stack underflow");
        var value = stack[^1];
        stack.RemoveAt(stack.Count - 1);
        return value;
    }

    private object? Peek(List<object?> stack) => stack.Count == 0 || (_marks.Count > 0 && stack.Count <= _marks.Peek()) ? throw Malformed("pickle stack underflow") : stack[^1];

    private List<object?> PopToMark(List<object?> stack, Stack<int> marks)
    {
        if (marks.Count == 0)
            throw Malformed("pickle pops a mark it never set");
        var start = marks.Pop();
        if (start > stack.Count)
            throw Malformed("pickle stack underflow");
        var values = stack.GetRange(start, stack.Count - start);
        stack.RemoveRange(start, stack.Count - start);
        return values;
    }

    /// <summary>
    /// The tensors of a loaded state dict, named by their dotted key paths. A training checkpoint that wraps the
    /// weights (<c>{"state_dict": ...}</c>, <c>{"model": ...}</c>) is unwrapped; other values are ignored.
    /// </summary>
    public static List<(string Name, TorchTensor Tensor)> Tensors(object? root, string path)
    {
        if (root is PyDict dict && !dict.Items.Any(i => i.Value is TorchTensor))
        {
            foreach (var wrapper in new[] { "state_dict", "model_state_dict", "model", "module" })
            {
                if (dict.Items.FirstOrDefault(i => i.Key is string k && k == wrapper).Value is PyDict inner)
                {
                    root = inner;
                    break;
                }
            }
        }

        var result = new List<(string, TorchTensor)>();
        Collect(root, "", 0, result, path);
        return result;
    }

    private static void Collect(object? value, string prefix, int depth, List<(string, TorchTensor)> result, string path)
    {
        if (depth > MaxNesting)
            throw Diagnostics.Diagnostics.PyTorchMalformed.Exception($"{path}: containers nested more than {MaxNesting} deep", path);
        switch (value)
        {
            case TorchTensor tensor:
                result.Add((prefix, tensor));
                break;
            case PyDict dict:
                foreach (var (key, item) in dict.Items)
                {
                    var name = key switch
                    {
                        string s => s,
                        long l => l.ToString(System.Globalization.CultureInfo.InvariantCulture),
                        _ => null,
                    };
                    if (name is not null)
                        Collect(item, prefix.Length == 0 ? name : prefix + "." + name, depth + 1, result, path);
                }

                break;
        }
    }

    private ProvenanceException Refused(PickleGlobal global, string? what)
    {
        var kind = global.Kind switch
        {
            GlobalKind.Code => "loading it would run code",
            GlobalKind.KnownData => "not a tensor rebuild helper this reader reproduces",
            _ => "neither a tensor rebuild helper nor a container",
        };
        var name = global.Module == "?" ? "a global whose name is computed at load time" : global.FullName;
        return Unsafe($"imports {name}{(what is null ? "" : " for " + what)} at offset {global.Offset} ({kind})");
    }

    private ProvenanceException Unsafe(string reason) =>
        Diagnostics.Diagnostics.PyTorchUnsafePickle.Exception($"{_path}{Where}: {reason}; the weights are not read", _path);

    private ProvenanceException Unsupported(string reason) =>
        Diagnostics.Diagnostics.PyTorchUnsupported.Exception($"{_path}{Where}: {reason}", _path);

    private ProvenanceException Malformed(string reason) =>
        Diagnostics.Diagnostics.PyTorchMalformed.Exception($"{_path}{Where}: {reason}", _path);

    private string Where => _entry.Length == 0 ? "" : $" ({_entry})";
}
