using System.Text.Json.Nodes;
using ProvenanceGate.Bom;
using ProvenanceGate.Fingerprinting;
using ProvenanceGate.Formats.Gguf;

namespace ProvenanceGate.Tests.Gguf;

/// <summary>The paths users take with a GGUF: a BOM of a folder holding one, and fingerprint/compare/scan on the file itself.</summary>
public sealed class GgufCliAndBomTests
{
    private static string Model(string name) => RepoPaths.TestData("trained", "models", name);

    private static string? Property(JsonObject component, string name) =>
        component["properties"]?.AsArray().Select(p => p!.AsObject()).FirstOrDefault(p => p["name"]!.GetValue<string>() == name)?["value"]?.GetValue<string>();

    [Test]
    public void Bom_of_a_gguf_folder_has_its_metadata_facts_and_declared_base_in_pedigree()
    {
        using var temp = new TempDirectory();
        var folder = temp.Combine("dev-ft-gguf");
        Directory.CreateDirectory(folder);
        File.Copy(GgufFixtures.Trained("dev-ft", GgmlType.Q8_0, baseModel: "dev-base"), Path.Combine(folder, "dev-ft.Q8_0.gguf"));

        var result = Cli.Run("bom", folder, "--spec-version", "1.6", "--timestamp", "2026-01-01T00:00:00Z");
        Assert.That(result.ExitCode, Is.EqualTo(0), result.Stderr);
        var bom = JsonNode.Parse(result.Stdout)!.AsObject();
        Assert.That(BomValidator.Validate(result.Stdout, "bom.json"), Is.Empty);
        var model = bom["components"]!.AsArray().Select(c => c!.AsObject()).Single(c => c["type"]!.GetValue<string>() == "machine-learning-model");

        const string Source = "dev-ft.Q8_0.gguf#metadata";
        Assert.That(Property(model, "provenancegate:weights:format"), Is.EqualTo("gguf"));
        Assert.That(Property(model, "cdx:ai-ml:model:hyperparameter:quantization"), Is.EqualTo("Q8_0"));
        Assert.That(Property(model, "provenancegate:weights:dtypes"), Is.EqualTo("F16,F32"), "what the tensors really are (rows of 112 fell back to F16)");
        Assert.That(Property(model, "provenancegate:weights:parameter-count"), Is.EqualTo("1092112"));
        Assert.That(Property(model, "provenancegate:weights:tensor-count"), Is.EqualTo("30"));
        Assert.That(Property(model, "cdx:ai-ml:model:hyperparameter:hidden_size"), Is.EqualTo("112"));
        Assert.That(Property(model, "cdx:ai-ml:model:hyperparameter:num_key_value_heads"), Is.EqualTo("2"));
        Assert.That(Property(model, "cdx:ai-ml:model:hyperparameter:context_length"), Is.EqualTo("512"));
        Assert.That(Property(model, "provenancegate:gguf:general.quantization_version"), Is.EqualTo("2"));
        Assert.That(Property(model, "provenancegate:gguf:llama.rope.freq_base"), Is.EqualTo("10000"));
        Assert.That(Property(model, "provenancegate:gguf:tokenizer.ggml.tokens:count"), Is.EqualTo("3000"));
        Assert.That(Property(model, "cdx:ai-ml:tokenizer:hyperparameter:vocab_size"), Is.EqualTo("3000"));
        Assert.That(Property(model, "cdx:ai-ml:tokenizer:hyperparameter:bos_token"), Is.EqualTo("<s>"));
        Assert.That(Property(model, "provenancegate:tokenizer:model"), Is.EqualTo("llama"));
        Assert.That(Property(model, "provenancegate:source:hyperparameters"), Is.EqualTo(Source));
        Assert.That(Property(model, "provenancegate:source:tokenizer"), Is.EqualTo(Source));
        Assert.That(Property(model, "provenancegate:source:parameter-count"), Is.EqualTo("dev-ft.Q8_0.gguf#tensor-infos"));
        Assert.That(Property(model, "provenancegate:source:license"), Is.EqualTo(Source));
        Assert.That(model["licenses"]![0]!["license"]!["id"]!.GetValue<string>(), Is.EqualTo("Apache-2.0"));

        var ancestor = model["pedigree"]!["ancestors"]![0]!.AsObject();
        Assert.That(ancestor["name"]!.GetValue<string>(), Is.EqualTo("dev-base"));
        Assert.That(ancestor["group"]!.GetValue<string>(), Is.EqualTo("provenancegate"), "the Hugging Face id from general.base_model.0.repo_url");
        Assert.That(Property(ancestor, "provenancegate:source:base-model"), Is.EqualTo(Source));
    }

    [Test]
    public void Fingerprint_compare_and_scan_take_a_gguf_file()
    {
        using var temp = new TempDirectory();
        var gguf = GgufFixtures.Trained("dev-ft", GgmlType.Q4_K, baseModel: "dev-base");
        var output = temp.Combine("ft.fingerprint.json");

        var fingerprint = Cli.Run("fingerprint", gguf, "-o", output);
        Assert.That(fingerprint.ExitCode, Is.EqualTo(0), fingerprint.Stderr);
        Assert.That(FingerprintFile.Read(output).Name, Is.EqualTo("dev-ft.Q4_K"));

        var derived = Cli.Run("compare", Model("dev-base"), gguf);
        Assert.That(derived.ExitCode, Is.EqualTo(0), derived.Stdout + derived.Stderr);
        Assert.That(derived.Stdout, Does.Contain("derived"));

        var independent = Cli.Run("compare", Model("dev-twin"), gguf);
        Assert.That(independent.ExitCode, Is.EqualTo(1), independent.Stdout + independent.Stderr);

        var bases = temp.Combine("bases");
        Directory.CreateDirectory(bases);
        foreach (var name in new[] { "dev-base", "dev-twin" })
            Assert.That(Cli.Run("fingerprint", "--no-cache", Model(name), "-o", Path.Combine(bases, name + FingerprintFile.Extension)).ExitCode, Is.EqualTo(0));
        var scan = Cli.Run("scan", gguf, "--db", bases);
        Assert.That(scan.ExitCode, Is.EqualTo(0), scan.Stdout + scan.Stderr);
        var matches = scan.Stdout.Split('\n').Skip(1).Where(l => l.Contains("dev-", StringComparison.Ordinal)).ToList();
        Assert.That(matches, Has.Count.EqualTo(1), scan.Stdout);
        Assert.That(matches[0], Does.Contain("dev-base"), "the twin is not a match");
    }

    [Test]
    public void A_file_that_is_neither_a_model_nor_a_fingerprint_is_a_clear_error()
    {
        using var temp = new TempDirectory();
        var path = temp.Combine("notes.txt");
        File.WriteAllText(path, "hello");
        var result = Cli.Run("fingerprint", path);
        Assert.That(result.ExitCode, Is.EqualTo(2));
        Assert.That(result.Stderr, Does.Contain("error PG3007:").And.Contain("not a model file of a known format"));
    }
}
