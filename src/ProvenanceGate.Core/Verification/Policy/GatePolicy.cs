using ProvenanceGate.Diagnostics;

namespace ProvenanceGate.Verification.Policy;

/// <summary>What a policy does with a finding: fail the gate, warn, or ignore it.</summary>
public enum PolicyAction
{
    Off,
    Warn,
    Fail,
}

/// <summary>A field a BOM must carry, and the framework clauses it serves, so a failure names the unmet obligation.</summary>
/// <param name="Scope">bom (the document root), model (every machine-learning-model), dataset (every data component).</param>
/// <param name="Path">Dot-separated path; <c>a|b</c> alternatives; <c>property:NAME</c> looks a CycloneDX property up by name.</param>
public sealed record RequiredField(string Id, string Scope, string Path, string Description, IReadOnlyList<string> Clauses);

/// <summary>A waiver: findings with <see cref="Code"/> on <see cref="Component"/> (bom-ref or name, * for any) are waived until <see cref="Expires"/>.</summary>
public sealed record PolicyWaiver(string Code, string Component, DateTimeOffset Expires, string Reason);

public sealed record SignaturePolicy(bool Required);

public sealed record DigestPolicy(bool Enabled, PolicyAction UnlistedWeights, PolicyAction UnlistedOtherFiles, IReadOnlyList<string> Ignore);

public sealed record LicensePolicy(IReadOnlyList<string> Allow, IReadOnlyList<string> Deny, bool InheritFromBase);

public sealed record ApprovalPolicy(IReadOnlyList<string> Required, PolicyAction ReviewOverdue);

/// <summary>Lineage settings. <see cref="MinimumDerivedScore"/> raises the bar above the comparer's own verdict when set.</summary>
public sealed record LineagePolicy(
    bool Enabled,
    PolicyAction OnIndependent,
    PolicyAction OnIdentical,
    PolicyAction OnCloserBase,
    PolicyAction OnInsufficientEvidence,
    double? MinimumDerivedScore);

/// <summary>What the inventory check does with models the app ships: without provenance, or from unsigned packages.</summary>
public sealed record InventoryPolicy(PolicyAction UndeclaredModels, PolicyAction UnsignedModelPackages)
{
    public static InventoryPolicy Default { get; } = new(PolicyAction.Fail, PolicyAction.Off);
}

public sealed record SerializationPolicy(PolicyAction PickleFormat, PolicyAction CodeImports, PolicyAction UnknownGlobals, IReadOnlyList<string> AllowGlobals);

/// <summary>A loaded, resolved (extends applied) and validated policy, schemaVersion 1.</summary>
public sealed record GatePolicy(
    string Name,
    string Source,
    SignaturePolicy Signature,
    DigestPolicy Digests,
    IReadOnlyList<RequiredField> RequiredFields,
    LicensePolicy Licenses,
    ApprovalPolicy Approvals,
    LineagePolicy Lineage,
    SerializationPolicy Serialization,
    IReadOnlyList<PolicyWaiver> Exceptions)
{
    public InventoryPolicy Inventory { get; init; } = InventoryPolicy.Default;

    public static DiagnosticSeverity? SeverityOf(PolicyAction action) => action switch
    {
        PolicyAction.Fail => DiagnosticSeverity.Error,
        PolicyAction.Warn => DiagnosticSeverity.Warning,
        _ => null,
    };
}
