namespace ProvenanceGate.Build;

/// <summary>Key and policy references as MSBuild users write them: relative to the project, or env://VAR.</summary>
internal static class KeyPaths
{
    public static string Resolve(string reference, string projectDirectory) =>
        reference.StartsWith(Signing.KeyReference.EnvironmentPrefix, StringComparison.Ordinal)
            ? reference
            : Path.GetFullPath(reference, projectDirectory);
}
