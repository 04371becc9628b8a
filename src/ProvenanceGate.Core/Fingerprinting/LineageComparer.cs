using System.Globalization;

namespace ProvenanceGate.Fingerprinting;

public enum LineageVerdict
{
    IdenticalWeights,
    Derived,
    Independent,
    InsufficientEvidence,
}

/// <summary>One signal's similarity in [0, 1] (NaN when it cannot be computed), its weight in the decision, and what it saw.</summary>
public sealed record SignalScore(string Name, double Score, double Weight, string Detail);

public sealed record LineageComparison(LineageVerdict Verdict, double Score, IReadOnlyList<SignalScore> Signals, string Reason)
{
    public string VerdictName => LineageComparer.Name(Verdict);

    /// <summary>0 when the weights descend (identical or derived), 1 otherwise (independent or not established).</summary>
    public int ExitCode => Verdict is LineageVerdict.IdenticalWeights or LineageVerdict.Derived ? 0 : 1;
}

/// <summary>
/// Decides whether two fingerprints share weights. Only weight signals decide; configuration and tokenizer are
/// reported (and used by the scanner to narrow candidates) but identical configs never make a match.
/// Decisive signals are expressed in each model's anchor frame (<see cref="AnchorFrame"/>): the anchor tokens'
/// embedding rows, matched by string and whitened, give both models an orthonormal frame in which the residual basis
/// no longer matters, so a rotated, permuted or norm-folded copy meets its source while an independently trained
/// model, whose weights relate to its own embeddings in another way, does not. All of them also survive neuron and
/// head permutation. Every constant of the decision is named here once; the README gives their calibration.
/// </summary>
public static class LineageComparer
{
    /// <summary>Decisive score at or above which the weights are called derived.</summary>
    public const double DerivedThreshold = 0.5;

    /// <summary>A layer pair is aligned only when its residual-Gram correlation beats this.</summary>
    public const double LayerMatchThreshold = 0.4;

    /// <summary>Weight of <c>residual-gram</c> (per-layer key/value Grams in the anchor frame) in the decisive score.</summary>
    public const double ResidualGramWeight = 0.5;

    /// <summary>Weight of <c>anchor-logits</c> (the direct embedding-to-LM-head path in the anchor frame) in the decisive score.</summary>
    public const double AnchorLogitWeight = 0.5;

    /// <summary>Share of bit-identical tensors that alone shows derivation (shared tensors are never independent by chance).</summary>
    public const double TensorIdentityCut = 0.5;

    /// <summary>Ridge added to the anchor Gram before whitening, as a fraction of its mean diagonal: near-parallel anchors must not amplify fine-tuning noise.</summary>
    public const double WhiteningRidge = 0.1;

    public const int MinimumAnchors = 8;

    /// <summary>Decisive score the weight signals must reach before equal content hashes are reported as identical weights.</summary>
    public const double IdentityAgreement = 0.95;

    public static string Name(LineageVerdict verdict) => verdict switch
    {
        LineageVerdict.IdenticalWeights => "identical-weights",
        LineageVerdict.Derived => "derived",
        LineageVerdict.Independent => "independent",
        _ => "insufficient-evidence",
    };

    public static LineageComparison Compare(ModelFingerprint a, ModelFingerprint b) => Compare(a, b, NumericKernels.Default);

    public static LineageComparison Compare(ModelFingerprint a, ModelFingerprint b, INumericKernels kernels)
    {
        var signals = new List<SignalScore> { Metadata(a, b), Vocabulary(a, b) };
        var wa = a.Weights;
        var wb = b.Weights;
        if (wa is null || wb is null)
        {
            var missing = wa is null ? a.Name : b.Name;
            return new LineageComparison(LineageVerdict.InsufficientEvidence, double.NaN, signals,
                $"no weight fingerprint for '{missing}': configuration and tokenizer alone never establish lineage");
        }

        // Content hashes are defined per schema: across schemas they say nothing (the weight signals still do).
        var hashesComparable = a.SchemaVersion == b.SchemaVersion;
        var shared = 0;
        var identity = hashesComparable
            ? TensorIdentity(wa, wb, out shared)
            : new SignalScore("tensor-identity", double.NaN, 0, $"content hashes of fingerprint schemas {a.SchemaVersion} and {b.SchemaVersion} are not comparable: re-fingerprint the older one");
        signals.Add(identity);
        var sameContent = hashesComparable && wa.TensorHashes.Length > 0 && wa.TensorHashes.SequenceEqual(wb.TensorHashes, StringComparer.Ordinal);

        if (wa.ResidualWidth != wb.ResidualWidth || wa.ResidualWidth == 0)
        {
            signals.Add(EmbeddingGeometry(wa, wb, kernels));
            if (identity.Score >= TensorIdentityCut)
                return new LineageComparison(LineageVerdict.Derived, identity.Score, signals, $"{shared} tensors are bit-identical although the residual widths differ ({wa.ResidualWidth} vs {wb.ResidualWidth})");
            return new LineageComparison(LineageVerdict.Independent, 0, signals,
                string.Create(CultureInfo.InvariantCulture, $"residual widths differ ({wa.ResidualWidth} vs {wb.ResidualWidth}) and no tensor is shared: the weights cannot descend from one another"));
        }

        var frame = SharedFrame.Create(wa.Frame, wb.Frame);
        var alignment = AlignLayers(wa, wb, frame, kernels);
        signals.Add(alignment.Signal);
        signals.Add(AnchorLogits(frame, kernels));
        signals.Add(NormVectors(wa, wb, alignment.Pairs, kernels));
        signals.Add(EmbeddingGeometry(wa, wb, kernels));
        signals.Add(EnergyProfile(wa, wb, kernels));
        signals.Add(EmbeddingNorms(wa, wb));
        signals.Add(RowNormSpectra(wa, wb, alignment.Pairs, kernels));

        var decisive = signals.Where(s => s.Weight > 0 && !double.IsNaN(s.Score)).ToList();
        if (decisive.Count == 0)
        {
            if (sameContent)
                return new LineageComparison(LineageVerdict.IdenticalWeights, 1.0, signals, $"all {wa.TensorHashes.Length} tensors have identical values (no layer signals to cross-check)");
            return new LineageComparison(LineageVerdict.InsufficientEvidence, double.NaN, signals,
                "no decisive weight signal could be computed (no recognisable layers or shared anchor tokens)");
        }

        var score = Math.Round(decisive.Sum(s => s.Score * s.Weight) / decisive.Sum(s => s.Weight), 4);
        // Content hashes are fast, not collision-resistant: identity also needs the weight signals to agree.
        if (sameContent && score >= IdentityAgreement)
        {
            return new LineageComparison(LineageVerdict.IdenticalWeights, 1.0, signals,
                $"all {wa.TensorHashes.Length} tensors have identical values (names, sharding, dtype container and file layout aside)");
        }

        var summary = string.Join(", ", decisive.Select(s => string.Create(CultureInfo.InvariantCulture, $"{s.Name} {s.Score:0.00}")));
        var sameConfig = a.Config is not null && b.Config is not null && a.Config.ArchHash == b.Config.ArchHash;
        if (score >= DerivedThreshold || identity.Score >= TensorIdentityCut)
        {
            return new LineageComparison(LineageVerdict.Derived, double.IsNaN(identity.Score) ? score : Math.Max(score, identity.Score), signals,
                string.Create(CultureInfo.InvariantCulture, $"weights descend: decisive score {score:0.00} >= {DerivedThreshold:0.00} ({summary})"));
        }

        return new LineageComparison(LineageVerdict.Independent, score, signals,
            string.Create(CultureInfo.InvariantCulture, $"weights unrelated: decisive score {score:0.00} < {DerivedThreshold:0.00} ({summary}){(sameConfig ? "; configurations are identical, which proves nothing" : "")}"));
    }

    private static SignalScore Metadata(ModelFingerprint a, ModelFingerprint b)
    {
        if (a.Config is null || b.Config is null)
            return new SignalScore("metadata", double.NaN, 0, "config.json missing on one side");
        if (a.Config.ArchHash == b.Config.ArchHash)
            return new SignalScore("metadata", 1, 0, "identical architecture (arch_hash); reported only");
        var sameType = a.Config.ModelType == b.Config.ModelType;
        return new SignalScore("metadata", sameType ? 0.5 : 0, 0,
            sameType ? $"same model_type '{a.Config.ModelType}', different dimensions" : $"model_type '{a.Config.ModelType}' vs '{b.Config.ModelType}'");
    }

    private static SignalScore Vocabulary(ModelFingerprint a, ModelFingerprint b)
    {
        if (a.Tokenizer is null || b.Tokenizer is null)
            return new SignalScore("vocabulary-overlap", double.NaN, 0, "tokenizer missing on one side");
        if (a.Tokenizer.VocabularyDigest == b.Tokenizer.VocabularyDigest)
            return new SignalScore("vocabulary-overlap", 1, 0, $"identical vocabulary ({a.Tokenizer.VocabularySize} tokens, {a.Tokenizer.Kind}); reported only");
        var jaccard = SketchJaccard(a.Tokenizer.Sketch, b.Tokenizer.Sketch);
        return new SignalScore("vocabulary-overlap", jaccard, 0,
            string.Create(CultureInfo.InvariantCulture, $"estimated Jaccard {jaccard:0.00} ({a.Tokenizer.VocabularySize} vs {b.Tokenizer.VocabularySize} tokens); reported only"));
    }

    /// <summary>Bottom-k MinHash estimate: the share of the k smallest hashes of the union that both sketches hold.</summary>
    public static double SketchJaccard(ulong[] a, ulong[] b)
    {
        if (a.Length == 0 || b.Length == 0)
            return double.NaN;
        var k = Math.Min(a.Length, b.Length);
        var setA = a.ToHashSet();
        var setB = b.ToHashSet();
        // The k smallest distinct hashes of the union: sort both together and skip repeats.
        var all = new ulong[a.Length + b.Length];
        a.CopyTo(all, 0);
        b.CopyTo(all, a.Length);
        Array.Sort(all);
        int taken = 0, both = 0;
        for (var i = 0; i < all.Length && taken < k; i++)
        {
            if (i > 0 && all[i] == all[i - 1])
                continue;
            taken++;
            if (setA.Contains(all[i]) && setB.Contains(all[i]))
                both++;
        }

        return (double)both / taken;
    }

    private static SignalScore TensorIdentity(WeightSignals a, WeightSignals b, out int shared)
    {
        var setB = b.TensorHashes.ToHashSet(StringComparer.Ordinal);
        shared = a.TensorHashes.Count(setB.Contains);
        var total = Math.Max(a.TensorHashes.Length, b.TensorHashes.Length);
        var score = total == 0 ? double.NaN : (double)shared / total;
        return new SignalScore("tensor-identity", score, 0, $"{shared} of {total} tensors bit-identical after canonicalisation to float32");
    }

    internal sealed record Alignment(SignalScore Signal, IReadOnlyList<(int A, int B)> Pairs);

    /// <summary>
    /// Layers are aligned by dynamic programming over the anchor-frame Gram similarity (monotone, gaps free), so a
    /// dropped, inserted or duplicated layer costs one layer, not the whole comparison. Score = sum of aligned
    /// similarities / the shorter depth.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    internal static Alignment AlignLayers(WeightSignals a, WeightSignals b, SharedFrame? frame, INumericKernels kernels)
    {
        var la = Enumerable.Range(0, a.Layers.Count).Where(i => a.Layers[i].GramIn.Length > 0).ToArray();
        var lb = Enumerable.Range(0, b.Layers.Count).Where(i => b.Layers[i].GramIn.Length > 0).ToArray();
        if (la.Length == 0 || lb.Length == 0)
            return new Alignment(new SignalScore("residual-gram", double.NaN, ResidualGramWeight, "no key/value matrices with a residual axis"), []);
        if (frame is null)
            return new Alignment(new SignalScore("residual-gram", double.NaN, ResidualGramWeight, $"fewer than {MinimumAnchors} shared frame anchors"), []);

        var n = la.Length;
        var m = lb.Length;
        // Every layer is whitened and standardised once, so each of the n×m Pearson correlations is a single dot product.
        var standardA = la.Select(i => Standardise(frame.Whitened(a.Layers[i].GramIn, sideA: true))).ToArray();
        var standardB = lb.Select(j => Standardise(frame.Whitened(b.Layers[j].GramIn, sideA: false))).ToArray();
        var similarity = new double[n, m];
        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j < m; j++)
                similarity[i, j] = standardA[i] is { } x && standardB[j] is { } y ? Math.Clamp(kernels.Dot(x, y), -1, 1) : 0;
        }
        var best = new double[n + 1, m + 1];
        for (var i = 1; i <= n; i++)
        {
            for (var j = 1; j <= m; j++)
            {
                var match = best[i - 1, j - 1] + (similarity[i - 1, j - 1] - LayerMatchThreshold);
                best[i, j] = Math.Max(match, Math.Max(best[i - 1, j], best[i, j - 1]));
            }
        }

        var pairs = new List<(int, int)>();
        double sum = 0;
        for (int i = n, j = m; i > 0 && j > 0;)
        {
            var s = similarity[i - 1, j - 1];
            if (s > LayerMatchThreshold && best[i, j] == best[i - 1, j - 1] + (s - LayerMatchThreshold))
            {
                pairs.Add((la[i - 1], lb[j - 1]));
                sum += s;
                i--;
                j--;
            }
            else if (best[i, j] == best[i - 1, j])
            {
                i--;
            }
            else
            {
                j--;
            }
        }

        pairs.Reverse();
        var shorter = Math.Min(n, m);
        var score = Math.Clamp(sum / shorter, 0, 1);
        double bestUnaligned = 0;
        foreach (var s in similarity)
            bestUnaligned = Math.Max(bestUnaligned, s);
        var detail = string.Create(CultureInfo.InvariantCulture,
            $"{pairs.Count} of {shorter} layers aligned (depth {n} vs {m}); mean aligned correlation {(pairs.Count == 0 ? 0 : sum / pairs.Count):0.00}; best pair {bestUnaligned:0.00}; {frame.Count} shared anchors; invariant to residual rotation, norm folding and head/channel permutation");
        return new Alignment(new SignalScore("residual-gram", score, ResidualGramWeight, detail), pairs);
    }

    /// <summary>(x - mean) / sqrt(sum of squared deviations), in double; null where <see cref="INumericKernels.Pearson"/> is NaN.</summary>
    internal static float[]? Standardise(float[] values)
    {
        var n = values.Length;
        if (n < 2)
            return null;
        double mean = 0;
        foreach (var v in values)
            mean += v;
        mean /= n;
        double sxx = 0;
        foreach (var v in values)
            sxx += (v - mean) * (v - mean);
        if (sxx <= 1e-20)
            return null;
        var scale = 1 / Math.Sqrt(sxx);
        var result = new float[n];
        for (var i = 0; i < n; i++)
            result[i] = (float)((values[i] - mean) * scale);
        return result;
    }

    private static double Zero(double value) => double.IsNaN(value) ? 0 : value;

    /// <summary>
    /// Each anchor's embedding row against each anchor's LM-head row through the final norm gain, with the
    /// embedding side whitened: the direct token-to-logit path, which rotation, permutation and folding leave alone.
    /// </summary>
    private static SignalScore AnchorLogits(SharedFrame? frame, INumericKernels kernels)
    {
        if (frame is null)
            return new SignalScore("anchor-logits", double.NaN, AnchorLogitWeight, $"fewer than {MinimumAnchors} shared frame anchors");
        var r = Zero(kernels.Pearson(frame.WhitenedLogits(sideA: true), frame.WhitenedLogits(sideA: false)));
        return new SignalScore("anchor-logits", Math.Clamp(r, 0, 1), AnchorLogitWeight,
            string.Create(CultureInfo.InvariantCulture, $"r={r:0.00} over {frame.Count}×{frame.Count} anchor pairs matched by string, embedding side whitened; invariant to residual rotation and norm folding"));
    }

    private static SignalScore NormVectors(WeightSignals a, WeightSignals b, IReadOnlyList<(int A, int B)> pairs, INumericKernels kernels)
    {
        var used = pairs.Count > 0 ? pairs : Enumerable.Range(0, Math.Min(a.Layers.Count, b.Layers.Count)).Select(i => (i, i)).ToList();
        var values = new List<double>();
        foreach (var (pa, pb) in used)
        {
            var x = a.Layers[pa].Norms;
            var y = b.Layers[pb].Norms;
            if (x.Length >= 4 && x.Length == y.Length && kernels.Pearson(x, y) is var r && !double.IsNaN(r))
                values.Add(r);
        }

        if (a.FinalNorm.Length >= 4 && a.FinalNorm.Length == b.FinalNorm.Length && kernels.Pearson(a.FinalNorm, b.FinalNorm) is var final && !double.IsNaN(final))
            values.Add(final);
        if (values.Count == 0)
            return new SignalScore("norm-vectors", double.NaN, 0, "no comparable norm vectors (constant or absent)");
        var score = Math.Clamp(values.Average(), 0, 1);
        return new SignalScore("norm-vectors", score, 0,
            string.Create(CultureInfo.InvariantCulture, $"mean Pearson {values.Average():0.00} over {values.Count} norm groups on fixed residual coordinates; folded into the weights or permuted by a function-preserving edit, so reported only"));
    }

    private static SignalScore EmbeddingGeometry(WeightSignals a, WeightSignals b, INumericKernels kernels)
    {
        var ea = a.Embedding;
        var eb = b.Embedding;
        if (ea is null || eb is null)
            return new SignalScore("embedding-geometry", double.NaN, 0, "no embedding on one side");
        var positionB = new Dictionary<ulong, int>();
        for (var i = 0; i < eb.GeometryAnchors; i++)
            positionB[eb.AnchorHashes[i]] = i;
        var common = new List<(int A, int B)>();
        for (var i = 0; i < ea.GeometryAnchors; i++)
        {
            if (positionB.TryGetValue(ea.AnchorHashes[i], out var j))
                common.Add((i, j));
        }

        if (common.Count < MinimumAnchors)
            return new SignalScore("embedding-geometry", double.NaN, 0, "fewer than 8 shared geometry anchors");
        var xs = new List<float>();
        var ys = new List<float>();
        for (var p = 0; p < common.Count; p++)
        {
            for (var q = p + 1; q < common.Count; q++)
            {
                xs.Add(ea.AnchorCosines[TriangleIndex(common[p].A, common[q].A, ea.GeometryAnchors)]);
                ys.Add(eb.AnchorCosines[TriangleIndex(common[p].B, common[q].B, eb.GeometryAnchors)]);
            }
        }

        var r = Zero(kernels.Pearson(xs.ToArray(), ys.ToArray()));
        return new SignalScore("embedding-geometry", Math.Clamp(r, 0, 1), 0,
            string.Create(CultureInfo.InvariantCulture, $"anchor cosine matrices r={r:0.00} over {common.Count} tokens; rotation-invariant but shared by models trained on similar data, so reported only"));
    }

    private static int TriangleIndex(int i, int j, int n)
    {
        if (i > j)
            (i, j) = (j, i);
        return (i * ((2 * n) - i - 1) / 2) + (j - i - 1);
    }

    private static SignalScore EnergyProfile(WeightSignals a, WeightSignals b, INumericKernels kernels)
    {
        var x = a.Layers.Select(l => l.Energy).ToArray();
        var y = b.Layers.Select(l => l.Energy).ToArray();
        if (x.Length < 3 || y.Length < 3)
            return new SignalScore("energy-profile", double.NaN, 0, "fewer than 3 layers");
        var length = Math.Min(x.Length, y.Length);
        var r = Zero(kernels.Pearson(Resample(x, length), Resample(y, length)));
        return new SignalScore("energy-profile", Math.Clamp(r, 0, 1), 0, string.Create(CultureInfo.InvariantCulture, $"per-layer Frobenius energy r={r:0.00}; similar for any model of the same recipe, reported only"));
    }

    private static float[] Resample(double[] values, int length)
    {
        var result = new float[length];
        for (var i = 0; i < length; i++)
        {
            var position = length == 1 ? 0 : (double)i * (values.Length - 1) / (length - 1);
            var low = (int)Math.Floor(position);
            var high = Math.Min(low + 1, values.Length - 1);
            result[i] = (float)(values[low] + ((values[high] - values[low]) * (position - low)));
        }

        return result;
    }

    private static SignalScore EmbeddingNorms(WeightSignals a, WeightSignals b)
    {
        if (a.Embedding is null || b.Embedding is null || a.Embedding.NormHistogram.Length != b.Embedding.NormHistogram.Length || a.Embedding.NormHistogram.Length == 0)
            return new SignalScore("embedding-norms", double.NaN, 0, "no embedding histogram on one side");
        double dot = 0, nx = 0, ny = 0;
        for (var i = 0; i < a.Embedding.NormHistogram.Length; i++)
        {
            dot += a.Embedding.NormHistogram[i] * b.Embedding.NormHistogram[i];
            nx += a.Embedding.NormHistogram[i] * a.Embedding.NormHistogram[i];
            ny += b.Embedding.NormHistogram[i] * b.Embedding.NormHistogram[i];
        }

        var cosine = nx > 0 && ny > 0 ? dot / Math.Sqrt(nx * ny) : double.NaN;
        return new SignalScore("embedding-norms", cosine, 0, string.Create(CultureInfo.InvariantCulture, $"row-norm histogram cosine {cosine:0.00}; shape only, reported only"));
    }

    private static SignalScore RowNormSpectra(WeightSignals a, WeightSignals b, IReadOnlyList<(int A, int B)> pairs, INumericKernels kernels)
    {
        var used = pairs.Count > 0 ? pairs : Enumerable.Range(0, Math.Min(a.Layers.Count, b.Layers.Count)).Select(i => (i, i)).ToList();
        var values = new List<double>();
        foreach (var (pa, pb) in used)
        {
            var x = a.Layers[pa].RowNormSpectrum;
            var y = b.Layers[pb].RowNormSpectrum;
            if (x.Length >= 4 && x.Length == y.Length && kernels.Pearson(x, y) is var r && !double.IsNaN(r))
                values.Add(r);
        }

        if (values.Count == 0)
            return new SignalScore("row-norm-spectra", double.NaN, 0, "no comparable spectra");
        var score = Math.Clamp(values.Average(), 0, 1);
        return new SignalScore("row-norm-spectra", score, 0,
            string.Create(CultureInfo.InvariantCulture, $"sorted row-norm quantiles r={values.Average():0.00} over {values.Count} layers; permutation-invariant but recipe-driven, reported only"));
    }
}

/// <summary>
/// The anchors two frames share (matched by token string) and each model's whitening (A·Aᵀ + ridge)^(-1/2) on them.
/// Whitened anchors are orthonormal, so B_a·M_a·B_aᵀ and B_b·M_b·B_bᵀ are the two models' matrices in frames aligned
/// anchor by anchor: when one model is the other with its residual stream rotated by Q, B_b = B_a·Qᵀ exactly and the
/// two agree, which is what orthogonal Procrustes between the whitened anchor rows would recover.
/// </summary>
internal sealed class SharedFrame
{
    private readonly AnchorFrame _a;
    private readonly AnchorFrame _b;
    private readonly int[] _indexA;
    private readonly int[] _indexB;
    private readonly double[] _whitenA;
    private readonly double[] _whitenB;

    private SharedFrame(AnchorFrame a, AnchorFrame b, int[] indexA, int[] indexB)
    {
        _a = a;
        _b = b;
        _indexA = indexA;
        _indexB = indexB;
        _whitenA = JacobiEigen.InverseSquareRoot(Square(a.Gram, a.AnchorHashes.Length, indexA), Count, LineageComparer.WhiteningRidge);
        _whitenB = JacobiEigen.InverseSquareRoot(Square(b.Gram, b.AnchorHashes.Length, indexB), Count, LineageComparer.WhiteningRidge);
    }

    public int Count => _indexA.Length;

    public static SharedFrame? Create(AnchorFrame? a, AnchorFrame? b)
    {
        if (a is null || b is null)
            return null;
        var positionB = new Dictionary<ulong, int>();
        for (var j = 0; j < b.AnchorHashes.Length; j++)
            positionB[b.AnchorHashes[j]] = j;
        var indexA = new List<int>();
        var indexB = new List<int>();
        for (var i = 0; i < a.AnchorHashes.Length; i++)
        {
            if (positionB.TryGetValue(a.AnchorHashes[i], out var j))
            {
                indexA.Add(i);
                indexB.Add(j);
            }
        }

        return indexA.Count < LineageComparer.MinimumAnchors ? null : new SharedFrame(a, b, indexA.ToArray(), indexB.ToArray());
    }

    /// <summary>The off-diagonal upper triangle of C·G·C on the shared anchors, for a stored upper triangle G of its own frame.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public float[] Whitened(float[] triangle, bool sideA)
    {
        var (frame, index, whiten) = sideA ? (_a, _indexA, _whitenA) : (_b, _indexB, _whitenB);
        var n = Count;
        var product = Multiply(Multiply(whiten, Square(triangle, frame.AnchorHashes.Length, index), n), whiten, n);
        var result = new float[n * (n - 1) / 2];
        var position = 0;
        for (var r = 0; r < n; r++)
        {
            for (var c = r + 1; c < n; c++)
                result[position++] = (float)product[(r * n) + c];
        }

        return result;
    }

    /// <summary>C·X on the shared anchors (rows: embedding side, whitened; columns: LM-head side), flattened.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public float[] WhitenedLogits(bool sideA)
    {
        var (frame, index, whiten) = sideA ? (_a, _indexA, _whitenA) : (_b, _indexB, _whitenB);
        var n = Count;
        var k = frame.AnchorHashes.Length;
        var logits = new double[n * n];
        for (var r = 0; r < n; r++)
        {
            for (var c = 0; c < n; c++)
                logits[(r * n) + c] = frame.Logits[(index[r] * k) + index[c]];
        }

        return Multiply(whiten, logits, n).Select(v => (float)v).ToArray();
    }

    /// <summary>The shared anchors' rows and columns of a symmetric matrix stored as its upper triangle (diagonal included).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static double[] Square(float[] triangle, int k, int[] index)
    {
        var n = index.Length;
        var result = new double[n * n];
        for (var r = 0; r < n; r++)
        {
            for (var c = 0; c < n; c++)
            {
                int i = Math.Min(index[r], index[c]), j = Math.Max(index[r], index[c]);
                result[(r * n) + c] = triangle[(i * k) - (i * (i - 1) / 2) + (j - i)];
            }
        }

        return result;
    }

    /// <summary>
    /// x·y for n×n row-major matrices, a vectorised row update per term (compare runs it twice per layer). Written out
    /// rather than TensorPrimitives.MultiplyAdd, whose generic code ran unoptimised (tier 0) for most of a compare;
    /// the same operations (a product, then a sum: no fused multiply-add), so the same bits.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static double[] Multiply(double[] x, double[] y, int n)
    {
        var result = new double[n * n];
        for (var r = 0; r < n; r++)
        {
            var row = result.AsSpan(r * n, n);
            for (var t = 0; t < n; t++)
            {
                var source = y.AsSpan(t * n, n);
                var scale = x[(r * n) + t];
                var j = 0;
                if (System.Numerics.Vector.IsHardwareAccelerated)
                {
                    var scales = new System.Numerics.Vector<double>(scale);
                    for (; j + System.Numerics.Vector<double>.Count <= n; j += System.Numerics.Vector<double>.Count)
                        ((new System.Numerics.Vector<double>(source[j..]) * scales) + new System.Numerics.Vector<double>(row[j..])).CopyTo(row[j..]);
                }

                for (; j < n; j++)
                    row[j] = (source[j] * scale) + row[j];
            }
        }

        return result;
    }
}
