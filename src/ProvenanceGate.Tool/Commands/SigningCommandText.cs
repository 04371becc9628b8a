using ProvenanceGate.Signing;

namespace ProvenanceGate.Tool.Commands;

/// <summary>Shared bits of the signing verbs: the cosign command lines we print so users can check us with cosign.</summary>
internal static class SigningCommandText
{
    /// <summary>Where the public key of a private key reference most likely is (cosign.key → cosign.pub).</summary>
    public static string PublicKeyFor(string privateKeyReference) =>
        privateKeyReference.EndsWith(".key", StringComparison.Ordinal) && !privateKeyReference.StartsWith(KeyReference.EnvironmentPrefix, StringComparison.Ordinal)
            ? privateKeyReference[..^4] + ".pub"
            : "cosign.pub";

    public static string Quote(string argument) =>
        argument.Length > 0 && argument.All(c => char.IsAsciiLetterOrDigit(c) || "-_./:=@+,".Contains(c, StringComparison.Ordinal))
            ? argument
            : "'" + argument.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}
