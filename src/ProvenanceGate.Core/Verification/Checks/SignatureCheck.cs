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
        var outcome = ExternalApis.VerifyAttestation(bundle, context.Options.TrustedKeyReferences);
        if (!outcome.Verified)
        {
            var detail = string.Join("; ", outcome.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).Select(d => $"{d.Code} {d.Message}"));
            context.Add(check, DiagnosticSeverity.Error, Diagnostics.Diagnostics.GateSignatureInvalid, "",
                $"attestation '{bundle}' does not verify with a trusted key ({string.Join(", ", context.Options.TrustedKeyReferences)}): {detail}");
            return;
        }

        // The attested predicate is the BOM that was signed: the BOM given must be that BOM, not an edited copy.
        if (outcome.Predicate is null || !System.Text.Json.Nodes.JsonNode.DeepEquals(outcome.Predicate, context.Bom.Root))
            context.Add(check, DiagnosticSeverity.Error, Diagnostics.Diagnostics.GateSignatureInvalid, "",
                $"'{context.Bom.Path}' differs from the BOM attested in '{bundle}': it was changed after signing");

        // Subjects are basename + SHA-256. Each must be a file the BOM lists with that digest, and every listed weight file a subject.
        var listed = DigestCheck.ListedFiles(context.Bom).ToList();
        var subjects = outcome.Subjects;
        foreach (var (name, digest) in subjects)
        {
            var match = listed.Any(f => Path.GetFileName(f.Path) == name && string.Equals(f.Sha256, digest, StringComparison.OrdinalIgnoreCase));
            if (!match)
                context.Add(check, DiagnosticSeverity.Error, Diagnostics.Diagnostics.GateAttestationSubjectMismatch, "/components",
                    $"attestation '{bundle}' names subject '{name}' (sha256 {digest}), which is not a file the BOM lists with that digest");
        }

        foreach (var file in listed.Where(f => DigestCheck.WeightExtensions.Contains(Path.GetExtension(f.Path))))
        {
            if (!subjects.Any(s => s.Name == Path.GetFileName(file.Path) && string.Equals(s.Sha256, file.Sha256, StringComparison.OrdinalIgnoreCase)))
                context.Add(check, DiagnosticSeverity.Error, Diagnostics.Diagnostics.GateAttestationSubjectMismatch, file.JsonPath,
                    $"weight file '{file.Path}' is listed in the BOM but is not a subject of attestation '{bundle}' with the same digest", file.Component.Id);
        }

        context.Note(check, $"attestation verified; its {subjects.Count} subject(s) match the BOM's files");
    }
}
