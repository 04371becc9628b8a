using System.CommandLine;
using ProvenanceGate.Diagnostics;
using ProvenanceGate.Tool.Commands;

namespace ProvenanceGate.Tool.Cli;

/// <summary>Builds the command tree and runs it. Tests call <see cref="Run"/> in-process with their own writers.</summary>
internal static class ProvenanceCli
{
    /// <param name="verb">Build only this verb's command (a run names one); null: every verb (help, unknown verbs).</param>
    public static ProvenanceRootCommand CreateRootCommand(string? verb = null)
    {
        var root = new ProvenanceRootCommand("ProvenanceGate: CycloneDX ML-BOMs, cosign-compatible signatures and a provenance gate for AI models.");
        foreach (var (name, create) in Verbs)
        {
            if (verb is null || verb == name)
                root.Subcommands.Add(create());
        }

        return root;
    }

    /// <summary>
    /// One file per verb under Commands/; each exposes a static Create(). Named here so a run builds only the verb it
    /// names: building all of them cost a fresh process 20-30 ms (their options and the types behind them), a tenth of
    /// a 2 GB fingerprint run. A test holds each name to the command its factory makes.
    /// </summary>
    internal static readonly (string Name, Func<Command> Create)[] Verbs =
    [
        ("codes", CodesCommand.Create),

        // BOM
        ("bom", BomCommand.Create),
        ("validate", ValidateCommand.Create),

        // signing
        ("keygen", KeygenCommand.Create),
        ("sign", SignCommand.Create),
        ("attest", AttestCommand.Create),
        ("verify-signature", VerifySignatureCommand.Create),
        ("verify-attestation", VerifyAttestationCommand.Create),

        // fingerprinting
        ("fingerprint", FingerprintCommand.Create),
        ("compare", CompareCommand.Create),
        ("scan", ScanCommand.Create),

        // verify gate
        ("verify", VerifyCommand.Create),
        ("diff", DiffCommand.Create),
        ("report", ReportCommand.Create),

        // CI feedback
        ("github", GitHubCommand.Create),
    ];

    /// <param name="annotations">CI annotations for diagnostics; Program passes the detected runner, tests default to none.</param>
    public static int Run(string[] args, TextWriter output, TextWriter error, CiAnnotations? annotations = null)
    {
        // Anything but a verb first (--help, --version, a typo, a response file) gets the whole tree: the root help
        // lists every verb, and an unknown one is reported against all of them.
        var verb = args.Length > 0 && Array.Exists(Verbs, v => v.Name == args[0]) ? args[0] : null;
        var root = CreateRootCommand(verb);
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
