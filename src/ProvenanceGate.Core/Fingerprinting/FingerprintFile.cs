using System.Buffers.Binary;
using System.Text.Json;
using System.Text.Json.Serialization;
using ProvenanceGate.IO;

namespace ProvenanceGate.Fingerprinting;

/// <summary>
/// <c>&lt;name&gt;.fingerprint.json</c>: compact JSON (float vectors as base64 little-endian float16, hashes as
/// base64 uint64), versioned by <see cref="ModelFingerprint.SchemaVersion"/>. Deterministic: same model, same bytes.
/// </summary>
public static class FingerprintFile
{
    public const string Extension = ".fingerprint.json";

    public static string Serialize(ModelFingerprint fingerprint) => JsonSerializer.Serialize(fingerprint, FingerprintJsonContext.Default.ModelFingerprint);

    public static void Write(string path, ModelFingerprint fingerprint) => AtomicFile.WriteAllText(path, Serialize(fingerprint) + "\n");

    /// <summary>
    /// Builds the serialiser's contract: the metadata of every type a fingerprint holds. A process's first
    /// serialisation otherwise spends 15-20 ms on it, after the weight pass and on one thread; a command that will
    /// write a fingerprint starts this beside its work. Safe to run while another thread serialises.
    /// </summary>
    public static void PrepareContract()
    {
        var options = FingerprintJsonContext.Default.Options;
        var seen = new HashSet<Type>();
        var pending = new Stack<Type>([typeof(ModelFingerprint)]);
        while (pending.TryPop(out var type))
        {
            if (!seen.Add(type))
                continue;
            var contract = options.GetTypeInfo(type);
            foreach (var property in contract.Properties)
                pending.Push(property.PropertyType);
            if (contract.ElementType is { } element)
                pending.Push(element);
            if (contract.KeyType is { } key)
                pending.Push(key);
        }
    }

    public static ModelFingerprint Read(string path)
    {
        return Parse(IO.InputFile.ReadAllBytes(path, IO.InputLimit.Fingerprint), path);
    }

    public static ModelFingerprint Parse(byte[] utf8, string path)
    {
        // One parse in the common case; the version probe only runs when the document does not deserialise
        // or declares another version, to tell "newer schema" (PG3006) from "damaged" (PG3005).
        ModelFingerprint? fingerprint = null;
        Exception? failure = null;
        try
        {
            fingerprint = JsonSerializer.Deserialize(utf8, FingerprintJsonContext.Default.ModelFingerprint);
        }
        catch (Exception ex) when (ex is JsonException or FormatException or NotSupportedException or ArgumentException or InvalidOperationException)
        {
            failure = ex;
        }

        var version = fingerprint?.SchemaVersion ?? ProbeVersion(utf8, path);
        if (version is >= 1 and < ModelFingerprint.OldestReadableSchemaVersion)
            throw Diagnostics.Diagnostics.FingerprintSchemaOutdated.Exception(
                $"{path}: schema version {version} " + (version == 4 ? "hashes tensors with another function, so an identical copy would not be recognised; " : "holds residual-coordinate signals that a rotated copy of a model escapes; ") +
                $"regenerate it from the model with `dotnet provenance fingerprint <model-dir> -o {Path.GetFileName(path)}` (schema {ModelFingerprint.CurrentSchemaVersion})", path);
        if (version is < ModelFingerprint.OldestReadableSchemaVersion or > ModelFingerprint.CurrentSchemaVersion)
            throw Diagnostics.Diagnostics.FingerprintSchemaUnsupported.Exception(
                $"{path}: schema version {version}; this version reads {ModelFingerprint.OldestReadableSchemaVersion} to {ModelFingerprint.CurrentSchemaVersion}", path);
        if (fingerprint is null)
            throw Malformed(path, failure?.Message ?? "empty document");
        Validate(fingerprint, path);
        return fingerprint;
    }

    private static int ProbeVersion(byte[] utf8, string path)
    {
        try
        {
            using var document = JsonDocument.Parse(utf8, new JsonDocumentOptions { MaxDepth = 16 });
            if (document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("schemaVersion", out var versionElement)
                && versionElement.ValueKind == JsonValueKind.Number
                && versionElement.TryGetInt32(out var version))
                return version;
            throw Malformed(path, "no integer \"schemaVersion\"");
        }
        catch (JsonException ex)
        {
            throw Malformed(path, $"not valid JSON: {ex.Message}");
        }
    }

    /// <summary>Every length the comparer relies on is checked here, so a hand-edited file cannot crash it.</summary>
    private static void Validate(ModelFingerprint fingerprint, string path)
    {
        if (string.IsNullOrEmpty(fingerprint.Name) || fingerprint.Model is null)
            throw Malformed(path, "missing name or model");
        var weights = fingerprint.Weights;
        if (fingerprint.Tokenizer is { } tokenizer && (tokenizer.Sketch is null || tokenizer.Kind is null || tokenizer.VocabularyDigest is null))
            throw Malformed(path, "tokenizer summary is incomplete");
        if (weights is null)
            return;
        if (weights.VectorSubset is null || weights.TensorHashes is null || weights.Layers is null || weights.FinalNorm is null)
            throw Malformed(path, "weights section is incomplete");
        if (weights.ResidualWidth < 0 || weights.VectorSubset.Any(i => i < 0 || i >= weights.ResidualWidth))
            throw Malformed(path, "residual subset out of range");
        var k = 0;
        if (weights.Frame is { } frame)
        {
            if (frame.AnchorHashes is null || frame.Gram is null || frame.Logits is null)
                throw Malformed(path, "anchor frame is incomplete");
            k = frame.AnchorHashes.Length;
            if (frame.Gram.Length != k * (k + 1) / 2 || frame.Logits.Length != k * k || frame.AnchorHashes.Distinct().Count() != k)
                throw Malformed(path, $"anchor frame arrays do not match its {k} anchors");
        }

        foreach (var layer in weights.Layers)
        {
            if (layer is null || layer.Key is null || layer.GramIn is null || layer.Norms is null || layer.RowNormSpectrum is null)
                throw Malformed(path, "a layer entry is incomplete");
            if (layer.GramIn.Length != 0 && layer.GramIn.Length != k * (k + 1) / 2)
                throw Malformed(path, $"layer {layer.Key}: Gram length does not match the frame's {k} anchors");
        }

        foreach (var embedding in new[] { weights.Embedding, weights.LmHead })
        {
            if (embedding is null)
                continue;
            if (embedding.AnchorHashes is null || embedding.AnchorCosines is null || embedding.NormHistogram is null)
                throw Malformed(path, "embedding section is incomplete");
            var g = embedding.GeometryAnchors;
            if (g < 0 || g > embedding.AnchorHashes.Length || embedding.AnchorCosines.Length != g * (g - 1) / 2)
                throw Malformed(path, "embedding anchor arrays have inconsistent lengths");
        }
    }

    private static Diagnostics.ProvenanceException Malformed(string path, string reason) =>
        Diagnostics.Diagnostics.FingerprintMalformed.Exception($"{path}: {reason}", path);

    internal sealed class HalfArrayConverter : JsonConverter<float[]>
    {
        public override float[] Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            if (reader.TokenType != JsonTokenType.String)
                throw new JsonException("expected a base64 string of float16 values");
            var bytes = reader.GetBytesFromBase64();
            if (bytes.Length % 2 != 0)
                throw new JsonException("float16 data has an odd byte count");
            var values = new float[bytes.Length / 2];
            System.Numerics.Tensors.TensorPrimitives.ConvertToSingle(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, Half>(bytes), values);
            return values;
        }

        public override void Write(Utf8JsonWriter writer, float[] value, JsonSerializerOptions options)
        {
            var halves = new Half[value.Length];
            System.Numerics.Tensors.TensorPrimitives.ConvertToHalf(value, halves);
            writer.WriteBase64StringValue(System.Runtime.InteropServices.MemoryMarshal.AsBytes(halves.AsSpan()));
        }
    }

    internal sealed class UInt64ArrayConverter : JsonConverter<ulong[]>
    {
        public override ulong[] Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            if (reader.TokenType != JsonTokenType.String)
                throw new JsonException("expected a base64 string of uint64 values");
            var bytes = reader.GetBytesFromBase64();
            if (bytes.Length % 8 != 0)
                throw new JsonException("uint64 data is not a multiple of 8 bytes");
            var values = new ulong[bytes.Length / 8];
            for (var i = 0; i < values.Length; i++)
                values[i] = BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(i * 8));
            return values;
        }

        public override void Write(Utf8JsonWriter writer, ulong[] value, JsonSerializerOptions options)
        {
            var bytes = new byte[value.Length * 8];
            for (var i = 0; i < value.Length; i++)
                BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(i * 8), value[i]);
            writer.WriteBase64StringValue(bytes);
        }
    }
}

/// <summary>Loads a fingerprint from either a model directory (computed, cached when a cache is given) or a fingerprint file.</summary>
public static class FingerprintLoader
{
    public static ModelFingerprint Load(string pathToDirOrFingerprintFile) => Load(pathToDirOrFingerprintFile, cache: null);

    public static ModelFingerprint Load(string pathToDirOrFingerprintFile, FingerprintCache? cache)
    {
        if (Directory.Exists(pathToDirOrFingerprintFile) || Formats.Weights.WeightFormats.IsModelFile(pathToDirOrFingerprintFile))
            return cache is null ? Fingerprinter.FromModelDirectory(pathToDirOrFingerprintFile) : cache.GetOrCompute(pathToDirOrFingerprintFile);
        if (File.Exists(pathToDirOrFingerprintFile))
            return FingerprintFile.Read(pathToDirOrFingerprintFile);
        throw Diagnostics.Diagnostics.FileNotFound.Exception($"'{pathToDirOrFingerprintFile}' is neither a model directory, a model file nor a fingerprint file", pathToDirOrFingerprintFile);
    }
}
