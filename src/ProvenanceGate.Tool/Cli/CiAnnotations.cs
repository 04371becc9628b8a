using System.Globalization;
using System.Text;
using ProvenanceGate.Diagnostics;

namespace ProvenanceGate.Tool.Cli;

internal enum CiPlatform
{
    None,
    GitHubActions,
    AzurePipelines,
}

/// <summary>
/// Turns diagnostics into the CI runner's own annotation commands (GitHub <c>::error file=…::</c>, Azure
/// <c>##vso[task.logissue …]</c>), so any verb run directly in a workflow marks the offending file.
/// </summary>
/// <remarks>
/// The lines go to stderr next to the canonical diagnostic lines, never to stdout: stdout may carry a BOM or a
/// report. Both runners read commands from stderr as well as stdout (actions/runner ScriptHandler feeds stderr
/// through the same ActionCommandManager; azure-pipelines-agent's NodeHandler wires ErrorDataReceived to the
/// same OnDataReceived as stdout).
/// Both keep only the first 10 errors and 10 warnings of a step (GitHub also 10 notices), so the rest are
/// counted and summarised in one plain line instead of being emitted and silently dropped.
/// </remarks>
internal sealed class CiAnnotations
{
    /// <summary>Per type and step; GitHub's documented limit and the Azure agent's <c>_maxIssueCount</c>.</summary>
    public const int MaxPerSeverity = 10;

    /// <summary>Set to false by the Action and the Azure task, which annotate from the JSON report themselves.</summary>
    public const string SwitchVariable = "PROVENANCEGATE_ANNOTATIONS";

    private readonly Dictionary<DiagnosticSeverity, int> _emitted = [];
    private readonly Dictionary<DiagnosticSeverity, int> _suppressed = [];
    private readonly string? _workspace;

    public CiAnnotations(CiPlatform platform, string? workspace = null)
    {
        Platform = platform;
        _workspace = string.IsNullOrEmpty(workspace) ? null : Path.GetFullPath(workspace);
    }

    public CiPlatform Platform { get; }

    public static CiAnnotations Detect(Func<string, string?> environment)
    {
        var enabled = environment(SwitchVariable);
        if (enabled is not null && (enabled.Equals("false", StringComparison.OrdinalIgnoreCase) || enabled is "0"))
            return new CiAnnotations(CiPlatform.None);
        if (string.Equals(environment("GITHUB_ACTIONS"), "true", StringComparison.OrdinalIgnoreCase))
            return new CiAnnotations(CiPlatform.GitHubActions, environment("GITHUB_WORKSPACE"));
        if (string.Equals(environment("TF_BUILD"), "true", StringComparison.OrdinalIgnoreCase))
            return new CiAnnotations(CiPlatform.AzurePipelines, environment("BUILD_SOURCESDIRECTORY"));
        return new CiAnnotations(CiPlatform.None);
    }

    /// <summary>The annotation line for a diagnostic, or null when off, over the limit, or not annotatable.</summary>
    public string? Annotate(Diagnostic diagnostic)
    {
        if (Platform == CiPlatform.None)
            return null;
        // Azure has no "notice" issue type; info stays in the log only.
        if (Platform == CiPlatform.AzurePipelines && diagnostic.Severity == DiagnosticSeverity.Info)
            return null;

        var emitted = _emitted.GetValueOrDefault(diagnostic.Severity);
        if (emitted >= MaxPerSeverity)
        {
            _suppressed[diagnostic.Severity] = _suppressed.GetValueOrDefault(diagnostic.Severity) + 1;
            return null;
        }

        _emitted[diagnostic.Severity] = emitted + 1;
        return Platform == CiPlatform.GitHubActions ? FormatGitHub(diagnostic, RelativeFile(diagnostic.File)) : FormatAzure(diagnostic, RelativeFile(diagnostic.File));
    }

    /// <summary>
    /// A log line that cannot act as a runner command: diagnostic messages may quote BOM text, and a line break
    /// or an Azure "##vso[" marker in it would otherwise let that text issue commands in the workflow.
    /// </summary>
    public string Neutralize(string line)
    {
        if (Platform == CiPlatform.None)
            return line;
        var safe = line.Replace("\r", " ", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal);
        if (Platform == CiPlatform.AzurePipelines)
            return safe.Replace("##vso[", "##_vso[", StringComparison.OrdinalIgnoreCase);
        return safe.StartsWith("::", StringComparison.Ordinal) ? " " + safe : safe;
    }

    /// <summary>A plain (non-command) line saying how many annotations the limit held back, or null when none were.</summary>
    public string? SuppressedSummary()
    {
        if (_suppressed.Count == 0)
            return null;
        var parts = _suppressed.OrderByDescending(p => p.Key).Select(p => $"{p.Value} {SeverityWord(p.Key)}(s)");
        return $"ProvenanceGate: {string.Join(", ", parts)} more not annotated (the runner keeps {MaxPerSeverity} per type and step); every diagnostic is in the log above.";
    }

    internal static string FormatGitHub(Diagnostic diagnostic, string? file)
    {
        var command = diagnostic.Severity switch
        {
            DiagnosticSeverity.Error => "error",
            DiagnosticSeverity.Warning => "warning",
            _ => "notice",
        };
        var properties = new List<string>();
        if (file is not null)
        {
            properties.Add("file=" + EscapeGitHubProperty(file));
            if (diagnostic.Line is { } line)
                properties.Add("line=" + line.ToString(CultureInfo.InvariantCulture));
            if (diagnostic.Column is { } column)
                properties.Add("col=" + column.ToString(CultureInfo.InvariantCulture));
        }

        properties.Add("title=" + EscapeGitHubProperty($"{diagnostic.Code} {diagnostic.Descriptor.Title}"));
        return $"::{command} {string.Join(',', properties)}::{EscapeGitHubData($"{diagnostic.Code}: {diagnostic.Message}")}";
    }

    internal static string FormatAzure(Diagnostic diagnostic, string? file)
    {
        var builder = new StringBuilder("##vso[task.logissue type=");
        builder.Append(diagnostic.Severity == DiagnosticSeverity.Error ? "error" : "warning").Append(';');
        builder.Append("code=").Append(EscapeAzureProperty(diagnostic.Code)).Append(';');
        if (file is not null)
        {
            builder.Append("sourcepath=").Append(EscapeAzureProperty(file)).Append(';');
            if (diagnostic.Line is { } line)
                builder.Append("linenumber=").Append(line.ToString(CultureInfo.InvariantCulture)).Append(';');
            if (diagnostic.Column is { } column)
                builder.Append("columnnumber=").Append(column.ToString(CultureInfo.InvariantCulture)).Append(';');
        }

        builder.Append(']').Append(EscapeAzureData($"{diagnostic.Code}: {diagnostic.Message}"));
        return builder.ToString();
    }

    // GitHub (actions/toolkit command.ts): data escapes % CR LF; properties also : and ,.
    internal static string EscapeGitHubData(string value) =>
        value.Replace("%", "%25", StringComparison.Ordinal).Replace("\r", "%0D", StringComparison.Ordinal).Replace("\n", "%0A", StringComparison.Ordinal);

    internal static string EscapeGitHubProperty(string value) =>
        EscapeGitHubData(value).Replace(":", "%3A", StringComparison.Ordinal).Replace(",", "%2C", StringComparison.Ordinal);

    // Azure (azure-pipelines-task-lib taskcommand.js): % becomes %AZP25 (not %25); properties also ] and ;.
    internal static string EscapeAzureData(string value) =>
        value.Replace("%", "%AZP25", StringComparison.Ordinal).Replace("\r", "%0D", StringComparison.Ordinal).Replace("\n", "%0A", StringComparison.Ordinal);

    internal static string EscapeAzureProperty(string value) =>
        EscapeAzureData(value).Replace("]", "%5D", StringComparison.Ordinal).Replace(";", "%3B", StringComparison.Ordinal);

    /// <summary>Annotations attach to repository-relative paths; absolute paths inside the checkout are made relative.</summary>
    private string? RelativeFile(string? file)
    {
        if (file is null)
            return null;
        if (_workspace is null || !Path.IsPathRooted(file))
            return file;
        var relative = Path.GetRelativePath(_workspace, file);
        return relative.StartsWith("..", StringComparison.Ordinal) || Path.IsPathRooted(relative) ? file : relative.Replace(Path.DirectorySeparatorChar, '/');
    }

    private static string SeverityWord(DiagnosticSeverity severity) => severity switch
    {
        DiagnosticSeverity.Error => "error",
        DiagnosticSeverity.Warning => "warning",
        _ => "notice",
    };
}
