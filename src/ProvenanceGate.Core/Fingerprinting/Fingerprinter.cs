using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using ProvenanceGate.Formats.Config;
using ProvenanceGate.Formats.Safetensors;
using ProvenanceGate.Formats.Tokenizers;
using ProvenanceGate.Formats.Weights;

namespace ProvenanceGate.Fingerprinting;

/// <summary>
/// Computes a <see cref="ModelFingerprint"/> from a model directory in one streaming pass over the weights:
/// memory stays bounded by a read chunk plus a few small per-signal buffers, whatever the model size.
/// </summary>
public static class Fingerprinter
{
    public const int GramK = 32;
    public const int VectorK = 64;
    public const int AnchorCount = 128;
    public const int GeometryAnchors = 64;
    public const int SketchSize = 512;
    public const int SpectrumQuantiles = 16;
    public const int HistogramBins = 20;

    /// <summary>Upper bound on worker threads: each holds one read chunk (about 12 MiB with its float copy).</summary>
    public const int MaxWorkers = 8;

    /// <summary>Longest row kept for a residual-row Gram (k rows are held: 32 × 256 Ki floats = 32 MiB).</summary>
    public const int MaxResidualRowLength = 1 << 18;

    /// <summary>Tensors up to this many elements are checked for constant values (never used as identity evidence).</summary>
    public const long ConstantCheckLimit = 1 << 20;

    private static readonly string[] MetadataFiles =
        ["config.json", "generation_config.json", "tokenizer.json", "tokenizer.model", "tokenizer_config.json", "special_tokens_map.json", "vocab.json", "merges.txt"];

    public static ModelFingerprint FromModelDirectory(string directory) => FromModelDirectory(directory, NumericKernels.Default);

    public static ModelFingerprint FromModelDirectory(string directory, INumericKernels kernels)
    {
        if (!Directory.Exists(directory))
            throw Diagnostics.Diagnostics.DirectoryNotFound.Exception($"model directory '{directory}' does not exist", directory);

        var configPath = Path.Combine(directory, "config.json");
        var config = File.Exists(configPath) ? ModelConfig.Read(configPath) : null;
        var tokenizer = TokenizerReader.ReadDirectory(directory);
        var weights = WeightFormats.Open(directory);
        if (config is null && tokenizer is null && weights is null)
            throw Diagnostics.Diagnostics.ModelNotFound.Exception($"'{directory}' holds no config.json, tokenizer or weights", directory);

        // The tokenizer summary is independent of the weights: it runs beside the weight pass instead of before it.
        var tokenizerSummary = tokenizer is null ? null : System.Threading.Tasks.Task.Run(() => Summarise(tokenizer));
        var files = new List<SourceFile>();
        foreach (var name in MetadataFiles)
        {
            var path = Path.Combine(directory, name);
            if (File.Exists(path))
                files.Add(new SourceFile(name, new FileInfo(path).Length, Sha256File(path), "metadata"));
        }

        if (weights is not null)
        {
            foreach (var index in weights.IndexFiles)
                files.Add(new SourceFile(Path.GetFileName(index), new FileInfo(index).Length, Sha256File(index), "index"));
            foreach (var file in weights.WeightFiles)
                files.Add(new SourceFile(Path.GetFileName(file), new FileInfo(file).Length, HeaderSha256(file), "weights-header"));
        }

        var fullName = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory)));
        var weightSignals = weights is null || weights.Tensors.Count == 0 ? null : new WeightPass(weights, config, tokenizer, kernels).Run();
        return new ModelFingerprint
        {
            Name = fullName,
            Model = new ModelIdentity(
                weights?.Format ?? "none",
                weights?.Tensors.Sum(t => t.ElementCount) ?? 0,
                weights?.Tensors.Count ?? 0,
                weights?.WeightFiles.Sum(f => new FileInfo(f).Length) ?? 0,
                weights?.Tensors.Select(t => t.DType.ToString()).Distinct().Order(StringComparer.Ordinal).ToArray() ?? []),
            Files = files,
            Config = config is null ? null : new ConfigSummary(config.ModelType, config.Architectures, config.HiddenSize, config.Layers, config.AttentionHeads,
                config.KeyValueHeads, config.IntermediateSize, config.VocabSize, config.MaxPositionEmbeddings, config.HiddenAct, config.ArchHash),
            Tokenizer = tokenizerSummary?.GetAwaiter().GetResult(),
            Weights = weightSignals,
        };
    }

    private static TokenizerSummary Summarise(TokenizerData tokenizer)
    {
        var hashes = new List<ulong>(tokenizer.Tokens.Count);
        using var vocabularyHash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        // The "id\ttoken\n" lines are batched into one buffer: the digest is the same, the per-token calls are not.
        var buffer = new ArrayBufferWriter<byte>(1 << 16);
        for (var id = 0; id < tokenizer.Tokens.Count; id++)
        {
            var token = tokenizer.Tokens[id];
            if (token is null)
                continue;
            var line = buffer.GetSpan(Encoding.UTF8.GetMaxByteCount(token.Length) + 16);
            id.TryFormat(line, out var written, default, System.Globalization.CultureInfo.InvariantCulture);
            line[written++] = (byte)'\t';
            written += Encoding.UTF8.GetBytes(token, line[written..]);
            line[written++] = (byte)'\n';
            buffer.Advance(written);
            if (buffer.WrittenCount >= 1 << 16)
            {
                vocabularyHash.AppendData(buffer.WrittenSpan);
                buffer.ResetWrittenCount();
            }

            hashes.Add(StringHash(token));
        }

        vocabularyHash.AppendData(buffer.WrittenSpan);
        // Bottom-k sketch: the SketchSize smallest distinct hashes, ascending.
        hashes.Sort();
        var sketch = new List<ulong>(SketchSize);
        foreach (var hash in hashes)
        {
            if (sketch.Count == SketchSize)
                break;
            if (sketch.Count == 0 || sketch[^1] != hash)
                sketch.Add(hash);
        }

        return new TokenizerSummary(tokenizer.Kind, tokenizer.VocabularySize, tokenizer.MergeCount, tokenizer.MergesDigest,
            Convert.ToHexStringLower(vocabularyHash.GetHashAndReset()), sketch.ToArray());
    }

    /// <summary>64-bit hash of a token string: anchors and sketches are chosen by string, never by id.</summary>
    public static ulong StringHash(string token)
    {
        // FNV-1a over the UTF-8 bytes, then a splitmix finaliser: stable across platforms and runs, and cheap
        // enough for vocabularies of hundreds of thousands of tokens.
        Span<byte> buffer = stackalloc byte[256];
        var bytes = Encoding.UTF8.GetByteCount(token) <= buffer.Length ? buffer[..Encoding.UTF8.GetBytes(token, buffer)] : Encoding.UTF8.GetBytes(token);
        var hash = 0xCBF29CE484222325UL;
        foreach (var b in bytes)
            hash = (hash ^ b) * 0x100000001B3UL;
        return Mix(hash);
    }

    /// <summary>k residual coordinates chosen by a fixed hash of the index: the same set for every model of width d.</summary>
    public static int[] ResidualSubset(int width, int k)
    {
        if (width <= k)
            return Enumerable.Range(0, width).ToArray();
        return Enumerable.Range(0, width).OrderBy(i => Mix((ulong)i)).Take(k).Order().ToArray();
    }

    private static ulong Mix(ulong x)
    {
        // splitmix64 finaliser
        x += 0x9E3779B97F4A7C15UL;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        return x ^ (x >> 31);
    }

    internal static string Sha256File(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    private static string HeaderSha256(string path)
    {
        var header = SafetensorsHeader.Read(path);
        using var stream = File.OpenRead(path);
        var bytes = new byte[header.DataStart];
        stream.ReadExactly(bytes);
        return Convert.ToHexStringLower(SHA256.HashData(bytes));
    }

    /// <summary>One pass over every tensor, accumulating each signal.</summary>
    private sealed class WeightPass(WeightSet weights, ModelConfig? config, TokenizerData? tokenizer, INumericKernels kernels)
    {
        private static readonly TensorRole[] SpectrumRoles =
            [TensorRole.Query, TensorRole.Key, TensorRole.Value, TensorRole.QueryKeyValue, TensorRole.AttentionOutput, TensorRole.Gate, TensorRole.Up, TensorRole.GateUp, TensorRole.Down];

        public WeightSignals Run()
        {
            var tensors = weights.Tensors.Where(t => TensorReader.IsDecodable(t.DType) && t.ElementCount > 0).ToList();
            var roles = tensors.ToDictionary(t => t.Name, t => TensorRoles.Resolve(t.Name), StringComparer.Ordinal);
            var embedding = tensors.Where(t => roles[t.Name].Role == TensorRole.Embedding && t.Shape.Count == 2).OrderByDescending(t => t.Shape[0]).FirstOrDefault();
            var lmHead = tensors.Where(t => roles[t.Name].Role == TensorRole.LmHead && t.Shape.Count == 2).FirstOrDefault();
            var width = ResidualWidth(tensors, roles, embedding);
            var gramSubset = ResidualSubset(width, GramK);
            var vectorSubset = ResidualSubset(width, VectorK);
            var anchors = ChooseAnchors(embedding ?? lmHead);

            var hashes = new List<string>();
            var layers = new SortedDictionary<string, LayerAccumulator>(LayerKeyComparer.Instance);
            var finalNorms = new SortedDictionary<string, float[]>(StringComparer.Ordinal);
            EmbeddingSignals? embeddingSignals = null, lmHeadSignals = null;

            // Tensors are independent, so they are processed in parallel (largest first, for balance), each worker
            // with its own bounded buffers; results are folded in a fixed order, so the output is deterministic.
            var ordered = tensors.OrderBy(t => t.FilePath, StringComparer.Ordinal).ThenBy(t => t.FileOffset).ToList();
            var results = new TensorResult[ordered.Count];
            var schedule = Enumerable.Range(0, ordered.Count).OrderByDescending(i => ordered[i].ByteLength).ToArray();
            var workers = Math.Max(1, Math.Min(Environment.ProcessorCount, MaxWorkers));
            try
            {
                System.Threading.Tasks.Parallel.ForEach(
                    System.Collections.Concurrent.Partitioner.Create(schedule, loadBalance: true),
                    new System.Threading.Tasks.ParallelOptions { MaxDegreeOfParallelism = workers },
                    () => new TensorReader(kernels),
                    (index, _, reader) =>
                    {
                        var tensor = ordered[index];
                        results[index] = Process(tensor, roles[tensor.Name], reader, width, gramSubset, vectorSubset,
                            tensor == embedding || tensor == lmHead ? anchors : null);
                        return reader;
                    },
                    reader => reader.Dispose());
            }
            catch (AggregateException ex) when (ex.Flatten().InnerExceptions.FirstOrDefault(e => e is Diagnostics.ProvenanceException) is { } first)
            {
                // A malformed tensor found by a worker is reported like any other input error, not as a crash.
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(first).Throw();
            }

            for (var i = 0; i < ordered.Count; i++)
            {
                var tensor = ordered[i];
                var role = roles[tensor.Name];
                var result = results[i];
                if (result.Hash is not null)
                    hashes.Add(result.Hash);
                var is2D = tensor.Shape.Count == 2;
                if (role.LayerKey is { } key)
                {
                    if (!layers.TryGetValue(key, out var layer))
                        layers[key] = layer = new LayerAccumulator(key);
                    if (is2D)
                        layer.Energy += Math.Sqrt(result.SumOfSquares);
                    if (result.Gram is not null)
                        layer.AddGram(result.Gram, role.ReadsResidual);
                    if (result.Vector is not null)
                        layer.Norms[tensor.Name] = result.Vector;
                    if (is2D && Array.IndexOf(SpectrumRoles, role.Role) >= 0)
                        layer.Spectra[role.Role] = result.Spectrum;
                }
                else if (result.Vector is not null)
                {
                    finalNorms[tensor.Name] = result.Vector;
                }

                if (tensor == embedding)
                    embeddingSignals = result.Anchors;
                else if (tensor == lmHead)
                    lmHeadSignals = result.Anchors;
            }

            hashes.Sort(StringComparer.Ordinal);
            return new WeightSignals
            {
                ResidualWidth = width,
                GramSubset = gramSubset,
                VectorSubset = vectorSubset,
                TensorHashes = hashes.ToArray(),
                Embedding = embeddingSignals,
                LmHead = lmHeadSignals,
                Layers = layers.Values.Select(l => l.Finish()).ToArray(),
                FinalNorm = finalNorms.Values.SelectMany(v => v).ToArray(),
            };
        }

        private sealed record TensorResult(string? Hash, double SumOfSquares, double[]? Gram, float[]? Vector, float[] Spectrum, EmbeddingSignals? Anchors);

        private TensorResult Process(WeightTensor tensor, TensorRoleInfo role, TensorReader reader, int width, int[] gramSubset, int[] vectorSubset, List<(int Id, ulong Hash)>? anchors)
        {
            var is2D = tensor.Shape.Count == 2;
            var rowLength = (int)TensorReader.EffectiveRowLength(tensor);
            var wholeRows = rowLength == tensor.RowLength;
            GramAccumulator? gram = null;
            if (wholeRows && is2D && role.LayerKey is not null && (role.ReadsResidual || role.WritesResidual))
                gram = GramAccumulator.Create(tensor, role, width, gramSubset, kernels);
            var anchorRows = wholeRows && anchors is not null && is2D && tensor.Shape[1] == width ? new AnchorCollector(anchors, width) : null;
            var rowNorms = new float[tensor.ElementCount / rowLength];
            var hash = new ContentHash();
            // Constant tensors are untrained norms and zero biases: small. Large matrices skip the two extra passes.
            var checkConstant = tensor.ElementCount <= ConstantCheckLimit;
            var min = checkConstant ? float.PositiveInfinity : 0f;
            var max = checkConstant ? float.NegativeInfinity : 1f;
            double sumOfSquares = 0;
            var vector = role.Role == TensorRole.Norm && tensor.Shape.Count == 1 && tensor.Shape[0] == width && !tensor.Name.EndsWith(".bias", StringComparison.Ordinal)
                ? new float[vectorSubset.Length] : null;

            reader.ReadRows(tensor, [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] (values, firstRow, rowCount) =>
            {
                hash.Append(values);
                if (checkConstant)
                {
                    min = Math.Min(min, System.Numerics.Tensors.TensorPrimitives.Min(values));
                    max = Math.Max(max, System.Numerics.Tensors.TensorPrimitives.Max(values));
                }
                for (var r = 0; r < rowCount; r++)
                {
                    var squares = kernels.SumOfSquares(values.Slice(r * rowLength, rowLength));
                    sumOfSquares += squares;
                    rowNorms[firstRow + r] = (float)Math.Sqrt(squares);
                }

                gram?.AddRows(values, firstRow, rowCount, rowLength);
                if (anchorRows is not null)
                {
                    for (var r = 0; r < rowCount; r++)
                        anchorRows.AddRow(firstRow + r, values.Slice(r * rowLength, rowLength));
                }

                if (vector is not null)
                {
                    for (var i = 0; i < vectorSubset.Length; i++)
                        vector[i] = values[vectorSubset[i]];
                }
            });

            // Constant tensors (untrained norms, zero biases) are equal in unrelated models: never identity evidence.
            var digest = min != max && !float.IsNaN(min) ? hash.Finish() : null;
            return new TensorResult(digest, sumOfSquares, gram?.Finish(), vector, Quantiles(rowNorms, SpectrumQuantiles),
                anchorRows?.Finish(tensor.RowCount, rowNorms, vectorSubset, kernels));
        }

        private int ResidualWidth(List<WeightTensor> tensors, Dictionary<string, TensorRoleInfo> roles, WeightTensor? embedding)
        {
            if (embedding is not null)
                return (int)embedding.Shape[1];
            if (config is { HiddenSize: > 0 and < int.MaxValue })
                return (int)config.HiddenSize;
            // No embedding: the dimension most often shared by norm vectors.
            return tensors.Where(t => roles[t.Name].Role == TensorRole.Norm && t.Shape.Count == 1)
                .GroupBy(t => (int)t.Shape[0]).OrderByDescending(g => g.Count()).Select(g => g.Key).FirstOrDefault();
        }

        /// <summary>
        /// The AnchorCount token strings with the lowest hash (ids below the matrix's row count, special tokens
        /// excluded): two vocabularies that share most strings share most anchors, whatever their ids.
        /// </summary>
        private List<(int Id, ulong Hash)> ChooseAnchors(WeightTensor? matrix)
        {
            var rows = matrix?.Shape[0] ?? 0;
            if (rows == 0)
                return [];
            var candidates = new List<(ulong Hash, int Id)>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            var limit = (int)Math.Min(rows, tokenizer?.Tokens.Count ?? rows);
            for (var id = 0; id < limit; id++)
            {
                // Without a tokenizer the id itself is the only name a row has.
                var token = tokenizer is null ? "#" + id.ToString(System.Globalization.CultureInfo.InvariantCulture) : tokenizer.Tokens[id];
                if (token is null || (tokenizer?.SpecialTokens.Contains(token) ?? false) || !seen.Add(token))
                    continue;
                candidates.Add((StringHash(token), id));
            }

            candidates.Sort();
            return candidates.Take(AnchorCount).Select(c => (c.Id, c.Hash)).ToList();
        }
    }

    internal static float[] Quantiles(float[] values, int count)
    {
        if (values.Length == 0)
            return new float[count];
        var sorted = (float[])values.Clone();
        Array.Sort(sorted);
        var result = new float[count];
        for (var i = 0; i < count; i++)
            result[i] = sorted[(int)Math.Round((double)i * (sorted.Length - 1) / (count - 1))];
        return result;
    }

    /// <summary>Orders layer keys by stack, then numerically by index ("2" before "10").</summary>
    private sealed class LayerKeyComparer : IComparer<string>
    {
        public static readonly LayerKeyComparer Instance = new();

        public int Compare(string? x, string? y)
        {
            var (sx, ix) = Split(x!);
            var (sy, iy) = Split(y!);
            var byStack = string.CompareOrdinal(sx, sy);
            return byStack != 0 ? byStack : ix.CompareTo(iy);
        }

        private static (string Stack, int Index) Split(string key)
        {
            var colon = key.LastIndexOf(':');
            return (colon < 0 ? "" : key[..colon], int.Parse(key[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    private sealed class LayerAccumulator(string key)
    {
        private double[]? _gramIn, _gramOut;
        private int _inCount, _outCount;

        public double Energy { get; set; }

        public SortedDictionary<string, float[]> Norms { get; } = new(StringComparer.Ordinal);

        public Dictionary<TensorRole, float[]> Spectra { get; } = [];

        public void AddGram(double[]? gram, bool reads)
        {
            if (gram is null)
                return;
            ref var target = ref reads ? ref _gramIn : ref _gramOut;
            target ??= new double[gram.Length];
            for (var i = 0; i < gram.Length; i++)
                target[i] += gram[i];
            if (reads)
                _inCount++;
            else
                _outCount++;
        }

        public LayerSignals Finish() => new()
        {
            Key = key,
            Energy = Energy,
            GramIn = OffDiagonal(_gramIn, _inCount),
            GramOut = OffDiagonal(_gramOut, _outCount),
            Norms = Norms.Values.SelectMany(v => v).ToArray(),
            RowNormSpectrum = Spectra.OrderBy(s => s.Key).SelectMany(s => s.Value).ToArray(),
        };

        private static float[] OffDiagonal(double[]? gram, int count)
        {
            if (gram is null || count == 0)
                return [];
            var k = (int)Math.Round(Math.Sqrt(gram.Length));
            var result = new float[k * (k - 1) / 2];
            var n = 0;
            for (var a = 0; a < k; a++)
            {
                for (var b = a + 1; b < k; b++)
                    result[n++] = (float)(gram[(a * k) + b] / count);
            }

            return result;
        }
    }

    /// <summary>
    /// The residual Gram restricted to the subset S: for a matrix whose columns are residual dimensions,
    /// W^T W (sum over rows of x_S x_S^T), invariant to any permutation of rows (neurons, heads); for one whose
    /// rows are residual dimensions, W W^T between the rows in S, invariant to any permutation of columns.
    /// </summary>
    private sealed class GramAccumulator
    {
        private readonly int[] _subset;
        private readonly bool _residualIsColumns;
        private readonly INumericKernels _kernels;
        private readonly double[] _gram;
        private const int ColumnRows = 1024;
        private readonly float[] _columns;
        private int _pending;
        private readonly Dictionary<long, int> _rowSlots = [];
        private readonly float[][] _rows;

        private GramAccumulator(int[] subset, bool residualIsColumns, int rowLength, INumericKernels kernels)
        {
            _subset = subset;
            _residualIsColumns = residualIsColumns;
            _kernels = kernels;
            var k = subset.Length;
            _gram = new double[k * k];
            _rows = residualIsColumns ? [] : new float[k][];
            _columns = residualIsColumns ? new float[k * ColumnRows] : [];
            if (!residualIsColumns)
            {
                for (var i = 0; i < k; i++)
                {
                    _rowSlots[subset[i]] = i;
                    _rows[i] = new float[rowLength];
                }
            }
        }

        public static GramAccumulator? Create(WeightTensor tensor, TensorRoleInfo role, int width, int[] subset, INumericKernels kernels)
        {
            long rows = tensor.Shape[0], columns = tensor.Shape[1];
            bool residualIsColumns;
            if (columns == width && rows != width)
                residualIsColumns = true;
            else if (rows == width && columns != width)
                residualIsColumns = false;
            else if (rows == width && columns == width)
                residualIsColumns = role.ReadsResidual ^ TensorRoles.IsConv1D(tensor.Name);
            else
                return null;
            if (subset.Length < 2 || (!residualIsColumns && columns > MaxResidualRowLength))
                return null;
            return new GramAccumulator(subset, residualIsColumns, (int)columns, kernels);
        }

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
        public void AddRows(ReadOnlySpan<float> values, long firstRow, int rowCount, int rowLength)
        {
            var k = _subset.Length;
            if (_residualIsColumns)
            {
                // Gather the S columns column-major across callbacks; one vectorised dot per Gram entry per
                // ColumnRows rows keeps the per-call overhead of the dots small against their length.
                for (var r = 0; r < rowCount; r++)
                {
                    var row = values.Slice(r * rowLength, rowLength);
                    for (var a = 0; a < k; a++)
                        _columns[(a * ColumnRows) + _pending] = row[_subset[a]];
                    if (++_pending == ColumnRows)
                        Flush();
                }

                return;
            }

            for (var r = 0; r < rowCount; r++)
            {
                if (_rowSlots.TryGetValue(firstRow + r, out var slot))
                    values.Slice(r * rowLength, rowLength).CopyTo(_rows[slot]);
            }
        }

        private void Flush()
        {
            var k = _subset.Length;
            if (_pending < ColumnRows)
            {
                // Pack the partial block so that the kernel sees k columns of _pending values each.
                for (var a = 1; a < k; a++)
                    Array.Copy(_columns, a * ColumnRows, _columns, a * _pending, _pending);
            }

            if (_pending > 0)
                _kernels.AccumulateGramColumns(_columns.AsSpan(0, k * _pending), k, _gram);
            _pending = 0;
        }

        /// <summary>The k×k Gram scaled to a mean diagonal of 1, or null when it is degenerate.</summary>
        public double[]? Finish()
        {
            var k = _subset.Length;
            if (_residualIsColumns)
                Flush();
            if (!_residualIsColumns)
            {
                for (var a = 0; a < k; a++)
                {
                    for (var b = a; b < k; b++)
                        _gram[(a * k) + b] = _gram[(b * k) + a] = _kernels.Dot(_rows[a], _rows[b]);
                }
            }

            double trace = 0;
            for (var a = 0; a < k; a++)
                trace += _gram[(a * k) + a];
            if (!(trace > 1e-30) || double.IsInfinity(trace))
                return null;
            var scale = k / trace;
            for (var i = 0; i < _gram.Length; i++)
                _gram[i] *= scale;
            return _gram;
        }
    }

    /// <summary>Keeps the full rows of the anchor tokens while the embedding streams past.</summary>
    private sealed class AnchorCollector(List<(int Id, ulong Hash)> anchors, int width)
    {
        private readonly Dictionary<long, int> _slots = anchors.Select((a, i) => (a.Id, i)).ToDictionary(x => (long)x.Id, x => x.i);
        private readonly float[][] _rows = anchors.Select(_ => new float[width]).ToArray();

        public void AddRow(long rowIndex, ReadOnlySpan<float> row)
        {
            if (_slots.TryGetValue(rowIndex, out var slot))
                row.CopyTo(_rows[slot]);
        }

        public EmbeddingSignals Finish(long rowCount, float[] rowNorms, int[] vectorSubset, INumericKernels kernels)
        {
            var sampled = new float[anchors.Count * vectorSubset.Length];
            for (var a = 0; a < anchors.Count; a++)
            {
                for (var i = 0; i < vectorSubset.Length; i++)
                    sampled[(a * vectorSubset.Length) + i] = _rows[a][vectorSubset[i]];
            }

            var geometry = Math.Min(GeometryAnchors, anchors.Count);
            var cosines = new List<float>();
            var norms = _rows.Take(geometry).Select(r => Math.Sqrt(kernels.SumOfSquares(r))).ToArray();
            for (var a = 0; a < geometry; a++)
            {
                for (var b = a + 1; b < geometry; b++)
                    cosines.Add((float)(kernels.Dot(_rows[a], _rows[b]) / Math.Max(norms[a] * norms[b], 1e-12)));
            }

            return new EmbeddingSignals
            {
                Rows = rowCount,
                AnchorHashes = anchors.Select(a => a.Hash).ToArray(),
                AnchorRows = sampled,
                AnchorCosines = cosines.ToArray(),
                GeometryAnchors = geometry,
                NormHistogram = Histogram(rowNorms, HistogramBins),
            };
        }

        private static float[] Histogram(float[] values, int bins)
        {
            var result = new float[bins];
            if (values.Length == 0)
                return result;
            var min = values.Min();
            var max = values.Max();
            var span = max - min;
            foreach (var value in values)
            {
                var bin = span > 0 ? (int)Math.Min(bins - 1, (value - min) / span * bins) : 0;
                result[bin]++;
            }

            for (var i = 0; i < bins; i++)
                result[i] /= values.Length;
            return result;
        }
    }
}
