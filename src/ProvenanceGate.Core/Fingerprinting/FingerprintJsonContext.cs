using System.Text.Json.Serialization;

namespace ProvenanceGate.Fingerprinting;

/// <summary>
/// Fingerprint JSON metadata generated at compile time: a fresh CLI process neither reflects over the records nor
/// emits property accessors to write or read one file (measured: about 100 methods compiled per run otherwise).
/// The converters and settings of <see cref="FingerprintFile"/>'s options still apply.
/// </summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals, MaxDepth = 16,
    Converters = [typeof(FingerprintFile.HalfArrayConverter), typeof(FingerprintFile.UInt64ArrayConverter)])]
[JsonSerializable(typeof(ModelFingerprint))]
internal sealed partial class FingerprintJsonContext : JsonSerializerContext;
