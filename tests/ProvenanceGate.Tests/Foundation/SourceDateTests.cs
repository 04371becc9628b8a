using ProvenanceGate.Diagnostics;
using ProvenanceGate.IO;

namespace ProvenanceGate.Tests.Foundation;

public sealed class SourceDateTests
{
    [Test]
    public void Explicit_timestamp_wins_over_the_environment()
    {
        var value = SourceDate.Resolve("2024-05-06T07:08:09Z", _ => "0");
        Assert.That(SourceDate.Format(value), Is.EqualTo("2024-05-06T07:08:09Z"));
    }

    [Test]
    public void Source_date_epoch_is_used_when_set()
    {
        var value = SourceDate.Resolve(null, name => name == "SOURCE_DATE_EPOCH" ? "1700000000" : null);
        Assert.That(SourceDate.Format(value), Is.EqualTo("2023-11-14T22:13:20Z"));
    }

    [TestCase("yesterday")]
    [TestCase("-5")]
    public void Garbage_is_a_coded_error(string text)
    {
        var ex = Assert.Throws<ProvenanceException>(() => SourceDate.Resolve(null, _ => text))!;
        Assert.That(ex.Diagnostic.Code, Is.EqualTo("PG0008"));
    }
}
