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
public static partial class Fingerprinter
{
    /// <summary>
    /// Anchors in the rotation-invariant frame (<see cref="AnchorFrame"/>): each key/value row is projected on this
    /// many anchor rows, so it is also the number of multiply-adds per key/value weight the frame costs.
    /// </summary>
    public const int GramK = 32;
    public const int VectorK = 64;
    public const int AnchorCount = 128;
    public const int GeometryAnchors = 64;
    public const int SketchSize = 512;
    public const int SpectrumQuantiles = 16;
    public const int HistogramBins = 20;

    /// <summary>Upper bound on worker threads: each holds one 256 KiB read chunk (about 1 MiB with a float copy for rare dtypes).</summary>
    public const int MaxWorkers = 8;

    /// <summary>Longest row kept for a residual-row Gram (k rows are held: 32 × 256 Ki floats = 32 MiB).</summary>
    public const int MaxResidualRowLength = 1 << 18;

    /// <summary>Tensors up to this many elements are checked for constant values (never used as identity evidence).</summary>
    public const long ConstantCheckLimit = 1 << 20;

    private static readonly string[] MetadataFiles =
        ["config.json", "generation_config.json", "tokenizer.json", "tokenizer.model", "tokenizer_config.json", "special_tokens_map.json", "vocab.json", "merges.txt"];

    public static ModelFingerprint FromModelDirectory(string directory) => FromModelDirectory(directory, NumericKernels.Default);

    /// <param name="directory">A model directory, or a single model file (GGUF, ONNX, ...) that carries its own metadata.</param>
    public static ModelFingerprint FromModelDirectory(string directory, INumericKernels kernels)
    {
        if (File.Exists(directory))
            return FromModelFile(directory, kernels);
        if (!Directory.Exists(directory))
            throw Diagnostics.Diagnostics.DirectoryNotFound.Exception($"model directory '{directory}' does not exist", directory);
        if (Formats.Peft.PeftAdapter.IsAdapter(directory))
            throw AdapterNeedsBase(directory);

        var configPath = Path.Combine(directory, "config.json");
        var config = File.Exists(configPath) ? ModelConfig.Read(configPath) : null;
        // The tokenizer is parsed and summarised beside the weight pass, not before it: only the embedding's anchor
        // rows need it, and those tensors are scheduled last.
        var tokenizerTask = System.Threading.Tasks.Task.Run(() => TokenizerReader.ReadDirectory(directory));
        return FromModel(directory, config, tokenizerTask, kernels);
    }

    /// <summary>
    /// A single model file: its architecture facts and tokenizer come from the file's own metadata (GGUF), else from the
    /// config.json and tokenizer files beside it (a pytorch_model.bin or model.onnx in its Hugging Face folder). The
    /// tokenizer matters: the rotation-invariant signals are built on anchor tokens chosen by string.
    /// </summary>
    private static ModelFingerprint FromModelFile(string path, INumericKernels kernels)
    {
        var weights = WeightFormats.Open(path)
            ?? throw Diagnostics.Diagnostics.ModelNotFound.Exception($"'{path}' is not a model file of a known format", path);
        var folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var configPath = Path.Combine(folder, "config.json");
        var config = weights.Config ?? (File.Exists(configPath) ? ModelConfig.Read(configPath) : null);
        var tokenizer = weights.Tokenizer is { } own
            ? System.Threading.Tasks.Task.FromResult<TokenizerData?>(own)
            : System.Threading.Tasks.Task.Run(() => TokenizerReader.ReadDirectory(folder));
        return FromModel(path, config, tokenizer, kernels, weights);
    }

    private static ModelFingerprint FromModel(string directory, ModelConfig? config, System.Threading.Tasks.Task<TokenizerData?> tokenizerTask, INumericKernels kernels,
        WeightSet? openedWeights = null)
    {
        var summaryTask = tokenizerTask.ContinueWith(
            t => t.Result is null ? null : Summarise(t.Result),
            CancellationToken.None, System.Threading.Tasks.TaskContinuationOptions.OnlyOnRanToCompletion, System.Threading.Tasks.TaskScheduler.Default);
        try
        {
            return FromModel(directory, config, tokenizerTask, summaryTask, kernels, openedWeights);
        }
        catch (Diagnostics.ProvenanceException) when (FailureOf(tokenizerTask) is { } tokenizerError)
        {
            // A bad tokenizer is reported whatever else is wrong, as when it was read first: one input, one answer.
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(tokenizerError).Throw();
            throw;
        }
    }

    /// <summary>Waits for <paramref name="task"/> and returns the input error it failed with, if any.</summary>
    private static Diagnostics.ProvenanceException? FailureOf(System.Threading.Tasks.Task task)
    {
        ((IAsyncResult)task).AsyncWaitHandle.WaitOne();
        return task.Exception?.InnerException as Diagnostics.ProvenanceException;
    }

    private static ModelFingerprint FromModel(string directory, ModelConfig? config, System.Threading.Tasks.Task<TokenizerData?> tokenizerTask,
        System.Threading.Tasks.Task<TokenizerSummary?> summaryTask, INumericKernels kernels, WeightSet? openedWeights)
    {
        var isFile = File.Exists(directory);
        var weights = openedWeights ?? WeightFormats.Open(directory);
        // Metadata files beside the weights win over what a weight file carries (a GGUF's own tokenizer and hyperparameters).
        config ??= weights?.Config;
        if (weights?.Tokenizer is { } embeddedTokenizer && tokenizerTask.GetAwaiter().GetResult() is null)
        {
            tokenizerTask = System.Threading.Tasks.Task.FromResult<TokenizerData?>(embeddedTokenizer);
            summaryTask = System.Threading.Tasks.Task.FromResult<TokenizerSummary?>(Summarise(embeddedTokenizer));
        }

        if (config is null && weights is null && tokenizerTask.GetAwaiter().GetResult() is null)
            throw Diagnostics.Diagnostics.ModelNotFound.Exception($"'{directory}' holds no config.json, tokenizer or weights", directory);

        // The files' digests are taken beside the weight pass, not before it (they are small, but the first hash
        // costs a cryptography start-up that would otherwise hold back every weight worker); an error in them is
        // still the one reported.
        var filesTask = System.Threading.Tasks.Task.Run(() => SourceFiles(directory, isFile, weights));
        var fullName = ModelName(directory);
        WeightSignals? weightSignals = null;
        try
        {
            weightSignals = weights is null || weights.Tensors.Count == 0 ? null : new WeightPass(weights, config, tokenizerTask, kernels).Run();
        }
        catch (Diagnostics.ProvenanceException) when (FailureOf(filesTask) is { } filesError)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(filesError).Throw();
        }

        var files = filesTask.GetAwaiter().GetResult();
        return new ModelFingerprint
        {
            Name = fullName,
            Model = new ModelIdentity(
                weights?.Format ?? "none",
                weights?.Tensors.Sum(t => t.ElementCount) ?? 0,
                weights?.Tensors.Count ?? 0,
                weights?.WeightFiles.Sum(f => new FileInfo(f).Length) ?? 0,
                weights?.Tensors.Select(t => t.StorageTypeName).Distinct().Order(StringComparer.Ordinal).ToArray() ?? []),
            Files = files,
            Config = config is null ? null : new ConfigSummary(config.ModelType, config.Architectures, config.HiddenSize, config.Layers, config.AttentionHeads,
                config.KeyValueHeads, config.IntermediateSize, config.VocabSize, config.MaxPositionEmbeddings, config.HiddenAct, config.ArchHash),
            Tokenizer = tokenizerTask.GetAwaiter().GetResult() is null ? null : summaryTask.GetAwaiter().GetResult(),
            Weights = weightSignals,
            Producer = new FingerprintProducer(ComputeAccelerator.Current.Name),
        };
    }

    /// <summary>Name, size and SHA-256 of the metadata and index files, and of each weight file's header.</summary>
    private static List<SourceFile> SourceFiles(string directory, bool isFile, WeightSet? weights)
    {
        var files = new List<SourceFile>();
        foreach (var name in isFile ? [] : MetadataFiles)
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
            {
                files.Add(file.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase)
                    ? new SourceFile(Path.GetFileName(file), new FileInfo(file).Length, HeaderSha256(file), "weights-header")
                    : weights.HeaderDigests?.GetValueOrDefault(file) is { } digest
                        ? new SourceFile(Path.GetFileName(file), new FileInfo(file).Length, digest, "weights-header")
                        : weights.HeaderLengths.TryGetValue(file, out var headerLength)
                            ? new SourceFile(Path.GetFileName(file), new FileInfo(file).Length, Sha256Prefix(file, headerLength), "weights-header")
                            : new SourceFile(Path.GetFileName(file), new FileInfo(file).Length, OutsideTensorsSha256(file, weights.Tensors), "weights-header"));
            }
        }

        return files;
    }

    /// <summary>The fingerprint's name: the model directory's own name, or a model file's name without its extension.</summary>
    internal static string ModelName(string directory) => File.Exists(directory)
        ? Path.GetFileNameWithoutExtension(directory)
        : Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory)));

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

        // Insertion into k kept slots rather than OrderBy/Take/Order: the same subset (Mix is a bijection, so keys never
        // tie), without the LINQ sorter's generic code, which a fresh process compiles before its weight pass (~8 ms).
        var keys = new ulong[k];
        var chosen = new int[k];
        var count = 0;
        for (var i = 0; i < width; i++)
        {
            var key = Mix((ulong)i);
            if (count == k && key >= keys[k - 1])
                continue;
            var at = count < k ? count++ : k - 1;
            for (; at > 0 && keys[at - 1] > key; at--)
            {
                keys[at] = keys[at - 1];
                chosen[at] = chosen[at - 1];
            }

            keys[at] = key;
            chosen[at] = i;
        }

        for (var i = 1; i < k; i++)
        {
            var value = chosen[i];
            var at = i;
            for (; at > 0 && chosen[at - 1] > value; at--)
                chosen[at] = chosen[at - 1];
            chosen[at] = value;
        }

        return chosen;
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
        IO.InputFile.EnsureRegularFile(path, "model file");
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    private static string Sha256Prefix(string path, long length)
    {
        using var stream = File.OpenRead(path);
        var bytes = new byte[length];
        stream.ReadExactly(bytes);
        return Convert.ToHexStringLower(SHA256.HashData(bytes));
    }

    private static string HeaderSha256(string path)
    {
        var header = SafetensorsHeader.Read(path);
        using var stream = File.OpenRead(path);
        var bytes = new byte[header.DataStart];
        stream.ReadExactly(bytes);
        return Convert.ToHexStringLower(SHA256.HashData(bytes));
    }

    /// <summary>
    /// SHA-256 of a weight file's bytes outside its tensors' data (an ONNX graph, a GGUF header): the data is covered by
    /// the per-tensor content hashes, and hashing it again would cost a second pass over the model.
    /// </summary>
    private static string OutsideTensorsSha256(string path, IEnumerable<WeightTensor> tensors)
    {
        var ranges = tensors.Where(t => string.Equals(t.FilePath, path, StringComparison.Ordinal) && t.ByteLength > 0)
            .Select(t => (Start: t.FileOffset, End: t.FileOffset + t.ByteLength)).OrderBy(r => r.Start).ToList();
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        var length = RandomAccess.GetLength(handle);
        var buffer = ArrayPool<byte>.Shared.Rent(1 << 16);
        try
        {
            long position = 0;
            foreach (var (start, end) in ranges.Append((length, length)))
            {
                for (var offset = position; offset < Math.Min(start, length);)
                {
                    var read = RandomAccess.Read(handle, buffer.AsSpan(0, (int)Math.Min(buffer.Length, start - offset)), offset);
                    if (read == 0)
                        break;
                    hash.AppendData(buffer, 0, read);
                    offset += read;
                }

                position = Math.Max(position, end);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>One pass over every tensor, accumulating each signal.</summary>
    private sealed class WeightPass(WeightSet weights, ModelConfig? config, System.Threading.Tasks.Task<TokenizerData?> tokenizerTask, INumericKernels kernels)
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
            var vectorSubset = ResidualSubset(width, VectorK);
            var anchors = new Lazy<List<(int Id, ulong Hash)>>(() => ChooseAnchors(embedding ?? lmHead, tokenizerTask.GetAwaiter().GetResult()));
            // The frame (anchor rows, norm gains) is read by positioned reads of a few rows, the first time a key or
            // value matrix needs it; the rest of the pass does not wait for it.
            var frame = new Lazy<FrameBasis?>(() => FrameBasis.Read(embedding, lmHead, tensors, roles, anchors.Value, width, kernels));

            var hashes = new List<string>();
            var layers = new SortedDictionary<string, LayerAccumulator>(LayerKeyComparer.Instance);
            var finalNorms = new SortedDictionary<string, float[]>(StringComparer.Ordinal);
            EmbeddingSignals? embeddingSignals = null, lmHeadSignals = null;

            // Tensors are independent, so they are processed in parallel, largest first and handed out one at a time
            // (the pass ends with the small ones, so neither worker finishes long after the other), each worker with
            // its own bounded buffers; results are folded in a fixed order, so the output is deterministic. The
            // embedding and LM head need the tokenizer's anchors only for a few rows, read after the pass, so the
            // tokenizer's parsing overlaps the pass whatever the order.
            var ordered = tensors.OrderBy(t => t.FilePath, StringComparer.Ordinal).ThenBy(t => t.FileOffset).ToList();
            var results = new TensorResult[ordered.Count];
            var schedule = Enumerable.Range(0, ordered.Count).OrderByDescending(i => ordered[i].ByteLength).ToArray();
            var workers = Math.Max(1, Math.Min(Environment.ProcessorCount, MaxWorkers));
            try
            {
                System.Threading.Tasks.Parallel.ForEach(
                    System.Collections.Concurrent.Partitioner.Create(schedule, System.Collections.Concurrent.EnumerablePartitionerOptions.NoBuffering),
                    new System.Threading.Tasks.ParallelOptions { MaxDegreeOfParallelism = workers },
                    () => new TensorReader(kernels),
                    (index, _, reader) =>
                    {
                        var tensor = ordered[index];
                        results[index] = Process(tensor, roles[tensor.Name], reader, width, frame, vectorSubset, keepsRowNorms: tensor == embedding || tensor == lmHead);
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
                        layer.AddGram(result.Gram);
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
                    embeddingSignals = AnchorSignals(tensor, result, anchors.Value, width);
                else if (tensor == lmHead)
                    lmHeadSignals = AnchorSignals(tensor, result, anchors.Value, width);
            }

            hashes.Sort(StringComparer.Ordinal);
            return new WeightSignals
            {
                ResidualWidth = width,
                VectorSubset = vectorSubset,
                TensorHashes = hashes.ToArray(),
                Frame = frame.Value?.Signals(),
                Embedding = embeddingSignals,
                LmHead = lmHeadSignals,
                Layers = layers.Values.Select(l => l.Finish()).ToArray(),
                FinalNorm = finalNorms.Values.SelectMany(v => v).ToArray(),
            };
        }

        /// <param name="RowNorms">Every row's norm, kept for the embedding and LM head (their anchor signals need it).</param>
        private sealed record TensorResult(string? Hash, double SumOfSquares, double[]? Gram, float[]? Vector, float[] Spectrum, float[]? RowNorms);

        /// <summary>The anchor tokens' rows of the embedding or LM head, read by position once the tokenizer has chosen them.</summary>
        private EmbeddingSignals? AnchorSignals(WeightTensor tensor, TensorResult result, List<(int Id, ulong Hash)> anchors, int width)
        {
            if (result.RowNorms is null || tensor.Shape.Count != 2 || tensor.Shape[1] != width || TensorReader.EffectiveRowLength(tensor) != tensor.RowLength)
                return null;
            using var reader = new TensorReader(kernels);
            var rows = new AnchorCollector(anchors, width);
            rows.Read(tensor, reader);
            return rows.Finish(tensor.RowCount, result.RowNorms, kernels);
        }

        private TensorResult Process(WeightTensor tensor, TensorRoleInfo role, TensorReader reader, int width, Lazy<FrameBasis?> frame, int[] vectorSubset, bool keepsRowNorms)
        {
            if (tensor.Decoder is ITransposedStorage transposed && tensor.Shape.Count == 2 && TensorReader.IsDecodable(tensor.DType)
                && ContentHash.TransposedGroupsFit(transposed.StoredRows, tensor.Shape[1]) && transposed.StoredRows == tensor.Shape[1] && transposed.StoredColumns == tensor.Shape[0]
                && tensor.Shape[0] <= Array.MaxLength)
                return ProcessTransposed(tensor, role, reader, width, frame, keepsRowNorms);
            var is2D = tensor.Shape.Count == 2;
            var rowLength = (int)TensorReader.EffectiveRowLength(tensor);
            var wholeRows = rowLength == tensor.RowLength;
            FrameGramAccumulator? gram = null;
            if (wholeRows && is2D && role.LayerKey is { } layerKey && role.Role is (TensorRole.Key or TensorRole.Value or TensorRole.QueryKeyValue)
                && frame.Value is { } basis)
                gram = FrameGramAccumulator.Create(tensor, role, width, basis.ScaledAnchors(layerKey), basis.Count, kernels);
            var rowNorms = new float[tensor.ElementCount / rowLength];
            var hash = new ContentHash();
            // Constant tensors are untrained norms and zero biases: small. Large matrices skip the check.
            var checkConstant = tensor.ElementCount <= ConstantCheckLimit;
            var min = checkConstant ? float.PositiveInfinity : 0f;
            var max = checkConstant ? float.NegativeInfinity : 1f;
            double sumOfSquares = 0;
            var vector = role.Role == TensorRole.Norm && tensor.Shape.Count == 1 && tensor.Shape[0] == width && !tensor.Name.EndsWith(".bias", StringComparison.Ordinal)
                ? new float[vectorSubset.Length] : null;

            double[] rowSquares = [];
            // Hot loops are compiled fully optimised on first use: a CLI run fingerprints once, and tiered
            // compilation would spend it in unoptimised and instrumented code.
            reader.ReadBlocks(tensor, [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] (block) =>
            {
                // BF16, the common dtype of large checkpoints, is hashed and measured from its bytes (in one pass
                // where the rows allow it): no float copy.
                if (rowSquares.Length < block.RowCount)
                    rowSquares = new double[block.RowCount];
                var squares = rowSquares.AsSpan(0, block.RowCount);
                var squaresDone = false;
                if (block.DType != SafetensorsDType.BF16)
                    hash.Append(block.Values);
                else if (hash.TryAppendBFloat16Rows(block.Raw, block.RowLength, squares))
                    squaresDone = true;
                else
                    hash.AppendBFloat16(block.Raw);
                if (checkConstant)
                {
                    MinMax(block.Values, ref min, ref max);
                    // Two different values settle it (trained weights: in the first block); the rest of the
                    // tensor need not be converted for the check.
                    checkConstant = !(min < max);
                }

                for (var r = 0; r < block.RowCount; r++)
                {
                    var rowSquare = squaresDone ? squares[r] : block.SumOfSquares(r);
                    sumOfSquares += rowSquare;
                    rowNorms[block.FirstRow + r] = (float)Math.Sqrt(rowSquare);
                }

                gram?.AddRows(block);
                if (vector is not null)
                {
                    for (var i = 0; i < vectorSubset.Length; i++)
                        vector[i] = block.Value(0, vectorSubset[i]);
                }
            });

            // Constant tensors (untrained norms, zero biases) are equal in unrelated models: never identity evidence.
            var digest = min != max && !float.IsNaN(min) ? hash.Finish() : null;
            return new TensorResult(digest, sumOfSquares, gram?.Finish(), vector, Quantiles(rowNorms, SpectrumQuantiles), keepsRowNorms ? rowNorms : null);
        }

        /// <summary>
        /// <see cref="Process"/> for a matrix stored transposed (ONNX MatMul weights): its stored rows, the logical
        /// columns, are streamed as they lie, four at a time. The content hash places every word at its logical position,
        /// the logical rows' sums of squares gather column-wise, and a key or value matrix's Gram takes the stored rows
        /// as residual coordinates (the Conv1D form), so no value is ever moved into logical order.
        /// </summary>
        private TensorResult ProcessTransposed(WeightTensor tensor, TensorRoleInfo role, TensorReader reader, int width, Lazy<FrameBasis?> frame, bool keepsRowNorms)
        {
            var (logicalRows, logicalColumns) = ((int)tensor.Shape[0], tensor.Shape[1]);
            var stored = tensor with { Shape = [logicalColumns, logicalRows], Decoder = null };
            FrameGramAccumulator? gram = null;
            if (role.LayerKey is { } layerKey && role.Role is (TensorRole.Key or TensorRole.Value or TensorRole.QueryKeyValue) && frame.Value is { } basis)
                gram = FrameGramAccumulator.Create(tensor, role, width, basis.ScaledAnchors(layerKey), basis.Count, kernels, storedTransposed: true);
            var squares = new float[logicalRows];
            var hash = new ContentHash();
            var checkConstant = tensor.ElementCount <= ConstantCheckLimit;
            var min = checkConstant ? float.PositiveInfinity : 0f;
            var max = checkConstant ? float.NegativeInfinity : 1f;
            reader.ReadBlocks(stored, [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] (block) =>
            {
                if (block.DType == SafetensorsDType.BF16)
                    hash.AppendBFloat16Transposed(block.Raw, block.RowLength, block.FirstRow, logicalColumns, squares);
                else
                    hash.AppendTransposed(block.Values, block.RowLength, block.FirstRow, logicalColumns, squares);
                if (checkConstant)
                {
                    MinMax(block.Values, ref min, ref max);
                    checkConstant = !(min < max);
                }

                gram?.AddRows(block);
            }, rowGroup: 4);

            var rowNorms = new float[logicalRows];
            double sumOfSquares = 0;
            for (var r = 0; r < logicalRows; r++)
            {
                sumOfSquares += squares[r];
                rowNorms[r] = MathF.Sqrt(squares[r]);
            }

            var digest = min != max && !float.IsNaN(min) ? hash.Finish() : null;
            return new TensorResult(digest, sumOfSquares, gram?.Finish(), null, Quantiles(rowNorms, SpectrumQuantiles), keepsRowNorms ? rowNorms : null);
        }

        /// <summary>
        /// Folds the values into min and max (NaN wins, -0 below +0): written out rather than TensorPrimitives.Min/Max,
        /// whose generic code starts at tier 0 in a fresh process and is recompiled mid-loop (measured: 19 methods).
        /// </summary>
        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
        private static void MinMax(ReadOnlySpan<float> values, ref float min, ref float max)
        {
            foreach (var value in values)
            {
                min = Math.Min(min, value);
                max = Math.Max(max, value);
            }
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
        private static List<(int Id, ulong Hash)> ChooseAnchors(WeightTensor? matrix, TokenizerData? tokenizer)
        {
            var rows = matrix?.Shape[0] ?? 0;
            if (rows == 0)
                return [];
            // The smallest (hash, id) pairs, kept in order as the vocabulary streams past (ids ascend, so an equal hash
            // goes after): no sort of the whole vocabulary, whose generic sort would start at tier 0.
            var hashes = new ulong[AnchorCount];
            var ids = new int[AnchorCount];
            var count = 0;
            var seen = new HashSet<string>(StringComparer.Ordinal);
            var limit = (int)Math.Min(rows, tokenizer?.Tokens.Count ?? rows);
            for (var id = 0; id < limit; id++)
            {
                // Without a tokenizer the id itself is the only name a row has.
                var token = tokenizer is null ? "#" + id.ToString(System.Globalization.CultureInfo.InvariantCulture) : tokenizer.Tokens[id];
                if (token is null || (tokenizer?.SpecialTokens.Contains(token) ?? false) || !seen.Add(token))
                    continue;
                var hash = StringHash(token);
                if (count == AnchorCount && hash >= hashes[AnchorCount - 1])
                    continue;
                var at = Math.Min(count, AnchorCount - 1);
                for (; at > 0 && hashes[at - 1] > hash; at--)
                {
                    hashes[at] = hashes[at - 1];
                    ids[at] = ids[at - 1];
                }

                hashes[at] = hash;
                ids[at] = id;
                count = Math.Min(count + 1, AnchorCount);
            }

            var anchors = new List<(int Id, ulong Hash)>(count);
            for (var i = 0; i < count; i++)
                anchors.Add((ids[i], hashes[i]));
            return anchors;
        }
    }

    internal static float[] Quantiles(float[] values, int count)
    {
        if (values.Length == 0)
            return new float[count];
        var sorted = (float[])values.Clone();
        FloatSort.Sort(sorted);
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
        private double[]? _gram;
        private int _count;

        public double Energy { get; set; }

        public SortedDictionary<string, float[]> Norms { get; } = new(StringComparer.Ordinal);

        public Dictionary<TensorRole, float[]> Spectra { get; } = [];

        public void AddGram(double[]? gram)
        {
            if (gram is null)
                return;
            _gram ??= new double[gram.Length];
            for (var i = 0; i < gram.Length; i++)
                _gram[i] += gram[i];
            _count++;
        }

        public LayerSignals Finish() => new()
        {
            Key = key,
            Energy = Energy,
            GramIn = UpperTriangle(_gram, _count),
            Norms = Norms.Values.SelectMany(v => v).ToArray(),
            RowNormSpectrum = Spectra.OrderBy(s => s.Key).SelectMany(s => s.Value).ToArray(),
        };
    }

    /// <summary>The upper triangle of a k×k matrix (diagonal included), divided by <paramref name="count"/>.</summary>
    internal static float[] UpperTriangle(double[]? matrix, int count)
    {
        if (matrix is null || count == 0)
            return [];
        var k = (int)Math.Round(Math.Sqrt(matrix.Length));
        var result = new float[k * (k + 1) / 2];
        var n = 0;
        for (var a = 0; a < k; a++)
        {
            for (var b = a; b < k; b++)
                result[n++] = (float)(matrix[(a * k) + b] / count);
        }

        return result;
    }

    /// <summary>
    /// What the anchor frame needs before the pass reaches the key and value matrices: the first <see cref="GramK"/>
    /// anchors' embedding and LM-head rows, and the gains of every layer's pre-attention norm and of the final norm,
    /// read row by row (a few KiB) rather than waiting for the streaming pass.
    /// </summary>
    private sealed class FrameBasis
    {
        private readonly float[] _rows;
        private readonly float[] _headRows;
        private readonly float[]? _finalGain;
        private readonly Dictionary<string, float[]> _scaled;
        private readonly ulong[] _hashes;
        private readonly int _width;
        private readonly INumericKernels _kernels;

        private FrameBasis(ulong[] hashes, float[] rows, float[] headRows, float[]? finalGain, Dictionary<string, float[]> layerGains, int width, INumericKernels kernels)
        {
            _hashes = hashes;
            _rows = rows;
            _headRows = headRows;
            _finalGain = finalGain;
            _width = width;
            _kernels = kernels;
            _scaled = layerGains.ToDictionary(g => g.Key, g => Scale(rows, g.Value, width), StringComparer.Ordinal);
        }

        public int Count => _hashes.Length;

        /// <summary>A·diag(g) for the layer's pre-attention gain g: key and value matrices read the residual through it.</summary>
        public float[] ScaledAnchors(string layerKey) => _scaled.TryGetValue(layerKey, out var scaled) ? scaled : _rows;

        public static FrameBasis? Read(WeightTensor? embedding, WeightTensor? lmHead, List<WeightTensor> tensors, Dictionary<string, TensorRoleInfo> roles,
            List<(int Id, ulong Hash)> anchors, int width, INumericKernels kernels)
        {
            var source = embedding ?? lmHead;
            var head = lmHead ?? embedding;
            if (source is null || head is null || anchors.Count < 2 || source.Shape[1] != width || head.Shape[1] != width
                || TensorReader.EffectiveRowLength(source) != width || TensorReader.EffectiveRowLength(head) != width)
                return null;
            var frameAnchors = anchors.Take(GramK).Where(a => a.Id < source.Shape[0] && a.Id < head.Shape[0]).ToList();
            if (frameAnchors.Count < 2)
                return null;
            using var reader = new TensorReader(kernels);
            var rows = new float[frameAnchors.Count * width];
            var headRows = new float[frameAnchors.Count * width];
            var ids = frameAnchors.Select(a => (long)a.Id).ToArray();
            reader.ReadRows(source, ids, rows);
            reader.ReadRows(head, ids, headRows);

            var gains = new Dictionary<string, float[]>(StringComparer.Ordinal);
            float[]? finalGain = null;
            foreach (var tensor in tensors.Where(t => IsGain(t, roles[t.Name], width)).OrderBy(t => t.Name, StringComparer.Ordinal))
            {
                var role = roles[tensor.Name];
                if (role.LayerKey is { } key)
                {
                    if (!TensorRoles.IsPreMlpNorm(tensor.Name) && !gains.ContainsKey(key))
                        gains[key] = ReadVector(reader, tensor, width);
                }
                else
                {
                    finalGain ??= ReadVector(reader, tensor, width);
                }
            }

            return new FrameBasis(frameAnchors.Select(a => a.Hash).ToArray(), rows, headRows, finalGain, gains, width, kernels);
        }

        private static bool IsGain(WeightTensor tensor, TensorRoleInfo role, int width) =>
            role.Role == TensorRole.Norm && tensor.Shape.Count == 1 && tensor.Shape[0] == width && !tensor.Name.EndsWith(".bias", StringComparison.Ordinal)
            && TensorReader.EffectiveRowLength(tensor) == width;

        private static float[] ReadVector(TensorReader reader, WeightTensor tensor, int width)
        {
            var vector = new float[width];
            reader.ReadRow(tensor, 0, vector);
            return vector;
        }

        /// <summary>Each row times the gain, element by element (a loop: TensorPrimitives' generic code would start at tier 0).</summary>
        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
        private static float[] Scale(float[] rows, float[] gain, int width)
        {
            var scaled = new float[rows.Length];
            for (var r = 0; r < rows.Length / width; r++)
            {
                var row = rows.AsSpan(r * width, width);
                var target = scaled.AsSpan(r * width, width);
                for (var i = 0; i < width; i++)
                    target[i] = row[i] * gain[i];
            }

            return scaled;
        }

        public AnchorFrame Signals()
        {
            var n = Count;
            var gram = new double[n * n];
            for (var a = 0; a < n; a++)
            {
                for (var b = a; b < n; b++)
                    gram[(a * n) + b] = gram[(b * n) + a] = _kernels.Dot(Row(_rows, a), Row(_rows, b));
            }

            NormaliseTrace(gram, n);
            // The LM head reads the residual through the final norm: its gain belongs to the head's rows.
            var head = _finalGain is null ? _headRows : Scale(_headRows, _finalGain, _width);
            var logits = new double[n * n];
            double magnitude = 0;
            for (var a = 0; a < n; a++)
            {
                for (var b = 0; b < n; b++)
                {
                    logits[(a * n) + b] = _kernels.Dot(Row(_rows, a), Row(head, b));
                    magnitude += Math.Abs(logits[(a * n) + b]);
                }
            }

            var scale = magnitude > 0 ? n * n / magnitude : 0;
            return new AnchorFrame
            {
                AnchorHashes = _hashes,
                Gram = UpperTriangle(gram, 1),
                Logits = logits.Select(v => (float)(v * scale)).ToArray(),
            };
        }

        private ReadOnlySpan<float> Row(float[] rows, int index) => rows.AsSpan(index * _width, _width);
    }

    /// <summary>Scales a k×k Gram to a mean diagonal of 1 (false when it is degenerate).</summary>
    internal static bool NormaliseTrace(double[] gram, int k)
    {
        double trace = 0;
        for (var a = 0; a < k; a++)
            trace += gram[(a * k) + a];
        if (!(trace > 1e-30) || double.IsInfinity(trace))
            return false;
        var scale = k / trace;
        for (var i = 0; i < gram.Length; i++)
            gram[i] *= scale;
        return true;
    }

    /// <summary>
    /// A·diag(g)·WᵀW·diag(g)·Aᵀ for a matrix W whose residual axis is its columns (Linear) or its rows (Conv1D),
    /// streamed: each block of rows is projected on the n scaled anchor rows (a GEMM), and the projections' Gram
    /// accumulates (Linear), or the projections themselves accumulate and their Gram is taken at the end (Conv1D).
    /// Row permutations of W (heads, channels) leave it unchanged; so does any rotation of the residual basis,
    /// which the anchor rows undergo too.
    /// </summary>
    private sealed class FrameGramAccumulator
    {
        private readonly float[] _anchors;
        private readonly int _n;
        private readonly int _width;
        private readonly bool _residualIsColumns;
        private readonly INumericKernels _kernels;
        private readonly ILinearAlgebraKernels _linear = LinearAlgebraKernels.Current;
        private readonly double[] _gram;
        private readonly float[] _projection;
        private readonly float[] _column;

        private FrameGramAccumulator(float[] anchors, int n, int width, bool residualIsColumns, int columns, INumericKernels kernels)
        {
            _anchors = anchors;
            _n = n;
            _width = width;
            _residualIsColumns = residualIsColumns;
            _kernels = kernels;
            _gram = new double[n * n];
            _projection = new float[residualIsColumns ? 0 : n * columns];
            _column = new float[n];
        }

        /// <param name="storedTransposed">The rows will come as stored transposed (<c>Shape</c> reversed), not in <paramref name="tensor"/>'s logical order.</param>
        public static FrameGramAccumulator? Create(WeightTensor tensor, TensorRoleInfo role, int width, float[] anchors, int n, INumericKernels kernels, bool storedTransposed = false)
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
            if (storedTransposed)
            {
                // The stored rows are the logical columns: the residual side swaps with the orientation.
                residualIsColumns = !residualIsColumns;
                columns = rows;
            }

            if (n < 2 || (!residualIsColumns && columns > MaxResidualRowLength))
                return null;
            return new FrameGramAccumulator(anchors, n, width, residualIsColumns, (int)columns, kernels);
        }

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
        public void AddRows(RowBlock block)
        {
            if (_residualIsColumns)
            {
                _linear.AccumulateProjectedGram(_anchors, block.Values, _width, _gram);
                return;
            }

            // Row i of a Conv1D matrix is residual coordinate i: P (n × columns) += A_g[:, i] ⊗ W[i, :].
            var values = block.Values;
            for (var r = 0; r < block.RowCount; r++)
            {
                var coordinate = (int)(block.FirstRow + r);
                for (var a = 0; a < _n; a++)
                    _column[a] = _anchors[(a * _width) + coordinate];
                _linear.AccumulateOuter(_column, values.Slice(r * block.RowLength, block.RowLength), _projection);
            }
        }

        /// <summary>The n×n Gram scaled to a mean diagonal of 1, or null when it is degenerate.</summary>
        public double[]? Finish()
        {
            if (!_residualIsColumns)
            {
                var columns = _projection.Length / _n;
                for (var a = 0; a < _n; a++)
                {
                    for (var b = a; b < _n; b++)
                        _gram[(a * _n) + b] = _gram[(b * _n) + a] = _kernels.Dot(_projection.AsSpan(a * columns, columns), _projection.AsSpan(b * columns, columns));
                }
            }

            return NormaliseTrace(_gram, _n) ? _gram : null;
        }
    }

    /// <summary>The full rows of the anchor tokens in the embedding or LM head (rows past the matrix's end stay zero).</summary>
    private sealed class AnchorCollector(List<(int Id, ulong Hash)> anchors, int width)
    {
        private readonly float[][] _rows = anchors.Select(_ => new float[width]).ToArray();

        public void Read(WeightTensor tensor, TensorReader reader)
        {
            var slots = Enumerable.Range(0, anchors.Count).Where(slot => anchors[slot].Id < tensor.RowCount).ToArray();
            var rows = new float[slots.Length * width];
            reader.ReadRows(tensor, slots.Select(slot => (long)anchors[slot].Id).ToArray(), rows);
            for (var i = 0; i < slots.Length; i++)
                rows.AsSpan(i * width, width).CopyTo(_rows[slots[i]]);
        }

        public EmbeddingSignals Finish(long rowCount, float[] rowNorms, INumericKernels kernels)
        {
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
            // Enumerable.Min/Max semantics (a NaN is the minimum, and ignored by the maximum), without their generic code.
            var min = values[0];
            var max = float.NaN;
            foreach (var value in values)
            {
                if (value < min || float.IsNaN(value))
                    min = float.IsNaN(min) ? min : value;
                if (value > max || float.IsNaN(max))
                    max = value;
            }

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
