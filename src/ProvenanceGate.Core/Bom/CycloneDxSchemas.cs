using System.Text.Json;

namespace ProvenanceGate.Bom;

/// <summary>The embedded official CycloneDX schemas, registered once by their $id.</summary>
public static class CycloneDxSchemas
{
    public static IReadOnlyList<string> SupportedSpecVersions { get; } = ["1.5", "1.6", "1.7"];

    public const string DefaultSpecVersion = "1.5";

    private static readonly string[] Files =
    [
        "bom-1.5.schema.json", "bom-1.6.schema.json", "bom-1.7.schema.json",
        "spdx.schema.json", "jsf-0.82.schema.json", "cryptography-defs.schema.json",
    ];

    private static readonly Lazy<JsonSchemaValidator> Shared = new(CreateValidator);

    internal static JsonSchemaValidator Validator => Shared.Value;

    public static bool IsSupported(string? specVersion) => specVersion is not null && SupportedSpecVersions.Contains(specVersion);

    public static string SchemaId(string specVersion) => $"http://cyclonedx.org/schema/bom-{specVersion}.schema.json";

    /// <summary>Throws PG1006 for a spec version this build has no schema for.</summary>
    public static void RequireSupported(string specVersion)
    {
        if (!IsSupported(specVersion))
            throw Diagnostics.Diagnostics.UnsupportedSpecVersion.Exception(
                $"CycloneDX spec version '{specVersion}' is not supported; use one of {string.Join(", ", SupportedSpecVersions)}");
    }

    internal static byte[] ReadResource(string fileName)
    {
        using var stream = typeof(CycloneDxSchemas).Assembly.GetManifestResourceStream("ProvenanceGate.Bom.Schemas." + fileName)
            ?? throw new InvalidOperationException($"embedded schema '{fileName}' is missing from the build");
        using var memory = new MemoryStream();
        stream.CopyTo(memory);
        return memory.ToArray();
    }

    private static JsonSchemaValidator CreateValidator()
    {
        var validator = new JsonSchemaValidator();
        foreach (var file in Files)
        {
            using var document = JsonDocument.Parse(ReadResource(file));
            validator.Register(document.RootElement);
        }

        return validator;
    }
}
