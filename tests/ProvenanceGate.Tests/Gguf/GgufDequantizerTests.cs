using System.Buffers.Binary;
using ProvenanceGate.Formats.Gguf;

namespace ProvenanceGate.Tests.Gguf;

/// <summary>
/// Every dequantiser against an independent per-element reference written from the block layouts (which bits of
/// which byte make element e), not from ggml's loops; and quantise -> dequantise round trips within each type's bounds.
/// </summary>
public sealed class GgufDequantizerTests
{
    private static readonly GgmlType[] Quantised =
        [GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1, GgmlType.Q8_0, GgmlType.Q2_K, GgmlType.Q3_K, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K];

    [TestCaseSource(nameof(Quantised))]
    public void Random_blocks_decode_like_the_per_element_reference(GgmlType type)
    {
        var layout = GgmlTypes.Layout(type);
        var random = new Random((int)type);
        const int Blocks = 64;
        var data = new byte[Blocks * layout.BlockBytes];
        random.NextBytes(data);
        // Scales are random halves in a sane range (random bits would include NaN and infinities).
        for (var b = 0; b < Blocks; b++)
        {
            foreach (var offset in HalfOffsets(type))
                BinaryPrimitives.WriteHalfLittleEndian(data.AsSpan((b * layout.BlockBytes) + offset), (Half)((random.NextDouble() - 0.3) * 0.01));
        }

        var decoded = new float[Blocks * layout.BlockSize];
        GgufDequantizer.Dequantize(type, data, decoded);
        for (var b = 0; b < Blocks; b++)
        {
            var block = data.AsSpan(b * layout.BlockBytes, layout.BlockBytes);
            for (var e = 0; e < layout.BlockSize; e++)
            {
                var expected = Reference(type, block, e);
                var actual = decoded[(b * layout.BlockSize) + e];
                Assert.That(actual, Is.EqualTo(expected).Within(1e-6 * Math.Max(1, Math.Abs(expected))), $"{type} block {b} element {e}");
            }
        }

        Assert.That(decoded.Distinct().Count(), Is.GreaterThan(layout.BlockSize / 4), "the blocks decode to varied values");
    }

    [TestCase(GgmlType.Q8_0, 0.01)]
    [TestCase(GgmlType.Q5_0, 0.06)]
    [TestCase(GgmlType.Q5_1, 0.05)]
    [TestCase(GgmlType.Q4_0, 0.12)]
    [TestCase(GgmlType.Q4_1, 0.1)]
    [TestCase(GgmlType.Q4_K, 0.1)]
    public void Quantise_then_dequantise_stays_within_the_types_error(GgmlType type, double maxRelativeRms)
    {
        var random = new Random(7);
        var values = Enumerable.Range(0, 4096).Select(_ => (float)(Gaussian(random) * 0.02)).ToArray();
        var decoded = new float[values.Length];
        GgufDequantizer.Dequantize(type, GgufQuantizer.Quantize(type, values), decoded);

        var error = Math.Sqrt(values.Zip(decoded, (a, b) => (double)(a - b) * (a - b)).Average());
        var signal = Math.Sqrt(values.Average(v => (double)v * v));
        Assert.That(error / signal, Is.LessThan(maxRelativeRms));
        Assert.That(error / signal, Is.GreaterThan(maxRelativeRms / 100), "a lossy type loses something (the round trip really quantised)");
        if (type == GgmlType.Q8_0)
        {
            // Each value is within half a step (amax / 127 / 2) of its block's original, plus the scale's float16 rounding.
            for (var b = 0; b < values.Length / 32; b++)
            {
                var block = values.AsSpan(b * 32, 32);
                var amax = 0f;
                foreach (var v in block)
                    amax = Math.Max(amax, Math.Abs(v));
                for (var i = 0; i < 32; i++)
                    Assert.That(Math.Abs(decoded[(b * 32) + i] - block[i]), Is.LessThanOrEqualTo((amax / 127 / 2) + (amax * 1e-3)));
            }
        }
    }

    [Test]
    public void Plain_types_decode_exactly()
    {
        var values = new[] { 1.5f, -2.25f, 0.1f, 65504f };
        var f16 = values.SelectMany(v => BitConverter.GetBytes((Half)v)).ToArray();
        var decoded = new float[4];
        GgufDequantizer.Dequantize(GgmlType.F16, f16, decoded);
        Assert.That(decoded, Is.EqualTo(values.Select(v => (float)(Half)v)));
        var bf16 = values.SelectMany(v => BitConverter.GetBytes((ushort)(BitConverter.SingleToUInt32Bits(v) >> 16))).ToArray();
        GgufDequantizer.Dequantize(GgmlType.BF16, bf16, decoded);
        Assert.That(decoded, Is.EqualTo(values.Select(v => BitConverter.UInt32BitsToSingle(BitConverter.SingleToUInt32Bits(v) & 0xFFFF0000))));
    }

    private static int[] HalfOffsets(GgmlType type) => type switch
    {
        GgmlType.Q4_0 or GgmlType.Q5_0 or GgmlType.Q8_0 => [0],
        GgmlType.Q4_1 or GgmlType.Q5_1 or GgmlType.Q4_K or GgmlType.Q5_K => [0, 2],
        GgmlType.Q2_K => [80, 82],
        GgmlType.Q3_K => [108],
        GgmlType.Q6_K => [208],
        _ => [],
    };

    private static float H(ReadOnlySpan<byte> block, int offset) => (float)BinaryPrimitives.ReadHalfLittleEndian(block[offset..]);

    /// <summary>Element <paramref name="e"/> of one block, from the layout: where its bits are, then scale and offset.</summary>
    private static double Reference(GgmlType type, ReadOnlySpan<byte> x, int e)
    {
        int Nibble(ReadOnlySpan<byte> q, int index, bool high) => high ? q[index] >> 4 : q[index] & 0xF;
        switch (type)
        {
            case GgmlType.Q4_0:
                return (Nibble(x[2..], e % 16, e >= 16) - 8) * (double)H(x, 0);
            case GgmlType.Q4_1:
                return (Nibble(x[4..], e % 16, e >= 16) * (double)H(x, 0)) + H(x, 2);
            case GgmlType.Q5_0:
            {
                var high = (BinaryPrimitives.ReadUInt32LittleEndian(x[2..]) >> e) & 1;
                return ((Nibble(x[6..], e % 16, e >= 16) | (int)(high << 4)) - 16) * (double)H(x, 0);
            }

            case GgmlType.Q5_1:
            {
                var high = (BinaryPrimitives.ReadUInt32LittleEndian(x[4..]) >> e) & 1;
                return ((Nibble(x[8..], e % 16, e >= 16) | (int)(high << 4)) * (double)H(x, 0)) + H(x, 2);
            }

            case GgmlType.Q8_0:
                return (sbyte)x[2 + e] * (double)H(x, 0);
            case GgmlType.Q2_K:
            {
                // 256 = 2 halves x 4 shifts x 2 parts x 16; each 16-run has its own 4-bit scale and min.
                int half = e / 128, shift = (e % 128) / 32, part = (e % 32) / 16, l = e % 16;
                var q = (x[16 + (half * 32) + (part * 16) + l] >> (2 * shift)) & 3;
                var scale = x[(half * 8) + (shift * 2) + part];
                return ((double)H(x, 80) * (scale & 0xF) * q) - ((double)H(x, 82) * (scale >> 4));
            }

            case GgmlType.Q3_K:
            {
                int half = e / 128, shift = (e % 128) / 32, part = (e % 32) / 16, l = e % 16;
                var low = (x[32 + (half * 32) + (part * 16) + l] >> (2 * shift)) & 3;
                var hasHigh = (x[(part * 16) + l] & (1 << ((half * 4) + shift))) != 0;
                var index = (half * 8) + (shift * 2) + part;
                var packed = x.Slice(96, 12);
                var scaleLow = index < 8 ? packed[index] & 0xF : packed[index - 8] >> 4;
                var scaleHigh = (packed[8 + (index % 4)] >> (2 * (index / 4))) & 3;
                var scale = (scaleLow | (scaleHigh << 4)) - 32;
                return (double)H(x, 108) * scale * (low - (hasHigh ? 0 : 4));
            }

            case GgmlType.Q4_K:
            case GgmlType.Q5_K:
            {
                // 8 sub-blocks of 32; sub-block s uses the low (even s) or high (odd s) nibbles of byte run s/2.
                int sub = e / 32, l = e % 32;
                var qs = type == GgmlType.Q4_K ? x.Slice(16, 128) : x.Slice(48, 128);
                var q = Nibble(qs, ((sub / 2) * 32) + l, sub % 2 == 1);
                if (type == GgmlType.Q5_K && (x[16 + l] & (1 << sub)) != 0)
                    q += 16;
                var packed = x.Slice(4, 12);
                int scale, min;
                if (sub < 4)
                {
                    scale = packed[sub] & 63;
                    min = packed[sub + 4] & 63;
                }
                else
                {
                    scale = (packed[sub + 4] & 0xF) | ((packed[sub - 4] >> 6) << 4);
                    min = (packed[sub + 4] >> 4) | ((packed[sub] >> 6) << 4);
                }

                return ((double)H(x, 0) * scale * q) - ((double)H(x, 2) * min);
            }

            case GgmlType.Q6_K:
            {
                // Two halves of 128; each half: 4 quarters of 32 from low/high nibbles of ql and 2-bit fields of qh.
                int half = e / 128, quarter = (e % 128) / 32, l = e % 32;
                var lowByte = x[(half * 64) + l + (quarter % 2 == 1 ? 32 : 0)];
                var low = quarter < 2 ? lowByte & 0xF : lowByte >> 4;
                var high = (x[128 + (half * 32) + l] >> (2 * quarter)) & 3;
                var q = (low | (high << 4)) - 32;
                var scale = (sbyte)x[192 + (half * 8) + (l / 16) + (2 * quarter)];
                return (double)H(x, 208) * scale * q;
            }

            default:
                throw new ArgumentOutOfRangeException(nameof(type));
        }
    }

    private static double Gaussian(Random random) => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
