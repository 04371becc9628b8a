using Microsoft.Build.Framework;
using ProvenanceGate.Verification;

namespace ProvenanceGate.Build;

/// <summary>
/// Runs the verify gate on the freshly generated BOM, as `dotnet provenance verify` does, and turns every finding into
/// an MSBuild error or warning with its PG code, file, line and column. The task fails when the gate fails.
/// </summary>
public sealed class VerifyModelBom : Microsoft.Build.Utilities.Task
{
    [Required]
    public string BomPath { get; set; } = "";

    /// <summary>Relative key, policy and model paths are resolved against it.</summary>
    [Required]
    public string ProjectDirectory { get; set; } = "";

    /// <summary>$(ProvenanceGatePolicy): a policy file or a built-in profile name; empty means baseline.</summary>
    public string? Policy { get; set; }

    /// <summary>$(ProvenanceGateTrustedKeys): public key files or env://VAR.</summary>
    public string[] TrustedKeys { get; set; } = [];

    /// <summary>The detached signature (the gate takes one of signature and bundle; both carry the same signature).</summary>
    public string? SignaturePath { get; set; }

    /// <summary>True when SignModelBom ran, so the signature exists and is checked.</summary>
    public bool SignatureWritten { get; set; }

    /// <summary>
    /// Where a rejected BOM is kept for inspection. A failed gate deletes the BOM (so no later step can take it for a
    /// passed one), so its findings point at this copy instead, at the same lines.
    /// </summary>
    public string? RejectedBomPath { get; set; }

    /// <summary><c>@(ProvenanceModel)</c>: the model directories whose files and lineage the gate checks.</summary>
    public ITaskItem[] Models { get; set; } = [];

    public override bool Execute() => TaskDiagnostics.Run(Log, () =>
    {
        var models = ModelItem.FromItems(Models, ProjectDirectory);
        var options = new GateOptions
        {
            BomPath = BomPath,
            PolicyReference = ResolvePolicy(),
            TrustedKeyReferences = TrustedKeys.Where(k => !string.IsNullOrWhiteSpace(k)).Select(k => KeyPaths.Resolve(k.Trim(), ProjectDirectory)).ToArray(),
            SignaturePath = SignatureWritten ? SignaturePath : null,
            Now = IO.SourceDate.Resolve(),
        };

        // The gate takes one model directory: with one model it checks that model's files and lineage against its base
        // fingerprint; with several, those two checks would mix up the models, so they are left to per-model CLI runs.
        if (models.Count <= 1)
        {
            var model = models.SingleOrDefault();
            Report(Gate.Verify(options with { ModelDirectory = model?.Directory, BaseFingerprintsDirectory = model?.BaseFingerprint }));
            return;
        }

        Report(Gate.Verify(options));
        TaskDiagnostics.Log(Log, Diagnostics.Diagnostics.SeveralModelsNotFingerprinted.Warning(
            $"{models.Count} ProvenanceModel items: the build gate checked schema, signature, licences and governance, but not each model's files and lineage; " +
            "run 'dotnet provenance verify <bom> --model-dir <dir> --base-fingerprints <file>' once per model for those"));
    });

    private string? ResolvePolicy()
    {
        if (string.IsNullOrWhiteSpace(Policy))
            return null;
        var path = Path.GetFullPath(Policy, ProjectDirectory);
        return File.Exists(path) ? path : Policy.Trim();
    }

    private void Report(GateReport report)
    {
        var reportedBom = BomPath;
        if (!string.IsNullOrEmpty(RejectedBomPath))
        {
            if (report.Passed)
            {
                if (File.Exists(RejectedBomPath))
                    File.Delete(RejectedBomPath);
            }
            else
            {
                IO.AtomicFile.WriteAllBytes(RejectedBomPath, File.ReadAllBytes(BomPath));
                reportedBom = RejectedBomPath;
            }
        }

        var bomFullPath = Path.GetFullPath(BomPath);
        foreach (var diagnostic in report.Diagnostics)
        {
            var pointsAtBom = diagnostic.File is not null && string.Equals(Path.GetFullPath(diagnostic.File, ProjectDirectory), bomFullPath, StringComparison.Ordinal);
            TaskDiagnostics.Log(Log, pointsAtBom ? diagnostic with { File = reportedBom } : diagnostic);
        }

        var summary = string.Join(", ", report.Checks.Select(c => $"{c.Id} {c.StatusText}"));
        Log.LogMessage(MessageImportance.Normal, $"ProvenanceGate: gate {(report.Passed ? "passed" : "FAILED")} for {BomPath}: {summary}");
        if (!report.Passed && !Log.HasLoggedErrors)
            TaskDiagnostics.Log(Log, Diagnostics.Diagnostics.InternalError.Error("the gate failed without reporting an error", BomPath));
    }
}
