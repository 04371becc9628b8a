using ProvenanceGate.Diagnostics;

namespace ProvenanceGate.Verification.Checks;

/// <summary>
/// The BOM, or its attestation bundle, is signed by one of the trusted keys; with an attestation, its subjects are the
/// model files the BOM lists, with the same digests.
/// </summary>
internal static class SignatureCheck
{
    public static void Run(GateContext context)
    {
        var options = context.Options;
        var check = CheckIds.Signature;
        if (options.SignaturePath is null && options.BundlePath is null)
        {
            if (context.Policy.Signature.Required)
                context.Add(check, DiagnosticSeverity.Error, Diagnostics.Diagnostics.GateSignatureMissing, "",
                    $"no signature for '{context.Bom.Path}': pass --signature or --bundle (policy '{context.Policy.Name}' requires a signed BOM)");
            else
                context.Skip(check, "no signature given and the policy does not require one");
            return;
        }

        if (options.TrustedKeyReferences.Count == 0)
        {
            context.Add(check, DiagnosticSeverity.Error, Diagnostics.Diagnostics.GateNoTrustedKey, "",
                "a signature was given but no trusted key: pass --key with the public key(s) the BOM must be signed with");
            return;
        }

        if (!ExternalApis.SigningAvailable)
        {
            context.Skip(check, "signature verification not available in this build");
            return;
        }

        if (options.BundlePath is { } bundle && ExternalApis.IsAttestationBundle(bundle))
        {
            VerifyAttestation(context, bundle);
            return;
        }

        var outcome = ExternalApis.VerifyBlob(context.Bom.Path, options.TrustedKeyReferences, options.SignaturePath, options.BundlePath);
        if (!outcome.Verified)
        {
            var detail = outcome.Diagnostics.Count == 0 ? "" : ": " + string.Join("; ", outcome.Diagnostics.Select(d => $"{d.Code} {d.Message}"));
            context.Add(check, DiagnosticSeverity.Error, Diagnostics.Diagnostics.GateSignatureInvalid, "",
                $"'{context.Bom.Path}' is not signed by any trusted key ({string.Join(", ", options.TrustedKeyReferences)}){detail}");
            return;
        }

        context.Note(check, $"signed by trusted key {outcome.MatchedKey}");
    }

    private static void VerifyAttestation(GateContext context, string bundle)
    {
        var check = CheckIds.Signature;
        var outcome = ExternalApis.VerifyAttestation(bundle, context.Options.TrustedKeyReferences, [context.Bom.Path]);
        if (!outcome.Verified)
        {
            var detail = string.Join("; ", outcome.Diagnostics.Select(d => $"{d.Code} {d.Message}"));
            context.Add(check, DiagnosticSeverity.Error, Diagnostics.Diagnostics.GateSignatureInvalid, "",
                $"attestation '{bundle}' does not verify with a trusted key: {detail}");
            return;
        }

        // Every file the BOM lists must be a subject with the same digest, and every subject must be the BOM or a listed file.
        var listed = DigestCheck.ListedFiles(context.Bom).ToDictionary(f => f.Path, f => f, StringComparer.Ordinal);
        var bomName = Path.GetFileName(context.Bom.Path);
        var subjects = outcome.Subjects.ToDictionary(s => s.Name.Replace('\\', '/'), s => s.Sha256, StringComparer.Ordinal);
        foreach (var file in listed.Values)
        {
            if (!subjects.TryGetValue(file.Path, out var digest))
                context.Add(check, DiagnosticSeverity.Error, Diagnostics.Diagnostics.GateAttestationSubjectMismatch, file.JsonPath,
                    $"'{file.Path}' is listed in the BOM but is not a subject of attestation '{bundle}'", file.Component.Id);
            else if (file.Sha256 is { } expected && !string.Equals(digest, expected, StringComparison.OrdinalIgnoreCase))
                context.Add(check, DiagnosticSeverity.Error, Diagnostics.Diagnostics.GateAttestationSubjectMismatch, file.JsonPath,
                    $"attestation '{bundle}' records sha256 {digest} for '{file.Path}', the BOM {expected}", file.Component.Id);
        }

        foreach (var subject in subjects.Keys.Where(s => !listed.ContainsKey(s) && s != bomName))
            context.Add(check, DiagnosticSeverity.Error, Diagnostics.Diagnostics.GateAttestationSubjectMismatch, "",
                $"attestation '{bundle}' names subject '{subject}', which the BOM does not list");
        context.Note(check, $"attestation verified, {subjects.Count} subject(s) match the BOM");
    }
}
