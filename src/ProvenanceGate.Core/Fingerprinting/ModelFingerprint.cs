namespace ProvenanceGate.Fingerprinting;

/// <summary>
/// Everything <see cref="LineageComparer"/> and <see cref="Scanner"/> need, computed once from the weights and
/// small enough to store (<c>.fingerprint.json</c>) and compare without the weights.
/// </summary>
public sealed record ModelFingerprint
{
    /// <summary>
    /// Schema 5: tensor hashes are sums of position-keyed terms (<see cref="ContentHash"/>), so a transposed store hashes
    /// as it lies. Schema 4 chained them in row order; its decisive signals live in the same anchor frame
    /// (<see cref="AnchorFrame"/>), invariant to any orthogonal transform of the residual stream and to norm-gain folding.
    /// </summary>
    public const int CurrentSchemaVersion = 5;

    /// <summary>
    /// Schemas 2 and 3 stored their layer signals in raw residual coordinates, which a rotated copy escapes; schema 4's
    /// tensor hashes are another function, so an identical copy would not be recognised. All are refused (PG3016),
    /// never compared, and must be regenerated.
    /// </summary>
    public const int OldestReadableSchemaVersion = 5;

    [System.Text.Json.Serialization.JsonRequired]
    public int SchemaVersion { get; init; } = CurrentSchemaVersion;

    public required string Name { get; init; }

    public required ModelIdentity Model { get; init; }

    public IReadOnlyList<SourceFile> Files { get; init; } = [];

    public ConfigSummary? Config { get; init; }

    public TokenizerSummary? Tokenizer { get; init; }

    public WeightSignals? Weights { get; init; }

    /// <summary>How the fingerprint was computed (the accelerator): a record for people, never compared as evidence.</summary>
    public FingerprintProducer? Producer { get; init; }
}

/// <summary>The accelerator name (<c>cpu</c>, <c>cuda</c>, <c>opencl</c>) that ran the fingerprint's dense kernels.</summary>
public sealed record FingerprintProducer(string Accelerator);

public sealed record ModelIdentity(string Format, long ParameterCount, int TensorCount, long WeightBytes, IReadOnlyList<string> DTypes);

/// <summary>A source file. Sha256 is the whole file's digest for metadata files; for weight files it is the digest of the header bytes (the data is covered by per-tensor content hashes).</summary>
public sealed record SourceFile(string Path, long Size, string Sha256, string Kind);

public sealed record ConfigSummary(
    string? ModelType,
    IReadOnlyList<string> Architectures,
    long HiddenSize,
    long Layers,
    long AttentionHeads,
    long? KeyValueHeads,
    long IntermediateSize,
    long VocabSize,
    long MaxPositionEmbeddings,
    string? HiddenAct,
    string ArchHash);

public sealed record TokenizerSummary(
    string Kind,
    int VocabularySize,
    int MergeCount,
    string MergesDigest,
    string VocabularyDigest,
    /// <summary>Bottom-k MinHash sketch of the normalised token strings: a vocabulary-overlap estimate without the vocabulary.</summary>
    ulong[] Sketch);

/// <summary>Weight-level evidence. Arrays of floats are stored as base64 float16 in the file.</summary>
public sealed record WeightSignals
{
    /// <summary>Width of the residual stream (hidden size), inferred from the embedding and the layer matrices.</summary>
    public int ResidualWidth { get; init; }

    /// <summary>The deterministic residual coordinates (64) the norm vectors are sampled on (reported only).</summary>
    public int[] VectorSubset { get; init; } = [];

    /// <summary>Truncated SHA-256 of each non-constant tensor's values canonicalised to float32, sorted.</summary>
    public string[] TensorHashes { get; init; } = [];

    /// <summary>The anchor frame the layer Grams are expressed in; null without an embedding or LM head.</summary>
    public AnchorFrame? Frame { get; init; }

    public EmbeddingSignals? Embedding { get; init; }

    public EmbeddingSignals? LmHead { get; init; }

    public IReadOnlyList<LayerSignals> Layers { get; init; } = [];

    /// <summary>Norm vectors outside the layers (final norm), on <see cref="VectorSubset"/>.</summary>
    public float[] FinalNorm { get; init; } = [];
}

public sealed record EmbeddingSignals
{
    public long Rows { get; init; }

    /// <summary>Anchor tokens: 64-bit hashes of their normalised strings (the lowest hashes of the vocabulary).</summary>
    public ulong[] AnchorHashes { get; init; } = [];

    /// <summary>Cosine similarities (full rows) between the first <see cref="GeometryAnchors"/> anchors, upper triangle.</summary>
    public float[] AnchorCosines { get; init; } = [];

    public int GeometryAnchors { get; init; }

    /// <summary>Histogram (20 bins, min..max of this model) of row L2 norms, summing to 1.</summary>
    public float[] NormHistogram { get; init; } = [];
}

public sealed record LayerSignals
{
    public required string Key { get; init; }

    /// <summary>Sum of the Frobenius norms of the layer's matrices.</summary>
    public double Energy { get; init; }

    /// <summary>
    /// Anchor-frame Gram of the key and value matrices (fused qkv where stored so): A·diag(g)·WᵀW·diag(g)·Aᵀ for the
    /// frame's anchor rows A and the layer's pre-attention norm gain g, each matrix scaled to a mean diagonal of 1
    /// and averaged; upper triangle with the diagonal, row-major. Invariant to residual rotation, norm folding and
    /// any permutation of heads, channels or neurons.
    /// </summary>
    public float[] GramIn { get; init; } = [];

    /// <summary>The layer's norm vectors on the vector subset, concatenated in name order.</summary>
    public float[] Norms { get; init; } = [];

    /// <summary>16 quantiles of the row norms of each matrix, concatenated in role order: a permutation-invariant spectrum.</summary>
    public float[] RowNormSpectrum { get; init; } = [];
}

/// <summary>
/// The first <see cref="Fingerprinter.GramK"/> anchor tokens' embedding rows seen through their inner products only,
/// so that nothing here depends on the residual basis. The comparer whitens <see cref="Gram"/> on the anchors both
/// models share and expresses every layer Gram and <see cref="Logits"/> in that orthonormal frame.
/// </summary>
public sealed record AnchorFrame
{
    /// <summary>The frame's anchor tokens (64-bit hashes of their normalised strings), in frame order.</summary>
    public ulong[] AnchorHashes { get; init; } = [];

    /// <summary>A·Aᵀ of the anchors' embedding rows, scaled to a mean diagonal of 1; upper triangle with the diagonal.</summary>
    public float[] Gram { get; init; } = [];

    /// <summary>
    /// A·diag(g_final)·Hᵀ (n×n, row-major): each anchor's embedding row against each anchor's LM-head row through the
    /// final norm gain, the model's direct token-to-logit path; scaled to a mean |value| of 1.
    /// </summary>
    public float[] Logits { get; init; } = [];
}
