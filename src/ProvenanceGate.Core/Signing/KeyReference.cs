using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using ProvenanceGate.Diagnostics;

namespace ProvenanceGate.Signing;

/// <summary>
/// Resolves a `--key` value the way cosign does for the sources we support: a file path, or `env://VAR`
/// holding the PEM text itself (how CI systems hand secrets over). KMS, k8s:// and friends are refused by name.
/// </summary>
public static partial class KeyReference
{
    public const string EnvironmentPrefix = "env://";

    public static string ReadText(string reference, DiagnosticDescriptor invalid)
    {
        if (reference.StartsWith(EnvironmentPrefix, StringComparison.Ordinal))
        {
            var variable = reference[EnvironmentPrefix.Length..];
            if (variable.Length == 0)
                throw invalid.Exception($"'{reference}': env:// needs a variable name, as in env://COSIGN_PRIVATE_KEY");
            var value = Environment.GetEnvironmentVariable(variable);
            if (string.IsNullOrEmpty(value))
                throw invalid.Exception($"'{reference}': environment variable {variable} is not set or empty");
            return value;
        }

        if (SchemePattern().Match(reference) is { Success: true } scheme)
            throw invalid.Exception(
                $"'{reference}': key references of the form {scheme.Value} are not supported; use a PEM file path or env://VAR", reference);

        // PEM is ASCII: other bytes are left for the PEM parser to refuse as "no valid PEM block".
        return Encoding.UTF8.GetString(IO.InputFile.ReadAllBytes(reference, IO.InputLimit.Key));
    }

    /// <summary>The first PEM block in <paramref name="text"/>: its label and DER body.</summary>
    public static (string Label, byte[] Body) ReadPem(string text, string reference, DiagnosticDescriptor invalid)
    {
        if (!PemEncoding.TryFind(text, out var fields))
            throw invalid.Exception($"'{reference}' holds no valid PEM block", FileFor(reference));
        var label = text[fields.Label];
        var body = Convert.FromBase64String(text[fields.Base64Data]);
        return (label, body);
    }

    /// <summary>The file to name in a diagnostic: the path, never the content of an env:// variable.</summary>
    public static string? FileFor(string reference) =>
        reference.StartsWith(EnvironmentPrefix, StringComparison.Ordinal) ? null : reference;

    /// <summary>PEM text with 64-character lines and a trailing newline, as Go's pem.EncodeToMemory writes it.</summary>
    public static string ToPem(string label, ReadOnlySpan<byte> body) => new string(PemEncoding.Write(label, body)) + "\n";

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9+.-]*://")]
    private static partial Regex SchemePattern();
}
