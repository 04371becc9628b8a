using ProvenanceGate.Fingerprinting;

namespace ProvenanceGate.Tests.Fingerprinting;

public sealed class ContentHashTests
{
    private static string Hash(float[] values, int chunk, bool vectorised = true)
    {
        var hash = new ContentHash(vectorised);
        for (var start = 0; start < values.Length; start += chunk)
            hash.Append(values.AsSpan(start, Math.Min(chunk, values.Length - start)));
        return hash.Finish();
    }

    [Test]
    public void Chunking_does_not_change_the_hash([Values(0, 1, 2, 7, 8, 9, 31, 1000, 1001)] int length)
    {
        var random = new Random(length);
        var values = Enumerable.Range(0, length).Select(_ => (float)random.NextDouble()).ToArray();
        var whole = Hash(values, Math.Max(1, length));
        // Odd chunks exercise the carried half-word and the scalar tail; large ones the vector loop.
        foreach (var chunk in new[] { 1, 3, 5, 8, 17, 64 })
            Assert.That(Hash(values, chunk), Is.EqualTo(whole), $"chunk {chunk}");
    }

    [Test]
    public void Any_change_changes_the_hash()
    {
        var values = Enumerable.Range(0, 257).Select(i => (float)i).ToArray();
        var original = Hash(values, 257);
        for (var i = 0; i < values.Length; i += 16)
        {
            var changed = (float[])values.Clone();
            changed[i] = BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(changed[i]) ^ 1);
            Assert.That(Hash(changed, 257), Is.Not.EqualTo(original), $"element {i}");
        }

        Assert.That(Hash(values[..256], 256), Is.Not.EqualTo(original), "length is part of the hash");
    }

    [Test]
    public void Vector_and_scalar_loops_agree([Values(63, 64, 65, 4096, 5000)] int length)
    {
        var random = new Random(length);
        var values = Enumerable.Range(0, length).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
        foreach (var chunk in new[] { 7, 64, 1000, length })
            Assert.That(Hash(values, chunk, vectorised: false), Is.EqualTo(Hash(values, length)), $"chunk {chunk}");
    }

    [Test]
    public void Swapping_two_rows_changes_the_hash()
    {
        // Rows of 64 values land on the same lanes: only the chains' order sensitivity tells them apart.
        var random = new Random(5);
        var values = Enumerable.Range(0, 64 * 8).Select(_ => (float)random.NextDouble()).ToArray();
        var swapped = (float[])values.Clone();
        values.AsSpan(0, 64).CopyTo(swapped.AsSpan(64));
        values.AsSpan(64, 64).CopyTo(swapped.AsSpan(0));
        Assert.That(Hash(swapped, swapped.Length), Is.Not.EqualTo(Hash(values, values.Length)));
    }
}
