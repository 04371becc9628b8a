using System.CommandLine;
using ProvenanceGate.Signing;
using ProvenanceGate.Tool.Cli;

namespace ProvenanceGate.Tool.Commands;

/// <summary>`dotnet provenance attest`: cosign attest-blob --key, offline; the ML-BOM travels with the weights it describes.</summary>
internal static class AttestCommand
{
    public static Command Create()
    {
        var artifacts = new Argument<string[]>("artifact") { Description = "Files the statement is about (subjects: basename + SHA-256)", Arity = ArgumentArity.OneOrMore };
        var predicate = new Option<string>("--predicate") { Description = "The predicate JSON, e.g. bom.cdx.json", Required = true };
        var type = new Option<string>("--type")
        {
            Description = "Predicate type: cyclonedx, spdxjson, slsaprovenance1, ... or a full URI",
            DefaultValueFactory = _ => "cyclonedx",
        };
        var key = new Option<string>("--key") { Description = "Private key: cosign.key, a PKCS#8 PEM, or env://VAR", Required = true };
        var bundle = new Option<string>("--bundle") { Description = "Write the Sigstore bundle v0.3 (dsseEnvelope) here", Required = true };
        var envelope = new Option<string>("--envelope") { Description = "Also write the bare DSSE envelope here" };
        var command = new Command("attest",
            "Wrap the predicate in an in-toto statement about the artifacts and sign it as a DSSE envelope, as cosign attest-blob --key does.")
        {
            artifacts, predicate, type, key, bundle, envelope,
        };
        command.SetHandler(context =>
        {
            var typeName = context.Get(type)!;
            var predicateType = PredicateTypes.Resolve(typeName);
            var artifactPaths = context.Get(artifacts)!;
            var predicateJson = Attestor.ReadPredicate(context.Get(predicate)!);
            var keyReference = context.Get(key)!;
            var passwords = PasswordSource.FromConsole(context.Error);
            using var ecdsa = PrivateKeyLoader.Load(keyReference, passwords.ForExistingKey);
            var attestation = Attestor.Attest(ecdsa, artifactPaths, predicateJson, predicateType);
            var bundlePath = context.Get(bundle)!;
            Attestor.Write(attestation, bundlePath, context.Get(envelope));

            context.Error.WriteLine($"Wrote attestation bundle {bundlePath} ({predicateType}, {artifactPaths.Length} subject(s)). Verify with cosign:");
            foreach (var artifact in artifactPaths)
            {
                context.Error.WriteLine(
                    $"  cosign verify-blob-attestation --key {SigningCommandText.Quote(SigningCommandText.PublicKeyFor(keyReference))} " +
                    $"--bundle {SigningCommandText.Quote(bundlePath)} --type {SigningCommandText.Quote(typeName)} --insecure-ignore-tlog=true {SigningCommandText.Quote(artifact)}");
            }

            return 0;
        });
        return command;
    }
}
