using System.Buffers;
using System.Runtime.CompilerServices;

namespace ProvenanceGate.Fingerprinting;

/// <summary>
/// Sorts float32 values by radix on their bits (four 8-bit passes). Quantiles of every tensor's row norms are
/// taken this way: the generic comparison sort spends a one-shot CLI run in unoptimised tier-0 code, this loop is
/// compiled optimised on first use and does no comparisons at all.
/// </summary>
internal static class FloatSort
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Sort(Span<float> values)
    {
        var n = values.Length;
        if (n < 2)
            return;
        var keys = ArrayPool<uint>.Shared.Rent(n);
        var scratch = ArrayPool<uint>.Shared.Rent(n);
        try
        {
            for (var i = 0; i < n; i++)
                keys[i] = OrderedBits(values[i]);
            Span<int> counts = stackalloc int[256];
            var from = keys;
            var to = scratch;
            for (var shift = 0; shift < 32; shift += 8)
            {
                counts.Clear();
                for (var i = 0; i < n; i++)
                    counts[(int)((from[i] >> shift) & 0xFF)]++;
                // A digit every key shares leaves the order as it is: skip the pass.
                if (counts[(int)((from[0] >> shift) & 0xFF)] == n)
                    continue;
                var total = 0;
                for (var d = 0; d < 256; d++)
                {
                    var count = counts[d];
                    counts[d] = total;
                    total += count;
                }

                for (var i = 0; i < n; i++)
                    to[counts[(int)((from[i] >> shift) & 0xFF)]++] = from[i];
                (from, to) = (to, from);
            }

            for (var i = 0; i < n; i++)
                values[i] = FromOrderedBits(from[i]);
        }
        finally
        {
            ArrayPool<uint>.Shared.Return(keys);
            ArrayPool<uint>.Shared.Return(scratch);
        }
    }

    /// <summary>Maps a float to an unsigned key with the same order: flip all bits of negatives, the sign of the rest.</summary>
    private static uint OrderedBits(float value)
    {
        var bits = BitConverter.SingleToUInt32Bits(value);
        return (bits & 0x8000_0000u) != 0 ? ~bits : bits | 0x8000_0000u;
    }

    private static float FromOrderedBits(uint key) =>
        BitConverter.UInt32BitsToSingle((key & 0x8000_0000u) != 0 ? key & 0x7FFF_FFFFu : ~key);
}
