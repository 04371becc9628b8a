using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ProvenanceGate.Signing;

/// <summary>A DSSE envelope (secure-systems-lab/dsse v1): the payload is signed through PAE, never directly.</summary>
public sealed record DsseEnvelope(string PayloadType, byte[] Payload, IReadOnlyList<byte[]> Signatures)
{
    public const string InTotoPayloadType = "application/vnd.in-toto+json";

    /// <summary>PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body, lengths in decimal bytes.</summary>
    public static byte[] Pae(string payloadType, ReadOnlySpan<byte> payload)
    {
        var typeBytes = Encoding.UTF8.GetBytes(payloadType);
        var header = Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"DSSEv1 {typeBytes.Length} {payloadType} {payload.Length} "));
        var pae = new byte[header.Length + payload.Length];
        header.CopyTo(pae, 0);
        payload.CopyTo(pae.AsSpan(header.Length));
        return pae;
    }

    public byte[] Pae() => Pae(PayloadType, Payload);

    /// <summary>Reads an envelope object; the DSSE spec allows standard and URL-safe base64.</summary>
    public static DsseEnvelope FromJson(JsonObject json, string file)
    {
        var malformed = Diagnostics.Diagnostics.BundleMalformed;
        var payloadType = json["payloadType"] is JsonValue type && type.TryGetValue<string>(out var t)
            ? t
            : throw malformed.Exception($"'{file}': the DSSE envelope has no payloadType", file);
        var payload = Base64Field(json, "payload", file);
        if (json["signatures"] is not JsonArray signatures)
            throw malformed.Exception($"'{file}': the DSSE envelope has no signatures array", file);
        var decoded = new List<byte[]>();
        foreach (var signature in signatures)
        {
            if (signature is not JsonObject signatureObject)
                throw malformed.Exception($"'{file}': a DSSE signature is not an object", file);
            decoded.Add(Base64Field(signatureObject, "sig", file));
        }

        return new DsseEnvelope(payloadType, payload, decoded);
    }

    /// <summary>The bare envelope as cosign v3 writes it: payload, payloadType, signatures[{sig}] (empty keyid omitted).</summary>
    public void WriteTo(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.WriteString("payload", Convert.ToBase64String(Payload));
        writer.WriteString("payloadType", PayloadType);
        writer.WriteStartArray("signatures");
        foreach (var signature in Signatures)
        {
            writer.WriteStartObject();
            writer.WriteString("sig", Convert.ToBase64String(signature));
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    internal static byte[] Base64Field(JsonObject json, string name, string file)
    {
        var malformed = Diagnostics.Diagnostics.BundleMalformed;
        if (json[name] is not JsonValue value || !value.TryGetValue<string>(out var text))
            throw malformed.Exception($"'{file}': field '{name}' is missing or not a string", file);
        try
        {
            return DecodeBase64(text);
        }
        catch (FormatException)
        {
            throw malformed.Exception($"'{file}': field '{name}' is not valid base64", file);
        }
    }

    /// <summary>Standard or URL-safe base64, padded or not.</summary>
    internal static byte[] DecodeBase64(string text)
    {
        var normalized = text.Trim().Replace('-', '+').Replace('_', '/');
        if (normalized.Length % 4 != 0 && !normalized.EndsWith('='))
            normalized += new string('=', 4 - (normalized.Length % 4));
        return Convert.FromBase64String(normalized);
    }
}
