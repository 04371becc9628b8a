using System.CommandLine;
using ProvenanceGate.Diagnostics;
using ProvenanceGate.Signing;
using ProvenanceGate.Tool.Cli;

namespace ProvenanceGate.Tool.Commands;

/// <summary>`dotnet provenance verify-signature`: cosign verify-blob --key --insecure-ignore-tlog=true.</summary>
internal static class VerifySignatureCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("file") { Description = "The signed file" };
        var keys = new Option<string[]>("--key")
        {
            Description = "Trusted public key (cosign.pub or env://VAR); repeat for several, any one verifying is enough",
            Required = true,
        };
        var signature = new Option<string>("--signature") { Description = "Signature file: base64 (cosign --output-signature) or raw DER" };
        var bundle = new Option<string>("--bundle") { Description = "Sigstore bundle v0.1–v0.3 or legacy cosign bundle" };
        var command = new Command("verify-signature", "Verify a file's signature or bundle with public keys, as cosign verify-blob --key does (offline).")
        {
            file, keys, signature, bundle,
        };
        command.SetHandler(context =>
        {
            var signaturePath = context.Get(signature);
            var bundlePath = context.Get(bundle);
            if ((signaturePath is null) == (bundlePath is null))
                throw Diagnostics.Diagnostics.UsageError.Exception("give exactly one of --signature and --bundle");
            var trusted = PublicKeyLoader.LoadAll(context.Get(keys)!);
            var artifact = context.Get(file)!;
            var result = SignatureVerifier.VerifyBlob(artifact, trusted, signaturePath, bundlePath);
            foreach (var diagnostic in result.Diagnostics)
                context.Report(diagnostic);
            if (!result.Verified)
                return ExitCodes.GateFailed;
            context.Out.WriteLine($"Verified OK: {artifact} (key {result.MatchedKey!.Name})");
            return ExitCodes.Ok;
        });
        return command;
    }
}
