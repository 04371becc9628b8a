using ProvenanceGate.Diagnostics;
using ProvenanceGate.Verification.Checks;
using ProvenanceGate.Verification.Policy;

namespace ProvenanceGate.Verification;

/// <summary>
/// The verify gate: runs every check, collects every finding (never stopping at the first), applies the policy's
/// exceptions, and decides. Unusable input (unreadable BOM, bad policy, missing directory) throws a ProvenanceException.
/// </summary>
public static class Gate
{
    public static GateReport Verify(GateOptions options)
    {
        var policy = PolicyLoader.Load(options.PolicyReference);
        var bom = BomDocument.Load(options.BomPath);
        if (options.BaseFingerprintsDirectory is { } baseDirectory && !Directory.Exists(baseDirectory) && !File.Exists(baseDirectory))
            throw Diagnostics.Diagnostics.DirectoryNotFound.Exception($"base fingerprints '{baseDirectory}' do not exist", baseDirectory);
        foreach (var directory in options.ScanOutputDirectories)
        {
            if (!Directory.Exists(directory))
                throw Diagnostics.Diagnostics.DirectoryNotFound.Exception($"output folder '{directory}' does not exist", directory);
        }

        foreach (var path in new[] { options.SignaturePath, options.BundlePath }.OfType<string>())
        {
            if (!File.Exists(path))
                throw Diagnostics.Diagnostics.FileNotFound.Exception($"'{path}' does not exist", path);
        }

        var context = new GateContext(options, policy, bom);
        context.Scopes = ModelScope.Resolve(options, bom, context.Sha256Cache);
        SchemaCheck.Run(context);
        SignatureCheck.Run(context);
        DigestCheck.Run(context);
        RequiredFieldsCheck.Run(context);
        LicenseCheck.Run(context);
        GovernanceCheck.Run(context);
        LineageCheck.Run(context);
        SerializationCheck.Run(context);
        InventoryCheck.Run(context);
        return BuildReport(context);
    }

    private static GateReport BuildReport(GateContext context)
    {
        var now = context.Options.Now;
        var findings = new List<GateFinding>();
        foreach (var (finding, component) in context.Findings)
        {
            var waiver = finding.Diagnostic.Severity == DiagnosticSeverity.Info ? null : context.Policy.Exceptions.FirstOrDefault(e =>
                e.Code == finding.Diagnostic.Code && e.Expires > now &&
                (e.Component == "*" || Matches(context.Bom, e.Component, component)));
            findings.Add(waiver is null
                ? finding
                : finding with
                {
                    Diagnostic = finding.Diagnostic with
                    {
                        Severity = DiagnosticSeverity.Info,
                        Message = $"{finding.Diagnostic.Message} (waived by policy exception until {waiver.Expires:yyyy-MM-dd}: {waiver.Reason})",
                    },
                });
        }

        // Stable order: by check, then as found; reports and annotations read the same every run.
        var ordered = CheckIds.All.SelectMany(id => findings.Where(f => f.Check == id)).ToList();
        var checks = CheckIds.All.Select(id => Summarize(context, id, ordered.Where(f => f.Check == id).ToList())).ToList();
        return new GateReport(context.Bom.Path, checks, ordered, context.Lineage, context.Graph, context.Options.FailOnWarning, context.Options.Now);
    }

    /// <summary>An exception names a component by bom-ref, name, group/name or group/name@version.</summary>
    private static bool Matches(BomDocument bom, string wanted, string? component)
    {
        if (component is null)
            return false;
        if (string.Equals(wanted, component, StringComparison.Ordinal))
            return true;
        var match = bom.Components.FirstOrDefault(c => c.Id == component);
        return match is not null && (wanted == match.Name || wanted == match.DisplayName || wanted == BomDocument.ModelName(match.Node));
    }

    private static CheckResult Summarize(GateContext context, string id, List<GateFinding> findings)
    {
        var title = CheckIds.Title(id);
        var errors = findings.Where(f => f.Diagnostic.Severity == DiagnosticSeverity.Error).ToList();
        var warnings = findings.Where(f => f.Diagnostic.Severity == DiagnosticSeverity.Warning).ToList();
        if (errors.Count > 0)
            return new CheckResult(id, title, CheckStatus.Fail, Describe(errors, "error"));
        if (warnings.Count > 0)
            return new CheckResult(id, title, CheckStatus.Warn, Describe(warnings, "warning"));
        if (context.SkipReason(id) is { } reason)
            return new CheckResult(id, title, CheckStatus.Skip, reason);
        return new CheckResult(id, title, CheckStatus.Pass, context.NoteFor(id) ?? "no findings");
    }

    private static string Describe(List<GateFinding> findings, string noun)
    {
        var first = findings[0].Diagnostic;
        var more = findings.Count > 1 ? $" (+{findings.Count - 1} more {noun}{(findings.Count > 2 ? "s" : "")})" : "";
        return $"{first.Code}: {first.Message}{more}";
    }
}
