using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ProvenanceGate.Signing;

internal enum SignatureFileKind
{
    /// <summary>Sigstore bundle v0.1–v0.3 (`application/vnd.dev.sigstore.bundle...`).</summary>
    SigstoreBundle,

    /// <summary>cosign's legacy `--bundle` (`base64Signature`, `cert`, optional `rekorBundle`).</summary>
    LegacyCosignBundle,

    /// <summary>A bare DSSE envelope (what `attest-blob --output-signature` writes).</summary>
    DsseEnvelope,
}

internal sealed record MessageSignature(string Algorithm, byte[] Digest, byte[] Signature);

/// <summary>
/// A signature container read from disk. Exactly one of <see cref="MessageSignature"/>, <see cref="Envelope"/>
/// and <see cref="LegacySignature"/> is set. Transparency-log data is noted, never trusted: ProvenanceGate
/// verifies with keys only (cosign's `--insecure-ignore-tlog=true`).
/// </summary>
internal sealed record SignatureBundle(
    SignatureFileKind Kind,
    string? MediaType,
    string? KeyHint,
    MessageSignature? MessageSignature,
    DsseEnvelope? Envelope,
    byte[]? LegacySignature,
    bool HasUnverifiedTransparencyData)
{
    public const string MediaTypeV03 = "application/vnd.dev.sigstore.bundle.v0.3+json";

    private static readonly string[] SupportedMediaTypes =
    [
        "application/vnd.dev.sigstore.bundle+json;version=0.1",
        "application/vnd.dev.sigstore.bundle+json;version=0.2",
        "application/vnd.dev.sigstore.bundle+json;version=0.3",
        "application/vnd.dev.sigstore.bundle.v0.1+json",
        "application/vnd.dev.sigstore.bundle.v0.2+json",
        MediaTypeV03,
    ];

    /// <summary>
    /// Duplicate member names are refused everywhere signed JSON is read: two parsers picking different duplicates is
    /// a classic way to make a verifier and a consumer disagree about what was signed.
    /// </summary>
    internal static readonly JsonDocumentOptions StrictJson = new() { AllowDuplicateProperties = false };

    public static SignatureBundle Read(string path)
    {
        var malformed = Diagnostics.Diagnostics.BundleMalformed;
        JsonObject json;
        try
        {
            // A bundle saved by a Windows editor may start with a UTF-8 BOM; JsonInput drops it.
            var bytes = IO.JsonInput.Read(path, IO.InputLimit.Bundle, malformed);
            json = JsonNode.Parse(bytes.Span, documentOptions: StrictJson) as JsonObject
                   ?? throw malformed.Exception($"'{path}' is not a JSON object", path);
        }
        catch (JsonException ex)
        {
            throw malformed.Exception($"'{path}' is not valid JSON: {ex.Message}", path, (int?)ex.LineNumber + 1, (int?)ex.BytePositionInLine + 1);
        }

        if (json.ContainsKey("mediaType"))
            return ReadSigstoreBundle(json, path);
        if (json.ContainsKey("base64Signature"))
        {
            return new SignatureBundle(SignatureFileKind.LegacyCosignBundle, null, null, null, null,
                DsseEnvelope.Base64Field(json, "base64Signature", path), json["rekorBundle"] is JsonObject);
        }

        if (json.ContainsKey("payloadType") && json.ContainsKey("signatures"))
            return new SignatureBundle(SignatureFileKind.DsseEnvelope, null, null, null, DsseEnvelope.FromJson(json, path), null, false);

        throw malformed.Exception(
            $"'{path}' is neither a Sigstore bundle (mediaType), a cosign bundle (base64Signature) nor a DSSE envelope (payloadType, signatures)", path);
    }

    private static SignatureBundle ReadSigstoreBundle(JsonObject json, string path)
    {
        var malformed = Diagnostics.Diagnostics.BundleMalformed;
        var mediaType = json["mediaType"] is JsonValue value && value.TryGetValue<string>(out var m) ? m : "";
        if (!SupportedMediaTypes.Contains(mediaType, StringComparer.Ordinal))
        {
            throw Diagnostics.Diagnostics.BundleMediaTypeUnsupported.Exception(
                $"'{path}': bundle media type '{mediaType}' is not supported (v0.1 to v0.3 are)", path);
        }

        var material = Child(json, "verificationMaterial", path);
        var hint = Child(material, "publicKey", path)?["hint"] is JsonValue h && h.TryGetValue<string>(out var hintText) ? hintText : null;
        var hasTlog = Child(material, "tlogEntries", path, array: true) is JsonArray { Count: > 0 };
        var hasTimestamps = Child(Child(material, "timestampVerificationData", path), "rfc3161Timestamps", path, array: true) is JsonArray { Count: > 0 };
        if (mediaType.EndsWith("0.3+json", StringComparison.Ordinal) || mediaType.EndsWith("version=0.3", StringComparison.Ordinal))
        {
            if (material?["x509CertificateChain"] is not null)
                throw malformed.Exception($"'{path}': a v0.3 bundle must not carry x509CertificateChain", path);
        }

        var message = Child(json, "messageSignature", path) as JsonObject;
        var envelope = Child(json, "dsseEnvelope", path) as JsonObject;
        if ((message is null) == (envelope is null))
            throw malformed.Exception($"'{path}': a bundle must hold exactly one of messageSignature and dsseEnvelope", path);

        MessageSignature? messageSignature = null;
        if (message is not null)
        {
            if (message["messageDigest"] is not JsonObject digest)
                throw malformed.Exception($"'{path}': messageSignature has no messageDigest", path);
            var algorithm = digest["algorithm"] is JsonValue a && a.TryGetValue<string>(out var alg) ? alg : "";
            if (algorithm is not ("SHA2_256" or "SHA2_384" or "SHA2_512"))
                throw malformed.Exception($"'{path}': messageDigest algorithm '{algorithm}' is not supported (SHA2_256, SHA2_384, SHA2_512)", path);
            messageSignature = new MessageSignature(algorithm, DsseEnvelope.Base64Field(digest, "digest", path), DsseEnvelope.Base64Field(message, "signature", path));
        }

        return new SignatureBundle(SignatureFileKind.SigstoreBundle, mediaType, hint, messageSignature,
            envelope is null ? null : DsseEnvelope.FromJson(envelope, path), null, hasTlog || hasTimestamps);
    }

    // A member that is present must have the shape protojson gives it: a wrong type is a malformed bundle, as in sigstore-go.
    private static JsonNode? Child(JsonNode? parent, string name, string path, bool array = false)
    {
        var child = (parent as JsonObject)?[name];
        if (child is null || (array ? child is JsonArray : child is JsonObject))
            return child;
        throw Diagnostics.Diagnostics.BundleMalformed.Exception($"'{path}': {name} is not a JSON {(array ? "array" : "object")}", path);
    }

    /// <summary>A v0.3 bundle with a message signature, as `cosign sign-blob --bundle` (no tlog) writes it.</summary>
    public static string CreateMessageSignatureBundle(string keyHint, byte[] sha256, byte[] signature) =>
        WriteBundle(keyHint, writer =>
        {
            writer.WriteStartObject("messageSignature");
            writer.WriteStartObject("messageDigest");
            writer.WriteString("algorithm", "SHA2_256");
            writer.WriteString("digest", Convert.ToBase64String(sha256));
            writer.WriteEndObject();
            writer.WriteString("signature", Convert.ToBase64String(signature));
            writer.WriteEndObject();
        });

    /// <summary>A v0.3 bundle with a DSSE envelope, as `cosign attest-blob --bundle` (no tlog) writes it.</summary>
    public static string CreateDsseBundle(string keyHint, DsseEnvelope envelope) =>
        WriteBundle(keyHint, writer =>
        {
            writer.WritePropertyName("dsseEnvelope");
            envelope.WriteTo(writer);
        });

    public static string CreateEnvelopeJson(DsseEnvelope envelope) => Write(envelope.WriteTo);

    // Proto field order: mediaType, verificationMaterial, content. No tlogEntries when nothing was uploaded, as cosign.
    private static string WriteBundle(string keyHint, Action<Utf8JsonWriter> writeContent) => Write(writer =>
    {
        writer.WriteStartObject();
        writer.WriteString("mediaType", MediaTypeV03);
        writer.WriteStartObject("verificationMaterial");
        writer.WriteStartObject("publicKey");
        writer.WriteString("hint", keyHint);
        writer.WriteEndObject();
        writer.WriteEndObject();
        writeContent(writer);
        writer.WriteEndObject();
    });

    internal static string Write(Action<Utf8JsonWriter> write)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            write(writer);
        return Encoding.UTF8.GetString(buffer.ToArray());
    }
}
