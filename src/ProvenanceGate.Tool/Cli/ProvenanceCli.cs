using System.CommandLine;
using ProvenanceGate.Diagnostics;
using ProvenanceGate.Tool.Commands;

namespace ProvenanceGate.Tool.Cli;

/// <summary>Builds the command tree and runs it. Tests call <see cref="Run"/> in-process with their own writers.</summary>
internal static class ProvenanceCli
{
    public static ProvenanceRootCommand CreateRootCommand()
    {
        var root = new ProvenanceRootCommand("ProvenanceGate: CycloneDX ML-BOMs, cosign-compatible signatures and a provenance gate for AI models.");
        foreach (var command in Commands())
            root.Subcommands.Add(command);
        return root;
    }

    // One file per verb under Commands/; each exposes a static Create().
    private static IEnumerable<Command> Commands() =>
    [
        CodesCommand.Create(),

        // BOM
        BomCommand.Create(),
        ValidateCommand.Create(),

        // signing
        KeygenCommand.Create(),
        SignCommand.Create(),
        AttestCommand.Create(),
        VerifySignatureCommand.Create(),
        VerifyAttestationCommand.Create(),

        // fingerprinting
        FingerprintCommand.Create(),
        CompareCommand.Create(),
        ScanCommand.Create(),

        // verify gate
        VerifyCommand.Create(),
        DiffCommand.Create(),
        ReportCommand.Create(),

        // CI feedback
        GitHubCommand.Create(),
    ];

    /// <param name="annotations">CI annotations for diagnostics; Program passes the detected runner, tests default to none.</param>
    public static int Run(string[] args, TextWriter output, TextWriter error, CiAnnotations? annotations = null)
    {
        var root = CreateRootCommand();
        root.Annotations = annotations ?? new CiAnnotations(CiPlatform.None);
        var parseResult = root.Parse(args);
        if (parseResult.Errors.Count > 0)
        {
            // System.CommandLine would exit 1; usage errors are exit 2 here, with the catalogued code.
            var reporter = new DiagnosticReporter(error, root.Annotations);
            foreach (var parseError in parseResult.Errors)
                reporter.Report(Diagnostics.Diagnostics.UsageError.Error(parseError.Message));
            reporter.Complete();
            error.WriteLine("Run 'dotnet provenance --help' for usage.");
            return ExitCodes.InputError;
        }

        return parseResult.Invoke(new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false });
    }
}

/// <summary>The root command, carrying what every verb's context needs from the process (the CI runner it is in).</summary>
internal sealed class ProvenanceRootCommand(string description) : RootCommand(description)
{
    public CiAnnotations Annotations { get; set; } = new(CiPlatform.None);
}
