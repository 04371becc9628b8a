namespace ProvenanceGate.Fingerprinting;

/// <summary>
/// Everything <see cref="LineageComparer"/> and <see cref="Scanner"/> need, computed once from the weights and
/// small enough to store (<c>.fingerprint.json</c>) and compare without the weights.
/// </summary>
public sealed record ModelFingerprint
{
    /// <summary>Schema 3: tensors whose values are all bfloat16-exact are hashed as 16-bit patterns (see <see cref="ContentHash"/>).</summary>
    public const int CurrentSchemaVersion = 3;

    /// <summary>
    /// Schema 2 files are still read: every field means the same, only their tensor hashes were computed another way,
    /// so those are compared with schema 2 hashes only.
    /// </summary>
    public const int OldestReadableSchemaVersion = 2;

    [System.Text.Json.Serialization.JsonRequired]
    public int SchemaVersion { get; init; } = CurrentSchemaVersion;

    public required string Name { get; init; }

    public required ModelIdentity Model { get; init; }

    public IReadOnlyList<SourceFile> Files { get; init; } = [];

    public ConfigSummary? Config { get; init; }

    public TokenizerSummary? Tokenizer { get; init; }

    public WeightSignals? Weights { get; init; }
}

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

    /// <summary>The deterministic residual coordinates S (k = 32) the Gram signals use.</summary>
    public int[] GramSubset { get; init; } = [];

    /// <summary>The deterministic residual coordinates (64) the embedding and norm vectors are sampled on.</summary>
    public int[] VectorSubset { get; init; } = [];

    /// <summary>Truncated SHA-256 of each non-constant tensor's values canonicalised to float32, sorted.</summary>
    public string[] TensorHashes { get; init; } = [];

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

    /// <summary>Anchor rows sampled on <see cref="WeightSignals.VectorSubset"/>, anchor-major.</summary>
    public float[] AnchorRows { get; init; } = [];

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

    /// <summary>Off-diagonal upper triangle of the residual Gram of the matrices reading the residual (W^T W on S), trace-normalised and averaged.</summary>
    public float[] GramIn { get; init; } = [];

    /// <summary>Same for the matrices writing the residual (W W^T on S).</summary>
    public float[] GramOut { get; init; } = [];

    /// <summary>The layer's norm vectors on the vector subset, concatenated in name order.</summary>
    public float[] Norms { get; init; } = [];

    /// <summary>16 quantiles of the row norms of each matrix, concatenated in role order: a permutation-invariant spectrum.</summary>
    public float[] RowNormSpectrum { get; init; } = [];
}
