using ProvenanceGate.Fingerprinting;

namespace ProvenanceGate.Tests.Fingerprinting;

/// <summary>
/// Pins <see cref="ContentHash"/> to fixed answers: tensor hashes are stored in fingerprint files and compared across
/// versions, so any change of the function (keys, terms, padding, final mix, the stream choice or the length tag) must fail
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
        // bfloat16-exact: hashed as three 16-bit patterns, one zero-padded word.
        ["three"] = [1.0f, -2.0f, 0.5f],
        // 0.1f has low mantissa bits: the float32 stream.
        ["tenth"] = [0.1f],
        // 200 bfloat16-exact values: 50 words, through the vector loops.
        ["narrow200"] = Enumerable.Range(0, 200).Select(k => (k - 100) / 8f).ToArray(),
        // 100 float32 bit patterns: 50 words.
        ["wide100"] = Floats(Enumerable.Range(0, 100).Select(k => unchecked(0x3F800001u + ((uint)k * 12345u)))),
    };

    private static readonly Dictionary<string, string> Expected = new()
    {
        ["empty"] = "5e26c094ea280ffa79d79dd86ee0d2b5",
        ["three"] = "9ff0ebd665e3dff476fb4b7570cc00c0",
        ["tenth"] = "80e25a1fa7c2cc42fafd8bf56535c29b",
        ["narrow200"] = "01803f3a2aa6cf2e5ff73cb0515bcc86",
        ["wide100"] = "59c2262eb6e8a01a5d328da9209524ff",
        ["raw300"] = "a0a79782ffb92bd60c0ec1b5ec87d282",
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
