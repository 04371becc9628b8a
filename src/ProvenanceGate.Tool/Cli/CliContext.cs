using System.CommandLine;
using ProvenanceGate.Diagnostics;

namespace ProvenanceGate.Tool.Cli;

/// <summary>What a command's action gets: its parse result, stdout for data, and a reporter for diagnostics on stderr.</summary>
internal sealed class CliContext
{
    public CliContext(ParseResult parseResult)
    {
        ParseResult = parseResult;
        Out = parseResult.InvocationConfiguration.Output;
        Error = parseResult.InvocationConfiguration.Error;
        Reporter = new DiagnosticReporter(Error);
    }

    public ParseResult ParseResult { get; }

    /// <summary>Data only: BOMs, reports, JSON. Never diagnostics.</summary>
    public TextWriter Out { get; }

    public TextWriter Error { get; }

    public DiagnosticReporter Reporter { get; }

    public T? Get<T>(Option<T> option) => ParseResult.GetValue(option);

    public T? Get<T>(Argument<T> argument) => ParseResult.GetValue(argument);

    public void Report(Diagnostic diagnostic) => Reporter.Report(diagnostic);
}

/// <summary>Writes canonical "file(line,col): error PGxxxx: message" lines to stderr.</summary>
internal sealed class DiagnosticReporter(TextWriter error)
{
    public int ErrorCount { get; private set; }

    public int WarningCount { get; private set; }

    public void Report(Diagnostic diagnostic)
    {
        if (diagnostic.Severity == DiagnosticSeverity.Error)
            ErrorCount++;
        else if (diagnostic.Severity == DiagnosticSeverity.Warning)
            WarningCount++;
        error.WriteLine(diagnostic.ToString());
    }
}

internal static class CommandExtensions
{
    /// <summary>
    /// Runs a command body so that no input can produce a stack trace: catalogued errors print their code and
    /// exit with their exit code; anything unexpected is PG0006 (set PROVENANCEGATE_DEBUG=1 for the trace).
    /// </summary>
    public static void SetHandler(this Command command, Func<CliContext, int> body)
    {
        command.SetAction(parseResult =>
        {
            var context = new CliContext(parseResult);
            try
            {
                return body(context);
            }
            catch (ProvenanceException ex)
            {
                context.Report(ex.Diagnostic);
                return ex.ExitCode;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                context.Report(Diagnostics.Diagnostics.FileUnreadable.Error(ex.Message));
                return ExitCodes.InputError;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                context.Report(Diagnostics.Diagnostics.InternalError.Error($"unexpected {ex.GetType().Name}: {ex.Message}"));
                if (Environment.GetEnvironmentVariable("PROVENANCEGATE_DEBUG") == "1")
                    context.Error.WriteLine(ex.ToString());
                return ExitCodes.InputError;
            }
        });
    }
}
