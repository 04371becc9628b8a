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
    public static readonly DiagnosticDescriptor InputTooLarge = new("PG0010", "Input file exceeds its size limit", ExitCodes.InputError);
    public static readonly DiagnosticDescriptor InputNotRegularFile = new("PG0011", "Input is not a regular file", ExitCodes.InputError);
    public static readonly DiagnosticDescriptor SymlinkEscapes = new("PG0012", "Symbolic link leads outside the model directory", ExitCodes.InputError);
    public static readonly DiagnosticDescriptor DirectoryTreeUnwalkable = new("PG0013", "Symbolic link loop or directory tree too deep", ExitCodes.InputError);
    public static readonly DiagnosticDescriptor TextNotUtf8 = new("PG0014", "Text is not valid UTF-8", ExitCodes.InputError);
    public static readonly DiagnosticDescriptor InputNestedTooDeeply = new("PG0015", "Input is nested too deeply", ExitCodes.InputError);

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
    public static readonly DiagnosticDescriptor FingerprintSchemaOutdated = new("PG3016", "Fingerprint file from an older schema: regenerate it", ExitCodes.InputError);
    public static readonly DiagnosticDescriptor OnnxMalformed = new("PG3020", "Malformed ONNX model", ExitCodes.InputError);
    public static readonly DiagnosticDescriptor OnnxExternalDataInvalid = new("PG3021", "ONNX external data outside the model directory or unreadable", ExitCodes.InputError);
    public static readonly DiagnosticDescriptor OnnxGenAiConfigMalformed = new("PG3022", "Malformed genai_config.json", ExitCodes.InputError);
    public static readonly DiagnosticDescriptor PyTorchMalformed = new("PG3040", "Malformed PyTorch checkpoint", ExitCodes.InputError);
    public static readonly DiagnosticDescriptor PyTorchUnsafePickle = new("PG3041", "PyTorch checkpoint imports a global outside the tensor allow-list", ExitCodes.InputError);
    public static readonly DiagnosticDescriptor PyTorchUnsupported = new("PG3042", "Unsupported PyTorch checkpoint content", ExitCodes.InputError);
    public static readonly DiagnosticDescriptor PyTorchIndexMalformed = new("PG3043", "Malformed pytorch_model.bin index", ExitCodes.InputError);
    public static readonly DiagnosticDescriptor AdapterMalformed = new("PG3044", "Malformed PEFT adapter", ExitCodes.InputError);
    public static readonly DiagnosticDescriptor AdapterBaseMismatch = new("PG3045", "Adapter does not fit its base model", ExitCodes.InputError);
    public static readonly DiagnosticDescriptor AdapterNeedsBase = new("PG3046", "PEFT adapter needs its base model", ExitCodes.InputError);
    public static readonly DiagnosticDescriptor AcceleratorUnavailable = new("PG3050", "Requested accelerator is not available", ExitCodes.InputError);
    public static readonly DiagnosticDescriptor AcceleratorFallback = new("PG3051", "GPU accelerator unusable: fingerprinting on the CPU", ExitCodes.InputError);
    public static readonly DiagnosticDescriptor AcceleratorChosen = new("PG3052", "Accelerator in use", ExitCodes.InputError);
    public static readonly DiagnosticDescriptor AcceleratorUnknown = new("PG3053", "Unknown accelerator name", ExitCodes.InputError);
    public static readonly DiagnosticDescriptor GgufMalformed = new("PG3030", "Malformed GGUF file", ExitCodes.InputError);
    public static readonly DiagnosticDescriptor GgufAmbiguous = new("PG3031", "Several GGUF files in one model directory", ExitCodes.InputError);

    // ---- PG4xxx: the verify gate ----------------------------------------------------------------
    public static readonly DiagnosticDescriptor GateBomUnreadable = new("PG4001", "BOM is not readable JSON", ExitCodes.InputError);
    public static readonly DiagnosticDescriptor GatePolicyInvalid = new("PG4002", "Invalid policy file", ExitCodes.InputError);
    public static readonly DiagnosticDescriptor GateReportSpecInvalid = new("PG4003", "Invalid report request", ExitCodes.InputError);
    public static readonly DiagnosticDescriptor GateModelDirectoryUnmatched = new("PG4004", "Model directory does not match one model in the BOM", ExitCodes.InputError);
    public static readonly DiagnosticDescriptor GateSchemaInvalid = new("PG4010", "BOM fails CycloneDX schema or integrity validation", ExitCodes.GateFailed);
    public static readonly DiagnosticDescriptor GateSignatureMissing = new("PG4020", "BOM is not signed", ExitCodes.GateFailed);
    public static readonly DiagnosticDescriptor GateSignatureInvalid = new("PG4021", "BOM signature does not verify with a trusted key", ExitCodes.GateFailed);
    public static readonly DiagnosticDescriptor GateAttestationSubjectMismatch = new("PG4022", "Attestation subjects do not match the model files", ExitCodes.GateFailed);
    public static readonly DiagnosticDescriptor GateNoTrustedKey = new("PG4023", "No trusted key to verify the signature with", ExitCodes.GateFailed);
    public static readonly DiagnosticDescriptor GateFileMissing = new("PG4030", "File listed in the BOM is missing", ExitCodes.GateFailed);
    public static readonly DiagnosticDescriptor GateDigestMismatch = new("PG4031", "File digest does not match the BOM", ExitCodes.GateFailed);
    public static readonly DiagnosticDescriptor GateFileUnlisted = new("PG4032", "File in the model directory is not listed in the BOM", ExitCodes.GateFailed);
    public static readonly DiagnosticDescriptor GatePathEscapes = new("PG4033", "File path escapes the model directory", ExitCodes.GateFailed);
    public static readonly DiagnosticDescriptor GateFileHashMissing = new("PG4034", "File listed in the BOM has no SHA-256 digest", ExitCodes.GateFailed);
    public static readonly DiagnosticDescriptor GateRequiredFieldMissing = new("PG4040", "Required BOM field is missing", ExitCodes.GateFailed);
    public static readonly DiagnosticDescriptor GateLicenseInvalid = new("PG4050", "Licence is not a valid SPDX id or expression", ExitCodes.GateFailed);
    public static readonly DiagnosticDescriptor GateLicenseDenied = new("PG4051", "Licence is denied by policy", ExitCodes.GateFailed);
    public static readonly DiagnosticDescriptor GateLicenseNotAllowed = new("PG4052", "Licence is not on the policy allow list", ExitCodes.GateFailed);
    public static readonly DiagnosticDescriptor GateLicenseInheritance = new("PG4053", "Licence drops obligations of the base model licence", ExitCodes.GateFailed);
    public static readonly DiagnosticDescriptor GateApprovalMissing = new("PG4060", "Required approval is missing", ExitCodes.GateFailed);
    public static readonly DiagnosticDescriptor GateReviewOverdue = new("PG4061", "Review-by date has passed", ExitCodes.GateFailed);
    public static readonly DiagnosticDescriptor GateExceptionExpired = new("PG4062", "Policy exception has expired", ExitCodes.GateFailed);
    public static readonly DiagnosticDescriptor GateLineageNotDerived = new("PG4070", "Weights do not derive from the declared base model", ExitCodes.GateFailed);
    public static readonly DiagnosticDescriptor GateLineageIdentical = new("PG4071", "Weights are identical to the declared base model", ExitCodes.GateFailed);
    public static readonly DiagnosticDescriptor GateLineageCloserBase = new("PG4072", "A closer undeclared base model was found", ExitCodes.GateFailed);
    public static readonly DiagnosticDescriptor GateLineageUnchecked = new("PG4073", "Lineage could not be checked", ExitCodes.GateFailed);
    public static readonly DiagnosticDescriptor GatePickleCodeImport = new("PG4080", "Pickle file imports code", ExitCodes.GateFailed);
    public static readonly DiagnosticDescriptor GatePickleFormat = new("PG4081", "Weights use an unsafe pickle-based format", ExitCodes.GateFailed);
    public static readonly DiagnosticDescriptor GatePickleUnknownGlobal = new("PG4082", "Pickle file imports a global not on the allow list", ExitCodes.GateFailed);
    public static readonly DiagnosticDescriptor GatePickleMalformed = new("PG4083", "Pickle file cannot be inspected", ExitCodes.GateFailed);
    public static readonly DiagnosticDescriptor GateModelUndeclared = new("PG4090", "Model ships without provenance", ExitCodes.GateFailed);
    public static readonly DiagnosticDescriptor GateModelPackageUnsigned = new("PG4091", "Model comes from an unsigned NuGet package", ExitCodes.GateFailed);
    public static readonly DiagnosticDescriptor PackageBomUntrusted = new("PG4092", "Package ML-BOM is not signed by a trusted key", ExitCodes.GateFailed);

    // ---- PG5xxx: MSBuild integration ------------------------------------------------------------
    public static readonly DiagnosticDescriptor AssetsFileInvalid = new("PG5001", "Project assets file missing or malformed", ExitCodes.InputError);
    public static readonly DiagnosticDescriptor AssetsFrameworkNotFound = new("PG5002", "Target framework not in the project assets file", ExitCodes.InputError);
    public static readonly DiagnosticDescriptor NuspecUnreadable = new("PG5003", "Package .nuspec could not be read", ExitCodes.InputError);
    public static readonly DiagnosticDescriptor ModelItemInvalid = new("PG5004", "Invalid ProvenanceModel item", ExitCodes.InputError);
    public static readonly DiagnosticDescriptor PropertyInvalid = new("PG5005", "Invalid ProvenanceGate property", ExitCodes.InputError);
    public static readonly DiagnosticDescriptor UnsupportedMSBuild = new("PG5006", "Unsupported MSBuild host", ExitCodes.InputError);
    // No longer emitted: the build gate now checks every model's files and lineage. Kept because codes are never reused.
    public static readonly DiagnosticDescriptor SeveralModelsNotFingerprinted = new("PG5007", "Several models: digests and lineage not checked in the build", ExitCodes.GateFailed);
    public static readonly DiagnosticDescriptor ModelPackageNotFound = new("PG5010", "ProvenanceModel package not found", ExitCodes.InputError);

    // ---- PG6xxx: CI integrations ----------------------------------------------------------------
    // Raised by the GitHub Action and the Azure Pipelines task (JavaScript), catalogued here so they read like the CLI's.
    public static readonly DiagnosticDescriptor CiInputInvalid = new("PG6001", "Invalid CI wrapper input", ExitCodes.InputError);
    public static readonly DiagnosticDescriptor CiToolUnavailable = new("PG6002", "ProvenanceGate tool could not be installed or started", ExitCodes.InputError);
    public static readonly DiagnosticDescriptor CiReportUnusable = new("PG6003", "Verify report missing or unreadable", ExitCodes.InputError);
    public static readonly DiagnosticDescriptor CiToolHashMismatch = new("PG6004", "ProvenanceGate tool package does not match its pinned SHA-512", ExitCodes.InputError);
    public static readonly DiagnosticDescriptor CiTrustFileUnavailable = new("PG6005", "Trust file not readable from the base commit", ExitCodes.InputError);
    public static readonly DiagnosticDescriptor CiNodeMissing = new("PG6006", "Node.js not found for the wrapper's report step", ExitCodes.InputError);
    public static readonly DiagnosticDescriptor GitHubWriteDenied = new("PG6007", "GitHub token cannot write; feedback skipped", ExitCodes.InputError);
    public static readonly DiagnosticDescriptor GitHubRequestFailed = new("PG6008", "GitHub API request failed", ExitCodes.InputError);
    public static readonly DiagnosticDescriptor GitHubContextMissing = new("PG6009", "GitHub repository, pull request or commit unknown", ExitCodes.InputError);

    /// <summary>Every descriptor above, in code order.</summary>
    public static IReadOnlyList<DiagnosticDescriptor> All { get; } = typeof(Diagnostics)
        .GetFields(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static)
        .Where(f => f.FieldType == typeof(DiagnosticDescriptor))
        .Select(f => (DiagnosticDescriptor)f.GetValue(null)!)
        .OrderBy(d => d.Code, StringComparer.Ordinal)
        .ToArray();
}
