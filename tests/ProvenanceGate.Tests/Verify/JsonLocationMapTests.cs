using System.Text;
using ProvenanceGate.Verification;

namespace ProvenanceGate.Tests.Verify;

public sealed class JsonLocationMapTests
{
    [Test]
    public void Pointers_map_to_the_line_and_column_of_their_token()
    {
        var json = "{\n  \"a\": 1,\n  \"list\": [\n    {\"x/y\": \"é\", \"b\": true},\n    [2, 3]\n  ]\n}\n";
        var map = JsonLocationMap.Build(Encoding.UTF8.GetBytes(json));
        Assert.That(map.Find(""), Is.EqualTo((1, 1)));
        Assert.That(map.Find("/a"), Is.EqualTo((2, 3)));
        Assert.That(map.Find("/list/0"), Is.EqualTo((4, 5)));
        Assert.That(map.Find("/list/0/x~1y"), Is.EqualTo((4, 6)));
        Assert.That(map.Find("/list/0/b"), Is.EqualTo((4, 18)), "columns count characters, not UTF-8 bytes (19 in bytes)");
        Assert.That(map.Find("/list/1/1"), Is.EqualTo((5, 9)));
        Assert.That(map.Find("/list/7/nothing"), Is.EqualTo((3, 3)), "a missing pointer falls back to its nearest existing ancestor");
    }
}
