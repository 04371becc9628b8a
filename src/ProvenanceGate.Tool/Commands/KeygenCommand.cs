using System.CommandLine;
using ProvenanceGate.Signing;
using ProvenanceGate.Tool.Cli;

namespace ProvenanceGate.Tool.Commands;

/// <summary>`dotnet provenance keygen`: cosign generate-key-pair, byte-compatible.</summary>
internal static class KeygenCommand
{
    public static Command Create()
    {
        var prefix = new Option<string>("--output-key-prefix")
        {
            Description = "Write PREFIX.key (encrypted, mode 0600) and PREFIX.pub",
            DefaultValueFactory = _ => CosignKeyPair.DefaultPrefix,
        };
        var force = new Option<bool>("--force") { Description = "Overwrite an existing key pair" };
        var command = new Command("keygen",
            "Generate an ECDSA P-256 key pair as cosign generate-key-pair writes it. Password: COSIGN_PASSWORD (empty is allowed), else a prompt, else stdin.")
        {
            prefix,
            force,
        };
        command.SetHandler(context =>
        {
            var passwords = PasswordSource.FromConsole(context.Error);
            var (keyPath, publicKeyPath) = CosignKeyPair.Write(context.Get(prefix)!, passwords.ForNewKey, context.Get(force));
            context.Error.WriteLine($"Private key written to {keyPath}");
            context.Error.WriteLine($"Public key written to {publicKeyPath}");
            return 0;
        });
        return command;
    }
}
