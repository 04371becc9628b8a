using System.Globalization;
using Microsoft.Build.Framework;
using ProvenanceGate.Fingerprinting;
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

    /// <summary>$(MSBuildProjectFullPath): a model shipped without provenance is reported against the project file.</summary>
    public string? ProjectFile { get; set; }

    /// <summary>$(ProjectAssetsFile) and $(TargetFramework): resolve items with <c>Package</c> metadata.</summary>
    public string? ProjectAssetsFile { get; set; }

    public string? TargetFramework { get; set; }

    /// <summary><c>@(ProvenanceModel)</c>: the model directories whose files and lineage the gate checks.</summary>
    public ITaskItem[] Models { get; set; } = [];

    /// <summary>
    /// Folders whose every model file must be a file of a model the BOM declares (the publish folder: publish can ship
    /// files the build output never held).
    /// </summary>
    public string[] ScanDirectories { get; set; } = [];

    /// <summary>
    /// $(ProvenanceGateAccelerator): auto, cpu, cuda or opencl for the lineage fingerprints; empty means
    /// PROVENANCEGATE_ACCELERATOR, else auto. ILGPU is loaded only when a GPU is asked for or answers.
    /// </summary>
    public string? Accelerator { get; set; }

    public override bool Execute() => TaskDiagnostics.Run(Log, () =>
    {
        var models = ModelItem.FromItems(Models, ProjectDirectory, () => NuGet.NuGetAssetsReader.Read(ProjectAssetsFile ?? "", TargetFramework));
        var options = new GateOptions
        {
            BomPath = BomPath,
            PolicyReference = ResolvePolicy(),
            TrustedKeyReferences = TrustedKeys.Where(k => !string.IsNullOrWhiteSpace(k)).Select(k => KeyPaths.Resolve(k.Trim(), ProjectDirectory)).ToArray(),
            SignaturePath = SignatureWritten ? SignaturePath : null,

            // Each item's directory is matched to its model in the BOM by the files it holds (the generator lists them
            // under the model), and that model's lineage is checked against the item's own BaseFingerprint.
            ModelDirectories = models.Select(m => new GateModelDirectory(m.Directory, BaseFingerprints: m.BaseFingerprint)).ToList(),
            ScanOutputDirectories = ScanDirectories.Where(d => !string.IsNullOrWhiteSpace(d)).Select(d => Path.GetFullPath(d, ProjectDirectory)).ToArray(),
            Now = IO.SourceDate.Resolve(),
        };
        var accelerator = AcceleratorSelector.Select(AcceleratorSelector.Resolve(Accelerator, "ProvenanceGateAccelerator"), d => TaskDiagnostics.Log(Log, d));
        Log.LogMessage(MessageImportance.Low, $"ProvenanceGate: accelerator {accelerator.Name} ({accelerator.Device})");
        using (accelerator.Use())
            Report(Gate.Verify(options));
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
                IO.AtomicFile.WriteAllBytes(RejectedBomPath, IO.InputFile.ReadAllBytes(BomPath, IO.InputLimit.Bom));
                reportedBom = RejectedBomPath;
            }
        }

        var bomFullPath = Path.GetFullPath(BomPath);
        foreach (var diagnostic in report.Diagnostics)
        {
            var pointsAtBom = diagnostic.File is not null && string.Equals(Path.GetFullPath(diagnostic.File, ProjectDirectory), bomFullPath, StringComparison.Ordinal);
            // The fix for an undeclared model is in the project file (a ProvenanceModel item), not in the generated BOM.
            if (diagnostic.Descriptor == Diagnostics.Diagnostics.GateModelUndeclared && !string.IsNullOrEmpty(ProjectFile))
                TaskDiagnostics.Log(Log, diagnostic with { File = ProjectFile, Line = null, Column = null });
            else
                TaskDiagnostics.Log(Log, pointsAtBom ? diagnostic with { File = reportedBom } : diagnostic);
        }

        var summary = string.Join(", ", report.Checks.Select(c => $"{c.Id} {c.StatusText}"));
        Log.LogMessage(MessageImportance.Normal, $"ProvenanceGate: gate {(report.Passed ? "passed" : "FAILED")} for {BomPath}: {summary}");
        if (report.Passed)
        {
            // One line at the default verbosity, so a green build says what it proved, not only that it ran.
            var passed = report.Checks.Count(c => c.StatusText == "pass");
            var lineage = string.Join("; ", report.Lineage.Select(l => string.Create(CultureInfo.InvariantCulture, $"{l.Model} {l.Verdict} from {l.DeclaredBase}{(l.Score is { } score ? $" ({score:0.###})" : "")}")));
            Log.LogMessage(MessageImportance.High, $"ProvenanceGate: {Path.GetFileName(BomPath)} verified ({passed} of {report.Checks.Count} checks passed{(lineage.Length > 0 ? "; lineage: " + lineage : "")})");
        }

        if (!report.Passed && !Log.HasLoggedErrors)
            TaskDiagnostics.Log(Log, Diagnostics.Diagnostics.InternalError.Error("the gate failed without reporting an error", BomPath));
    }
}
