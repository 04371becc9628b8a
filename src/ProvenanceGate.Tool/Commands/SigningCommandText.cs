using ProvenanceGate.Signing;

namespace ProvenanceGate.Tool.Commands;

/// <summary>Shared bits of the signing verbs: the cosign command lines we print so users can check us with cosign.</summary>
internal static class SigningCommandText
{
    /// <summary>The public key beside a private key file (cosign.key → cosign.pub) when it is there, else cosign's default name.</summary>
    public static string PublicKeyFor(string privateKeyReference)
    {
        if (privateKeyReference.EndsWith(".key", StringComparison.Ordinal) && !privateKeyReference.StartsWith(KeyReference.EnvironmentPrefix, StringComparison.Ordinal))
        {
            var beside = privateKeyReference[..^4] + ".pub";
            if (File.Exists(beside))
                return beside;
        }

        return "cosign.pub";
    }

    public static string Quote(string argument) =>
        argument.Length > 0 && argument.All(c => char.IsAsciiLetterOrDigit(c) || "-_./:=@+,".Contains(c, StringComparison.Ordinal))
            ? argument
            : "'" + argument.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}
