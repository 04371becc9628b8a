using System.Security.Cryptography;
using Microsoft.Build.Framework;
using ProvenanceGate.Signing;

namespace ProvenanceGate.Build;

/// <summary>
/// Signs the BOM as `cosign sign-blob --key` does: <c>&lt;bom&gt;.sig</c> (base64 DER ECDSA over SHA-256) and a Sigstore
/// bundle. The key is a PEM file or <c>env://VAR</c>; an encrypted key's password comes from COSIGN_PASSWORD only (a
/// build never prompts). An unchanged BOM keeps its signature when that still verifies with the key.
/// </summary>
public sealed class SignModelBom : Microsoft.Build.Utilities.Task
{
    [Required]
    public string BomPath { get; set; } = "";

    /// <summary>A relative key path is resolved against it.</summary>
    [Required]
    public string ProjectDirectory { get; set; } = "";

    /// <summary>$(ProvenanceGateSigningKey): a PEM file (cosign encrypted key or PKCS#8) or env://VAR.</summary>
    [Required]
    public string SigningKey { get; set; } = "";

    [Required]
    public string SignaturePath { get; set; } = "";

    public string? BundlePath { get; set; }

    /// <summary>False when GenerateModelBom left the BOM as it was.</summary>
    public bool BomChanged { get; set; } = true;

    public override bool Execute() => TaskDiagnostics.Run(Log, () =>
    {
        using var key = PrivateKeyLoader.Load(KeyPaths.Resolve(SigningKey, ProjectDirectory), ReadPassword);
        if (!BomChanged && SignatureIsCurrent(key))
        {
            Log.LogMessage(MessageImportance.Normal, $"ProvenanceGate: {SignaturePath} still signs the unchanged BOM");
            return;
        }

        BlobSigner.Write(BlobSigner.SignFile(key, BomPath), SignaturePath, string.IsNullOrEmpty(BundlePath) ? null : BundlePath);
        Log.LogMessage(MessageImportance.High, $"ProvenanceGate: signed {BomPath} -> {SignaturePath}");
    });

    private static string ReadPassword() =>
        Environment.GetEnvironmentVariable(PasswordSource.EnvironmentVariable)
        ?? throw Diagnostics.Diagnostics.PasswordUnavailable.Exception(
            $"the signing key is encrypted and {PasswordSource.EnvironmentVariable} is not set (a build cannot prompt for it)");

    private bool SignatureIsCurrent(ECDsa key)
    {
        if (!File.Exists(SignaturePath) || (!string.IsNullOrEmpty(BundlePath) && !File.Exists(BundlePath)))
            return false;
        try
        {
            var signature = Convert.FromBase64String(IO.InputFile.ReadAllText(SignaturePath, IO.InputLimit.Signature).Trim());
            return EcdsaSignatures.VerifyHash(key, EcdsaSignatures.DigestFile(HashAlgorithmName.SHA256, BomPath), signature);
        }
        catch (FormatException)
        {
            return false; // a damaged signature file is simply replaced
        }
    }
}
