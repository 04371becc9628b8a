using ProvenanceGate.Fingerprinting;

namespace ProvenanceGate.Tests.Fingerprinting;

public sealed class NumericKernelsTests
{
    private static readonly INumericKernels Simd = NumericKernels.Default;
    private static readonly INumericKernels Reference = NumericKernels.Scalar;

    private static IEnumerable<int> Lengths() => Enumerable.Range(0, 70).Concat([127, 255, 256, 257, 1000, 4097]);

    private static float[] Random(int length, int seed, float offset = 0)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, length).Select(_ => (float)(random.NextDouble() * 2 - 1) + offset).ToArray();
    }

    [Test]
    public void Dot_and_sum_of_squares_match_the_scalar_reference([ValueSource(nameof(Lengths))] int length)
    {
        var x = Random(length, length);
        var y = Random(length, length + 1000);
        Assert.That(Simd.Dot(x, y), Is.EqualTo(Reference.Dot(x, y)).Within(1e-4 * Math.Max(1, length)));
        Assert.That(Simd.SumOfSquares(x), Is.EqualTo(Reference.SumOfSquares(x)).Within(1e-4 * Math.Max(1, length)));
    }

    [Test]
    public void Standardised_dot_product_equals_the_scalar_pearson([Values(0, 1, 2, 3, 31, 496, 1000)] int length)
    {
        // Layer alignment correlates standardised Gram vectors with one dot product each.
        var x = Random(length, length, offset: 100);
        var y = x.Select((v, i) => v + (0.5f * Random(length, 7)[i])).ToArray();
        var expected = Reference.Pearson(x, y);
        var (sx, sy) = (LineageComparer.Standardise(x), LineageComparer.Standardise(y));
        if (double.IsNaN(expected))
            Assert.That(sx is null || sy is null, Is.True);
        else
            Assert.That(Simd.Dot(sx!, sy!), Is.EqualTo(expected).Within(1e-5));
        Assert.That(LineageComparer.Standardise(Enumerable.Repeat(3f, Math.Max(2, length)).ToArray()), Is.Null, "constant vector");
    }

    [Test]
    public void Bf16_sum_of_squares_matches_the_scalar_reference([ValueSource(nameof(Lengths))] int length)
    {
        var source = Random(length, length + 7).SelectMany(v => BitConverter.GetBytes((ushort)(BitConverter.SingleToUInt32Bits(v) >> 16))).ToArray();
        Assert.That(Simd.SumOfSquaresBF16(source), Is.EqualTo(Reference.SumOfSquaresBF16(source)).Within(1e-5).Percent);
    }

    [Test]
    public void Radix_sort_orders_floats_like_a_comparison_sort([Values(0, 1, 2, 17, 1000, 5000)] int length)
    {
        var random = new Random(length);
        float[] specials = [0f, -0f, float.PositiveInfinity, float.NegativeInfinity, float.Epsilon, -float.Epsilon, float.MaxValue, float.MinValue];
        var values = Enumerable.Range(0, length)
            .Select(i => i % 7 == 0 ? specials[i / 7 % specials.Length] : (float)((random.NextDouble() - 0.5) * Math.Pow(10, random.Next(-30, 30))))
            .ToArray();
        var expected = (float[])values.Clone();
        Array.Sort(expected);
        FloatSort.Sort(values);
        Assert.That(values, Is.EqualTo(expected));
    }

    [Test]
    public void Bf16_conversion_matches_the_scalar_reference_at_every_tail_length([Values(0, 1, 15, 16, 31, 32, 33, 100)] int length)
    {
        var source = new byte[length * 2];
        new Random(length).NextBytes(source);
        var (expected, actual) = (new float[length], new float[length]);
        Reference.ConvertBF16(source, expected);
        Simd.ConvertBF16(source, actual);
        Assert.That(actual.Select(BitConverter.SingleToInt32Bits), Is.EqualTo(expected.Select(BitConverter.SingleToInt32Bits)));
    }

    [Test]
    public void Pearson_matches_the_scalar_reference([ValueSource(nameof(Lengths))] int length)
    {
        // An offset far from zero checks that the centring does not lose precision.
        var x = Random(length, length, offset: 100);
        var y = x.Select((v, i) => v + (0.5f * Random(length, 7)[i])).ToArray();
        var expected = Reference.Pearson(x, y);
        var actual = Simd.Pearson(x, y);
        if (length < 2)
        {
            Assert.That(actual, Is.NaN);
            Assert.That(expected, Is.NaN);
        }
        else
        {
            Assert.That(actual, Is.EqualTo(expected).Within(1e-4));
        }
    }

    [Test]
    public void Pearson_of_a_constant_is_undefined() =>
        Assert.That(Simd.Pearson(new float[10], Random(10, 1)), Is.NaN);

    [Test]
    public void Half_and_bfloat16_conversions_match_the_reference([ValueSource(nameof(Lengths))] int length)
    {
        var bytes = new byte[length * 2];
        new Random(length).NextBytes(bytes);
        var expected = new float[length];
        var actual = new float[length];
        Reference.ConvertF16(bytes, expected);
        Simd.ConvertF16(bytes, actual);
        Assert.That(actual.Select(BitConverter.SingleToInt32Bits), Is.EqualTo(expected.Select(BitConverter.SingleToInt32Bits)));
        Reference.ConvertBF16(bytes, expected);
        Simd.ConvertBF16(bytes, actual);
        Assert.That(actual.Select(BitConverter.SingleToInt32Bits), Is.EqualTo(expected.Select(BitConverter.SingleToInt32Bits)));
    }

    [Test]
    public void Fp8_conversions_match_the_reference_and_known_values()
    {
        var all = Enumerable.Range(0, 256).Select(i => (byte)i).ToArray();
        var expected = new float[256];
        var actual = new float[256];
        Reference.ConvertF8E4M3(all, expected);
        Simd.ConvertF8E4M3(all, actual);
        Assert.That(actual.Select(BitConverter.SingleToInt32Bits), Is.EqualTo(expected.Select(BitConverter.SingleToInt32Bits)));
        Assert.That(actual[0x7E], Is.EqualTo(448f), "E4M3 max");
        Assert.That(actual[0x38], Is.EqualTo(1f));
        Assert.That(actual[0x01], Is.EqualTo(MathF.Pow(2, -9)), "smallest subnormal");
        Assert.That(actual[0x7F], Is.NaN);

        Reference.ConvertF8E5M2(all, expected);
        Simd.ConvertF8E5M2(all, actual);
        Assert.That(actual.Select(BitConverter.SingleToInt32Bits), Is.EqualTo(expected.Select(BitConverter.SingleToInt32Bits)));
        Assert.That(actual[0x7B], Is.EqualTo(57344f), "E5M2 max");
        Assert.That(actual[0x3C], Is.EqualTo(1f));
        Assert.That(actual[0x7C], Is.EqualTo(float.PositiveInfinity));
    }

    [Test]
    public void Gram_accumulation_matches_the_reference([Values(0, 1, 2, 3, 17, 32, 33)] int k)
    {
        var expected = new double[k * k];
        var actual = new double[k * k];
        for (var row = 0; row < 5; row++)
        {
            var x = Random(k, row + (k * 10));
            Reference.AccumulateGram(x, expected);
            Simd.AccumulateGram(x, actual);
        }

        Assert.That(actual, Is.EqualTo(expected).Within(1e-5));
    }

    [Test]
    public void Blocked_gram_matches_the_reference([Values(0, 1, 2, 4, 5, 9, 32)] int k, [Values(0, 1, 3, 16, 64, 257)] int rows)
    {
        var columns = Random(k * rows, (k * 1000) + rows);
        var expected = new double[k * k];
        var actual = new double[k * k];
        Reference.AccumulateGramColumns(columns, k, expected);
        Simd.AccumulateGramColumns(columns, k, actual);
        Assert.That(actual, Is.EqualTo(expected).Within(1e-4));
    }
}
