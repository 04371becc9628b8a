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
    public static readonly DiagnosticDescriptor ModelFileMalformed = new("PG1001", "Malformed model metadata file", ExitCodes.InputError);
    public static readonly DiagnosticDescriptor ModelCardMalformed = new("PG1002", "Malformed model card front matter", ExitCodes.InputError);
    public static readonly DiagnosticDescriptor DeclarationInvalid = new("PG1003", "Invalid provenance declaration", ExitCodes.InputError);
    public static readonly DiagnosticDescriptor DeclarationUnknownKey = new("PG1004", "Unknown key in provenance declaration", ExitCodes.InputError);
    public static readonly DiagnosticDescriptor NoModelFiles = new("PG1005", "No model files found", ExitCodes.InputError);
    public static readonly DiagnosticDescriptor UnsupportedSpecVersion = new("PG1006", "Unsupported CycloneDX spec version", ExitCodes.InputError);
    public static readonly DiagnosticDescriptor DeclarationConflict = new("PG1007", "Declaration disagrees with the model files", ExitCodes.InputError);
    public static readonly DiagnosticDescriptor BomNotJson = new("PG1010", "BOM is not valid JSON", ExitCodes.InputError);
    public static readonly DiagnosticDescriptor BomSchemaViolation = new("PG1011", "BOM violates the CycloneDX schema", ExitCodes.GateFailed);
    public static readonly DiagnosticDescriptor BomRefDuplicate = new("PG1012", "Duplicate bom-ref", ExitCodes.GateFailed);
    public static readonly DiagnosticDescriptor BomRefDangling = new("PG1013", "Reference to an unknown bom-ref", ExitCodes.GateFailed);
    public static readonly DiagnosticDescriptor LicenseExpressionInvalid = new("PG1014", "Invalid SPDX licence expression", ExitCodes.GateFailed);
    public static readonly DiagnosticDescriptor ModelCardMisplaced = new("PG1015", "modelCard or data on the wrong component type", ExitCodes.GateFailed);
    public static readonly DiagnosticDescriptor HashMalformed = new("PG1016", "Hash does not fit its algorithm", ExitCodes.GateFailed);

    // ---- PG2xxx: keys, signatures and attestations ----------------------------------------------
    public static readonly DiagnosticDescriptor PrivateKeyInvalid = new("PG2001", "Malformed or unsupported private key", ExitCodes.InputError);
    public static readonly DiagnosticDescriptor PrivateKeyDecryptionFailed = new("PG2002", "Private key decryption failed", ExitCodes.InputError);
    public static readonly DiagnosticDescriptor PasswordUnavailable = new("PG2003", "Password could not be read", ExitCodes.InputError);
    public static readonly DiagnosticDescriptor PublicKeyInvalid = new("PG2004", "Malformed or unsupported public key", ExitCodes.InputError);
    public static readonly DiagnosticDescriptor SignatureMalformed = new("PG2005", "Malformed signature", ExitCodes.InputError);
    public static readonly DiagnosticDescriptor BundleMalformed = new("PG2006", "Malformed bundle or DSSE envelope", ExitCodes.InputError);
    public static readonly DiagnosticDescriptor BundleMediaTypeUnsupported = new("PG2007", "Unsupported bundle media type", ExitCodes.InputError);
    public static readonly DiagnosticDescriptor SignatureInvalid = new("PG2008", "Signature verification failed", ExitCodes.GateFailed);
    public static readonly DiagnosticDescriptor MessageDigestMismatch = new("PG2009", "Bundle message digest does not match the artifact", ExitCodes.GateFailed);
    public static readonly DiagnosticDescriptor SubjectMismatch = new("PG2010", "Attestation subject does not match the artifact", ExitCodes.GateFailed);
    public static readonly DiagnosticDescriptor PredicateTypeMismatch = new("PG2011", "Unexpected attestation predicate type", ExitCodes.GateFailed);
    public static readonly DiagnosticDescriptor PayloadTypeMismatch = new("PG2012", "Unexpected DSSE payload type", ExitCodes.GateFailed);
    public static readonly DiagnosticDescriptor SignatureCountInvalid = new("PG2013", "DSSE envelope must carry exactly one signature", ExitCodes.GateFailed);
    public static readonly DiagnosticDescriptor StatementInvalid = new("PG2014", "Malformed in-toto statement", ExitCodes.GateFailed);
    public static readonly DiagnosticDescriptor TransparencyLogNotVerified = new("PG2015", "Transparency log entries and timestamps were not verified", ExitCodes.GateFailed);
    public static readonly DiagnosticDescriptor KeyHintMismatch = new("PG2016", "Bundle key hint does not match the verifying key", ExitCodes.GateFailed);
    public static readonly DiagnosticDescriptor PredicateInvalid = new("PG2017", "Malformed attestation predicate", ExitCodes.InputError);

    // ---- PG3xxx: fingerprinting and model formats -----------------------------------------------
    public static readonly DiagnosticDescriptor SafetensorsMalformed = new("PG3001", "Malformed safetensors file", ExitCodes.InputError);
    public static readonly DiagnosticDescriptor SafetensorsIndexMalformed = new("PG3002", "Malformed safetensors index", ExitCodes.InputError);
    public static readonly DiagnosticDescriptor TokenizerMalformed = new("PG3003", "Malformed tokenizer", ExitCodes.InputError);
    public static readonly DiagnosticDescriptor ModelConfigMalformed = new("PG3004", "Malformed config.json", ExitCodes.InputError);
    public static readonly DiagnosticDescriptor FingerprintMalformed = new("PG3005", "Malformed fingerprint file", ExitCodes.InputError);
    public static readonly DiagnosticDescriptor FingerprintSchemaUnsupported = new("PG3006", "Unsupported fingerprint schema version", ExitCodes.InputError);
    public static readonly DiagnosticDescriptor ModelNotFound = new("PG3007", "No model found", ExitCodes.InputError);
    public static readonly DiagnosticDescriptor ModelsDiffer = new("PG3008", "Models differ: weights are independent", ExitCodes.GateFailed);
    public static readonly DiagnosticDescriptor LineageNotEstablished = new("PG3009", "Lineage not established: insufficient weight evidence", ExitCodes.GateFailed);
    public static readonly DiagnosticDescriptor CatalogueMalformed = new("PG3010", "Malformed reference catalogue", ExitCodes.InputError);

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
