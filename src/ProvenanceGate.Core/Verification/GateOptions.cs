namespace ProvenanceGate.Verification;

/// <summary>Everything one gate run needs. <see cref="Now"/> is the clock for review-by and expiry checks.</summary>
public sealed record GateOptions
{
    public required string BomPath { get; init; }

    /// <summary>A policy file (YAML or JSON) or a built-in profile name; null means the <c>baseline</c> profile.</summary>
    public string? PolicyReference { get; init; }

    public IReadOnlyList<string> TrustedKeyReferences { get; init; } = [];

    public string? SignaturePath { get; init; }

    public string? BundlePath { get; init; }

    /// <summary>The model directory of a single-model BOM (CLI: one <c>--model-dir DIR</c>).</summary>
    public string? ModelDirectory { get; init; }

    /// <summary>
    /// One directory per machine-learning-model component of a BOM with several models; see <see cref="GateModelDirectory"/>
    /// for how each is matched to its model. Used together with <see cref="ModelDirectory"/>, that one counts as one more entry.
    /// </summary>
    public IReadOnlyList<GateModelDirectory> ModelDirectories { get; init; } = [];

    /// <summary>Base fingerprints (a directory matched by name, or one file) for every model without its own.</summary>
    public string? BaseFingerprintsDirectory { get; init; }

    /// <summary>
    /// An app's output or publish folder: every model file in it must be one the BOM declares (same SHA-256 as a file
    /// of a declared model), else the inventory check reports it (CLI: <c>--scan-output DIR</c>).
    /// </summary>
    public IReadOnlyList<string> ScanOutputDirectories { get; init; } = [];

    public DateTimeOffset Now { get; init; } = DateTimeOffset.UtcNow;

    public bool FailOnWarning { get; init; }
}

/// <summary>
/// A model directory for one machine-learning-model component. <paramref name="Model"/> names the component by bom-ref,
/// name, group/name, group/name@version or lineage id; null matches it by content: the model whose listed files are
/// present in the directory (by relative path, then by SHA-256 on a tie). <paramref name="BaseFingerprints"/> overrides
/// <see cref="GateOptions.BaseFingerprintsDirectory"/> for this model.
/// </summary>
public sealed record GateModelDirectory(string Directory, string? Model = null, string? BaseFingerprints = null);
