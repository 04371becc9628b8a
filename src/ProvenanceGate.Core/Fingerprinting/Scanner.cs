using System.Globalization;
using System.Text.Json;
using ProvenanceGate.Formats.Config;

namespace ProvenanceGate.Fingerprinting;

/// <summary>One catalogued public base model (metadata only: the catalogue holds no weight fingerprints).</summary>
public sealed record CatalogueEntry(
    string ModelId, string FamilyId, string FamilyName, string Publisher, string? SourceUri, string ParamBucket,
    string? ModelType, IReadOnlyList<string> Architectures, long HiddenSize, long Layers, long AttentionHeads, long? KeyValueHeads,
    long IntermediateSize, long VocabSize, long MaxPositionEmbeddings, string ArchHash);

/// <summary>The bundled reference catalogue (152 base models from Model Provenance Kit's seed database).</summary>
public sealed class ReferenceCatalogue(IReadOnlyList<CatalogueEntry> entries)
{
    private const string ResourceName = "ProvenanceGate.Fingerprinting.Catalogue.base-models.jsonl";

    public IReadOnlyList<CatalogueEntry> Entries { get; } = entries;

    public static ReferenceCatalogue LoadBundled()
    {
        using var stream = typeof(ReferenceCatalogue).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw Diagnostics.Diagnostics.CatalogueMalformed.Exception($"embedded resource {ResourceName} is missing");
        using var reader = new StreamReader(stream);
        return Parse(reader, "bundled catalogue");
    }

    public static ReferenceCatalogue Parse(TextReader reader, string source)
    {
        var entries = new List<CatalogueEntry>();
        var lineNumber = 0;
        while (reader.ReadLine() is { } line)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
                continue;
            try
            {
                using var document = JsonDocument.Parse(line);
                var root = document.RootElement;
                var mfi = root.GetProperty("mfi");
                var family = root.GetProperty("catalog").GetProperty("family");
                var asset = root.GetProperty("catalog").GetProperty("asset");
                entries.Add(new CatalogueEntry(
                    root.GetProperty("model_id").GetString()!,
                    root.GetProperty("family_id").GetString()!,
                    family.GetProperty("display_name").GetString()!,
                    family.GetProperty("publisher").GetString()!,
                    asset.TryGetProperty("source_uri", out var uri) ? uri.GetString() : null,
                    asset.GetProperty("param_bucket").GetString()!,
                    mfi.GetProperty("model_type").GetString(),
                    mfi.GetProperty("architectures").ValueKind == JsonValueKind.Array ? mfi.GetProperty("architectures").EnumerateArray().Select(a => a.GetString()!).ToArray() : [],
                    Long(mfi, "hidden_size"), Long(mfi, "num_hidden_layers"), Long(mfi, "num_attention_heads"),
                    mfi.GetProperty("num_key_value_heads").ValueKind == JsonValueKind.Number ? mfi.GetProperty("num_key_value_heads").GetInt64() : null,
                    Long(mfi, "intermediate_size"), Long(mfi, "vocab_size"), Long(mfi, "max_position_embeddings"),
                    mfi.GetProperty("arch_hash").GetString()!));
            }
            catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
            {
                throw Diagnostics.Diagnostics.CatalogueMalformed.Exception($"{source} line {lineNumber}: {ex.Message}", source, lineNumber);
            }
        }

        return new ReferenceCatalogue(entries);
    }

    private static long Long(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetInt64() : 0;
}

public sealed record ScanMatch(string Name, string Source, string Kind, double Score, string Detail);

/// <summary>
/// User fingerprints prepared for scanning: each keeps a compact, precomputed vector (the residual Gram averaged
/// over layers, standardised) so that a query is one dot product per entry; only the best candidates of the same
/// residual width get a full <see cref="LineageComparer"/> comparison.
/// </summary>
public sealed class ScanIndex
{
    /// <summary>Name of the persisted index inside a fingerprint directory (rebuilt whenever a file changes).</summary>
    public const string IndexFileName = ".provenancegate-scan-index";

    private const string Magic = "PGSCAN1";

    private sealed class Entry(string name, int width, float[]? vector, Func<ModelFingerprint> load)
    {
        private ModelFingerprint? _fingerprint;

        public string Name { get; } = name;

        public int Width { get; } = width;

        public float[]? Vector { get; } = vector;

        public string? File { get; init; }

        public long Size { get; init; }

        public long Ticks { get; init; }

        public ModelFingerprint Fingerprint => _fingerprint ??= load();
    }

    private readonly List<Entry> _entries = [];

    public int Count => _entries.Count;

    public static ScanIndex Build(IEnumerable<ModelFingerprint> fingerprints)
    {
        var index = new ScanIndex();
        foreach (var fingerprint in fingerprints)
            index._entries.Add(new Entry(fingerprint.Name, fingerprint.Weights?.ResidualWidth ?? 0, CompactVector(fingerprint), () => fingerprint));
        return index;
    }

    /// <summary>
    /// Every <c>*.fingerprint.json</c> directly inside <paramref name="directory"/>, in name order. Compact vectors come
    /// from the persisted index when a file's size and mtime are unchanged, so a scan parses only the files that
    /// changed plus the few candidates it compares in full. The index is rewritten atomically (best effort).
    /// </summary>
    public static ScanIndex LoadDirectory(string directory)
    {
        if (!Directory.Exists(directory))
            throw Diagnostics.Diagnostics.DirectoryNotFound.Exception($"fingerprint directory '{directory}' does not exist", directory);
        var indexPath = Path.Combine(directory, IndexFileName);
        var known = ReadIndexFile(indexPath);
        var index = new ScanIndex();
        var changed = false;
        foreach (var file in Directory.EnumerateFiles(directory, "*" + FingerprintFile.Extension).Order(StringComparer.Ordinal))
        {
            var info = new FileInfo(file);
            var name = info.Name;
            if (known.TryGetValue(name, out var cached) && cached.Size == info.Length && cached.Ticks == info.LastWriteTimeUtc.Ticks)
            {
                index._entries.Add(new Entry(cached.Name, cached.Width, cached.Vector, () => FingerprintFile.Read(file)) { File = name, Size = cached.Size, Ticks = cached.Ticks });
                continue;
            }

            var fingerprint = FingerprintFile.Read(file);
            index._entries.Add(new Entry(fingerprint.Name, fingerprint.Weights?.ResidualWidth ?? 0, CompactVector(fingerprint), () => fingerprint)
            {
                File = name, Size = info.Length, Ticks = info.LastWriteTimeUtc.Ticks,
            });
            changed = true;
        }

        if (changed || known.Count != index._entries.Count)
            index.TryWriteIndexFile(indexPath);
        return index;
    }

    private void TryWriteIndexFile(string path)
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(Magic);
            writer.Write(_entries.Count);
            foreach (var entry in _entries)
            {
                writer.Write(entry.File ?? "");
                writer.Write(entry.Name);
                writer.Write(entry.Size);
                writer.Write(entry.Ticks);
                writer.Write(entry.Width);
                writer.Write(entry.Vector?.Length ?? -1);
                foreach (var value in entry.Vector ?? [])
                    writer.Write(value);
            }
        }

        try
        {
            IO.AtomicFile.WriteAllBytes(path, stream.ToArray());
        }
        catch (Diagnostics.ProvenanceException)
        {
            // A read-only fingerprint directory only costs speed.
        }
    }

    private sealed record CachedEntry(string Name, long Size, long Ticks, int Width, float[]? Vector);

    /// <summary>A missing, stale or damaged index is simply rebuilt: it only ever holds derived data.</summary>
    private static Dictionary<string, CachedEntry> ReadIndexFile(string path)
    {
        var result = new Dictionary<string, CachedEntry>(StringComparer.Ordinal);
        // Anything but a regular file (a FIFO would block) is simply not an index.
        if (!File.Exists(path) || IO.FileType.Of(path) != IO.FileKind.Regular)
            return result;
        try
        {
            using var reader = new BinaryReader(File.OpenRead(path), System.Text.Encoding.UTF8);
            if (reader.ReadString() != Magic)
                return result;
            var count = reader.ReadInt32();
            for (var i = 0; i < count; i++)
            {
                var file = reader.ReadString();
                var name = reader.ReadString();
                var size = reader.ReadInt64();
                var ticks = reader.ReadInt64();
                var width = reader.ReadInt32();
                var length = reader.ReadInt32();
                if (length > 1 << 20)
                    return [];
                float[]? vector = null;
                if (length >= 0)
                {
                    vector = new float[length];
                    for (var j = 0; j < length; j++)
                        vector[j] = reader.ReadSingle();
                }

                result[file] = new CachedEntry(name, size, ticks, width, vector);
            }

            return result;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Text.DecoderFallbackException or FormatException)
        {
            return [];
        }
    }

    /// <summary>Mean over layers of the standardised residual Gram (in then out), itself standardised: r = dot / n.</summary>
    public static float[]? CompactVector(ModelFingerprint fingerprint)
    {
        var layers = fingerprint.Weights?.Layers.Where(l => l.GramIn.Length > 0).ToList();
        if (layers is null || layers.Count == 0)
            return null;
        var length = layers[0].GramIn.Length;
        var sum = new double[length];
        var used = 0;
        foreach (var layer in layers.Where(l => l.GramIn.Length == length))
        {
            var standardised = Standardise(layer.GramIn);
            for (var i = 0; i < length; i++)
                sum[i] += standardised[i];
            used++;
        }

        return Standardise(sum.Select(v => (float)(v / used)).ToArray());
    }

    private static float[] Standardise(float[] values)
    {
        var mean = values.Average();
        var sd = Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / values.Length);
        return values.Select(v => sd > 0 ? (float)((v - mean) / sd) : 0f).ToArray();
    }

    internal IEnumerable<(ModelFingerprint Fingerprint, double Similarity)> Candidates(ModelFingerprint query, int limit)
    {
        var width = query.Weights?.ResidualWidth ?? 0;
        var vector = CompactVector(query);
        if (width == 0)
            return [];
        var scored = new List<(Entry, double)>();
        foreach (var entry in _entries)
        {
            if (entry.Width != width)
                continue;
            var similarity = vector is not null && entry.Vector is not null && entry.Vector.Length == vector.Length
                ? System.Numerics.Tensors.TensorPrimitives.Dot(vector, entry.Vector) / vector.Length
                : 0;
            scored.Add((entry, similarity));
        }

        // Only the candidates that survive the cheap filter are loaded and compared in full.
        return scored.OrderByDescending(s => s.Item2).Take(limit).Select(s => (s.Item1.Fingerprint, s.Item2)).ToList();
    }
}

/// <summary>`scan`: which known models is this one derived from (user fingerprints, weight level) or shaped like (bundled catalogue, metadata level).</summary>
public static class Scanner
{
    public static IReadOnlyList<ScanMatch> Scan(ModelFingerprint query, ReferenceCatalogue catalogue, string? userDbDir, int top) =>
        Scan(query, catalogue, userDbDir is null ? null : ScanIndex.LoadDirectory(userDbDir), top);

    public static IReadOnlyList<ScanMatch> Scan(ModelFingerprint query, ReferenceCatalogue catalogue, ScanIndex? userDb, int top)
    {
        var matches = new List<ScanMatch>();
        if (userDb is not null)
        {
            foreach (var (candidate, _) in userDb.Candidates(query, Math.Max(32, top * 4)))
            {
                var comparison = LineageComparer.Compare(query, candidate);
                if (comparison.Verdict is LineageVerdict.IdenticalWeights or LineageVerdict.Derived)
                    matches.Add(new ScanMatch(candidate.Name, "fingerprint-db", comparison.VerdictName, comparison.Score, comparison.Reason));
            }
        }

        if (query.Config is { } config)
        {
            foreach (var entry in catalogue.Entries)
            {
                var (score, detail) = MetadataSimilarity(config, entry);
                if (score >= 0.5)
                    matches.Add(new ScanMatch(entry.ModelId, "catalogue", score >= 1 ? "same-architecture" : "similar-architecture", score,
                        $"{entry.FamilyName} ({entry.Publisher}): {detail}; metadata only, weights not compared"));
            }
        }

        // Weight-level matches outrank metadata look-alikes whatever their scores.
        return matches
            .OrderBy(m => m.Source == "fingerprint-db" ? 0 : 1)
            .ThenByDescending(m => m.Score)
            .ThenBy(m => m.Name, StringComparer.Ordinal)
            .Take(top)
            .ToArray();
    }

    private static (double Score, string Detail) MetadataSimilarity(ConfigSummary config, CatalogueEntry entry)
    {
        if (config.ArchHash == entry.ArchHash)
            return (1.0, "identical architecture (arch_hash)");
        var parts = new List<string>();
        double score = 0;
        void Check(bool equal, double weight, string name)
        {
            if (!equal)
                return;
            score += weight;
            parts.Add(name);
        }

        Check(config.ModelType == entry.ModelType, 0.3, "model_type");
        Check(config.HiddenSize == entry.HiddenSize, 0.2, "hidden_size");
        Check(config.Layers == entry.Layers, 0.1, "layers");
        Check(config.AttentionHeads == entry.AttentionHeads, 0.1, "heads");
        Check(config.KeyValueHeads == entry.KeyValueHeads, 0.1, "kv heads");
        Check(config.IntermediateSize == entry.IntermediateSize, 0.1, "intermediate_size");
        Check(config.VocabSize == entry.VocabSize, 0.1, "vocab_size");
        return (Math.Round(score, 2), parts.Count == 0 ? "nothing in common" : "same " + string.Join(", ", parts));
    }

    internal static string Format(double value) => value.ToString("0.000", CultureInfo.InvariantCulture);
}
