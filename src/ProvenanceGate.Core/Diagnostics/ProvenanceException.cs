namespace ProvenanceGate.Diagnostics;

/// <summary>
/// The only exception the CLI and the tasks turn into a user-facing error: it carries a catalogued diagnostic.
/// Messages never contain secrets (passwords, private key material).
/// </summary>
public sealed class ProvenanceException : Exception
{
    public ProvenanceException(Diagnostic diagnostic, Exception? inner = null)
        : base(diagnostic.Message, inner)
    {
        Diagnostic = diagnostic;
    }

    public Diagnostic Diagnostic { get; }

    public int ExitCode => Diagnostic.Descriptor.ExitCode;
}
