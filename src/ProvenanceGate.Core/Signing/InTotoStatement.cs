using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ProvenanceGate.Signing;

public sealed record StatementSubject(string Name, string? Sha256);

/// <summary>An in-toto Statement (v0.1 as cosign writes it; v1 accepted on read).</summary>
public sealed record InTotoStatement(string Type, IReadOnlyList<StatementSubject> Subjects, string PredicateType, JsonNode? Predicate)
{
    public const string TypeV01 = "https://in-toto.io/Statement/v0.1";
    public const string TypeV1 = "https://in-toto.io/Statement/v1";

    /// <summary>Field order as cosign v3 emits it: _type, subject, predicateType, predicate.</summary>
    public byte[] ToJsonBytes() => Encoding.UTF8.GetBytes(SignatureBundle.Write(writer =>
    {
        writer.WriteStartObject();
        writer.WriteString("_type", Type);
        writer.WriteStartArray("subject");
        foreach (var subject in Subjects)
        {
            writer.WriteStartObject();
            writer.WriteString("name", subject.Name);
            writer.WriteStartObject("digest");
            writer.WriteString("sha256", subject.Sha256);
            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteString("predicateType", PredicateType);
        writer.WritePropertyName("predicate");
        if (Predicate is null)
            writer.WriteNullValue();
        else
            Predicate.WriteTo(writer);
        writer.WriteEndObject();
    }));

    /// <summary>Parses a DSSE payload; returns null with a reason when it is not a statement we accept.</summary>
    public static InTotoStatement? TryParse(ReadOnlySpan<byte> payload, out string? problem)
    {
        JsonObject? json;
        try
        {
            IO.JsonInput.Check(payload, "DSSE payload", "statement", Diagnostics.Diagnostics.StatementInvalid);
            json = JsonNode.Parse(payload, documentOptions: SignatureBundle.StrictJson) as JsonObject;
        }
        catch (JsonException ex)
        {
            problem = "the payload is not JSON: " + ex.Message;
            return null;
        }
        catch (Diagnostics.ProvenanceException ex)
        {
            problem = "the payload is not usable JSON: " + ex.Diagnostic.Message;
            return null;
        }

        if (json is null)
        {
            problem = "the payload is not a JSON object";
            return null;
        }

        var type = StringOf(json["_type"]);
        if (type is not (TypeV01 or TypeV1))
        {
            problem = $"_type '{type}' is not {TypeV01} or {TypeV1}";
            return null;
        }

        var predicateType = StringOf(json["predicateType"]);
        if (string.IsNullOrEmpty(predicateType))
        {
            problem = "the statement has no predicateType";
            return null;
        }

        if (json["subject"] is not JsonArray { Count: > 0 } subjectArray)
        {
            problem = "the statement has no subjects";
            return null;
        }

        var subjects = new List<StatementSubject>();
        foreach (var item in subjectArray)
        {
            if (item is not JsonObject subject || subject["digest"] is not JsonObject digest)
            {
                problem = "a subject has no digest object";
                return null;
            }

            subjects.Add(new StatementSubject(StringOf(subject["name"]) ?? "", StringOf(digest["sha256"])));
        }

        problem = null;
        return new InTotoStatement(type, subjects, predicateType, json["predicate"]?.DeepClone());
    }

    private static string? StringOf(JsonNode? node) => node is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;
}

/// <summary>cosign's `--type` names and the predicate type URIs they stand for; any URI is taken as is.</summary>
public static class PredicateTypes
{
    public const string CycloneDx = "https://cyclonedx.org/bom";

    private static readonly Dictionary<string, string> Names = new(StringComparer.Ordinal)
    {
        ["cyclonedx"] = CycloneDx,
        ["spdxjson"] = "https://spdx.dev/Document",
        ["spdx"] = "https://spdx.dev/Document",
        ["slsaprovenance"] = "https://slsa.dev/provenance/v0.2",
        ["slsaprovenance02"] = "https://slsa.dev/provenance/v0.2",
        ["slsaprovenance1"] = "https://slsa.dev/provenance/v1",
        ["link"] = "https://in-toto.io/Link/v1",
        ["vuln"] = "https://cosign.sigstore.dev/attestation/vuln/v1",
        ["openvex"] = "https://openvex.dev/ns",
        ["custom"] = "https://cosign.sigstore.dev/attestation/v1",
    };

    public static string Resolve(string typeOrUri)
    {
        if (Names.TryGetValue(typeOrUri, out var uri))
            return uri;
        if (Uri.TryCreate(typeOrUri, UriKind.Absolute, out var parsed) && parsed.Scheme is "https" or "http")
            return typeOrUri;
        throw Diagnostics.Diagnostics.UsageError.Exception(
            $"--type '{typeOrUri}' is neither a known type ({string.Join(", ", Names.Keys)}) nor an http(s) URI");
    }
}
