using System.Globalization;
using System.Text;
using System.Text.Json;
using ProvenanceGate.Diagnostics;
using ProvenanceGate.Licensing;

namespace ProvenanceGate.Bom;

/// <summary>
/// Validates a CycloneDX JSON BOM: the official schema for its specVersion (in-process), then what the schema
/// cannot say: unique bom-refs, no dangling refs, SPDX expression syntax, modelCard/data only on their component
/// types, and hash lengths that fit their algorithm. Each problem is a PG1xxx diagnostic whose message starts with
/// the JSON Pointer of the offending value and whose line points into the file.
/// </summary>
public static class BomValidator
{
    private static readonly Dictionary<string, int[]> HashHexLengths = new(StringComparer.Ordinal)
    {
        ["MD5"] = [32], ["SHA-1"] = [40], ["SHA-256"] = [64], ["SHA-384"] = [96], ["SHA-512"] = [128],
        ["SHA3-256"] = [64], ["SHA3-384"] = [96], ["SHA3-512"] = [128],
        ["BLAKE2b-256"] = [64], ["BLAKE2b-384"] = [96], ["BLAKE2b-512"] = [128], ["BLAKE3"] = [32, 40, 64, 96, 128],
    };

    private static readonly string[] DependencyListKeys = ["dependsOn", "provides"];
    private static readonly string[] CompositionListKeys = ["assemblies", "dependencies"];

    public static IReadOnlyList<Diagnostic> Validate(string json, string? path) =>
        Validate(Encoding.UTF8.GetBytes(json), path);

    /// <summary>Nesting accepted in a BOM; the line map reads to the same depth.</summary>
    internal const int MaxDepth = 256;

    public static IReadOnlyList<Diagnostic> Validate(byte[] utf8, string? path)
    {
        JsonDocument document;
        try
        {
            IO.JsonInput.Check(utf8, path ?? "(input)", "BOM", Diagnostics.Diagnostics.BomNotJson, IO.JsonInput.BomMaxDepth);
            document = JsonDocument.Parse(utf8, new JsonDocumentOptions { MaxDepth = IO.JsonInput.BomMaxDepth, AllowDuplicateProperties = false });
        }
        catch (ProvenanceException ex)
        {
            return [ex.Diagnostic with { File = path }];
        }
        catch (JsonException ex)
        {
            var line = ex.LineNumber is { } l ? (int)l + 1 : (int?)null;
            return [Diagnostics.Diagnostics.BomNotJson.Error($"not valid JSON: {ex.Message}", path, line)];
        }

        using (document)
        {
            var lines = new JsonLineMap(utf8);
            var diagnostics = new List<Diagnostic>();
            var root = document.RootElement;
            void Report(DiagnosticDescriptor descriptor, string pointer, string message) =>
                diagnostics.Add(descriptor.Error($"{(pointer.Length == 0 ? "/" : pointer)}: {message}", path, lines.LineOf(pointer)));

            if (root.ValueKind != JsonValueKind.Object)
            {
                Report(Diagnostics.Diagnostics.BomSchemaViolation, "", "a CycloneDX BOM is a JSON object");
                return diagnostics;
            }

            var specVersion = root.TryGetProperty("specVersion", out var sv) && sv.ValueKind == JsonValueKind.String ? sv.GetString() : null;
            if (!CycloneDxSchemas.IsSupported(specVersion))
            {
                Report(Diagnostics.Diagnostics.UnsupportedSpecVersion, "/specVersion",
                    $"specVersion {(specVersion is null ? "is missing" : $"'{specVersion}' is not supported")}; supported: {string.Join(", ", CycloneDxSchemas.SupportedSpecVersions)}");
                return diagnostics;
            }

            foreach (var error in CycloneDxSchemas.Validator.Validate(root, CycloneDxSchemas.SchemaId(specVersion!)))
                Report(Diagnostics.Diagnostics.BomSchemaViolation, error.InstancePath, $"{error.Message} [{error.Keyword}]");

            CheckSemantics(root, Report);
            return diagnostics;
        }
    }

    /// <summary>Only the schema part, for callers (and tests) that want the raw schema verdict.</summary>
    public static IReadOnlyList<SchemaError> ValidateSchema(JsonElement root, string specVersion)
    {
        CycloneDxSchemas.RequireSupported(specVersion);
        return CycloneDxSchemas.Validator.Validate(root, CycloneDxSchemas.SchemaId(specVersion));
    }

    private static void CheckSemantics(JsonElement root, Action<DiagnosticDescriptor, string, string> report)
    {
        // bom-refs may sit on components, services, model cards, data, formulas, workflows, licences...: collect them all.
        var refs = new Dictionary<string, string>(StringComparer.Ordinal);
        Walk(root, "", (element, pointer) =>
        {
            if (element.ValueKind != JsonValueKind.Object)
                return;
            if (element.TryGetProperty("bom-ref", out var bomRef) && bomRef.ValueKind == JsonValueKind.String)
            {
                var value = bomRef.GetString()!;
                if (refs.TryGetValue(value, out var first))
                    report(Diagnostics.Diagnostics.BomRefDuplicate, pointer + "/bom-ref", $"bom-ref '{value}' is already used at {first}");
                else
                    refs[value] = pointer;
            }
        });

        void CheckRef(JsonElement element, string pointer, string what)
        {
            if (element.ValueKind != JsonValueKind.String)
                return;
            var value = element.GetString()!;
            // BOM-Links point into other BOMs; they cannot be resolved here.
            if (!value.StartsWith("urn:cdx:", StringComparison.Ordinal) && !refs.ContainsKey(value))
                report(Diagnostics.Diagnostics.BomRefDangling, pointer, $"{what} '{value}' matches no bom-ref in this BOM");
        }

        if (root.TryGetProperty("dependencies", out var dependencies) && dependencies.ValueKind == JsonValueKind.Array)
        {
            var i = 0;
            foreach (var dependency in dependencies.EnumerateArray())
            {
                var at = $"/dependencies/{i++}";
                if (dependency.ValueKind != JsonValueKind.Object)
                    continue;
                if (dependency.TryGetProperty("ref", out var r))
                    CheckRef(r, at + "/ref", "dependency ref");
                foreach (var key in DependencyListKeys)
                {
                    if (dependency.TryGetProperty(key, out var list) && list.ValueKind == JsonValueKind.Array)
                    {
                        var j = 0;
                        foreach (var target in list.EnumerateArray())
                            CheckRef(target, $"{at}/{key}/{j++}", key);
                    }
                }
            }
        }

        Walk(root, "", (element, pointer) =>
        {
            if (element.ValueKind != JsonValueKind.Object)
                return;
            CheckComponentKinds(element, pointer, report);
            CheckLicenses(element, pointer, report);
            CheckHashes(element, pointer, report);

            // datasets by ref, formulation resources and resource references, composition members.
            if (pointer.EndsWith("/modelParameters", StringComparison.Ordinal) && element.TryGetProperty("datasets", out var datasets) && datasets.ValueKind == JsonValueKind.Array)
            {
                var i = 0;
                foreach (var dataset in datasets.EnumerateArray())
                {
                    if (dataset.ValueKind == JsonValueKind.Object && dataset.TryGetProperty("ref", out var r))
                        CheckRef(r, $"{pointer}/datasets/{i}/ref", "dataset ref");
                    i++;
                }
            }

            if (pointer.StartsWith("/formulation", StringComparison.Ordinal))
            {
                if (element.TryGetProperty("resource", out var resource) && resource.ValueKind == JsonValueKind.Object && resource.TryGetProperty("ref", out var resourceRef))
                    CheckRef(resourceRef, pointer + "/resource/ref", "formulation resource ref");
                if (element.TryGetProperty("resourceReferences", out var resourceReferences) && resourceReferences.ValueKind == JsonValueKind.Array)
                {
                    var i = 0;
                    foreach (var reference in resourceReferences.EnumerateArray())
                    {
                        if (reference.ValueKind == JsonValueKind.Object && reference.TryGetProperty("ref", out var r))
                            CheckRef(r, $"{pointer}/resourceReferences/{i}/ref", "formulation resource reference");
                        i++;
                    }
                }
            }

            if (pointer.StartsWith("/compositions/", StringComparison.Ordinal))
            {
                foreach (var key in CompositionListKeys)
                {
                    if (element.TryGetProperty(key, out var list) && list.ValueKind == JsonValueKind.Array)
                    {
                        var i = 0;
                        foreach (var member in list.EnumerateArray())
                            CheckRef(member, $"{pointer}/{key}/{i++}", "composition member");
                    }
                }
            }
        });
    }

    private static void CheckComponentKinds(JsonElement element, string pointer, Action<DiagnosticDescriptor, string, string> report)
    {
        if (!element.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String || !element.TryGetProperty("name", out _))
            return;
        var kind = type.GetString();
        if (element.TryGetProperty("modelCard", out _) && kind != "machine-learning-model")
            report(Diagnostics.Diagnostics.ModelCardMisplaced, pointer + "/modelCard", $"modelCard is only allowed on machine-learning-model components, not on '{kind}'");
        if (element.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.Array && kind != "data")
            report(Diagnostics.Diagnostics.ModelCardMisplaced, pointer + "/data", $"data is only allowed on data components, not on '{kind}'");
    }

    private static void CheckLicenses(JsonElement element, string pointer, Action<DiagnosticDescriptor, string, string> report)
    {
        if (!element.TryGetProperty("licenses", out var licenses) || licenses.ValueKind != JsonValueKind.Array)
            return;
        var i = 0;
        foreach (var choice in licenses.EnumerateArray())
        {
            var at = $"{pointer}/licenses/{i++}";
            if (choice.ValueKind != JsonValueKind.Object || !choice.TryGetProperty("expression", out var expression) || expression.ValueKind != JsonValueKind.String)
                continue;
            if (!SpdxExpression.TryParse(expression.GetString()!, out _, out var error))
                report(Diagnostics.Diagnostics.LicenseExpressionInvalid, at + "/expression", $"'{expression.GetString()}' is not a valid SPDX expression: {error}");
        }
    }

    private static void CheckHashes(JsonElement element, string pointer, Action<DiagnosticDescriptor, string, string> report)
    {
        if (!element.TryGetProperty("hashes", out var hashes) || hashes.ValueKind != JsonValueKind.Array)
            return;
        var i = 0;
        foreach (var hash in hashes.EnumerateArray())
        {
            var at = $"{pointer}/hashes/{i++}";
            if (hash.ValueKind != JsonValueKind.Object ||
                !hash.TryGetProperty("alg", out var alg) || alg.ValueKind != JsonValueKind.String ||
                !hash.TryGetProperty("content", out var content) || content.ValueKind != JsonValueKind.String)
                continue; // the schema already reports these
            var text = content.GetString()!;
            if (HashHexLengths.TryGetValue(alg.GetString()!, out var lengths) && !lengths.Contains(text.Length))
                report(Diagnostics.Diagnostics.HashMalformed, at + "/content",
                    string.Create(CultureInfo.InvariantCulture, $"a {alg.GetString()} digest has {string.Join(" or ", lengths)} hex digits, this one has {text.Length}"));
            else if (!text.All(Uri.IsHexDigit))
                report(Diagnostics.Diagnostics.HashMalformed, at + "/content", "a digest is hexadecimal");
        }
    }

    private static void Walk(JsonElement element, string pointer, Action<JsonElement, string> visit)
    {
        visit(element, pointer);
        if (element.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in element.EnumerateObject())
                Walk(property.Value, pointer + "/" + JsonSchemaValidator.EscapePointer(property.Name), visit);
        }
        else if (element.ValueKind == JsonValueKind.Array)
        {
            var i = 0;
            foreach (var item in element.EnumerateArray())
                Walk(item, pointer + "/" + (i++).ToString(CultureInfo.InvariantCulture), visit);
        }
    }
}
