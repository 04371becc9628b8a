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

    public string? ModelDirectory { get; init; }

    public string? BaseFingerprintsDirectory { get; init; }

    public DateTimeOffset Now { get; init; } = DateTimeOffset.UtcNow;

    public bool FailOnWarning { get; init; }
}
