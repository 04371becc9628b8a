using System.Text.Json;
using ProvenanceGate.Fingerprinting;
using ProvenanceGate.Models;

namespace ProvenanceGate.Tests.Fingerprinting;

public sealed class FingerprintCliTests
{
    private static readonly string[] OnlyBase = ["dev-base"];
    private static readonly string[] BaseAndSharded = ["dev-base", "dev-sharded"];

    private static string Model(string name) => RepoPaths.TestData("trained", "models", name);

    [Test]
    public void Fingerprint_file_round_trips_and_is_deterministic()
    {
        using var temp = new TempDirectory();
        var first = temp.Combine("a.fingerprint.json");
        var second = temp.Combine("b.fingerprint.json");
        Assert.That(Cli.Run("fingerprint", "--no-cache", Model("dev-sharded"), "-o", first).ExitCode, Is.EqualTo(0));
        Assert.That(Cli.Run("fingerprint", "--no-cache", Model("dev-sharded"), "-o", second).ExitCode, Is.EqualTo(0));
        Assert.That(File.ReadAllBytes(first), Is.EqualTo(File.ReadAllBytes(second)));

        var read = FingerprintFile.Read(first);
        Assert.That(read.SchemaVersion, Is.EqualTo(ModelFingerprint.CurrentSchemaVersion));
        Assert.That(read.Name, Is.EqualTo("dev-sharded"));
        Assert.That(read.Files.Select(f => f.Path), Does.Contain("config.json").And.Contain("model-00001-of-00002.safetensors"));
        Assert.That(read.Config!.ArchHash, Has.Length.EqualTo(64));
        Assert.That(new FileInfo(first).Length, Is.LessThan(200_000));
        var direct = Fingerprinter.FromModelDirectory(Model("dev-sharded"));
        Assert.That(LineageComparer.Compare(read, direct).Score, Is.GreaterThan(0.99));
    }

    [Test]
    public void The_contract_prepared_beside_serialisations_covers_every_type_and_changes_no_byte()
    {
        // The fingerprint command prepares the contract on a pool thread whose failure nobody observes: a type the
        // source-generated context does not hold would throw there, so it is called here directly too.
        var fingerprint = Fingerprinter.FromModelDirectory(Model("dev-base"));
        var expected = FingerprintFile.Serialize(fingerprint);
        var texts = new string[8];
        Parallel.For(0, texts.Length, i =>
        {
            if (i % 2 == 0)
                FingerprintFile.PrepareContract();
            texts[i] = FingerprintFile.Serialize(fingerprint);
        });
        Assert.That(texts, Is.All.EqualTo(expected));
        Assert.That(FingerprintFile.Parse(System.Text.Encoding.UTF8.GetBytes(expected), "dev-base.fingerprint.json").Weights!.Layers, Has.Count.EqualTo(fingerprint.Weights!.Layers.Count));
    }

    [TestCase(2)]
    [TestCase(3)]
    [TestCase(4)]
    public void Older_schema_files_are_refused_with_PG3016_saying_how_to_regenerate(int version)
    {
        using var temp = new TempDirectory();
        var current = temp.Combine("current.fingerprint.json");
        Assert.That(Cli.Run("fingerprint", "--no-cache", Model("dev-base"), "-o", current).ExitCode, Is.EqualTo(0));
        // Schemas 2 and 3 held residual-coordinate Grams (a rotated copy escapes them), schema 4 another tensor hash
        // (an identical copy would pass unrecognised): none is compared.
        var older = temp.Combine("older.fingerprint.json");
        File.WriteAllText(older, File.ReadAllText(current).Replace($"\"schemaVersion\":{ModelFingerprint.CurrentSchemaVersion}", $"\"schemaVersion\":{version}", StringComparison.Ordinal));
        var compare = Cli.Run("compare", current, older);
        Assert.That(compare.ExitCode, Is.EqualTo(Diagnostics.ExitCodes.InputError), compare.Stderr);
        Assert.That(compare.Stderr, Does.Contain("error PG3016").And.Contain($"schema version {version}")
            .And.Contain("dotnet provenance fingerprint <model-dir> -o older.fingerprint.json"));
        Assert.That(compare.Stderr, Does.Not.Contain("   at "));
    }

    [Test]
    public void Compare_exit_codes_follow_the_verdict()
    {
        using var temp = new TempDirectory();
        var base_ = temp.Combine("base.fingerprint.json");
        Cli.Run("fingerprint", "--no-cache", Model("dev-base"), "-o", base_);

        var derived = Cli.Run("compare", "--no-cache", base_, Model("dev-permuted"));
        Assert.That(derived.ExitCode, Is.EqualTo(0), derived.Stderr);
        Assert.That(derived.Stdout, Does.Contain("derived"));

        var independent = Cli.Run("compare", "--no-cache", base_, Model("dev-twin"), "--format", "json");
        Assert.That(independent.ExitCode, Is.EqualTo(1));
        Assert.That(independent.Stderr, Does.Contain("PG3008"));
        using var json = JsonDocument.Parse(independent.Stdout);
        Assert.That(json.RootElement.GetProperty("verdict").GetString(), Is.EqualTo("independent"));
        Assert.That(json.RootElement.GetProperty("signals").EnumerateArray().Select(s => s.GetProperty("name").GetString()), Does.Contain("residual-gram"));
    }

    [Test]
    public void Metadata_only_model_is_insufficient_evidence_exit_1()
    {
        using var temp = new TempDirectory();
        File.Copy(Path.Combine(Model("dev-base"), "config.json"), temp.Combine("config.json"));
        File.Copy(Path.Combine(Model("dev-base"), "tokenizer.json"), temp.Combine("tokenizer.json"));
        var result = Cli.Run("compare", "--no-cache", temp.Path, Model("dev-base"));
        Assert.That(result.ExitCode, Is.EqualTo(1));
        Assert.That(result.Stdout, Does.Contain("insufficient-evidence"));
        Assert.That(result.Stderr, Does.Contain("PG3009"));
    }

    [Test]
    public void Scan_ranks_weight_matches_from_the_db_above_catalogue_look_alikes()
    {
        using var temp = new TempDirectory();
        var db = temp.Combine("db");
        Directory.CreateDirectory(db);
        foreach (var name in new[] { "dev-base", "dev-twin", "dev-neox" })
            Assert.That(Cli.Run("fingerprint", "--no-cache", Model(name), "-o", Path.Combine(db, name + ".fingerprint.json")).ExitCode, Is.EqualTo(0));

        var result = Cli.Run("scan", "--no-cache", Model("dev-permuted"), "--db", db, "--format", "json");
        Assert.That(result.ExitCode, Is.EqualTo(0), result.Stderr);
        using var json = JsonDocument.Parse(result.Stdout);
        var matches = json.RootElement.GetProperty("matches").EnumerateArray().ToList();
        Assert.That(matches, Has.Count.EqualTo(1));
        Assert.That(matches[0].GetProperty("name").GetString(), Is.EqualTo("dev-base"));
        Assert.That(matches[0].GetProperty("kind").GetString(), Is.EqualTo("derived"));
    }

    [Test]
    public void Scan_index_is_persisted_reused_and_rebuilt_when_damaged()
    {
        using var temp = new TempDirectory();
        var db = temp.Combine("db");
        Directory.CreateDirectory(db);
        foreach (var name in new[] { "dev-base", "dev-twin" })
            FingerprintFile.Write(Path.Combine(db, name + FingerprintFile.Extension), TrainedFixtureTests.Fingerprint(name));
        var query = TrainedFixtureTests.Fingerprint("dev-ft");
        var catalogue = ReferenceCatalogue.LoadBundled();

        Assert.That(Scanner.Scan(query, catalogue, db, 3).Select(m => m.Name), Is.EqualTo(OnlyBase));
        var indexFile = Path.Combine(db, ScanIndex.IndexFileName);
        Assert.That(File.Exists(indexFile), Is.True);
        var written = File.GetLastWriteTimeUtc(indexFile);

        // Unchanged directory: the index is reused as is.
        Assert.That(Scanner.Scan(query, catalogue, db, 3).Select(m => m.Name), Is.EqualTo(OnlyBase));
        Assert.That(File.GetLastWriteTimeUtc(indexFile), Is.EqualTo(written));

        // Damaged index: ignored and rebuilt; a new file is picked up.
        File.WriteAllText(indexFile, "garbage");
        FingerprintFile.Write(Path.Combine(db, "dev-sharded" + FingerprintFile.Extension), TrainedFixtureTests.Fingerprint("dev-sharded"));
        Assert.That(Scanner.Scan(query, catalogue, db, 3).Select(m => m.Name), Is.EquivalentTo(BaseAndSharded));
        Assert.That(ScanIndex.LoadDirectory(db).Count, Is.EqualTo(3));
    }

    [Test]
    public void Scan_identifies_a_catalogued_architecture_from_metadata()
    {
        var catalogue = ReferenceCatalogue.LoadBundled();
        var entry = catalogue.Entries.First(e => e.ModelId == "Llama-3.2-1B");
        using var temp = new TempDirectory();
        File.WriteAllText(temp.Combine("config.json"), JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["model_type"] = entry.ModelType, ["architectures"] = entry.Architectures, ["hidden_size"] = entry.HiddenSize,
            ["num_hidden_layers"] = entry.Layers, ["num_attention_heads"] = entry.AttentionHeads, ["num_key_value_heads"] = entry.KeyValueHeads,
            ["intermediate_size"] = entry.IntermediateSize, ["vocab_size"] = entry.VocabSize, ["max_position_embeddings"] = entry.MaxPositionEmbeddings,
        }));
        var result = Cli.Run("scan", "--no-cache", temp.Path, "--top", "3");
        Assert.That(result.ExitCode, Is.EqualTo(0), result.Stderr);
        Assert.That(result.Stdout, Does.Contain("same-architecture").And.Contain("Llama-3.2-1B").And.Contain("metadata only"));
    }
}
