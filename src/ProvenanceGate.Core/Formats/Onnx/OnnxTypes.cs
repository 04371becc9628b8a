using ProvenanceGate.Formats.Safetensors;

namespace ProvenanceGate.Formats.Onnx;

/// <summary>ONNX element types: sizes, the safetensors dtype they read as, and the size checks of their storage.</summary>
internal static class OnnxTypes
{
    public const int Float = 1;
    public const int UInt8 = 2;
    public const int Int8 = 3;
    public const int Float16 = 10;
    public const int Double = 11;
    public const int BFloat16 = 16;

    /// <summary>Bytes per element; 0 for strings, 4-bit types and unknown types.</summary>
    public static int ElementSize(int dataType) => dataType switch
    {
        2 or 3 or 9 or 17 or 18 or 19 or 20 => 1,
        4 or 5 or 10 or 16 => 2,
        1 or 6 or 12 => 4,
        7 or 11 or 13 or 14 => 8,
        15 => 16,
        _ => 0,
    };

    /// <summary>
    /// Bytes a tensor of <paramref name="elements"/> elements takes in <c>raw_data</c> or external data, or -1 when the
    /// type has no fixed size. A count too large for any file gives <see cref="long.MaxValue"/>, which no length matches.
    /// </summary>
    public static long StoredBytes(int dataType, long elements) => dataType switch
    {
        21 or 22 or 23 => (elements / 2) + (elements % 2),
        _ when ElementSize(dataType) is var size and > 0 => elements > long.MaxValue / size ? long.MaxValue : elements * size,
        _ => -1,
    };

    public static SafetensorsDType? ToDType(int dataType) => dataType switch
    {
        1 => SafetensorsDType.F32,
        2 => SafetensorsDType.U8,
        3 => SafetensorsDType.I8,
        4 => SafetensorsDType.U16,
        5 => SafetensorsDType.I16,
        6 => SafetensorsDType.I32,
        7 => SafetensorsDType.I64,
        9 => SafetensorsDType.BOOL,
        10 => SafetensorsDType.F16,
        11 => SafetensorsDType.F64,
        12 => SafetensorsDType.U32,
        13 => SafetensorsDType.U64,
        16 => SafetensorsDType.BF16,
        17 => SafetensorsDType.F8_E4M3,
        19 => SafetensorsDType.F8_E5M2,
        _ => null,
    };

    /// <summary>Rejects a tensor whose stored bytes cannot hold its declared elements (a truncated or forged file).</summary>
    public static void CheckStorage(OnnxInitializer tensor, ProtobufReader reader)
    {
        var elements = tensor.ElementCount;
        var expected = StoredBytes(tensor.DataType, elements);
        var ok = tensor.Storage switch
        {
            OnnxStorage.Raw or OnnxStorage.External or OnnxStorage.PackedFixed => expected < 0 || tensor.Length == expected,
            // One varint per element: at least one byte, at most ten.
            OnnxStorage.PackedVarint => tensor.Length >= elements && tensor.Length / 10 <= elements,
            _ => true,
        };
        if (!ok)
            throw reader.Error($"tensor '{tensor.Name}' declares {elements} {OnnxModel.DataTypeName(tensor.DataType)} elements but stores {tensor.Length} bytes");
    }
}
