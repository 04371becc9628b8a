using System.Text.Json.Nodes;
using ProvenanceGate.Bom;

namespace ProvenanceGate.Tests.Bom;

public sealed class BomValidatorTests
{
    private static string ValidBom(string specVersion = "1.6")
    {
        using var temp = new TempDirectory();
        var model = BomTestModels.Create(temp.Combine("m"));
        var declaration = BomTestModels.WriteDeclaration(temp.Combine("provenance.yaml"));
        var builder = new AiBomBuilder(specVersion);
        builder.AddModel(model, new ModelOptions { DeclarationPath = declaration });
        return builder.Build("2026-01-01T00:00:00Z");
    }

    private static string Mutate(string json, Action<JsonObject> change)
    {
        var bom = JsonNode.Parse(json)!.AsObject();
        change(bom);
        return AiBomBuilder.Serialize(bom);
    }

    private static JsonObject Model(JsonObject bom) => bom["components"]![0]!.AsObject();

    [Test]
    public void A_generated_bom_is_clean()
    {
        Assert.That(BomValidator.Validate(ValidBom(), "bom.json"), Is.Empty);
    }

    [Test]
    public void Schema_errors_carry_code_pointer_and_line()
    {
        var json = Mutate(ValidBom(), bom => Model(bom)["type"] = "neural-network");
        var diagnostics = BomValidator.Validate(json, "bom.json");
        var diagnostic = diagnostics.First(d => d.Code == "PG1011");
        Assert.That(diagnostic.Message, Does.StartWith("/components/0/type:"));
        Assert.That(diagnostic.File, Is.EqualTo("bom.json"));
        var expectedLine = json.Split('\n').ToList().FindIndex(l => l.Contains("\"neural-network\"", StringComparison.Ordinal)) + 1;
        Assert.That(diagnostic.Line, Is.EqualTo(expectedLine));
    }

    [Test]
    public void Duplicate_bom_refs_are_reported()
    {
        var json = Mutate(ValidBom(), bom => bom["components"]![1]!["bom-ref"] = Model(bom)["bom-ref"]!.GetValue<string>());
        Assert.That(BomValidator.Validate(json, null).Select(d => d.Code), Does.Contain("PG1012"));
    }

    [Test]
    public void Dangling_dependency_dataset_and_formulation_refs_are_reported()
    {
        var json = Mutate(ValidBom(), bom =>
        {
            bom["dependencies"]![0]!["dependsOn"]!.AsArray().Add("pkg:nuget/Ghost@1.0.0");
            Model(bom)["modelCard"]!["modelParameters"]!["datasets"]![0]!["ref"] = "dataset:ghost";
            bom["formulation"]![0]!["workflows"]![0]!["outputs"]![0]!["resource"]!["ref"] = "ghost-model";
        });
        var messages = BomValidator.Validate(json, null).Where(d => d.Code == "PG1013").Select(d => d.Message).ToList();
        Assert.That(messages, Has.Some.Contains("Ghost@1.0.0"));
        Assert.That(messages, Has.Some.Contains("dataset:ghost"));
        Assert.That(messages, Has.Some.Contains("ghost-model"));
    }

    [Test]
    public void Bom_links_are_not_dangling()
    {
        var json = Mutate(ValidBom(), bom => bom["dependencies"]![0]!["dependsOn"]!.AsArray().Add("urn:cdx:3e671687-395b-41f5-a30f-a58921a69b79/1#base"));
        Assert.That(BomValidator.Validate(json, null), Is.Empty);
    }

    [TestCase("Apache-2.0 AND NOT-A-LICENSE")]
    [TestCase("MIT or Apache-2.0")]
    [TestCase("(MIT")]
    public void Bad_spdx_expressions_are_reported(string expression)
    {
        var json = Mutate(ValidBom(), bom => Model(bom)["licenses"] = new JsonArray(new JsonObject { ["expression"] = expression }));
        Assert.That(BomValidator.Validate(json, null).Select(d => d.Code), Is.EqualTo((string[])["PG1014"]));
    }

    [Test]
    public void Model_card_on_a_library_is_reported()
    {
        var json = Mutate(ValidBom(), bom => bom["components"]![1]!["modelCard"] = new JsonObject());
        Assert.That(BomValidator.Validate(json, null).Select(d => d.Code), Does.Contain("PG1015"));
    }

    [Test]
    public void Hash_length_must_fit_the_algorithm()
    {
        var json = Mutate(ValidBom(), bom => Model(bom)["components"]![0]!["hashes"]![0]!["alg"] = "SHA-512");
        Assert.That(BomValidator.Validate(json, null).Select(d => d.Code), Is.EqualTo((string[])["PG1016"]));
    }

    [Test]
    public void Semantic_checks_catch_what_the_upstream_schema_fixture_gets_away_with()
    {
        // valid-formulation-1.6.json passes the schema (see SchemaValidatorTests) but refers to 'component-a',
        // which no component declares.
        var file = RepoPaths.TestData("cyclonedx-examples", "1.6", "valid-formulation-1.6.json");
        var diagnostics = BomValidator.Validate(File.ReadAllText(file), file);
        Assert.That(diagnostics.Select(d => d.Code).Distinct(), Is.EqualTo((string[])["PG1013"]));
        Assert.That(diagnostics, Has.All.Property("Line").GreaterThan(1));
    }

    [Test]
    public void Validate_command_exit_codes_and_json_format()
    {
        using var temp = new TempDirectory();
        var good = temp.Combine("good.json");
        File.WriteAllText(good, ValidBom("1.5"));
        var ok = Cli.Run("validate", good);
        Assert.That(ok.ExitCode, Is.EqualTo(0), ok.Stderr);

        var bad = temp.Combine("bad.json");
        File.WriteAllText(bad, Mutate(ValidBom("1.5"), bom => bom["version"] = 0));
        var failed = Cli.Run("validate", bad, "--format", "json");
        Assert.That(failed.ExitCode, Is.EqualTo(1));
        var report = JsonNode.Parse(failed.Stdout)!;
        Assert.That(report["valid"]!.GetValue<bool>(), Is.False);
        Assert.That(report["diagnostics"]![0]!["code"]!.GetValue<string>(), Is.EqualTo("PG1011"));
        Assert.That(report["diagnostics"]![0]!["message"]!.GetValue<string>(), Does.StartWith("/version:"));

        var notJson = temp.Combine("broken.json");
        File.WriteAllText(notJson, "{\n  \"bomFormat\": ");
        var broken = Cli.Run("validate", notJson);
        Assert.That(broken.ExitCode, Is.EqualTo(2));
        Assert.That(broken.Stderr, Does.Contain("PG1010"));

        var oldVersion = temp.Combine("old.json");
        File.WriteAllText(oldVersion, """{"bomFormat":"CycloneDX","specVersion":"1.2"}""");
        Assert.That(Cli.Run("validate", oldVersion).Stderr, Does.Contain("PG1006"));
        Assert.That(Cli.Run("validate", temp.Combine("missing.json")).ExitCode, Is.EqualTo(2));
    }
}
