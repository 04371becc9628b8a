using System.CommandLine;
using ProvenanceGate.Diagnostics;
using ProvenanceGate.Signing;
using ProvenanceGate.Tool.Cli;

namespace ProvenanceGate.Tool.Commands;

/// <summary>`dotnet provenance verify-attestation`: cosign verify-blob-attestation --key --insecure-ignore-tlog=true.</summary>
internal static class VerifyAttestationCommand
{
    public static Command Create()
    {
        var artifacts = new Argument<string[]>("artifact") { Description = "Files that must each be a subject of the statement", Arity = ArgumentArity.OneOrMore };
        var keys = new Option<string[]>("--key")
        {
            Description = "Trusted public key (cosign.pub or env://VAR); repeat for several, any one verifying is enough",
            Required = true,
        };
        var bundle = new Option<string>("--bundle") { Description = "Sigstore bundle (dsseEnvelope), legacy cosign bundle or bare DSSE envelope", Required = true };
        var type = new Option<string>("--type")
        {
            Description = "Required predicate type: cyclonedx (default), spdxjson, slsaprovenance1, ... or a full URI",
            DefaultValueFactory = _ => "cyclonedx",
        };
        var command = new Command("verify-attestation",
            "Verify a DSSE attestation: one signature over PAE by a trusted key, in-toto statement, predicate type, subject digests.")
        {
            artifacts, keys, bundle, type,
        };
        command.SetHandler(context =>
        {
            var predicateType = PredicateTypes.Resolve(context.Get(type)!);
            var trusted = PublicKeyLoader.LoadAll(context.Get(keys)!);
            var artifactPaths = context.Get(artifacts)!;
            var result = AttestationVerifier.Verify(context.Get(bundle)!, trusted, artifactPaths, predicateType);
            foreach (var diagnostic in result.Diagnostics)
                context.Report(diagnostic);
            if (!result.Verified)
                return ExitCodes.GateFailed;
            context.Out.WriteLine(
                $"Verified OK: {predicateType} attestation about {string.Join(", ", artifactPaths)} (key {result.MatchedKey!.Name})");
            return ExitCodes.Ok;
        });
        return command;
    }
}
