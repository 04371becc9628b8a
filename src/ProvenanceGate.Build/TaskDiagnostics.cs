using Microsoft.Build.Utilities;
using ProvenanceGate.Diagnostics;

namespace ProvenanceGate.Build;

/// <summary>
/// Turns Core's diagnostics into MSBuild errors and warnings with their PG code, file, line and column, so the build
/// output shows the same canonical line as the CLI (`file(line,col): error PG5001: message`) and IDEs can jump to it.
/// </summary>
internal static class TaskDiagnostics
{
    /// <summary>Runs a task body: a ProvenanceException becomes its coded error, anything else PG0006, never a stack trace.</summary>
    public static bool Run(TaskLoggingHelper log, Action body)
    {
        try
        {
            body();
        }
        catch (ProvenanceException ex)
        {
            Log(log, ex.Diagnostic);
        }
#pragma warning disable CA1031 // A task must report every failure as a coded build error instead of crashing the node.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log(log, Diagnostics.Diagnostics.InternalError.Error($"{ex.GetType().Name}: {ex.Message}"));
        }

        return !log.HasLoggedErrors;
    }

    public static void Log(TaskLoggingHelper log, Diagnostic diagnostic)
    {
        var line = diagnostic.Line ?? 0;
        var column = diagnostic.Column ?? 0;
        switch (diagnostic.Severity)
        {
            case DiagnosticSeverity.Error:
                log.LogError(null, diagnostic.Code, null, diagnostic.File, line, column, 0, 0, diagnostic.Message);
                break;
            case DiagnosticSeverity.Warning:
                log.LogWarning(null, diagnostic.Code, null, diagnostic.File, line, column, 0, 0, diagnostic.Message);
                break;
            default:
                log.LogMessage(null, diagnostic.Code, null, diagnostic.File, line, column, 0, 0, Microsoft.Build.Framework.MessageImportance.Normal, diagnostic.Message);
                break;
        }
    }
}
