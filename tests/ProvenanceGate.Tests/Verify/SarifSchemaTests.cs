using System.Text.Json;
using System.Text.Json.Nodes;
using ProvenanceGate.Bom;
using ProvenanceGate.Verification;

namespace ProvenanceGate.Tests.Verify;

/// <summary>SARIF output validated against the official OASIS SARIF 2.1.0 schema (TestData/sarif) with the project's own JSON Schema validator.</summary>
public sealed class SarifSchemaTests
{
    private static (JsonSchemaValidator Validator, string Id) Schema()
    {
        var schema = JsonNode.Parse(File.ReadAllText(RepoPaths.TestData("sarif", "sarif-schema-2.1.0.json")))!.AsObject();
        // Draft-04 names the schema with "id"; the validator registers by the draft-07 "$id". Nothing else differs for this schema.
        schema["$id"] = schema["id"]!.GetValue<string>();
        var validator = new JsonSchemaValidator();
        using var document = JsonDocument.Parse(schema.ToJsonString());
        return (validator, validator.Register(document.RootElement));
    }

    private static IReadOnlyList<SchemaError> Validate(string sarif)
    {
        var (validator, id) = Schema();
        using var document = JsonDocument.Parse(sarif);
        return validator.Validate(document.RootElement, id);
    }

    [Test]
    public void The_schema_oracle_rejects_invalid_sarif()
    {
        Assert.That(Validate("""{ "version": "2.1.0", "runs": [ { "tool": { "driver": { "name": "x" } }, "results": [ { "level": "fatal", "message": { "text": "m" } } ] } ] }"""),
            Is.Not.Empty, "an unknown level fails the enum");
        Assert.That(Validate("""{ "version": "2.1.0", "runs": [ { "tool": { "driver": { "name": "x" } }, "results": [ { "message": {} } ] } ] }"""),
            Is.Not.Empty, "a message needs text or id");
        Assert.That(Validate("""{ "version": "2.1.0", "runs": [ { "tool": { "driver": { "name": "x" } }, "results": [] } ] }"""), Is.Empty);
    }

    [Test]
    public void Failing_and_passing_gate_reports_are_valid_sarif_2_1_0()
    {
        using var temp = new TempDirectory();
        var model = HandBom.CreateModel(temp.Combine("model"));
        var policy = temp.Combine("policy.yaml");
        File.WriteAllText(policy, "schemaVersion: 1\nextends: baseline\nsignature: {required: false}\nexceptions:\n  - code: PG4081\n    expires: 2027-01-01\n    reason: migration\n");
        var clean = new HandBom(model).Write(temp.Combine("clean.cdx.json"));
        var failing = new HandBom(model).Ancestor("meta-llama/Llama-3.1-8B").AddFile("../escape.bin", new string('0', 64));
        failing.Model.Remove("version");
        var failingPath = failing.Write(temp.Combine("failing bom.cdx.json"));
        File.WriteAllBytes(Path.Combine(model, "pytorch_model.bin"), PickleBuilder.OsSystem());

        foreach (var bom in new[] { clean, failingPath })
        {
            var report = Gate.Verify(new GateOptions { BomPath = bom, PolicyReference = policy, ModelDirectory = model, Now = TamperFixture.Now });
            var sarif = ReportWriters.Write(report, "sarif");
            var errors = Validate(sarif);
            Assert.That(errors, Is.Empty, string.Join("\n", errors.Select(e => $"{e.InstancePath}: {e.Message} [{e.Keyword}]")));
            Assert.That(JsonNode.Parse(sarif)!["runs"]![0]!["results"]!.AsArray(), Has.Count.EqualTo(report.Diagnostics.Count));
        }
    }
}
