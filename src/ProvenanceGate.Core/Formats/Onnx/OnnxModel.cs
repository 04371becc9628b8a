using System.Globalization;

namespace ProvenanceGate.Formats.Onnx;

/// <summary>A graph input or output: name, element type and shape (a number, a symbolic name, or "?").</summary>
public sealed record OnnxValueInfo(string Name, string ElementType, IReadOnlyList<string> Shape)
{
    public override string ToString() => $"{Name}: {ElementType}[{string.Join(",", Shape)}]";
}

/// <summary>One operator of the main graph; only the attributes role resolution needs are kept.</summary>
public sealed record OnnxNode(string OpType, string Domain, IReadOnlyList<string> Inputs, IReadOnlyList<string> Outputs)
{
    /// <summary>Gemm's <c>transB</c>: 1 when the weight is stored [out, in].</summary>
    public long TransB { get; init; }

    /// <summary>Transpose's <c>perm</c>, empty when absent.</summary>
    public IReadOnlyList<long> Perm { get; init; } = [];
}

/// <summary>Where an initializer's elements are stored.</summary>
public enum OnnxStorage
{
    /// <summary><c>raw_data</c>: little-endian elements, contiguous in the model file.</summary>
    Raw,

    /// <summary>A packed <c>float_data</c>/<c>double_data</c> field: contiguous little-endian elements too.</summary>
    PackedFixed,

    /// <summary>A packed <c>int32_data</c>/<c>int64_data</c>/<c>uint64_data</c> field: one varint per element.</summary>
    PackedVarint,

    /// <summary>An external-data file named by <c>location</c>.</summary>
    External,

    /// <summary>No data, or data this reader does not locate (strings, unpacked repeated fields).</summary>
    None,
}

/// <summary>A graph initializer: its element type, dims and the file region holding its elements.</summary>
public sealed record OnnxInitializer(string Name, int DataType, IReadOnlyList<long> Dims, OnnxStorage Storage, string FilePath, long Offset, long Length)
{
    public long ElementCount => Dims.Aggregate(1L, (a, b) => a * b);
}

/// <summary>
/// The facts of an ONNX <c>ModelProto</c> read from its wire format: header, opset imports, metadata, the main graph's
/// inputs, outputs, nodes and initializers (located, not loaded). Nested graphs (If/Loop bodies) are walked for
/// well-formedness and counted, not kept.
/// </summary>
public sealed class OnnxModel
{
    /// <summary>Dimensions above this count are not a tensor shape but a malformed file.</summary>
    public const int MaxRank = 32;

    public required string Path { get; init; }
    public long IrVersion { get; init; }
    public string? ProducerName { get; init; }
    public string? ProducerVersion { get; init; }
    public string? Domain { get; init; }
    public long ModelVersion { get; init; }
    public string? GraphName { get; init; }
    public IReadOnlyList<(string Domain, long Version)> Opsets { get; init; } = [];
    public IReadOnlyList<KeyValuePair<string, string>> MetadataProps { get; init; } = [];
    public IReadOnlyList<OnnxValueInfo> Inputs { get; init; } = [];
    public IReadOnlyList<OnnxValueInfo> Outputs { get; init; } = [];
    public IReadOnlyList<OnnxNode> Nodes { get; init; } = [];
    public IReadOnlyList<OnnxInitializer> Initializers { get; init; } = [];
    public int SubgraphCount { get; init; }

    /// <summary>The default-domain opset (the one that versions the standard operators), or null.</summary>
    public long? DefaultOpset => Opsets.Where(o => o.Domain is "" or "ai.onnx").Select(o => (long?)o.Version).FirstOrDefault();

    public long ParameterCount => Initializers.Sum(i => i.ElementCount);

    public static OnnxModel Read(string path)
    {
        using var reader = new ProtobufReader(path);
        return new Parser(reader, path).ReadModel();
    }

    /// <summary>ONNX <c>TensorProto.DataType</c> names, as <c>onnx.TensorProto.DataType.Name</c> prints them.</summary>
    public static string DataTypeName(int dataType) => dataType switch
    {
        1 => "FLOAT",
        2 => "UINT8",
        3 => "INT8",
        4 => "UINT16",
        5 => "INT16",
        6 => "INT32",
        7 => "INT64",
        8 => "STRING",
        9 => "BOOL",
        10 => "FLOAT16",
        11 => "DOUBLE",
        12 => "UINT32",
        13 => "UINT64",
        14 => "COMPLEX64",
        15 => "COMPLEX128",
        16 => "BFLOAT16",
        17 => "FLOAT8E4M3FN",
        18 => "FLOAT8E4M3FNUZ",
        19 => "FLOAT8E5M2",
        20 => "FLOAT8E5M2FNUZ",
        21 => "UINT4",
        22 => "INT4",
        23 => "FLOAT4E2M1",
        0 => "UNDEFINED",
        _ => "UNDEFINED(" + dataType.ToString(CultureInfo.InvariantCulture) + ")",
    };

    private sealed class Parser(ProtobufReader reader, string path)
    {
        private readonly string _directory = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!;
        private int _subgraphs;

        public OnnxModel ReadModel()
        {
            long irVersion = 0, modelVersion = 0;
            string? producer = null, producerVersion = null, domain = null;
            var opsets = new List<(string, long)>();
            var metadata = new List<KeyValuePair<string, string>>();
            Graph? graph = null;
            while (reader.TryReadTag(out var field, out var wire))
            {
                switch (field)
                {
                    case 1 when wire == WireType.Varint: irVersion = reader.ReadInt64(); break;
                    case 2 when wire == WireType.LengthDelimited: producer = reader.ReadString(); break;
                    case 3 when wire == WireType.LengthDelimited: producerVersion = reader.ReadString(); break;
                    case 4 when wire == WireType.LengthDelimited: domain = reader.ReadString(); break;
                    case 5 when wire == WireType.Varint: modelVersion = reader.ReadInt64(); break;
                    case 7 when wire == WireType.LengthDelimited:
                        if (graph is not null)
                            throw reader.Error("more than one main graph");
                        graph = ReadGraph(keep: true);
                        break;
                    case 8 when wire == WireType.LengthDelimited: opsets.Add(ReadOpset()); break;
                    case 14 when wire == WireType.LengthDelimited: metadata.Add(ReadStringPair()); break;
                    default: reader.Skip(wire); break;
                }
            }

            if (irVersion <= 0 || graph is null)
                throw reader.Error(irVersion <= 0 ? "no ir_version: not an ONNX model" : "no graph: not an ONNX model");
            return new OnnxModel
            {
                Path = path,
                IrVersion = irVersion,
                ProducerName = producer,
                ProducerVersion = producerVersion,
                Domain = domain,
                ModelVersion = modelVersion,
                GraphName = graph.Name,
                Opsets = opsets,
                MetadataProps = metadata,
                Inputs = graph.Inputs,
                Outputs = graph.Outputs,
                Nodes = graph.Nodes,
                Initializers = graph.Initializers,
                SubgraphCount = _subgraphs,
            };
        }

        private sealed record Graph(string? Name, List<OnnxValueInfo> Inputs, List<OnnxValueInfo> Outputs, List<OnnxNode> Nodes, List<OnnxInitializer> Initializers);

        /// <summary>A graph; nested ones (<paramref name="keep"/> false) are walked for well-formedness, not kept.</summary>
        private Graph ReadGraph(bool keep)
        {
            reader.BeginMessage();
            var graph = new Graph(null, [], [], [], []);
            string? name = null;
            while (reader.TryReadTag(out var field, out var wire))
            {
                switch (field)
                {
                    case 1 when wire == WireType.LengthDelimited:
                        var node = ReadNode();
                        if (keep)
                            graph.Nodes.Add(node);
                        break;
                    case 2 when wire == WireType.LengthDelimited: name = reader.ReadString(); break;
                    case 5 when wire == WireType.LengthDelimited:
                        var initializer = ReadTensor();
                        if (keep)
                            graph.Initializers.Add(initializer);
                        break;
                    case 11 when wire == WireType.LengthDelimited: graph.Inputs.Add(ReadValueInfo()); break;
                    case 12 when wire == WireType.LengthDelimited: graph.Outputs.Add(ReadValueInfo()); break;
                    default: reader.Skip(wire); break;
                }
            }

            reader.EndMessage();
            return graph with { Name = name };
        }

        private OnnxNode ReadNode()
        {
            reader.BeginMessage();
            var inputs = new List<string>();
            var outputs = new List<string>();
            string opType = "", domain = "";
            long transB = 0;
            IReadOnlyList<long> perm = [];
            while (reader.TryReadTag(out var field, out var wire))
            {
                switch (field)
                {
                    case 1 when wire == WireType.LengthDelimited: inputs.Add(reader.ReadString()); break;
                    case 2 when wire == WireType.LengthDelimited: outputs.Add(reader.ReadString()); break;
                    case 4 when wire == WireType.LengthDelimited: opType = reader.ReadString(); break;
                    case 7 when wire == WireType.LengthDelimited: domain = reader.ReadString(); break;
                    case 5 when wire == WireType.LengthDelimited:
                        var (attributeName, i, ints) = ReadAttribute();
                        if (attributeName == "transB")
                            transB = i;
                        else if (attributeName == "perm")
                            perm = ints;
                        break;
                    default: reader.Skip(wire); break;
                }
            }

            reader.EndMessage();
            return new OnnxNode(opType, domain, inputs, outputs) { TransB = transB, Perm = perm };
        }

        private (string Name, long I, List<long> Ints) ReadAttribute()
        {
            reader.BeginMessage();
            var name = "";
            long i = 0;
            var ints = new List<long>();
            while (reader.TryReadTag(out var field, out var wire))
            {
                switch (field)
                {
                    case 1 when wire == WireType.LengthDelimited: name = reader.ReadString(); break;
                    case 3 when wire == WireType.Varint: i = reader.ReadInt64(); break;
                    case 8:
                        reader.ReadRepeatedVarint(wire, v =>
                        {
                            if (ints.Count < MaxRank)
                                ints.Add((long)v);
                        });
                        break;
                    case 5 when wire == WireType.LengthDelimited:
                    case 10 when wire == WireType.LengthDelimited:
                        // Tensors in attributes (Constant nodes): checked for well-formedness, not weights.
                        ReadTensor();
                        break;
                    case 6 when wire == WireType.LengthDelimited:
                    case 11 when wire == WireType.LengthDelimited:
                        _subgraphs++;
                        ReadGraph(keep: false);
                        break;
                    default: reader.Skip(wire); break;
                }
            }

            reader.EndMessage();
            return (name, i, ints);
        }

        private OnnxValueInfo ReadValueInfo()
        {
            reader.BeginMessage();
            var name = "";
            var type = "?";
            IReadOnlyList<string> shape = [];
            while (reader.TryReadTag(out var field, out var wire))
            {
                switch (field)
                {
                    case 1 when wire == WireType.LengthDelimited: name = reader.ReadString(); break;
                    case 2 when wire == WireType.LengthDelimited: (type, shape) = ReadType(); break;
                    default: reader.Skip(wire); break;
                }
            }

            reader.EndMessage();
            return new OnnxValueInfo(name, type, shape);
        }

        /// <summary>A TypeProto: tensors give their element type and shape; sequences, maps and optionals their kind.</summary>
        private (string Type, IReadOnlyList<string> Shape) ReadType()
        {
            reader.BeginMessage();
            var result = ("?", (IReadOnlyList<string>)[]);
            while (reader.TryReadTag(out var field, out var wire))
            {
                switch (field)
                {
                    case 1 when wire == WireType.LengthDelimited:
                    case 8 when wire == WireType.LengthDelimited:
                        result = ReadTensorType(field == 8 ? "sparse " : "");
                        break;
                    case 4 when wire == WireType.LengthDelimited: reader.Skip(wire); result = ("sequence", []); break;
                    case 5 when wire == WireType.LengthDelimited: reader.Skip(wire); result = ("map", []); break;
                    case 9 when wire == WireType.LengthDelimited: reader.Skip(wire); result = ("optional", []); break;
                    default: reader.Skip(wire); break;
                }
            }

            reader.EndMessage();
            return result;
        }

        private (string Type, IReadOnlyList<string> Shape) ReadTensorType(string prefix)
        {
            reader.BeginMessage();
            var elementType = 0;
            var shape = new List<string>();
            while (reader.TryReadTag(out var field, out var wire))
            {
                if (field == 1 && wire == WireType.Varint)
                {
                    elementType = reader.ReadInt32();
                }
                else if (field == 2 && wire == WireType.LengthDelimited)
                {
                    reader.BeginMessage();
                    while (reader.TryReadTag(out var shapeField, out var shapeWire))
                    {
                        if (shapeField == 1 && shapeWire == WireType.LengthDelimited)
                        {
                            if (shape.Count == MaxRank)
                                throw reader.Error($"a value has more than {MaxRank} dimensions");
                            shape.Add(ReadDimension());
                        }
                        else
                        {
                            reader.Skip(shapeWire);
                        }
                    }

                    reader.EndMessage();
                }
                else
                {
                    reader.Skip(wire);
                }
            }

            reader.EndMessage();
            return (prefix + DataTypeName(elementType), shape);
        }

        private string ReadDimension()
        {
            reader.BeginMessage();
            var dimension = "?";
            while (reader.TryReadTag(out var field, out var wire))
            {
                if (field == 1 && wire == WireType.Varint)
                    dimension = reader.ReadInt64().ToString(CultureInfo.InvariantCulture);
                else if (field == 2 && wire == WireType.LengthDelimited)
                    dimension = reader.ReadString(256);
                else
                    reader.Skip(wire);
            }

            reader.EndMessage();
            return dimension;
        }

        private (string, long) ReadOpset()
        {
            reader.BeginMessage();
            var domain = "";
            long version = 0;
            while (reader.TryReadTag(out var field, out var wire))
            {
                if (field == 1 && wire == WireType.LengthDelimited)
                    domain = reader.ReadString();
                else if (field == 2 && wire == WireType.Varint)
                    version = reader.ReadInt64();
                else
                    reader.Skip(wire);
            }

            reader.EndMessage();
            return (domain, version);
        }

        private KeyValuePair<string, string> ReadStringPair()
        {
            reader.BeginMessage();
            string key = "", value = "";
            while (reader.TryReadTag(out var field, out var wire))
            {
                if (field == 1 && wire == WireType.LengthDelimited)
                    key = reader.ReadString();
                else if (field == 2 && wire == WireType.LengthDelimited)
                    value = reader.ReadString();
                else
                    reader.Skip(wire);
            }

            reader.EndMessage();
            return new KeyValuePair<string, string>(key, value);
        }

        private OnnxInitializer ReadTensor()
        {
            reader.BeginMessage();
            var dims = new List<long>();
            var dataType = 0;
            var name = "";
            var storage = OnnxStorage.None;
            long offset = 0, length = 0;
            var external = new List<KeyValuePair<string, string>>();
            var dataLocation = 0L;
            while (reader.TryReadTag(out var field, out var wire))
            {
                switch (field)
                {
                    case 1:
                        reader.ReadRepeatedVarint(wire, value =>
                        {
                            if (dims.Count == MaxRank)
                                throw reader.Error($"a tensor has more than {MaxRank} dimensions");
                            dims.Add((long)value);
                        });
                        break;
                    case 2 when wire == WireType.Varint: dataType = reader.ReadInt32(); break;
                    case 8 when wire == WireType.LengthDelimited: name = reader.ReadString(); break;
                    case 9 when wire == WireType.LengthDelimited:
                        (offset, length) = reader.SkipLengthDelimited();
                        storage = OnnxStorage.Raw;
                        break;
                    case 4 when wire == WireType.LengthDelimited:
                    case 10 when wire == WireType.LengthDelimited:
                        (offset, length) = reader.SkipLengthDelimited();
                        storage = OnnxStorage.PackedFixed;
                        break;
                    case 5 when wire == WireType.LengthDelimited:
                    case 7 when wire == WireType.LengthDelimited:
                    case 11 when wire == WireType.LengthDelimited:
                        (offset, length) = reader.SkipLengthDelimited();
                        storage = OnnxStorage.PackedVarint;
                        break;
                    case 13 when wire == WireType.LengthDelimited: external.Add(ReadStringPair()); break;
                    case 14 when wire == WireType.Varint: dataLocation = reader.ReadInt64(); break;
                    default: reader.Skip(wire); break;
                }
            }

            reader.EndMessage();
            if (dims.Any(d => d < 0))
                throw reader.Error($"tensor '{name}' has a negative dimension");
            long elements = 1;
            foreach (var dim in dims)
            {
                if (dim != 0 && elements > long.MaxValue / dim)
                    throw reader.Error($"tensor '{name}' has an absurd element count");
                elements *= dim;
            }

            var filePath = path;
            if (dataLocation == 1)
            {
                (filePath, offset, length) = ExternalData.Locate(path, _directory, name, external, elements, dataType);
                storage = OnnxStorage.External;
            }

            var tensor = new OnnxInitializer(name, dataType, dims, storage, filePath, offset, length);
            OnnxTypes.CheckStorage(tensor, reader);
            return tensor;
        }
    }
}
