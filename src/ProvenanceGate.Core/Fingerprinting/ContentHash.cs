using System.Numerics;
using System.Runtime.InteropServices;

namespace ProvenanceGate.Fingerprinting;

/// <summary>
/// 128-bit content hash of a tensor's values canonicalised to float32 (so an F16 tensor re-saved losslessly as
/// F32 hashes the same), fast enough to run at memory speed. It is a re-upload detector, not a cryptographic
/// commitment: the comparer never calls weights identical on hashes alone (the weight signals must agree too),
/// so a crafted collision cannot forge lineage.
/// </summary>
internal sealed class ContentHash
{
    private const ulong Prime1 = 0x9E3779B185EBCA87UL;
    private const ulong Prime2 = 0xC2B2AE3D27D4EB4FUL;
    private ulong _a = 0x243F6A8885A308D3UL, _b = 0x13198A2E03707344UL, _c = 0xA4093822299F31D0UL, _d = 0x082EFA98EC4E6C89UL;
    private long _count;
    private uint? _pending;

    public void Append(ReadOnlySpan<float> values)
    {
        var bits = MemoryMarshal.Cast<float, uint>(values);
        _count += bits.Length;
        if (_pending is { } pending && bits.Length > 0)
        {
            Mix(ref _a, pending | ((ulong)bits[0] << 32));
            _pending = null;
            bits = bits[1..];
        }

        var words = MemoryMarshal.Cast<uint, ulong>(bits);
        var i = 0;
        ulong a = _a, b = _b, c = _c, d = _d;
        for (; i + 4 <= words.Length; i += 4)
        {
            // Four independent lanes keep the multipliers busy; rotations spread high bits down.
            a = BitOperations.RotateLeft(a ^ (words[i] * Prime2), 31) * Prime1;
            b = BitOperations.RotateLeft(b ^ (words[i + 1] * Prime2), 31) * Prime1;
            c = BitOperations.RotateLeft(c ^ (words[i + 2] * Prime2), 31) * Prime1;
            d = BitOperations.RotateLeft(d ^ (words[i + 3] * Prime2), 31) * Prime1;
        }

        (_a, _b, _c, _d) = (a, b, c, d);
        for (; i < words.Length; i++)
            Mix(ref _a, words[i]);
        if (bits.Length % 2 == 1)
            _pending = bits[^1];
    }

    private static void Mix(ref ulong lane, ulong word) => lane = BitOperations.RotateLeft(lane ^ (word * Prime2), 31) * Prime1;

    public string Finish()
    {
        if (_pending is { } pending)
            Mix(ref _a, pending | (1UL << 63));
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
