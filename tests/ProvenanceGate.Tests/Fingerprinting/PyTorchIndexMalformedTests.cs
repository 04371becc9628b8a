namespace ProvenanceGate.Tests.Fingerprinting;

/// <summary>
/// A sharded <c>pytorch_model.bin.index.json</c> is input like any other: a shard path that leaves the model directory,
/// a shard that is missing, or a tensor its shard does not hold is PG3043 and exit 2, and nothing outside is read.
/// </summary>
public sealed class PyTorchIndexMalformedTests
{
    private const string Index = "pytorch_model.bin.index.json";

    private static IEnumerable<TestCaseData> BadIndexes()
    {
        yield return new TestCaseData("\"pytorch_model-00001-of-00002.bin\"", "\"../outside.bin\"", "not a file inside").SetName("PyTorch shard index naming a file outside the directory");
        yield return new TestCaseData("\"pytorch_model-00001-of-00002.bin\"", "\"/etc/passwd\"", "not a file inside").SetName("PyTorch shard index naming an absolute path");
        yield return new TestCaseData("\"pytorch_model-00001-of-00002.bin\"", "\"pytorch_model-00009-of-00009.bin\"", "does not exist").SetName("PyTorch shard index naming a missing shard");
        yield return new TestCaseData("\"pytorch_model-00001-of-00002.bin\"", "\"pytorch_model-00002-of-00002.bin\"", "does not contain").SetName("PyTorch shard index mapping a tensor to the wrong shard");
        yield return new TestCaseData("\"weight_map\": {", "\"weight_map\": [", "").SetName("PyTorch shard index whose weight_map is not an object");
    }

    [TestCaseSource(nameof(BadIndexes))]
    public void Malformed_shard_index_is_PG3043_with_exit_2(string find, string replace, string reason)
    {
        using var temp = new TempDirectory();
        var model = temp.Combine("model");
        Directory.CreateDirectory(model);
        foreach (var file in Directory.GetFiles(RepoPaths.TestData("pytorch", "dev-ft-bf16-sharded")))
            File.Copy(file, Path.Combine(model, Path.GetFileName(file)));
        File.WriteAllBytes(temp.Combine("outside.bin"), File.ReadAllBytes(Path.Combine(model, "pytorch_model-00001-of-00002.bin")));
        var index = Path.Combine(model, Index);
        var text = File.ReadAllText(index);
        var at = text.IndexOf(find, StringComparison.Ordinal);
        Assert.That(at, Is.GreaterThanOrEqualTo(0));
        File.WriteAllText(index, text[..at] + replace + text[(at + find.Length)..]);

        var result = Cli.Run("fingerprint", "--no-cache", model);
        Assert.That(result.ExitCode, Is.EqualTo(2), result.Stdout + result.Stderr);
        Assert.That(result.Stderr, Does.Contain("error PG3043").And.Contain(reason));
        Assert.That(result.Stdout, Is.Empty);
        Assert.That(result.Stderr, Does.Not.Contain("   at "), "no stack trace");
    }
}
