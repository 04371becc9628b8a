using ProvenanceGate.Diagnostics;

namespace ProvenanceGate.Verification;

/// <summary>The checks of the gate, in report order. The ids are part of the JSON report contract.</summary>
public static class CheckIds
{
    public const string Schema = "schema";
    public const string Signature = "signature";
    public const string Digests = "digests";
    public const string RequiredFields = "required-fields";
    public const string Licenses = "licenses";
    public const string Governance = "governance";
    public const string Lineage = "lineage";
    public const string Serialization = "serialization";
    public const string Inventory = "inventory";

    public static IReadOnlyList<string> All { get; } = [Schema, Signature, Digests, RequiredFields, Licenses, Governance, Lineage, Serialization, Inventory];

    public static string Title(string id) => id switch
    {
        Schema => "Schema and integrity",
        Signature => "Signature",
        Digests => "File digests",
        RequiredFields => "Required fields",
        Licenses => "Licences",
        Governance => "Governance",
        Lineage => "Lineage",
        Serialization => "Unsafe serialization",
        Inventory => "Shipped models",
        _ => id,
    };
}

public enum CheckStatus
{
    Pass,
    Fail,
    Warn,
    Skip,
}

public sealed record CheckResult(string Id, string Title, CheckStatus Status, string Reason)
{
    public string StatusText => Status switch
    {
        CheckStatus.Pass => "pass",
        CheckStatus.Fail => "fail",
        CheckStatus.Warn => "warn",
        _ => "skip",
    };
}

/// <summary>One diagnostic together with the check that raised it.</summary>
public sealed record GateFinding(string Check, Diagnostic Diagnostic);

/// <summary>The outcome of comparing a model's weights with its declared base model.</summary>
public sealed record LineageResult(string Model, string DeclaredBase, string Verdict, double? Score, string Reason);

/// <summary>A node of the lineage graph drawn in reports: models, their bases and datasets.</summary>
public sealed record LineageEdge(string From, string To, string Relation);

public sealed class GateReport
{
    public GateReport(string bomPath, IReadOnlyList<CheckResult> checks, IReadOnlyList<GateFinding> findings, IReadOnlyList<LineageResult> lineage, IReadOnlyList<LineageEdge> graph, bool failOnWarning, DateTimeOffset now)
    {
        BomPath = bomPath;
        Now = now;
        Checks = checks;
        Findings = findings;
        Lineage = lineage;
        Graph = graph;
        Diagnostics = findings.Select(f => f.Diagnostic).ToArray();
        Errors = Diagnostics.Count(d => d.Severity == DiagnosticSeverity.Error);
        Warnings = Diagnostics.Count(d => d.Severity == DiagnosticSeverity.Warning);
        Passed = Errors == 0 && (!failOnWarning || Warnings == 0);
    }

    public string BomPath { get; }

    /// <summary>The "now" the gate judged dates against (GateOptions.Now); reports carry it so they are reproducible.</summary>
    public DateTimeOffset Now { get; }

    public bool Passed { get; }

    public int Errors { get; }

    public int Warnings { get; }

    public IReadOnlyList<CheckResult> Checks { get; }

    public IReadOnlyList<GateFinding> Findings { get; }

    public IReadOnlyList<Diagnostic> Diagnostics { get; }

    public IReadOnlyList<LineageResult> Lineage { get; }

    /// <summary>Edges between models, their declared bases and datasets, for the Markdown mermaid graph.</summary>
    public IReadOnlyList<LineageEdge> Graph { get; }

    public int ExitCode => Passed ? ProvenanceGate.Diagnostics.ExitCodes.Ok : ProvenanceGate.Diagnostics.ExitCodes.GateFailed;
}
