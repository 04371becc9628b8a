using System.Text;
using System.Text.Json.Nodes;
using ProvenanceGate.IO;
using ProvenanceGate.Tests.Bom;
using ProvenanceGate.Tests.Verify;
using ProvenanceGate.Verification;

namespace ProvenanceGate.Tests.Foundation;

/// <summary>
/// Regression cases from the fuzzing of issue 14, each the input that once crashed, hung or ballooned the tool: every
/// one must now end, quickly, with a PG diagnostic, exit 1 or 2, no stack trace and no output file.
/// </summary>
public sealed class HostileInputTests
{
    // Generous: these take seconds (a minute for the biggest BOMs on a loaded machine); the bound only turns a hang into
    // a failure instead of a stuck suite. The quadratic versions of the fixed code took hours on the same inputs.
    private static readonly TimeSpan Bound = TimeSpan.FromMinutes(10);

    private static CliResult RunBounded(params string[] args) => Bounded(() => Cli.Run(args), string.Join(' ', args));

    private static T Bounded<T>(Func<T> work, string what)
    {
        var run = Task.Run(work);
        Assert.That(run.Wait(Bound), Is.True, $"'{what}' did not finish within {Bound.TotalMinutes} minutes");
        return run.Result;
    }

    private static void AssertError(CliResult result, string code, int exitCode = 2)
    {
        Assert.That(result.ExitCode, Is.EqualTo(exitCode), result.Stderr);
        Assert.That(result.Stderr, Does.Contain($"error {code}:"));
        Assert.That(result.Stderr, Does.Not.Contain("   at "));
        Assert.That(result.Stderr, Does.Not.Contain("PG0006"));
    }

    private static CliResult Bom(TempDirectory temp, string model, string? declaration = null)
    {
        var args = new List<string> { "bom", model, "-o", temp.Combine("out", "bom.cdx.json"), "--timestamp", "0" };
        if (declaration is not null)
            args.AddRange(["--declaration", declaration]);
        var result = RunBounded([.. args]);
        if (result.ExitCode != 0)
            Assert.That(File.Exists(temp.Combine("out", "bom.cdx.json")), Is.False, "no BOM is written on failure");
        return result;
    }

    private static string Nested(int depth) => new string('[', depth) + new string(']', depth);

    // ---- YAML nested thousands deep: a stack overflow killed the process ---------------------------------------

    [Test]
    public void Declaration_nested_thousands_deep_is_PG0015_not_a_stack_overflow()
    {
        using var temp = new TempDirectory();
        var model = BomTestModels.Create(temp.Combine("m"));
        var declaration = BomTestModels.WriteDeclaration(temp.Combine("provenance.yaml"), "schemaVersion: 1\nintendedUse: " + Nested(5000) + "\n");
        var result = Bom(temp, model, declaration);
        AssertError(result, "PG0015");
        Assert.That(result.Stderr, Does.Contain("provenance.yaml(2,"));
    }

    [Test]
    public void Block_style_declaration_nested_deeply_is_PG0015()
    {
        using var temp = new TempDirectory();
        var model = BomTestModels.Create(temp.Combine("m"));
        var text = new StringBuilder("schemaVersion: 1\nmodel:\n");
        for (var i = 1; i < 200; i++)
            text.Append(' ', i * 2).Append('k').Append(i).Append(":\n");
        var declaration = BomTestModels.WriteDeclaration(temp.Combine("provenance.yaml"), text.ToString());
        AssertError(Bom(temp, model, declaration), "PG0015");
    }

    [Test]
    public void Policy_nested_thousands_deep_is_PG0015_not_a_stack_overflow()
    {
        using var temp = new TempDirectory();
        var bom = new HandBom(HandBom.CreateModel(temp.Combine("model"))).Write(temp.Combine("bom.cdx.json"));
        var policy = temp.Combine("policy.yaml");
        File.WriteAllText(policy, "schemaVersion: 1\nignore: " + Nested(5000) + "\n");
        AssertError(RunBounded("verify", bom, "--policy", policy), "PG0015");
    }

    [Test]
    public void Policy_whose_aliases_expand_exponentially_is_refused()
    {
        using var temp = new TempDirectory();
        var bom = new HandBom(HandBom.CreateModel(temp.Combine("model"))).Write(temp.Combine("bom.cdx.json"));
        var text = new StringBuilder("schemaVersion: 1\na0: &a0 [x, x, x, x, x, x, x, x, x]\n");
        for (var i = 1; i < 10; i++)
            text.Append(System.Globalization.CultureInfo.InvariantCulture, $"a{i}: &a{i} [{string.Join(", ", Enumerable.Repeat($"*a{i - 1}", 9))}]\n");
        var policy = temp.Combine("policy.yaml");
        File.WriteAllText(policy, text.ToString());
        var result = RunBounded("verify", bom, "--policy", policy);
        AssertError(result, "PG4002");
        Assert.That(result.Stderr, Does.Contain("expands to more than"));
    }

    // ---- config.json that is a device or a FIFO: bom and verify grew past 4 GB ---------------------------------

    [Test]
    public void Config_json_linked_to_dev_zero_is_refused_by_bom_and_verify()
    {
        if (!File.Exists("/dev/zero"))
            Assert.Ignore("needs /dev/zero");
        using var temp = new TempDirectory();
        var model = BomTestModels.Create(temp.Combine("m"));
        Assert.That(Bom(temp, model).ExitCode, Is.EqualTo(0));
        var bom = temp.Combine("bom.cdx.json");
        File.Move(temp.Combine("out", "bom.cdx.json"), bom);

        File.Delete(Path.Combine(model, "config.json"));
        File.CreateSymbolicLink(Path.Combine(model, "config.json"), "/dev/zero");
        var generated = Bom(temp, model);
        Assert.That(generated.ExitCode, Is.EqualTo(2), generated.Stderr);
        Assert.That(generated.Stderr, Does.Contain("config.json"));
        Assert.That(generated.Stderr, Does.Match("error PG00(11|12):"));

        var verified = RunBounded("verify", bom, "--model-dir", model, "--policy", "baseline");
        Assert.That(verified.ExitCode, Is.Not.EqualTo(0), verified.Stderr);
        Assert.That(verified.Stderr, Does.Contain("config.json"));
        Assert.That(verified.Stderr, Does.Not.Contain("   at "));
    }

    [Test]
    public void Fifo_in_the_model_directory_is_PG0011_without_blocking()
    {
        using var temp = new TempDirectory();
        var model = BomTestModels.Create(temp.Combine("m"));
        File.Delete(Path.Combine(model, "config.json"));
        MakeFifo(Path.Combine(model, "config.json"));
        AssertError(Bom(temp, model), "PG0011");

        var fifo = temp.Combine("declaration.yaml");
        MakeFifo(fifo);
        AssertError(Bom(temp, BomTestModels.Create(temp.Combine("m2")), fifo), "PG0011");
    }

    [Test]
    public void Regular_files_directories_devices_and_fifos_are_told_apart()
    {
        using var temp = new TempDirectory();
        File.WriteAllText(temp.Combine("file"), "x");
        MakeFifo(temp.Combine("fifo"));
        File.CreateSymbolicLink(temp.Combine("link"), temp.Combine("file"));
        Assert.That(FileType.Of(temp.Combine("file")), Is.EqualTo(FileKind.Regular));
        Assert.That(FileType.Of(temp.Path), Is.EqualTo(FileKind.Directory));
        Assert.That(FileType.Of(temp.Combine("fifo")), Is.EqualTo(FileKind.Special));
        Assert.That(FileType.Of(temp.Combine("link")), Is.EqualTo(FileKind.Regular));
        Assert.That(FileType.Of(temp.Combine("link"), followLinks: false), Is.EqualTo(FileKind.SymbolicLink));
        Assert.That(FileType.Of(temp.Combine("missing")), Is.EqualTo(FileKind.Unknown));
        if (File.Exists("/dev/null"))
            Assert.That(FileType.Of("/dev/null"), Is.EqualTo(FileKind.Special));
    }

    private static void MakeFifo(string path)
    {
        if (OperatingSystem.IsWindows())
            Assert.Ignore("no FIFOs on Windows");
        using var process = System.Diagnostics.Process.Start("mkfifo", [path]);
        process.WaitForExit();
        Assert.That(process.ExitCode, Is.EqualTo(0), "mkfifo");
    }

    // ---- size limits ---------------------------------------------------------------------------------------------

    [Test]
    public void Inputs_over_their_size_limit_are_PG0010_before_being_read()
    {
        using var temp = new TempDirectory();
        var model = BomTestModels.Create(temp.Combine("m"));
        var declaration = temp.Combine("provenance.yaml");
        using (var stream = File.Create(declaration))
            stream.SetLength(InputLimit.Declaration.MaxBytes + 1); // sparse: no disk used
        var result = Bom(temp, model, declaration);
        AssertError(result, "PG0010");
        Assert.That(result.Stderr, Does.Contain("declaration"));

        var signature = temp.Combine("bom.sig");
        using (var stream = File.Create(signature))
            stream.SetLength(InputLimit.Signature.MaxBytes + 1);
        File.WriteAllText(temp.Combine("cosign.pub"), System.Security.Cryptography.ECDsa.Create().ExportSubjectPublicKeyInfoPem());
        AssertError(RunBounded("verify-signature", declaration, "--key", temp.Combine("cosign.pub"), "--signature", signature), "PG0010");
    }

    // ---- a BOM with 100,000 components or 500,000 properties: verify hung ----------------------------------------

    private static JsonObject GeneratedBom(TempDirectory temp)
    {
        var model = BomTestModels.Create(temp.Combine("m"));
        Assert.That(Bom(temp, model, BomTestModels.WriteDeclaration(temp.Combine("provenance.yaml"))).ExitCode, Is.EqualTo(0));
        return JsonNode.Parse(File.ReadAllText(temp.Combine("out", "bom.cdx.json")))!.AsObject();
    }

    [Test]
    public void Verify_of_a_minified_bom_with_100000_components_finishes()
    {
        using var temp = new TempDirectory();
        var bom = GeneratedBom(temp);
        var components = bom["components"]!.AsArray();
        for (var i = 0; i < 100_000; i++)
            components.Add(new JsonObject { ["type"] = "library", ["name"] = $"c{i}", ["bom-ref"] = $"ref-{i}", ["version"] = "1" });
        var path = temp.Combine("big.cdx.json");
        File.WriteAllText(path, bom.ToJsonString());
        var result = RunBounded("verify", path, "--policy", "baseline");
        Assert.That(result.ExitCode, Is.EqualTo(1), result.Stderr);
        Assert.That(result.Stderr, Does.Contain("PG4020"), "the gate ran to its checks (the BOM is unsigned)");
        Assert.That(result.Stderr, Does.Not.Contain("PG4010"), "100,000 distinct components are schema-valid");
    }

    [Test]
    public void Verify_of_a_bom_with_a_500000_element_property_array_finishes()
    {
        using var temp = new TempDirectory();
        var bom = GeneratedBom(temp);
        var properties = bom["components"]![0]!["properties"]!.AsArray();
        for (var i = 0; i < 500_000; i++)
            properties.Add(new JsonObject { ["name"] = $"p{i}", ["value"] = "v" });
        var path = temp.Combine("big.cdx.json");
        File.WriteAllText(path, bom.ToJsonString());
        var result = RunBounded("verify", path, "--policy", "baseline");
        Assert.That(result.ExitCode, Is.EqualTo(1), result.Stderr);
        Assert.That(result.Stderr, Does.Contain("PG4020"));
    }

    [Test]
    public void Unique_items_over_200000_items_compares_only_equal_hashes()
    {
        // 200,000 distinct objects: every pair compared was 2 x 10^10 comparisons.
        var items = string.Join(',', Enumerable.Range(0, 200_000).Select(i => $"{{\"name\":\"c{i}\",\"v\":{i % 7}}}"));
        using var instance = System.Text.Json.JsonDocument.Parse("[" + items + ",{\"v\":3.0,\"name\":\"c10\"}]");
        using var schema = System.Text.Json.JsonDocument.Parse("{\"$id\":\"urn:test\",\"uniqueItems\":true}");
        var validator = new ProvenanceGate.Bom.JsonSchemaValidator();
        var id = validator.Register(schema.RootElement);
        var errors = Bounded(() => validator.Validate(instance.RootElement, id), "uniqueItems over 200,000 items");
        Assert.That(errors.Select(e => e.Message).ToList(), Is.EqualTo(new List<string> { "items 10 and 200000 are equal; items must be unique" }),
            "equal by value: members in another order, 3.0 == 3");
    }

    [Test]
    public void Location_map_of_a_one_line_document_with_a_million_values_is_linear()
    {
        // Minified, as BOMs often are: columns were recounted from the line start for every token.
        var json = "{\"a\":[" + string.Join(',', Enumerable.Repeat("1", 1_000_000)) + "]}";
        var map = Bounded(() => JsonLocationMap.Build(Encoding.UTF8.GetBytes(json)), "location map of a million values on one line");
        Assert.That(map.Find("/a/999999"), Is.EqualTo((1, json.Length - 2)));
    }

    [Test]
    public void Unique_items_still_finds_equal_items_among_many()
    {
        using var temp = new TempDirectory();
        var bom = GeneratedBom(temp);
        var components = bom["components"]!.AsArray();
        var first = components.Count;
        for (var i = 0; i < 20_000; i++)
            components.Add(new JsonObject { ["type"] = "library", ["name"] = $"c{i}", ["version"] = "1" });
        // Equal to the first added item up to member order: uniqueItems compares values, not text.
        components.Add(new JsonObject { ["version"] = "1", ["name"] = "c0", ["type"] = "library" });
        var path = temp.Combine("dup.cdx.json");
        File.WriteAllText(path, bom.ToJsonString());
        var result = RunBounded("validate", path);
        Assert.That(result.ExitCode, Is.EqualTo(1), result.Stderr);
        Assert.That(result.Stderr, Does.Contain($"items {first} and {first + 20_000} are equal"));
    }

    // ---- invalid UTF-8 and lone surrogates: decoder InvalidOperationException -----------------------------------

    private static string WriteBytes(string path, string text, byte[]? insert = null)
    {
        var bytes = Encoding.UTF8.GetBytes(text).ToList();
        if (insert is not null)
            bytes.InsertRange(text.IndexOf('@', StringComparison.Ordinal), insert);
        File.WriteAllBytes(path, bytes.Where(b => b != (byte)'@').ToArray());
        return path;
    }

    [Test]
    public void Bom_with_invalid_utf8_is_PG0014_at_its_line_in_verify_validate_and_diff()
    {
        using var temp = new TempDirectory();
        var good = new HandBom(HandBom.CreateModel(temp.Combine("model"))).Write(temp.Combine("good.cdx.json"));
        var bad = WriteBytes(temp.Combine("bad.cdx.json"), "{\n  \"bomFormat\": \"CycloneDX\",\n  \"specVersion\": \"1.6\",\n  \"x\": \"a@b\"\n}", [0xC3, 0x28]);
        foreach (var args in new[] { new[] { "verify", bad }, ["validate", bad], ["diff", good, bad] })
        {
            var result = RunBounded(args);
            AssertError(result, "PG0014");
            Assert.That(result.Stderr, Does.Contain("bad.cdx.json(4,"), string.Join(' ', args));
        }
    }

    [Test]
    public void Bom_with_an_escaped_lone_surrogate_is_a_bom_error_in_verify_and_diff()
    {
        using var temp = new TempDirectory();
        var good = new HandBom(HandBom.CreateModel(temp.Combine("model"))).Write(temp.Combine("good.cdx.json"));
        var node = JsonNode.Parse(File.ReadAllText(good))!;
        var text = node.ToJsonString().Replace("\"tiny-ft\"", "\"tiny\\ud800ft\"", StringComparison.Ordinal);
        var bad = temp.Combine("bad.cdx.json");
        File.WriteAllText(bad, text);
        AssertError(RunBounded("verify", bad), "PG4001");
        AssertError(RunBounded("diff", good, bad), "PG4001");
        AssertError(RunBounded("validate", bad), "PG1010");
    }

    [Test]
    public void Bundle_and_envelope_with_lone_surrogates_or_invalid_utf8_are_bundle_errors()
    {
        using var temp = new TempDirectory();
        var artifact = temp.Combine("artifact.txt");
        File.WriteAllText(artifact, "hello");
        var key = temp.Combine("cosign.pub");
        File.WriteAllText(key, System.Security.Cryptography.ECDsa.Create().ExportSubjectPublicKeyInfoPem());

        var sigstore = temp.Combine("sigstore.json");
        File.WriteAllText(sigstore, "{\"mediaType\":\"application/vnd.dev.sigstore.bundle.v0.3+json\",\"verificationMaterial\":{\"publicKey\":{\"hint\":\"\\udc00\"}},\"messageSignature\":{\"signature\":\"AAAA\"}}");
        AssertError(RunBounded("verify-signature", artifact, "--key", key, "--bundle", sigstore), "PG2006");

        var envelope = temp.Combine("envelope.json");
        File.WriteAllText(envelope, "{\"payloadType\":\"application/vnd.in-toto+json\",\"payload\":\"e30=\",\"signatures\":[{\"sig\":\"\\ud800AAAA\"}]}");
        AssertError(RunBounded("verify-attestation", artifact, "--key", key, "--bundle", envelope), "PG2006");

        var legacy = WriteBytes(temp.Combine("legacy.json"), "{\"base64Signature\":\"AA@AA\"}", [0xFF]);
        AssertError(RunBounded("verify-signature", artifact, "--key", key, "--bundle", legacy), "PG0014");
    }

    [Test]
    public void Model_card_with_invalid_utf8_is_PG0014_at_its_line()
    {
        using var temp = new TempDirectory();
        var model = BomTestModels.Create(temp.Combine("m"));
        WriteBytes(Path.Combine(model, "README.md"), "---\nlicense: mit\n---\n# tiny @model\n", [0xED, 0xA0, 0x80]); // CESU-encoded surrogate
        var result = Bom(temp, model);
        AssertError(result, "PG0014");
        Assert.That(result.Stderr, Does.Contain("README.md(4,8)"));
    }

    [Test]
    public void Declaration_with_invalid_utf8_is_PG0014()
    {
        using var temp = new TempDirectory();
        var model = BomTestModels.Create(temp.Combine("m"));
        var declaration = WriteBytes(temp.Combine("provenance.yaml"), "schemaVersion: 1\nintendedUse: [@demos]\n", [0x80]);
        AssertError(Bom(temp, model, declaration), "PG0014");
    }

    // ---- malformed JSON reaching the location map --------------------------------------------------------------

    [Test]
    public void Location_map_keeps_what_it_mapped_before_malformed_json()
    {
        var map = JsonLocationMap.Build("{\"a\": 1,\n \"b\": [1, 2,, }"u8);
        Assert.That(map.Find("/a"), Is.EqualTo((1, 2)));
        Assert.That(JsonLocationMap.Build(Encoding.UTF8.GetBytes(Nested(300))).Find(""), Is.EqualTo((1, 1)));
        Assert.That(JsonLocationMap.Build("{\"\\ud800\": 1}"u8).Find(""), Is.EqualTo((1, 1)));
    }

    [Test]
    public void Location_map_columns_on_one_long_line_count_characters()
    {
        var map = JsonLocationMap.Build("{\"é\": 1, \"b\": [10, 20],\n\"c\": 3}"u8);
        Assert.That(map.Find("/b/1"), Is.EqualTo((1, 20)), "é is one column, not two bytes");
        Assert.That(map.Find("/c"), Is.EqualTo((2, 1)));
    }

    [Test]
    public void Bom_nested_deeper_than_the_reader_default_is_read_or_refused_cleanly()
    {
        using var temp = new TempDirectory();
        var path = temp.Combine("deep.cdx.json");
        File.WriteAllText(path, "{\"bomFormat\":\"CycloneDX\",\"specVersion\":\"1.6\",\"x\":" + Nested(100) + "}");
        var result = RunBounded("verify", path, "--policy", "baseline");
        Assert.That(result.ExitCode, Is.EqualTo(1), result.Stderr);
        Assert.That(result.Stderr, Does.Not.Contain("PG0006"));

        File.WriteAllText(path, "{\"x\":" + Nested(5000) + "}");
        AssertError(RunBounded("verify", path), "PG0015");
    }

    // ---- a base model listed twice -----------------------------------------------------------------------------

    [Test]
    public void Declaration_listing_the_same_base_model_twice_gives_one_ancestor()
    {
        using var temp = new TempDirectory();
        var model = BomTestModels.Create(temp.Combine("m"));
        var twice = BomTestModels.Declaration.Replace(
            "baseModels:\n",
            "baseModels:\n  - id: acme/base-7b\n    relation: fine-tune\n  - {id: acme/base-7b, relation: fine-tune}\n",
            StringComparison.Ordinal);
        Assert.That(twice, Is.Not.EqualTo(BomTestModels.Declaration));
        var result = Bom(temp, model, BomTestModels.WriteDeclaration(temp.Combine("provenance.yaml"), twice));
        Assert.That(result.ExitCode, Is.EqualTo(0), result.Stderr);
        var bom = JsonNode.Parse(File.ReadAllText(temp.Combine("out", "bom.cdx.json")))!;
        var ancestors = bom["components"]![0]!["pedigree"]!["ancestors"]!.AsArray();
        Assert.That(ancestors.Select(a => a!["name"]!.GetValue<string>()).ToList(), Is.EqualTo(new List<string> { "base-7b" }));
    }

    // ---- unusual names, links, loops and deep trees in the model directory --------------------------------------

    [Test]
    public void Unusual_file_names_in_the_model_directory_are_reported_not_thrown()
    {
        using var temp = new TempDirectory();
        var model = HandBom.CreateModel(temp.Combine("model"));
        var bom = new HandBom(model).Write(temp.Combine("bom.cdx.json"));
        foreach (var name in new[] { "back\\slash", "new\nline", " spaced ", "-dash", "ütf", "C:colon", "..." })
            File.WriteAllText(Path.Combine(model, name), "x");
        var result = RunBounded("verify", bom, "--model-dir", model, "--policy", "baseline");
        Assert.That(result.ExitCode, Is.EqualTo(1), result.Stderr);
        Assert.That(result.Stderr, Does.Contain("PG4032"));
        Assert.That(result.Stderr, Does.Contain("back\\slash"));
        Assert.That(result.Stderr, Does.Not.Contain("PG0006"));
    }

    [Test]
    public void Symlink_loop_is_PG0013_in_bom_and_an_escape_in_verify()
    {
        using var temp = new TempDirectory();
        var model = HandBom.CreateModel(temp.Combine("model"));
        var bom = new HandBom(model).Write(temp.Combine("bom.cdx.json"));
        File.CreateSymbolicLink(Path.Combine(model, "a.json"), "b.json");
        File.CreateSymbolicLink(Path.Combine(model, "b.json"), "a.json");
        AssertError(Bom(temp, model), "PG0013");
        var result = RunBounded("verify", bom, "--model-dir", model, "--policy", "baseline");
        Assert.That(result.ExitCode, Is.EqualTo(1), result.Stderr);
        Assert.That(result.Stderr, Does.Contain("PG4033"));
    }

    [Test]
    public void Directory_tree_deeper_than_the_limit_is_PG0013()
    {
        using var temp = new TempDirectory();
        var model = BomTestModels.Create(temp.Combine("m"));
        var deep = model;
        for (var i = 0; i <= ModelTree.MaxDepth + 1; i++)
            deep = Path.Combine(deep, "d");
        Directory.CreateDirectory(deep);
        File.WriteAllText(Path.Combine(deep, "leaf.txt"), "x");
        AssertError(Bom(temp, model), "PG0013");
    }

    [Test]
    public void Directory_link_loop_does_not_make_the_walk_endless()
    {
        using var temp = new TempDirectory();
        var model = BomTestModels.Create(temp.Combine("m"));
        Directory.CreateDirectory(Path.Combine(model, "sub"));
        Directory.CreateSymbolicLink(Path.Combine(model, "sub", "again"), model);
        var result = Bom(temp, model);
        Assert.That(result.ExitCode, Is.EqualTo(0), result.Stderr);
        var paths = JsonNode.Parse(File.ReadAllText(temp.Combine("out", "bom.cdx.json")))!["components"]![0]!["components"]!.AsArray()
            .Select(c => c!["name"]!.GetValue<string>()).ToList();
        Assert.That(paths, Has.None.Contains("again"));
    }

    [Test]
    public void Link_leading_outside_the_model_directory_is_PG0012()
    {
        using var temp = new TempDirectory();
        var model = BomTestModels.Create(temp.Combine("m"));
        File.WriteAllText(temp.Combine("secret.txt"), "not part of the model");
        File.CreateSymbolicLink(Path.Combine(model, "notes.txt"), Path.Combine("..", "secret.txt"));
        var result = Bom(temp, model);
        AssertError(result, "PG0012");
        Assert.That(result.Stderr, Does.Contain("notes.txt"));
    }

    [Test]
    public void Hugging_face_cache_snapshot_linking_into_blobs_makes_a_bom_that_verifies()
    {
        using var temp = new TempDirectory();
        var files = BomTestModels.Create(temp.Combine("download"), shards: 2);
        var repository = temp.Combine("hub", "models--acme--tiny");
        var snapshot = Path.Combine(repository, "snapshots", "0123456789abcdef0123456789abcdef01234567");
        Directory.CreateDirectory(Path.Combine(repository, "blobs"));
        Directory.CreateDirectory(snapshot);
        foreach (var file in Directory.GetFiles(files))
        {
            var blob = ProvenanceGate.Bom.FileHasher.Sha256(file);
            File.Copy(file, Path.Combine(repository, "blobs", blob), overwrite: true);
            File.CreateSymbolicLink(Path.Combine(snapshot, Path.GetFileName(file)), Path.Combine("..", "..", "blobs", blob));
        }

        var generated = Bom(temp, snapshot);
        Assert.That(generated.ExitCode, Is.EqualTo(0), generated.Stderr);
        var policy = temp.Combine("policy.yaml");
        File.WriteAllText(policy, "schemaVersion: 1\nextends: baseline\nsignature: {required: false}\n");
        var verified = RunBounded("verify", temp.Combine("out", "bom.cdx.json"), "--model-dir", snapshot, "--policy", policy, "--format", "json");
        Assert.That(verified.Stderr, Does.Not.Contain("PG4033"));
        Assert.That(verified.Stderr, Does.Not.Contain("PG4031"));
        Assert.That(verified.Stderr, Does.Not.Contain("PG4032"));
        Assert.That(JsonNode.Parse(verified.Stdout)!["checks"]!.AsArray().First(c => c!["id"]!.GetValue<string>() == "digests")!["status"]!.GetValue<string>(),
            Is.EqualTo("pass"));
    }

    [Test]
    public void Link_named_like_a_cache_but_escaping_its_blobs_is_PG0012()
    {
        using var temp = new TempDirectory();
        var files = BomTestModels.Create(temp.Combine("download"));
        var snapshot = temp.Combine("hub", "models--acme--tiny", "snapshots", "rev");
        Directory.CreateDirectory(snapshot);
        foreach (var file in Directory.GetFiles(files))
            File.CreateSymbolicLink(Path.Combine(snapshot, Path.GetFileName(file)), file);
        AssertError(Bom(temp, snapshot), "PG0012");
    }

    // ---- pickles: memory bounded however long the opcode stream --------------------------------------------------

    [Test]
    public void Pickle_memoizing_more_strings_than_the_limit_cannot_be_inspected()
    {
        var builder = new PickleBuilder().Proto(4);
        for (var i = 0; i <= (1 << 20); i++)
            builder.ShortUnicode(i.ToString("x", System.Globalization.CultureInfo.InvariantCulture));
        var result = ScanPickle(builder.Stop().ToArray());
        Assert.That(result.Error, Does.Contain("memo holds more than"));
    }

    [Test]
    public void Pickle_global_is_still_resolved_through_the_memo_after_a_long_stream()
    {
        // 100,000 pushes between memoizing the operands and STACK_GLOBAL: the bounded stack window must not lose them.
        var builder = new PickleBuilder().Proto(4).ShortUnicode("posix").ShortUnicode("system");
        for (var i = 0; i < 100_000; i++)
            builder.Op('K').Raw(1).Op(0x94);
        var bytes = builder.BinGet(0).BinGet(1).StackGlobal().Stop().ToArray();
        var result = ScanPickle(bytes);
        Assert.That(result.Error, Is.Null);
        Assert.That(result.CodeImports.Select(g => g.FullName).ToList(), Is.EqualTo(new List<string> { "posix.system" }));
    }

    private static ProvenanceGate.Verification.Pickle.PickleScanResult ScanPickle(byte[] bytes)
    {
        using var temp = new TempDirectory();
        var path = temp.Combine("weights.bin");
        File.WriteAllBytes(path, bytes);
        return Bounded(() => ProvenanceGate.Verification.Pickle.PickleScanner.Scan(path), "pickle scan");
    }
}
