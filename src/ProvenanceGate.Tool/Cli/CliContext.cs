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
        var annotations = (parseResult.RootCommandResult.Command as ProvenanceRootCommand)?.Annotations ?? new CiAnnotations(CiPlatform.None);
        Reporter = new DiagnosticReporter(Error, annotations);
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

/// <summary>
/// Writes canonical "file(line,col): error PGxxxx: message" lines to stderr, each followed by its CI annotation
/// when running in GitHub Actions or Azure Pipelines (see <see cref="CiAnnotations"/>).
/// </summary>
internal sealed class DiagnosticReporter(TextWriter error, CiAnnotations? ciAnnotations = null)
{
    private readonly CiAnnotations _annotations = ciAnnotations ?? new(CiPlatform.None);

    public int ErrorCount { get; private set; }

    public int WarningCount { get; private set; }

    public void Report(Diagnostic diagnostic)
    {
        if (diagnostic.Severity == DiagnosticSeverity.Error)
            ErrorCount++;
        else if (diagnostic.Severity == DiagnosticSeverity.Warning)
            WarningCount++;
        error.WriteLine(_annotations.Neutralize(diagnostic.ToString()));
        if (_annotations.Annotate(diagnostic) is { } annotation)
            error.WriteLine(annotation);
    }

    /// <summary>Called once when the command ends: says how many annotations the runner's limit held back.</summary>
    public void Complete()
    {
        if (_annotations.SuppressedSummary() is { } summary)
            error.WriteLine(summary);
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
            catch (Exception ex)
            {
                // An allocation refused (OutOfMemoryException) is reported the same way: inputs are bounded, so it is a bug.
                context.Report(Diagnostics.Diagnostics.InternalError.Error($"unexpected {ex.GetType().Name}: {ex.Message}"));
                if (Environment.GetEnvironmentVariable("PROVENANCEGATE_DEBUG") == "1")
                    context.Error.WriteLine(ex.ToString());
                return ExitCodes.InputError;
            }
            finally
            {
                context.Reporter.Complete();
            }
        });
    }
}
