using ProvenanceGate.Fingerprinting;

namespace ProvenanceGate.Tests.Fingerprinting;

/// <summary>
/// Pins <see cref="ContentHash"/> to fixed answers: tensor hashes are stored in fingerprint files and compared across
/// versions, so any change of the function (lanes, primes, tail, fold, the stream choice or the length tag) must fail
/// here and come with a schema version bump. The expected values were computed by an independent plain-Python
/// transcription of the documented algorithm (Reference/content_hash_reference.py), not by this code.
/// </summary>
public sealed class ContentHashFixedAnswerTests
{
    private static float[] Floats(IEnumerable<uint> bits) => bits.Select(b => BitConverter.UInt32BitsToSingle(b)).ToArray();

    private static readonly Dictionary<string, float[]> FloatInputs = new()
    {
        // No values: the bfloat16 stream (nothing disqualified it), length 0.
        ["empty"] = [],
        // bfloat16-exact: hashed as three 16-bit patterns, all in the tail.
        ["three"] = [1.0f, -2.0f, 0.5f],
        // 0.1f has low mantissa bits: the float32 stream.
        ["tenth"] = [0.1f],
        // 200 bfloat16-exact values: one whole 256-byte block and a 144-byte tail.
        ["narrow200"] = Enumerable.Range(0, 200).Select(k => (k - 100) / 8f).ToArray(),
        // 100 float32 bit patterns: one block and a 144-byte tail.
        ["wide100"] = Floats(Enumerable.Range(0, 100).Select(k => unchecked(0x3F800001u + ((uint)k * 12345u)))),
    };

    private static readonly Dictionary<string, string> Expected = new()
    {
        ["empty"] = "ee6942c185898e456d922cccde0854f4",
        ["three"] = "4ffc9b7e6f9be6e825a5e4e94415f3cb",
        ["tenth"] = "994b2b51954fa9ebe0d64b205111b1f9",
        ["narrow200"] = "74a1ae4e176e285c73c0c1b532892b9f",
        ["wide100"] = "50486f8ce4cfe6a858d87b2d769bea51",
        ["raw300"] = "629ea519d870a7279a8418894efde37f",
    };

    [Test]
    public void Float_inputs_hash_to_the_pinned_values([Values("empty", "three", "tenth", "narrow200", "wide100")] string name, [Values] bool vectorised)
    {
        var values = FloatInputs[name];
        foreach (var chunk in new[] { 1, 7, Math.Max(1, values.Length) })
        {
            var hash = new ContentHash(vectorised);
            for (var start = 0; start < values.Length; start += chunk)
                hash.Append(values.AsSpan(start, Math.Min(chunk, values.Length - start)));
            Assert.That(hash.Finish(), Is.EqualTo(Expected[name]), $"chunk {chunk}");
        }
    }

    [Test]
    public void Raw_bfloat16_bytes_hash_to_the_pinned_value([Values] bool vectorised)
    {
        // 300 bytes (150 bfloat16 values, NaN patterns included) appended straight from their bytes.
        var bytes = Enumerable.Range(0, 300).Select(b => (byte)((b * 7) + 3)).ToArray();
        var hash = new ContentHash(vectorised);
        hash.AppendBFloat16(bytes.AsSpan(0, 10));
        hash.AppendBFloat16(bytes.AsSpan(10));
        Assert.That(hash.Finish(), Is.EqualTo(Expected["raw300"]));
    }
}
