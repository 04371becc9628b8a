using System.Buffers.Binary;
using System.IO.Compression;
using System.Numerics;
using System.Security.Cryptography;
using ProvenanceGate.Diagnostics;
using ProvenanceGate.Formats.Safetensors;
using ProvenanceGate.Formats.Weights;

namespace ProvenanceGate.Formats.PyTorch;

/// <summary>
/// A <c>torch.save</c> file read without unpickling it: the zip serialisation (<c>&lt;name&gt;/data.pkl</c> plus one
/// stored member per storage, read in place) or the legacy one (magic number, protocol, system info, the object, the
/// storage keys, then each storage as an 8-byte element count and its raw bytes). Tensors that are contiguous views
/// are plain <see cref="WeightTensor"/>s on the file; other views get a <see cref="StridedTensorDecoder"/>.
/// </summary>
/// <remarks>
/// <see cref="HeaderSha256"/> identifies the file without hashing its data: SHA-256 of the pickle plus, for the zip
/// layout, every member's name, method, size and CRC-32 (so it changes with any storage), for the legacy layout
/// everything before the first storage. A fingerprint records it as safetensors files record their header's digest.
/// </remarks>
internal sealed record TorchCheckpoint(string Path, string Serialization, IReadOnlyList<WeightTensor> Tensors, string HeaderSha256)
{
    /// <summary>The pickle of a checkpoint lists tensors, not data: far below this even for the largest models.</summary>
    public const long MaxPickleBytes = 256L << 20;

    /// <summary>Longest row of a non-contiguous view: one row is gathered into one buffer.</summary>
    private const long MaxStridedRow = 1 << 24;

    private static readonly BigInteger LegacyMagic = BigInteger.Parse("1950a86a20f9469cfc6c", System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture);

    public static TorchCheckpoint Read(string path)
    {
        try
        {
            using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            var length = RandomAccess.GetLength(handle);
            if (length < 4)
                throw Malformed(path, "file is too short to be a checkpoint");
            var magic = ZipDirectory.ReadAt(handle, 0, 4, path);
            return magic.AsSpan().SequenceEqual("PK\u0003\u0004"u8) ? ReadZip(handle, path) : ReadLegacy(path);
        }
        catch (FileNotFoundException ex)
        {
            throw Diagnostics.Diagnostics.FileNotFound.Exception($"'{path}' does not exist", path, inner: ex);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw Diagnostics.Diagnostics.FileUnreadable.Exception($"cannot read '{path}': {ex.Message}", path, inner: ex);
        }
    }

    private static TorchCheckpoint ReadZip(Microsoft.Win32.SafeHandles.SafeFileHandle handle, string path)
    {
        var members = ZipDirectory.Read(handle, path);
        var pickles = members.Where(m => m.Name.EndsWith("/data.pkl", StringComparison.Ordinal) && m.Name.IndexOf('/', StringComparison.Ordinal) == m.Name.Length - "/data.pkl".Length).ToList();
        if (pickles.Count != 1)
            throw Malformed(path, pickles.Count == 0 ? "zip archive holds no <name>/data.pkl (not a torch.save checkpoint)" : "zip archive holds several data.pkl members");
        var pickle = pickles[0];
        var prefix = pickle.Name[..^"data.pkl".Length];
        if (pickle.Length > MaxPickleBytes)
            throw Malformed(path, $"{pickle.Name} is {pickle.Length} bytes, above the {MaxPickleBytes}-byte limit");

        var storages = new Dictionary<string, TorchStorage>(StringComparer.Ordinal);
        object? root;
        using var digest = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using (var stream = OpenMember(handle, path, pickle))
        {
            digest.AppendData(stream.GetBuffer(), 0, (int)stream.Length);
            root = TorchPickle.Load(stream, path, pickle.Name, storages);
        }

        foreach (var member in members.OrderBy(m => m.Name, StringComparer.Ordinal))
            digest.AppendData(System.Text.Encoding.UTF8.GetBytes(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{member.Name}\t{member.Method}\t{member.Length}\t{member.Crc32:x8}\n")));

        var byName = new Dictionary<string, ZipMember>(StringComparer.Ordinal);
        foreach (var member in members)
        {
            if (!byName.TryAdd(member.Name, member))
                throw Malformed(path, $"zip member '{member.Name}' appears twice");
        }

        var dataOffsets = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var storage in storages.Values)
        {
            if (!byName.TryGetValue(prefix + "data/" + storage.Key, out var member))
                throw Malformed(path, $"storage '{storage.Key}' has no member {prefix}data/{storage.Key}");
            if (!member.IsStored)
                throw Diagnostics.Diagnostics.PyTorchUnsupported.Exception($"{path}: storage member '{member.Name}' is compressed (method {member.Method}); torch.save stores tensor data uncompressed, and it is read in place", path);
            if (StorageBytes(path, storage) > member.Length)
                throw Malformed(path, $"storage '{storage.Key}' needs {StorageBytes(path, storage)} bytes but its member holds {member.Length}");
            dataOffsets[storage.Key] = member.DataOffset;
        }

        return new TorchCheckpoint(path, "zip", ToWeights(path, root, dataOffsets), Convert.ToHexStringLower(digest.GetHashAndReset()));
    }

    /// <summary>data.pkl as a stream: stored members are read from the file, deflated ones (a re-zipped checkpoint) inflated, both bounded.</summary>
    private static MemoryStream OpenMember(Microsoft.Win32.SafeHandles.SafeFileHandle handle, string path, ZipMember member)
    {
        if (member.IsStored)
        {
            var bytes = ZipDirectory.ReadAt(handle, member.DataOffset, (int)member.Length, path);
            return new MemoryStream(bytes, 0, bytes.Length, writable: false, publiclyVisible: true);
        }

        if (member.Method != 8)
            throw Diagnostics.Diagnostics.PyTorchUnsupported.Exception($"{path}: {member.Name} uses zip compression method {member.Method}", path);
        if (member.CompressedLength > MaxPickleBytes)
            throw Malformed(path, $"{member.Name} is {member.CompressedLength} bytes compressed, above the {MaxPickleBytes}-byte limit");
        var compressed = ZipDirectory.ReadAt(handle, member.DataOffset, (int)member.CompressedLength, path);
        var output = new MemoryStream();
        try
        {
            using var inflater = new DeflateStream(new MemoryStream(compressed), CompressionMode.Decompress);
            var buffer = new byte[81920];
            int read;
            while ((read = inflater.Read(buffer)) > 0)
            {
                if (output.Length + read > member.Length)
                    throw Malformed(path, $"{member.Name} inflates past its declared {member.Length} bytes");
                output.Write(buffer, 0, read);
            }
        }
        catch (InvalidDataException ex)
        {
            throw Malformed(path, $"{member.Name} is not valid deflate data: {ex.Message}");
        }

        output.Position = 0;
        return output;
    }

    private static TorchCheckpoint ReadLegacy(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        var storages = new Dictionary<string, TorchStorage>(StringComparer.Ordinal);
        var magic = TorchPickle.Load(stream, path, "", storages);
        if (magic is not BigInteger number || number != LegacyMagic)
            throw Malformed(path, "neither a zip archive nor a legacy torch.save file (no magic number)");
        if (TorchPickle.Load(stream, path, "", storages) is not 1001L)
            throw Diagnostics.Diagnostics.PyTorchUnsupported.Exception($"{path}: legacy serialisation protocol other than 1001", path);
        var systemInfo = TorchPickle.Load(stream, path, "", storages) as TorchPickle.PyDict;
        if (systemInfo?.Items.FirstOrDefault(i => i.Key is "little_endian").Value is not true)
            throw Diagnostics.Diagnostics.PyTorchUnsupported.Exception($"{path}: written on a big-endian machine", path);
        var root = TorchPickle.Load(stream, path, "", storages);
        if (TorchPickle.Load(stream, path, "", storages) is not List<object?> keys)
            throw Malformed(path, "storage key list missing");

        // Storages follow in key order, each as an int64 element count and the raw elements.
        var dataOffsets = new Dictionary<string, long>(StringComparer.Ordinal);
        var position = stream.Position;
        var firstStorage = position;
        if (firstStorage > MaxPickleBytes)
            throw Malformed(path, $"the pickles take {firstStorage} bytes, above the {MaxPickleBytes}-byte limit");
        var length = stream.Length;
        foreach (var key in keys)
        {
            if (key is not string name || !storages.TryGetValue(name, out var storage))
                throw Malformed(path, $"storage key '{key}' is not used by any tensor");
            if (position > length - 8)
                throw Malformed(path, $"file ends before storage '{name}' (truncated)");
            var count = BinaryPrimitives.ReadInt64LittleEndian(ZipDirectory.ReadAt(stream.SafeFileHandle, position, 8, path));
            if (count != storage.ElementCount)
                throw Malformed(path, $"storage '{name}' holds {count} elements but the pickle says {storage.ElementCount}");
            var bytes = StorageBytes(path, storage);
            if (bytes > length - position - 8)
                throw Malformed(path, $"storage '{name}' ({bytes} bytes at {position + 8}) runs past the end of the file ({length} bytes)");
            if (!dataOffsets.TryAdd(name, position + 8))
                throw Malformed(path, $"storage '{name}' is listed twice");
            position += 8 + bytes;
        }

        foreach (var storage in storages.Values)
        {
            if (!dataOffsets.ContainsKey(storage.Key))
                throw Malformed(path, $"storage '{storage.Key}' is used but not saved");
        }

        var header = ZipDirectory.ReadAt(stream.SafeFileHandle, 0, (int)firstStorage, path);
        return new TorchCheckpoint(path, "legacy", ToWeights(path, root, dataOffsets), Convert.ToHexStringLower(SHA256.HashData(header)));
    }

    private static long StorageBytes(string path, TorchStorage storage)
    {
        try
        {
            return checked(storage.ElementCount * SafetensorsDTypes.SizeOf(storage.DType));
        }
        catch (OverflowException)
        {
            throw Malformed(path, $"storage '{storage.Key}' size overflows");
        }
    }

    private static List<WeightTensor> ToWeights(string path, object? root, Dictionary<string, long> dataOffsets)
    {
        var weights = new List<WeightTensor>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, tensor) in TorchPickle.Tensors(root, path))
        {
            if (!names.Add(name))
                throw Malformed(path, $"tensor '{name}' appears twice");
            var dtype = tensor.Storage.DType;
            var size = SafetensorsDTypes.SizeOf(dtype);
            var storageStart = dataOffsets[tensor.Storage.Key];
            if (tensor.IsContiguous)
            {
                weights.Add(new WeightTensor(name, dtype, tensor.Shape, path, storageStart + (tensor.StorageOffset * size), tensor.ElementCount * size));
                continue;
            }

            if (!TensorReader.IsDecodable(dtype))
                continue;
            // An expanded view (stride 0) can describe more elements than its file holds; its rows are gathered whole.
            if (tensor.ElementCount > tensor.Storage.ElementCount || (tensor.Shape.Length > 0 && tensor.Shape[^1] > MaxStridedRow))
                throw Diagnostics.Diagnostics.PyTorchUnsupported.Exception(
                    $"{path}: tensor '{name}' is a view of {tensor.ElementCount} elements over a storage of {tensor.Storage.ElementCount} with rows of {(tensor.Shape.Length > 0 ? tensor.Shape[^1] : 1)}; only views no larger than their storage, with rows of at most {MaxStridedRow} elements, are read", path);
            weights.Add(new WeightTensor(name, SafetensorsDType.F32, tensor.Shape, path, storageStart, tensor.Storage.ElementCount * size)
            {
                Decoder = new StridedTensorDecoder(dtype, tensor.StorageOffset, tensor.Stride),
                StoredType = dtype.ToString(),
            });
        }

        return weights;
    }

    private static ProvenanceException Malformed(string path, string reason) =>
        Diagnostics.Diagnostics.PyTorchMalformed.Exception($"{path}: {reason}", path);
}
