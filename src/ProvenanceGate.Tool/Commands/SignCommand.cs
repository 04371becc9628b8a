using System.CommandLine;
using ProvenanceGate.Signing;
using ProvenanceGate.Tool.Cli;

namespace ProvenanceGate.Tool.Commands;

/// <summary>`dotnet provenance sign`: cosign sign-blob --key, offline (no transparency log).</summary>
internal static class SignCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("file") { Description = "The file to sign (a BOM, a model file, anything)" };
        var key = new Option<string>("--key") { Description = "Private key: cosign.key, a PKCS#8 PEM, or env://VAR", Required = true };
        var outputSignature = new Option<string>("--output-signature") { Description = "Write the base64 signature here instead of stdout" };
        var bundle = new Option<string>("--bundle") { Description = "Also write a Sigstore bundle v0.3 (messageSignature, public-key hint)" };
        var command = new Command("sign", "Sign a file with ECDSA P-256/SHA-256, as cosign sign-blob --key does.") { file, key, outputSignature, bundle };
        command.SetHandler(context =>
        {
            var keyReference = context.Get(key)!;
            var artifact = context.Get(file)!;
            var passwords = PasswordSource.FromConsole(context.Error);
            using var ecdsa = PrivateKeyLoader.Load(keyReference, passwords.ForExistingKey);
            var signed = BlobSigner.SignFile(ecdsa, artifact);
            var signaturePath = context.Get(outputSignature);
            var bundlePath = context.Get(bundle);
            BlobSigner.Write(signed, signaturePath, bundlePath);
            if (signaturePath is null)
                context.Out.WriteLine(signed.SignatureBase64);

            var publicKey = SigningCommandText.Quote(SigningCommandText.PublicKeyFor(keyReference));
            var quotedArtifact = SigningCommandText.Quote(artifact);
            if (bundlePath is not null)
            {
                context.Error.WriteLine($"Wrote bundle {bundlePath}. Verify with cosign:");
                context.Error.WriteLine($"  cosign verify-blob --key {publicKey} --bundle {SigningCommandText.Quote(bundlePath)} --insecure-ignore-tlog=true {quotedArtifact}");
            }

            var signatureArgument = signaturePath is null ? "<the signature saved from stdout>" : SigningCommandText.Quote(signaturePath);
            context.Error.WriteLine($"Verify the raw signature with cosign:");
            context.Error.WriteLine($"  cosign verify-blob --key {publicKey} --signature {signatureArgument} --insecure-ignore-tlog=true {quotedArtifact}");
            return 0;
        });
        return command;
    }
}
