using ProvenanceGate.Diagnostics;
using ProvenanceGate.Verification.Policy;

namespace ProvenanceGate.Verification;

/// <summary>What every check reads (options, policy, BOM) and where it puts findings, waived or not.</summary>
internal sealed class GateContext(GateOptions options, GatePolicy policy, BomDocument bom)
{
    private readonly List<(GateFinding Finding, string? Component)> _findings = [];
    private readonly Dictionary<string, string> _skipped = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _notes = new(StringComparer.Ordinal);

    public GateOptions Options { get; } = options;

    public GatePolicy Policy { get; } = policy;

    public BomDocument Bom { get; } = bom;

    public List<LineageResult> Lineage { get; } = [];

    public List<LineageEdge> Graph { get; } = [];

    /// <summary>Each model directory with its model; empty without --model-dir.</summary>
    public IReadOnlyList<ModelScope> Scopes { get; set; } = [];

    /// <summary>SHA-256 by full path, so a file hashed to match a directory to its model is not hashed again.</summary>
    public Dictionary<string, string> Sha256Cache { get; } = new(StringComparer.Ordinal);

    public IReadOnlyList<(GateFinding Finding, string? Component)> Findings => _findings;

    /// <summary>Records a finding; <paramref name="component"/> (bom-ref or name) is what policy exceptions match on.</summary>
    public void Add(string check, Diagnostic diagnostic, string? component = null) => _findings.Add((new GateFinding(check, diagnostic), component));

    public void Add(string check, DiagnosticSeverity? severity, DiagnosticDescriptor descriptor, string pointer, string message, string? component = null)
    {
        if (severity is { } s)
            Add(check, Bom.At(descriptor, s, pointer, message), component);
    }

    /// <summary>Marks a check as not run, with the reason shown in every report.</summary>
    public void Skip(string check, string reason) => _skipped[check] = reason;

    /// <summary>A one-line summary of what a passing check looked at.</summary>
    public void Note(string check, string note) => _notes[check] = note;

    public string? SkipReason(string check) => _skipped.GetValueOrDefault(check);

    public string? NoteFor(string check) => _notes.GetValueOrDefault(check);
}
