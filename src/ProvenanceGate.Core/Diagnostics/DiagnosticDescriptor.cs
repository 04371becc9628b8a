namespace ProvenanceGate.Diagnostics;

/// <summary>A catalogued diagnostic: stable code, short title, and the exit code it maps to when it is an error.</summary>
public sealed record DiagnosticDescriptor(string Code, string Title, int ExitCode)
{
    public Diagnostic Error(string message, string? file = null, int? line = null, int? column = null) =>
        new(this, DiagnosticSeverity.Error, message, file, line, column);

    public Diagnostic Warning(string message, string? file = null, int? line = null, int? column = null) =>
        new(this, DiagnosticSeverity.Warning, message, file, line, column);

    public Diagnostic Info(string message, string? file = null, int? line = null, int? column = null) =>
        new(this, DiagnosticSeverity.Info, message, file, line, column);

    /// <summary>Shorthand for throwing this diagnostic as an error.</summary>
    public ProvenanceException Exception(string message, string? file = null, int? line = null, int? column = null, Exception? inner = null) =>
        new(Error(message, file, line, column), inner);
}

public enum DiagnosticSeverity
{
    Info,
    Warning,
    Error,
}

/// <summary>A reported problem. <see cref="ToString"/> is the canonical MSBuild-style line.</summary>
public sealed record Diagnostic(
    DiagnosticDescriptor Descriptor,
    DiagnosticSeverity Severity,
    string Message,
    string? File = null,
    int? Line = null,
    int? Column = null)
{
    public string Code => Descriptor.Code;

    public override string ToString()
    {
        var severity = Severity switch
        {
            DiagnosticSeverity.Error => "error",
            DiagnosticSeverity.Warning => "warning",
            _ => "info",
        };
        var location = File is null ? "" : Line is null ? $"{File}: " : Column is null ? $"{File}({Line}): " : $"{File}({Line},{Column}): ";
        return $"{location}{severity} {Code}: {Message}";
    }
}

/// <summary>Exit codes of every command: 0 ok, 1 gate failed or models differ, 2 usage or input error.</summary>
public static class ExitCodes
{
    public const int Ok = 0;
    public const int GateFailed = 1;
    public const int InputError = 2;
}
