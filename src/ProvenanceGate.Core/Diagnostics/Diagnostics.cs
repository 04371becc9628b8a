namespace ProvenanceGate.Diagnostics;

/// <summary>
/// The one catalogue of PGxxxx codes, shared by the CLI, the MSBuild tasks and the CI wrappers.
/// Codes are stable: never renumber or reuse one. The README's code table is checked against this list by a test.
/// Ranges: PG0xxx usage and I/O, PG1xxx BOM, PG2xxx signing, PG3xxx fingerprinting and model formats,
/// PG4xxx the verify gate, PG5xxx MSBuild, PG6xxx CI integrations.
/// </summary>
public static class Diagnostics
{
    // ---- PG0xxx: usage, input and output --------------------------------------------------------
    public static readonly DiagnosticDescriptor UsageError = new("PG0001", "Invalid command-line usage", ExitCodes.InputError);
    public static readonly DiagnosticDescriptor FileNotFound = new("PG0002", "File not found", ExitCodes.InputError);
    public static readonly DiagnosticDescriptor DirectoryNotFound = new("PG0003", "Directory not found", ExitCodes.InputError);
    public static readonly DiagnosticDescriptor OutputWriteFailed = new("PG0004", "Output could not be written", ExitCodes.InputError);
    public static readonly DiagnosticDescriptor OutputExists = new("PG0005", "Output exists; pass --force to overwrite", ExitCodes.InputError);
    public static readonly DiagnosticDescriptor InternalError = new("PG0006", "Internal error", ExitCodes.InputError);
    public static readonly DiagnosticDescriptor FileUnreadable = new("PG0007", "File could not be read", ExitCodes.InputError);
    public static readonly DiagnosticDescriptor InvalidTimestamp = new("PG0008", "Invalid timestamp or SOURCE_DATE_EPOCH", ExitCodes.InputError);

    // ---- PG1xxx: CycloneDX ML-BOM generation and validation -------------------------------------
    // (issue 2 adds its codes here)

    // ---- PG2xxx: keys, signatures and attestations ----------------------------------------------
    // (issue 3 adds its codes here)

    // ---- PG3xxx: fingerprinting and model formats -----------------------------------------------
    public static readonly DiagnosticDescriptor SafetensorsMalformed = new("PG3001", "Malformed safetensors file", ExitCodes.InputError);
    public static readonly DiagnosticDescriptor SafetensorsIndexMalformed = new("PG3002", "Malformed safetensors index", ExitCodes.InputError);
    // (issue 4 adds its codes here)

    // ---- PG4xxx: the verify gate ----------------------------------------------------------------
    // (issue 5 adds its codes here)

    // ---- PG5xxx: MSBuild integration ------------------------------------------------------------
    // (issue 6 adds its codes here)

    // ---- PG6xxx: CI integrations ----------------------------------------------------------------
    // Raised by the GitHub Action and the Azure Pipelines task (JavaScript), catalogued here so they read like the CLI's.
    public static readonly DiagnosticDescriptor CiInputInvalid = new("PG6001", "Invalid CI wrapper input", ExitCodes.InputError);
    public static readonly DiagnosticDescriptor CiToolUnavailable = new("PG6002", "ProvenanceGate tool could not be installed or started", ExitCodes.InputError);
    public static readonly DiagnosticDescriptor CiReportUnusable = new("PG6003", "Verify report missing or unreadable", ExitCodes.InputError);

    /// <summary>Every descriptor above, in code order.</summary>
    public static IReadOnlyList<DiagnosticDescriptor> All { get; } = typeof(Diagnostics)
        .GetFields(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static)
        .Where(f => f.FieldType == typeof(DiagnosticDescriptor))
        .Select(f => (DiagnosticDescriptor)f.GetValue(null)!)
        .OrderBy(d => d.Code, StringComparer.Ordinal)
        .ToArray();
}
