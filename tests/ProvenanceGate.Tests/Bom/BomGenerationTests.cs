using System.Text.Json.Nodes;
using ProvenanceGate.Bom;
using ProvenanceGate.Formats.Safetensors;

namespace ProvenanceGate.Tests.Bom;

public sealed class BomGenerationTests
{
    private static JsonObject Generate(string model, string? declaration = null, string specVersion = "1.5", string timestamp = "2026-01-01T00:00:00Z")
    {
        var args = new List<string> { "bom", model, "--spec-version", specVersion, "--timestamp", timestamp };
        if (declaration is not null)
            args.AddRange(["--declaration", declaration]);
        var result = Cli.Run([.. args]);
        Assert.That(result.ExitCode, Is.EqualTo(0), result.Stderr);
        return JsonNode.Parse(result.Stdout)!.AsObject();
    }

    private static JsonObject Model(JsonObject bom) =>
        bom["components"]!.AsArray().Select(c => c!.AsObject()).Single(c => c["type"]!.GetValue<string>() == "machine-learning-model");

    private static string? Property(JsonObject component, string name) =>
        component["properties"]?.AsArray().Select(p => p!.AsObject()).FirstOrDefault(p => p["name"]!.GetValue<string>() == name)?["value"]?.GetValue<string>();

    private static Dictionary<string, string> FileHashes(JsonObject model) =>
        model["components"]!.AsArray().Select(c => c!.AsObject())
            .ToDictionary(c => c["name"]!.GetValue<string>(), c => c["hashes"]![0]!["content"]!.GetValue<string>());

    [TestCase(1, SafetensorsDType.F32, "1.5")]
    [TestCase(3, SafetensorsDType.F16, "1.6")]
    [TestCase(2, SafetensorsDType.BF16, "1.7")]
    public void Generated_boms_pass_our_validator(int shards, SafetensorsDType dtype, string specVersion)
    {
        using var temp = new TempDirectory();
        var model = BomTestModels.Create(temp.Combine("m"), shards, dtype);
        var declaration = BomTestModels.WriteDeclaration(temp.Combine("provenance.yaml"));
        var bom = Generate(model, declaration, specVersion);
        var json = bom.ToJsonString();
        Assert.That(BomValidator.Validate(json, "bom.json"), Is.Empty);
        Assert.That(bom["specVersion"]!.GetValue<string>(), Is.EqualTo(specVersion));
        Assert.That(bom["serialNumber"]!.GetValue<string>(), Does.Match("^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"));
        var files = FileHashes(Model(bom)).Keys.ToList();
        Assert.That(files, Is.EqualTo(files.Order(StringComparer.Ordinal).ToList()));
        Assert.That(files.Count(f => f.EndsWith(".safetensors", StringComparison.Ordinal)), Is.EqualTo(shards));
        Assert.That(files.Contains("model.safetensors.index.json"), Is.EqualTo(shards > 1));
        Assert.That(Property(Model(bom), "provenancegate:weights:dtypes"), Is.EqualTo(dtype.ToString()));
    }

    [Test]
    public void Hashes_equal_sha256sum_and_one_changed_byte_changes_exactly_that_hash()
    {
        using var temp = new TempDirectory();
        var model = BomTestModels.Create(temp.Combine("m"), shards: 3);
        var before = FileHashes(Model(Generate(model)));

        var sha256sum = ExternalProcess.Run("sha256sum", before.Keys, model);
        Assert.That(sha256sum.ExitCode, Is.EqualTo(0), sha256sum.Output);
        var expected = sha256sum.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split("  ", 2)).ToDictionary(parts => parts[1], parts => parts[0]);
        Assert.That(before, Is.EquivalentTo(expected));

        var shard = Path.Combine(model, "model-00002-of-00003.safetensors");
        var bytes = File.ReadAllBytes(shard);
        bytes[^1] ^= 0x01; // inside tensor data: the header stays valid
        File.WriteAllBytes(shard, bytes);
        var after = FileHashes(Model(Generate(model)));
        var changed = before.Keys.Where(k => before[k] != after[k]).ToList();
        Assert.That(changed, Is.EqualTo(new List<string> { "model-00002-of-00003.safetensors" }));
    }

    [Test]
    public void Same_inputs_give_byte_identical_boms_and_the_serial_tracks_content()
    {
        using var temp = new TempDirectory();
        var model = BomTestModels.Create(temp.Combine("m"), shards: 2);
        var declaration = BomTestModels.WriteDeclaration(temp.Combine("provenance.yaml"));
        var first = Cli.Run("bom", model, "--declaration", declaration, "--timestamp", "1700000000");
        var second = Cli.Run("bom", model, "--declaration", declaration, "--timestamp", "1700000000");
        Assert.That(second.Stdout, Is.EqualTo(first.Stdout));
        var later = Cli.Run("bom", model, "--declaration", declaration, "--timestamp", "1700000001");
        var serial = (string r) => JsonNode.Parse(r)!["serialNumber"]!.GetValue<string>();
        Assert.That(serial(later.Stdout), Is.Not.EqualTo(serial(first.Stdout)));
        Assert.That(JsonNode.Parse(first.Stdout)!["metadata"]!["timestamp"]!.GetValue<string>(), Is.EqualTo("2023-11-14T22:13:20Z"));
    }

    [Test]
    public void Source_date_epoch_pins_the_timestamp_and_marks_the_bom_reproducible()
    {
        using var temp = new TempDirectory();
        var model = BomTestModels.Create(temp.Combine("m"));
        var builder = new AiBomBuilder("1.6");
        builder.AddModel(model);
        var bom = builder.BuildDocument(null, name => name == "SOURCE_DATE_EPOCH" ? "86400" : null);
        Assert.That(bom["metadata"]!["timestamp"]!.GetValue<string>(), Is.EqualTo("1970-01-02T00:00:00Z"));
        Assert.That(bom["metadata"]!["properties"]![0]!["name"]!.GetValue<string>(), Is.EqualTo("cdx:reproducible"));
        var unpinned = builder.BuildDocument(null, _ => null);
        Assert.That(unpinned["metadata"]!["properties"], Is.Null);
    }

    [Test]
    public void Card_config_and_declaration_fill_the_model_component_with_sources()
    {
        using var temp = new TempDirectory();
        var model = BomTestModels.Create(temp.Combine("m"), dtype: SafetensorsDType.F16);
        var declaration = BomTestModels.WriteDeclaration(temp.Combine("provenance.yaml"));
        var bom = Generate(model, declaration);
        var component = Model(bom);

        Assert.That(component["purl"]!.GetValue<string>(), Is.EqualTo("pkg:huggingface/acme/tiny@0123456789abcdef0123456789abcdef01234567"));
        Assert.That(component["name"]!.GetValue<string>(), Is.EqualTo("tiny"));
        Assert.That(component["group"]!.GetValue<string>(), Is.EqualTo("acme"));
        Assert.That(component["version"]!.GetValue<string>(), Is.EqualTo("2.0.0"));
        Assert.That(component["licenses"]![0]!["license"]!["id"]!.GetValue<string>(), Is.EqualTo("Apache-2.0"));
        Assert.That(component["supplier"]!["name"]!.GetValue<string>(), Is.EqualTo("ACME"));

        var parameters = component["modelCard"]!["modelParameters"]!;
        Assert.That(parameters["task"]!.GetValue<string>(), Is.EqualTo("text-generation"));
        Assert.That(parameters["architectureFamily"]!.GetValue<string>(), Is.EqualTo("llama"));
        Assert.That(parameters["modelArchitecture"]!.GetValue<string>(), Is.EqualTo("LlamaForCausalLM"));
        Assert.That(parameters["approach"]!["type"]!.GetValue<string>(), Is.EqualTo("supervised"));
        Assert.That(parameters["datasets"]![0]!["ref"]!.GetValue<string>(), Is.EqualTo("dataset:acme/instructions@1"));
        Assert.That(component["modelCard"]!["quantitativeAnalysis"]!["performanceMetrics"]![0]!["value"]!.GetValue<string>(), Is.EqualTo("0.5"));

        Assert.That(Property(component, "provenancegate:source:license"), Is.EqualTo("README.md#front-matter"));
        Assert.That(Property(component, "provenancegate:source:modelArchitecture"), Is.EqualTo("config.json"));
        Assert.That(Property(component, "provenancegate:source:supplier"), Is.EqualTo("declaration"));
        Assert.That(Property(component, "cdx:ai-ml:model:hyperparameter:context_length"), Is.EqualTo("512"));
        Assert.That(Property(component, "cdx:ai-ml:model:hyperparameter:hidden_size"), Is.EqualTo("16"));
        Assert.That(Property(component, "cdx:ai-ml:model:hyperparameter:quantization"), Is.EqualTo("f16"));
        Assert.That(Property(component, "cdx:ai-ml:model:parameter:tune_method"), Is.EqualTo("lora"));
        Assert.That(Property(component, "cdx:ai-ml:model:language"), Is.EqualTo("en,de"));
        Assert.That(Property(component, "cdx:ai-ml:tokenizer:hyperparameter:vocab_size"), Is.EqualTo("64"));
        Assert.That(Property(component, "provenancegate:approval:1:approver"), Is.EqualTo("alice@acme.example"));
        Assert.That(Property(component, "provenancegate:approval:1:review-by"), Is.EqualTo("2027-04-10"));
        Assert.That(Property(component, "provenancegate:use:prohibited"), Is.EqualTo("medical advice"));

        var spec = new Models.SyntheticModelSpec { VocabSize = 64, HiddenSize = 16, IntermediateSize = 32, Layers = 2 };
        var expectedParameters = Models.SyntheticModel.CreateTensors(spec).Sum(t => t.ElementCount);
        Assert.That(Property(component, "provenancegate:weights:parameter-count"), Is.EqualTo(expectedParameters.ToString(System.Globalization.CultureInfo.InvariantCulture)));
    }

    [Test]
    public void Lineage_datasets_and_training_are_in_pedigree_dependencies_and_formulation()
    {
        using var temp = new TempDirectory();
        var model = BomTestModels.Create(temp.Combine("m"));
        var declaration = BomTestModels.WriteDeclaration(temp.Combine("provenance.yaml"));
        var bom = Generate(model, declaration);
        var component = Model(bom);
        var modelRef = component["bom-ref"]!.GetValue<string>();

        var ancestor = component["pedigree"]!["ancestors"]![0]!.AsObject();
        Assert.That(ancestor["purl"]!.GetValue<string>(), Is.EqualTo("pkg:huggingface/acme/base-7b@89abcdef0123456789abcdef0123456789abcdef"));
        Assert.That(ancestor["hashes"]![0]!["content"]!.GetValue<string>(), Is.EqualTo(new string('1', 64)));
        Assert.That(Property(ancestor, "provenancegate:lineage:relation"), Is.EqualTo("fine-tune"));

        var dependencies = bom["dependencies"]!.AsArray().Select(d => d!.AsObject()).ToDictionary(d => d["ref"]!.GetValue<string>(), d => d["dependsOn"]!.AsArray().Select(x => x!.GetValue<string>()).ToList());
        Assert.That(dependencies[modelRef], Is.EquivalentTo((string[])[ancestor["bom-ref"]!.GetValue<string>(), "dataset:acme/instructions@1"]));

        var dataset = bom["components"]!.AsArray().Select(c => c!.AsObject()).Single(c => c["type"]!.GetValue<string>() == "data");
        Assert.That(dataset["data"]![0]!["type"]!.GetValue<string>(), Is.EqualTo("dataset"));
        Assert.That(dataset["licenses"]![0]!["license"]!["id"]!.GetValue<string>(), Is.EqualTo("CC-BY-4.0"));
        Assert.That(Property(dataset, "provenancegate:dataset:consent-basis"), Is.EqualTo("contract"));
        Assert.That(Property(dataset, "provenancegate:dataset:contains-pii"), Is.EqualTo("false"));

        var workflow = bom["formulation"]![0]!["workflows"]![0]!.AsObject();
        Assert.That(workflow["timeStart"]!.GetValue<string>(), Is.EqualTo("2026-10-01T00:00:00Z"));
        Assert.That(workflow["outputs"]![0]!["resource"]!["ref"]!.GetValue<string>(), Is.EqualTo(modelRef));
        Assert.That(Property(workflow, "provenancegate:training:seed:init"), Is.EqualTo("42"));
    }

    [Test]
    public void Symlinked_files_as_in_the_hugging_face_cache_are_hashed_and_sized_by_their_target()
    {
        using var temp = new TempDirectory();
        // The cache's layout: models--org--name/snapshots/REV/file links into models--org--name/blobs/.
        var blobs = BomTestModels.Create(temp.Combine("models--acme--tiny", "blobs"), shards: 2);
        var snapshot = temp.Combine("models--acme--tiny", "snapshots", "rev");
        Directory.CreateDirectory(snapshot);
        foreach (var file in Directory.GetFiles(blobs))
            File.CreateSymbolicLink(Path.Combine(snapshot, Path.GetFileName(file)), file);
        var linked = Model(Generate(snapshot));
        var direct = Model(Generate(blobs));
        Assert.That(FileHashes(linked), Is.EqualTo(FileHashes(direct)));
        Assert.That(Property(linked, "provenancegate:weights:total-bytes"), Is.EqualTo(Property(direct, "provenancegate:weights:total-bytes")));
    }

    [Test]
    public void Energy_is_environmental_considerations_from_1_6_and_properties_always()
    {
        using var temp = new TempDirectory();
        var model = BomTestModels.Create(temp.Combine("m"));
        var declaration = BomTestModels.WriteDeclaration(temp.Combine("provenance.yaml"));
        var v15 = Model(Generate(model, declaration, "1.5"));
        Assert.That(v15["modelCard"]!["considerations"]?["environmentalConsiderations"], Is.Null);
        Assert.That(Property(v15, "provenancegate:energy:kwh"), Is.EqualTo("12.5"));
        var v16 = Model(Generate(model, declaration, "1.6"));
        var consumption = v16["modelCard"]!["considerations"]!["environmentalConsiderations"]!["energyConsumptions"]![0]!;
        Assert.That(consumption["activity"]!.GetValue<string>(), Is.EqualTo("training"));
        Assert.That(consumption["activityEnergyCost"]!["value"]!.GetValue<decimal>(), Is.EqualTo(12.5m));
        Assert.That(consumption["co2CostEquivalent"]!["unit"]!.GetValue<string>(), Is.EqualTo("tCO2eq"));
        Assert.That(consumption["energyProviders"]![0]!["energySource"]!.GetValue<string>(), Is.EqualTo("solar"));
    }

    [Test]
    public void A_json_declaration_means_the_same_as_its_yaml()
    {
        using var temp = new TempDirectory();
        var model = BomTestModels.Create(temp.Combine("m"));
        var yaml = BomTestModels.WriteDeclaration(temp.Combine("yaml", "provenance"));
        var yamlNode = new YamlDotNet.Serialization.DeserializerBuilder().Build().Deserialize<object>(File.ReadAllText(yaml));
        var json = temp.Combine("json", "provenance");
        Directory.CreateDirectory(temp.Combine("json"));
        File.WriteAllText(json, System.Text.Json.JsonSerializer.Serialize(yamlNode));
        Assert.That(Generate(model, json).ToJsonString(), Is.EqualTo(Generate(model, yaml).ToJsonString()));
    }

    [TestCase("llama3", """{"license":{"name":"llama3"}}""")]
    [TestCase("MIT OR Apache-2.0", """{"expression":"MIT OR Apache-2.0"}""")]
    [TestCase("cc-by-nc-4.0", """{"license":{"id":"CC-BY-NC-4.0"}}""")]
    [TestCase("LicenseRef-acme", """{"expression":"LicenseRef-acme"}""")]
    public void Licences_become_ids_expressions_or_names(string license, string expected)
    {
        var choice = ModelBomGenerator.LicenseChoice(license)!;
        Assert.That(choice[0]!.ToJsonString(), Is.EqualTo(expected));
    }

    [Test]
    public void Sample_model_gives_a_valid_bom_with_its_base_model()
    {
        var sample = RepoPaths.InRepo("samples", "models", "sample-finetune");
        var bom = Generate(sample, Path.Combine(sample, "provenance.yaml"), "1.6");
        Assert.That(BomValidator.Validate(bom.ToJsonString(), null), Is.Empty);
        var component = Model(bom);
        Assert.That(component["pedigree"]!["ancestors"]![0]!["name"]!.GetValue<string>(), Is.EqualTo("dev-base"));
        Assert.That(FileHashes(component)["model.safetensors"], Is.EqualTo("c95e204ff9f49e9902617d9583ec726337f1bf2d1887db8b0025bd4e0098dec8"));
        Assert.That(FileHashes(component).Keys, Does.Not.Contain("provenance.yaml"));
    }

    [Test]
    public void Ai_bom_links_application_libraries_and_models()
    {
        using var temp = new TempDirectory();
        var model = BomTestModels.Create(temp.Combine("m"));
        var builder = new AiBomBuilder("1.6").WithApplication(new ApplicationComponent("MyApp", "1.2.3"));
        builder.AddLibrary(new LibraryComponent("YamlDotNet", "16.3.0") { License = "MIT", Sha512Base64 = Convert.ToBase64String(new byte[64]), DependsOn = ["pkg:nuget/Dep@1.0.0"] });
        builder.AddLibrary(new LibraryComponent("Dep", "1.0.0") { IsDirect = false, Scope = LibraryScope.Optional, LicenseName = "Dep EULA", LicenseUrl = "https://dep.example/eula" });
        var part = builder.AddModel(model, new ModelOptions { Name = "override", Version = "9", BaseModel = "org/base", License = "llama3" });
        builder.AddModel(model, new ModelOptions { Name = "override", Version = "9", BaseModel = "org/base", License = "llama3" });
        var json = builder.Build("2026-01-01T00:00:00Z");
        Assert.That(BomValidator.Validate(json, null), Is.Empty);
        var bom = JsonNode.Parse(json)!.AsObject();
        Assert.That(bom["metadata"]!["component"]!["name"]!.GetValue<string>(), Is.EqualTo("MyApp"));
        var app = bom["dependencies"]!.AsArray().Single(d => d!["ref"]!.GetValue<string>() == "app:MyApp@1.2.3")!;
        Assert.That(app["dependsOn"]!.AsArray().Select(x => x!.GetValue<string>()), Is.EquivalentTo((string[])["pkg:nuget/YamlDotNet@16.3.0", part.ModelRef]));
        var library = bom["components"]!.AsArray().Single(c => c!["name"]!.GetValue<string>() == "YamlDotNet")!;
        Assert.That(library["hashes"]![0]!["content"]!.GetValue<string>(), Is.EqualTo(new string('0', 128)));
        var dep = bom["components"]!.AsArray().Single(c => c!["name"]!.GetValue<string>() == "Dep")!;
        Assert.That(dep["licenses"]![0]!.ToJsonString(), Is.EqualTo("""{"license":{"name":"Dep EULA","url":"https://dep.example/eula"}}"""));
        Assert.That(dep["scope"]!.GetValue<string>(), Is.EqualTo("optional"));
        var modelComponent = Model(bom);
        Assert.That(modelComponent["name"]!.GetValue<string>(), Is.EqualTo("override"));
        Assert.That(modelComponent["licenses"]![0]!["license"]!["name"]!.GetValue<string>(), Is.EqualTo("llama3"));
        Assert.That(Property(modelComponent, "provenancegate:source:license"), Is.EqualTo("options"));
        Assert.That(modelComponent["pedigree"]!["ancestors"]!.AsArray().Select(a => a!["name"]!.GetValue<string>()), Is.EqualTo((string[])["base"]));
    }

    [Test]
    public void Two_fine_tunes_of_one_base_keep_every_bom_ref_unique()
    {
        using var temp = new TempDirectory();
        var first = BomTestModels.Create(temp.Combine("first"));
        var second = BomTestModels.Create(temp.Combine("second"), shards: 2);
        var builder = new AiBomBuilder("1.6").WithApplication(new ApplicationComponent("MyApp", "1.0.0"));
        var a = builder.AddModel(first, new ModelOptions { Name = "chat-a", Version = "1", BaseModel = "org/base" });
        var b = builder.AddModel(second, new ModelOptions { Name = "chat-b", Version = "1", BaseModel = "org/base" });
        var json = builder.Build("2026-01-01T00:00:00Z");

        Assert.That(BomValidator.Validate(json, null), Is.Empty);
        var bom = JsonNode.Parse(json)!.AsObject();
        var ancestors = bom["components"]!.AsArray()
            .Where(c => c!["type"]!.GetValue<string>() == "machine-learning-model")
            .Select(c => c!["pedigree"]!["ancestors"]![0]!)
            .ToList();
        Assert.That(ancestors, Has.Count.EqualTo(2));
        Assert.That(ancestors.Select(x => x["name"]!.GetValue<string>()), Is.All.EqualTo("base"));
        Assert.That(ancestors.Count(x => x["bom-ref"] is not null), Is.EqualTo(1), "exactly one copy of the base keeps the bom-ref");
        var baseRef = ancestors.Single(x => x["bom-ref"] is not null)["bom-ref"]!.GetValue<string>();
        foreach (var model in new[] { a.ModelRef, b.ModelRef })
        {
            var edges = bom["dependencies"]!.AsArray().Single(d => d!["ref"]!.GetValue<string>() == model)!["dependsOn"]!.AsArray();
            Assert.That(edges.Select(e => e!.GetValue<string>()), Does.Contain(baseRef), $"{model} depends on the base");
        }
    }
}
