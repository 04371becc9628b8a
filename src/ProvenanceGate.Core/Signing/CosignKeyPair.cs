using System.Security.Cryptography;
using ProvenanceGate.IO;

namespace ProvenanceGate.Signing;

/// <summary>`cosign generate-key-pair`: an ECDSA P-256 key, encrypted as cosign.key (0600), and its cosign.pub.</summary>
public static class CosignKeyPair
{
    public const string DefaultPrefix = "cosign";

    public static (string PrivateKeyPem, string PublicKeyPem) Generate(string password)
    {
        using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var pkcs8 = ecdsa.ExportPkcs8PrivateKey();
        try
        {
            return (CosignEncryptedKey.Encrypt(pkcs8, password), TrustedKey.FromEcdsa("generated", ecdsa).ToPem());
        }
        finally
        {
            CryptographicOperations.ZeroMemory(pkcs8);
        }
    }

    /// <summary>
    /// Writes {prefix}.key and {prefix}.pub. Without <paramref name="force"/> neither is written when either exists.
    /// The password is asked for only after that check, so nobody types it for nothing.
    /// </summary>
    public static (string KeyPath, string PublicKeyPath) Write(string prefix, Func<string> passwordProvider, bool force)
    {
        var keyPath = prefix + ".key";
        var publicKeyPath = prefix + ".pub";
        if (!force)
        {
            foreach (var path in new[] { keyPath, publicKeyPath })
            {
                if (File.Exists(path))
                    throw Diagnostics.Diagnostics.OutputExists.Exception($"'{path}' already exists; pass --force to overwrite the key pair", path);
            }
        }

        var (privateKeyPem, publicKeyPem) = Generate(passwordProvider());
        AtomicFile.WriteAllText(keyPath, privateKeyPem, overwrite: force, mode: UnixFileMode.UserRead | UnixFileMode.UserWrite);
        try
        {
            AtomicFile.WriteAllText(publicKeyPath, publicKeyPem, overwrite: force,
                mode: UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        }
        catch
        {
            // A private key without its public half is useless and confusing; take it back.
            if (!force)
                File.Delete(keyPath);
            throw;
        }

        return (keyPath, publicKeyPath);
    }
}
