namespace ProvenanceGate.Tests.Bom;

/// <summary>Every bad input is a PG error naming the file, exit code 2, and no output file.</summary>
public sealed class BomBadInputTests
{
    private static void AssertFails(TempDirectory temp, string model, string code, string named, string? declaration = null)
    {
        var output = temp.Combine("out", "bom.cdx.json");
        var args = new List<string> { "bom", model, "-o", output, "--timestamp", "0" };
        if (declaration is not null)
            args.AddRange(["--declaration", declaration]);
        var result = Cli.Run([.. args]);
        Assert.That(result.ExitCode, Is.EqualTo(2), result.Stderr);
        Assert.That(result.Stderr, Does.Contain($"error {code}:"));
        Assert.That(result.Stderr, Does.Contain(named));
        Assert.That(result.Stderr, Does.Not.Contain("   at "));
        Assert.That(File.Exists(output), Is.False);
        Assert.That(Directory.Exists(temp.Combine("out")) && Directory.EnumerateFiles(temp.Combine("out")).Any(), Is.False);
    }

    [Test]
    public void Missing_directory()
    {
        using var temp = new TempDirectory();
        AssertFails(temp, temp.Combine("nope"), "PG0003", "nope");
    }

    [Test]
    public void Directory_without_model_files()
    {
        using var temp = new TempDirectory();
        Directory.CreateDirectory(temp.Combine("empty"));
        File.WriteAllText(temp.Combine("empty", "notes.txt"), "hi");
        AssertFails(temp, temp.Combine("empty"), "PG1005", "empty");
    }

    [Test]
    public void Malformed_config_json()
    {
        using var temp = new TempDirectory();
        var model = BomTestModels.Create(temp.Combine("m"));
        File.WriteAllText(Path.Combine(model, "config.json"), "{ \"hidden_size\": 16, ");
        AssertFails(temp, model, "PG1001", "config.json");
    }

    [Test]
    public void Config_json_that_is_not_an_object()
    {
        using var temp = new TempDirectory();
        var model = BomTestModels.Create(temp.Combine("m"));
        File.WriteAllText(Path.Combine(model, "config.json"), "[1, 2]");
        AssertFails(temp, model, "PG1001", "config.json");
    }

    [Test]
    public void Malformed_front_matter()
    {
        using var temp = new TempDirectory();
        var model = BomTestModels.Create(temp.Combine("m"));
        File.WriteAllText(Path.Combine(model, "README.md"), "---\nlicense: [apache-2.0\nbase_model: x\n---\n# card\n");
        AssertFails(temp, model, "PG1002", "README.md");
    }

    [Test]
    public void Unclosed_front_matter()
    {
        using var temp = new TempDirectory();
        var model = BomTestModels.Create(temp.Combine("m"));
        File.WriteAllText(Path.Combine(model, "README.md"), "---\nlicense: mit\n# card\n");
        AssertFails(temp, model, "PG1002", "README.md");
    }

    [Test]
    public void Malformed_safetensors_header()
    {
        using var temp = new TempDirectory();
        var model = BomTestModels.Create(temp.Combine("m"));
        var weights = Path.Combine(model, "model.safetensors");
        var bytes = File.ReadAllBytes(weights);
        bytes[8] = (byte)'X'; // first byte of the JSON header
        File.WriteAllBytes(weights, bytes);
        AssertFails(temp, model, "PG3001", "model.safetensors");
    }

    [Test]
    public void Index_pointing_at_a_missing_shard()
    {
        using var temp = new TempDirectory();
        var model = BomTestModels.Create(temp.Combine("m"), shards: 2);
        File.Delete(Path.Combine(model, "model-00002-of-00002.safetensors"));
        AssertFails(temp, model, "PG3002", "model.safetensors.index.json");
    }

    [Test]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void Unreadable_weights_file()
    {
        if (Environment.UserName == "root")
            Assert.Ignore("file permissions do not stop root (or Windows ACLs work differently)");
        using var temp = new TempDirectory();
        var model = BomTestModels.Create(temp.Combine("m"));
        var weights = Path.Combine(model, "model.safetensors");
        File.SetUnixFileMode(weights, UnixFileMode.None);
        try
        {
            AssertFails(temp, model, "PG0007", "model.safetensors");
        }
        finally
        {
            File.SetUnixFileMode(weights, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
    }

    [Test]
    public void Weights_file_that_cannot_be_opened()
    {
        // A dangling symlink cannot be read, not even by root.
        using var temp = new TempDirectory();
        var model = BomTestModels.Create(temp.Combine("m"));
        File.CreateSymbolicLink(Path.Combine(model, "extra.bin"), temp.Combine("gone.bin"));
        var result = Cli.Run("bom", model, "--timestamp", "0");
        Assert.That(result.ExitCode, Is.EqualTo(2));
        Assert.That(result.Stderr, Does.Match("error PG0002:.*extra.bin"));
        Assert.That(result.Stdout, Is.Empty);
    }

    [Test]
    public void Declaration_with_an_unknown_key_names_file_key_and_line()
    {
        using var temp = new TempDirectory();
        var model = BomTestModels.Create(temp.Combine("m"));
        var declaration = BomTestModels.WriteDeclaration(temp.Combine("provenance.yaml"), "schemaVersion: 1\nmodel:\n  name: x\n  licence: MIT\n");
        AssertFails(temp, model, "PG1004", "provenance.yaml", declaration);
        var result = Cli.Run("bom", model, "--declaration", declaration);
        Assert.That(result.Stderr, Does.Contain("provenance.yaml(4): error PG1004:"));
        Assert.That(result.Stderr, Does.Contain("'licence'"));
    }

    [Test]
    public void Json_declaration_with_an_unknown_top_level_key()
    {
        using var temp = new TempDirectory();
        var model = BomTestModels.Create(temp.Combine("m"));
        var declaration = BomTestModels.WriteDeclaration(temp.Combine("provenance.json"), "{\"schemaVersion\": 1, \"trainig\": {}}");
        AssertFails(temp, model, "PG1004", "provenance.json", declaration);
    }

    [TestCase("model: {name: x}\n", "schemaVersion")]
    [TestCase("schemaVersion: 2\n", "schemaVersion 2")]
    [TestCase("schemaVersion: 1\nbaseModels:\n  - id: a/b\n    relation: cousin\n", "cousin")]
    [TestCase("schemaVersion: 1\ntraining: {method: magic}\n", "magic")]
    [TestCase("schemaVersion: 1\napprovals:\n  - approver: bob\n    date: yesterday\n", "yesterday")]
    [TestCase("schemaVersion: 1\ndatasets:\n  - name: d\n    containsPii: maybe\n", "maybe")]
    [TestCase("schemaVersion: [1\n", "YAML")]
    [TestCase("schemaVersion: 1\ntraining:\n  energy: {consumptionKwh: lots, provider: x}\n", "lots")]
    [TestCase("schemaVersion: 1\ntraining:\n  energy: {consumptionKwh: 1, provider: x, energySource: hamsters}\n", "hamsters")]
    public void Invalid_declarations(string text, string mentioned)
    {
        using var temp = new TempDirectory();
        var model = BomTestModels.Create(temp.Combine("m"));
        var declaration = BomTestModels.WriteDeclaration(temp.Combine("provenance.yaml"), text);
        AssertFails(temp, model, "PG1003", "provenance.yaml", declaration);
        Assert.That(Cli.Run("bom", model, "--declaration", declaration).Stderr, Does.Contain(mentioned));
    }

    [Test]
    public void Missing_declaration_file()
    {
        using var temp = new TempDirectory();
        var model = BomTestModels.Create(temp.Combine("m"));
        AssertFails(temp, model, "PG0002", "absent.yaml", temp.Combine("absent.yaml"));
    }

    [Test]
    public void Bad_timestamp_leaves_no_output()
    {
        using var temp = new TempDirectory();
        var model = BomTestModels.Create(temp.Combine("m"));
        var output = temp.Combine("bom.json");
        var result = Cli.Run("bom", model, "-o", output, "--timestamp", "yesterday");
        Assert.That(result.ExitCode, Is.EqualTo(2));
        Assert.That(result.Stderr, Does.Contain("PG0008"));
        Assert.That(File.Exists(output), Is.False);
    }

    [Test]
    public void Unsupported_spec_version_is_a_usage_error()
    {
        using var temp = new TempDirectory();
        var model = BomTestModels.Create(temp.Combine("m"));
        var result = Cli.Run("bom", model, "--spec-version", "1.4");
        Assert.That(result.ExitCode, Is.EqualTo(2));
        Assert.That(result.Stderr, Does.Contain("PG0001"));
    }

    [Test]
    public void Output_inside_the_model_directory_is_not_listed_in_the_next_bom()
    {
        using var temp = new TempDirectory();
        var model = BomTestModels.Create(temp.Combine("m"));
        var output = Path.Combine(model, "model.cdx.json");
        Assert.That(Cli.Run("bom", model, "-o", output, "--timestamp", "0").ExitCode, Is.EqualTo(0));
        var first = File.ReadAllText(output);
        Assert.That(Cli.Run("bom", model, "-o", output, "--timestamp", "0").ExitCode, Is.EqualTo(0));
        Assert.That(File.ReadAllText(output), Is.EqualTo(first));
        Assert.That(first, Does.Not.Contain("model.cdx.json"));
    }
}
