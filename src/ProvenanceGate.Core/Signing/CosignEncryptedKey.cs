using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Org.BouncyCastle.Crypto.Engines;
using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Crypto.Macs;
using Org.BouncyCastle.Crypto.Parameters;
using ProvenanceGate.Diagnostics;

namespace ProvenanceGate.Signing;

/// <summary>
/// cosign's encrypted private key (go-securesystemslib `encrypted`): a PEM whose body is JSON naming scrypt and
/// NaCl secretbox (XSalsa20-Poly1305); the plaintext is a PKCS#8 DER key.
/// </summary>
internal static class CosignEncryptedKey
{
    public const string Label = "ENCRYPTED SIGSTORE PRIVATE KEY";

    // Written by cosign <= v2.0.0; same body.
    public const string LegacyLabel = "ENCRYPTED COSIGN PRIVATE KEY";

    private const int KeyLength = 32;
    private const int NonceLength = 24;
    private const int TagLength = 16;

    // What cosign writes today (scrypt "Standard").
    private const int StandardN = 65536;

    // cosign reads exactly these (N, r, p); checking before scrypt runs stops a key file from demanding gigabytes.
    private static readonly (long N, long R, long P)[] AllowedScryptParameters = [(32768, 8, 1), (65536, 8, 1), (131072, 8, 1)];

    public static bool IsCosignLabel(string label) => label is Label or LegacyLabel;

    /// <summary>Encrypts a PKCS#8 key and returns the PEM text cosign's generate-key-pair writes.</summary>
    public static string Encrypt(ReadOnlySpan<byte> pkcs8, string password)
    {
        var salt = RandomNumberGenerator.GetBytes(32);
        var nonce = RandomNumberGenerator.GetBytes(NonceLength);
        var key = DeriveKey(password, salt, StandardN, 8, 1);
        try
        {
            var sealedBox = SecretBox.Seal(key, nonce, pkcs8);
            // Field order and compact form as Go's encoding/json writes the struct.
            var json = "{\"kdf\":{\"name\":\"scrypt\",\"params\":{\"N\":" + StandardN.ToString(CultureInfo.InvariantCulture) +
                       ",\"r\":8,\"p\":1},\"salt\":\"" + Convert.ToBase64String(salt) + "\"},\"cipher\":{\"name\":\"nacl/secretbox\",\"nonce\":\"" +
                       Convert.ToBase64String(nonce) + "\"},\"ciphertext\":\"" + Convert.ToBase64String(sealedBox) + "\"}";
            return KeyReference.ToPem(Label, Encoding.UTF8.GetBytes(json));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    /// <summary>Decrypts the JSON body of a cosign key to PKCS#8 DER. Every check that needs no password runs first.</summary>
    public static byte[] Decrypt(byte[] body, Func<string> passwordProvider, string reference)
    {
        var file = KeyReference.FileFor(reference);
        var invalid = Diagnostics.Diagnostics.PrivateKeyInvalid;
        EncryptedKeyFields fields;
        try
        {
            fields = Parse(body);
        }
        catch (Exception ex) when (ex is JsonException or FormatException or InvalidOperationException or KeyNotFoundException)
        {
            var reason = ex switch
            {
                JsonException => "it is not JSON",
                KeyNotFoundException => "a required field (kdf, params, salt, cipher, nonce, ciphertext) is missing",
                FormatException => "a field is not valid base64 or not a number",
                _ => "a field has the wrong JSON type",
            };
            throw invalid.Exception($"'{reference}': malformed encrypted cosign key body: {reason}", file);
        }

        if (fields.KdfName != "scrypt")
            throw invalid.Exception($"'{reference}': unknown kdf name '{fields.KdfName}' (cosign keys use scrypt)", file);
        if (!AllowedScryptParameters.Contains((fields.N, fields.R, fields.P)))
            throw invalid.Exception(
                $"'{reference}': unsupported scrypt parameters N={fields.N} r={fields.R} p={fields.P} (cosign accepts N=32768, 65536 or 131072 with r=8 p=1)",
                file);
        if (fields.CipherName != "nacl/secretbox")
            throw invalid.Exception($"'{reference}': unknown cipher name '{fields.CipherName}' (cosign keys use nacl/secretbox)", file);
        if (fields.Nonce.Length != NonceLength)
            throw invalid.Exception($"'{reference}': incorrect nonce size {fields.Nonce.Length} (must be {NonceLength} bytes)", file);
        if (fields.Ciphertext.Length < TagLength)
            throw invalid.Exception($"'{reference}': ciphertext is shorter than the Poly1305 tag", file);

        var key = DeriveKey(passwordProvider(), fields.Salt, (int)fields.N, (int)fields.R, (int)fields.P);
        try
        {
            return SecretBox.Open(key, fields.Nonce, fields.Ciphertext)
                   ?? throw Diagnostics.Diagnostics.PrivateKeyDecryptionFailed.Exception(
                       $"'{reference}': decryption failed: wrong password or a corrupted key file", file);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    private static byte[] DeriveKey(string password, byte[] salt, int n, int r, int p)
    {
        var passwordBytes = Encoding.UTF8.GetBytes(password);
        try
        {
            return SCrypt.Generate(passwordBytes, salt, n, r, p, KeyLength);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(passwordBytes);
        }
    }

    private static EncryptedKeyFields Parse(byte[] body)
    {
        using var document = JsonDocument.Parse(body, SignatureBundle.StrictJson);
        var root = document.RootElement;
        var kdf = root.GetProperty("kdf");
        var parameters = kdf.GetProperty("params");
        var cipher = root.GetProperty("cipher");
        return new EncryptedKeyFields(
            kdf.GetProperty("name").GetString() ?? "",
            parameters.GetProperty("N").GetInt64(),
            parameters.GetProperty("r").GetInt64(),
            parameters.GetProperty("p").GetInt64(),
            kdf.GetProperty("salt").GetBytesFromBase64(),
            cipher.GetProperty("name").GetString() ?? "",
            cipher.GetProperty("nonce").GetBytesFromBase64(),
            root.GetProperty("ciphertext").GetBytesFromBase64());
    }

    private sealed record EncryptedKeyFields(string KdfName, long N, long R, long P, byte[] Salt, string CipherName, byte[] Nonce, byte[] Ciphertext);

    /// <summary>NaCl crypto_secretbox: XSalsa20 keystream, the first 32 bytes of which key Poly1305; box = tag ‖ ciphertext.</summary>
    private static class SecretBox
    {
        public static byte[] Seal(byte[] key, byte[] nonce, ReadOnlySpan<byte> message)
        {
            var (stream, macKey) = Start(key, nonce);
            var box = new byte[TagLength + message.Length];
            var plain = message.ToArray();
            try
            {
                stream.ProcessBytes(plain, 0, plain.Length, box, TagLength);
            }
            finally
            {
                CryptographicOperations.ZeroMemory(plain);
            }

            var tag = Tag(macKey, box);
            tag.CopyTo(box, 0);
            return box;
        }

        public static byte[]? Open(byte[] key, byte[] nonce, byte[] box)
        {
            var (stream, macKey) = Start(key, nonce);
            if (!CryptographicOperations.FixedTimeEquals(Tag(macKey, box), box.AsSpan(0, TagLength)))
                return null;
            var plain = new byte[box.Length - TagLength];
            stream.ProcessBytes(box, TagLength, plain.Length, plain, 0);
            return plain;
        }

        private static (XSalsa20Engine Stream, byte[] MacKey) Start(byte[] key, byte[] nonce)
        {
            var stream = new XSalsa20Engine();
            stream.Init(true, new ParametersWithIV(new KeyParameter(key), nonce));
            var macKey = new byte[32];
            stream.ProcessBytes(new byte[32], 0, 32, macKey, 0);
            return (stream, macKey);
        }

        private static byte[] Tag(byte[] macKey, byte[] box)
        {
            var mac = new Poly1305();
            mac.Init(new KeyParameter(macKey));
            mac.BlockUpdate(box, TagLength, box.Length - TagLength);
            var tag = new byte[TagLength];
            mac.DoFinal(tag, 0);
            CryptographicOperations.ZeroMemory(macKey);
            return tag;
        }
    }
}
