using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace ProvenanceGate.Fingerprinting;

/// <summary>
/// 128-bit content hash of a tensor's values canonicalised to float32 (so an F16 tensor re-saved losslessly as
/// F32 hashes the same), fast enough to run at memory speed. The value stream is cut into 32-byte blocks whatever
/// the read chunks are, so the hash depends only on the values. It is a re-upload detector, not a cryptographic
/// commitment: the comparer never calls weights identical on hashes alone (the weight signals must agree too),
/// so a crafted collision cannot forge lineage.
/// </summary>
internal sealed class ContentHash
{
    private const ulong Prime1 = 0x9E3779B185EBCA87UL;
    private const ulong Prime2 = 0xC2B2AE3D27D4EB4FUL;
    private const int BlockValues = 8;

    private readonly uint[] _carry = new uint[BlockValues];
    private int _carried;
    private ulong _a = 0x243F6A8885A308D3UL, _b = 0x13198A2E03707344UL, _c = 0xA4093822299F31D0UL, _d = 0x082EFA98EC4E6C89UL;
    private long _count;

    public void Append(ReadOnlySpan<float> values)
    {
        var bits = MemoryMarshal.Cast<float, uint>(values);
        _count += bits.Length;
        if (_carried > 0)
        {
            var take = Math.Min(BlockValues - _carried, bits.Length);
            bits[..take].CopyTo(_carry.AsSpan(_carried));
            _carried += take;
            bits = bits[take..];
            if (_carried < BlockValues)
                return;
            Blocks(MemoryMarshal.Cast<uint, ulong>(_carry.AsSpan()));
            _carried = 0;
        }

        var whole = bits.Length / BlockValues * BlockValues;
        Blocks(MemoryMarshal.Cast<uint, ulong>(bits[..whole]));
        bits[whole..].CopyTo(_carry);
        _carried = bits.Length - whole;
    }

    /// <summary>Four lanes, one 8-byte word each per 32-byte block; the vector and scalar loops give identical results.</summary>
    private void Blocks(ReadOnlySpan<ulong> words)
    {
        var i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var lanes = Vector256.Create(_a, _b, _c, _d);
            var p1 = Vector256.Create(Prime1);
            var p2 = Vector256.Create(Prime2);
            for (; i + 4 <= words.Length; i += 4)
            {
                var x = lanes ^ (Vector256.Create(words.Slice(i, 4)) * p2);
                lanes = (Vector256.ShiftLeft(x, 31) | Vector256.ShiftRightLogical(x, 33)) * p1;
            }

            (_a, _b, _c, _d) = (lanes[0], lanes[1], lanes[2], lanes[3]);
        }

        for (; i + 4 <= words.Length; i += 4)
        {
            Mix(ref _a, words[i]);
            Mix(ref _b, words[i + 1]);
            Mix(ref _c, words[i + 2]);
            Mix(ref _d, words[i + 3]);
        }
    }

    private static void Mix(ref ulong lane, ulong word) => lane = BitOperations.RotateLeft(lane ^ (word * Prime2), 31) * Prime1;

    public string Finish()
    {
        for (var i = 0; i < _carried; i++)
            Mix(ref _a, _carry[i] | ((ulong)(i + 1) << 32));
        var low = Avalanche(_a ^ BitOperations.RotateLeft(_b, 17) ^ BitOperations.RotateLeft(_c, 29) ^ BitOperations.RotateLeft(_d, 43) ^ (ulong)_count);
        var high = Avalanche(_d ^ BitOperations.RotateLeft(_c, 13) ^ BitOperations.RotateLeft(_b, 37) ^ BitOperations.RotateLeft(_a, 53) ^ ((ulong)_count * Prime1));
        return $"{high:x16}{low:x16}";
    }

    private static ulong Avalanche(ulong x)
    {
        x ^= x >> 33;
        x *= 0xFF51AFD7ED558CCDUL;
        x ^= x >> 33;
        x *= 0xC4CEB9FE1A85EC53UL;
        return x ^ (x >> 33);
    }
}
