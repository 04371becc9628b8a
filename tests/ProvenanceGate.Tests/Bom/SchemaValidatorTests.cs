using System.Text.Json;
using ProvenanceGate.Bom;

namespace ProvenanceGate.Tests.Bom;

public sealed class SchemaValidatorTests
{
    private static IEnumerable<TestCaseData> Examples() =>
        Directory.EnumerateFiles(Path.Combine(TestContext.CurrentContext.TestDirectory, "TestData", "cyclonedx-examples"), "*.json", SearchOption.AllDirectories)
            .Order(StringComparer.Ordinal)
            .Select(f => new TestCaseData(f).SetName("Upstream example " + Path.GetFileName(f)));

    [TestCaseSource(nameof(Examples))]
    public void Upstream_examples_valid_pass_and_invalid_fail(string file)
    {
        using var document = JsonDocument.Parse(File.ReadAllBytes(file));
        var specVersion = Path.GetFileName(Path.GetDirectoryName(file))!;
        var errors = BomValidator.ValidateSchema(document.RootElement, specVersion);
        if (Path.GetFileName(file).StartsWith("valid-", StringComparison.Ordinal))
            Assert.That(errors, Is.Empty, string.Join("\n", errors));
        else
            Assert.That(errors, Is.Not.Empty);
    }

    [Test]
    public void Upstream_examples_are_all_there()
    {
        var files = Directory.GetFiles(RepoPaths.TestData("cyclonedx-examples"), "*.json", SearchOption.AllDirectories);
        Assert.That(files, Has.Length.EqualTo(41));
    }

    [TestCase("bom-1.5.schema.json", "2d956c1d05c09269")]
    [TestCase("bom-1.6.schema.json", "18f57f7482593bad")]
    [TestCase("bom-1.7.schema.json", "73308edec3ab2d38")]
    [TestCase("spdx.schema.json", "ea6e844ee6fba1e9")]
    [TestCase("jsf-0.82.schema.json", "8bae002c25e723db")]
    [TestCase("cryptography-defs.schema.json", "027b059a729a06d5")]
    public void Embedded_schemas_are_the_upstream_files_byte_for_byte(string file, string sha256Prefix)
    {
        // Upstream commit e02a34ae of CycloneDX/specification; never edit these, re-copy them.
        var digest = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(CycloneDxSchemas.ReadResource(file)));
        Assert.That(digest, Does.StartWith(sha256Prefix));
    }

    private static IReadOnlyList<SchemaError> Check(string schemaJson, string instanceJson)
    {
        var validator = new JsonSchemaValidator();
        using var schema = JsonDocument.Parse(schemaJson);
        var id = validator.Register(schema.RootElement);
        using var instance = JsonDocument.Parse(instanceJson);
        return validator.Validate(instance.RootElement, id);
    }

    [TestCase("""{"type":"integer"}""", "3", true)]
    [TestCase("""{"type":"integer"}""", "3.0", true)]
    [TestCase("""{"type":"integer"}""", "3.5", false)]
    [TestCase("""{"type":["string","null"]}""", "null", true)]
    [TestCase("""{"enum":[1,"a",{"x":[1]}]}""", """{"x":[1.0]}""", true)]
    [TestCase("""{"enum":[1,"a"]}""", "\"b\"", false)]
    [TestCase("""{"const":"a"}""", "\"a\"", true)]
    [TestCase("""{"minLength":2,"maxLength":3}""", "\"\U0001F600\U0001F600\"", true)]
    [TestCase("""{"minLength":3}""", "\"\U0001F600\U0001F600\"", false)]
    [TestCase("""{"pattern":"^[a-f0-9]{4}$"}""", "\"beef\"", true)]
    [TestCase("""{"pattern":"^\\d+$"}""", "\"\u0663\"", false)]
    [TestCase("""{"pattern":"^[a-f0-9]{4}$"}""", "\"beef\\n\"", false)]
    [TestCase("""{"minimum":1,"exclusiveMaximum":5}""", "5", false)]
    [TestCase("""{"maximum":5,"exclusiveMinimum":1}""", "1", false)]
    [TestCase("""{"minItems":1,"maxItems":2,"uniqueItems":true}""", "[1, 1.0]", false)]
    [TestCase("""{"uniqueItems":true}""", """[{"a":1,"b":2},{"b":2,"a":1}]""", false)]
    [TestCase("""{"required":["a"],"properties":{"a":{"type":"string"}},"additionalProperties":false}""", """{"a":"x","b":1}""", false)]
    [TestCase("""{"patternProperties":{"^x-":{"type":"number"}},"additionalProperties":false}""", """{"x-a":1}""", true)]
    [TestCase("""{"patternProperties":{"^x-":{"type":"number"}},"additionalProperties":false}""", """{"x-a":"s"}""", false)]
    [TestCase("""{"oneOf":[{"type":"number"},{"minimum":0}]}""", "5", false)]
    [TestCase("""{"oneOf":[{"type":"number"},{"type":"string"}]}""", "5", true)]
    [TestCase("""{"anyOf":[{"type":"number"},{"type":"string"}]}""", "true", false)]
    [TestCase("""{"not":{"type":"string"}}""", "\"s\"", false)]
    [TestCase("""{"if":{"properties":{"a":{"const":1}}},"then":{"required":["b"]},"else":{"required":["c"]}}""", """{"a":1,"b":0}""", true)]
    [TestCase("""{"if":{"properties":{"a":{"const":1}}},"then":{"required":["b"]},"else":{"required":["c"]}}""", """{"a":2,"b":0}""", false)]
    [TestCase("""{"items":{"type":"string"}}""", """["a", 1]""", false)]
    [TestCase("""{"items":[{"type":"string"}],"additionalItems":false}""", """["a", 1]""", false)]
    [TestCase("""{"definitions":{"d":{"type":"string"}},"properties":{"p":{"$ref":"#/definitions/d"}}}""", """{"p":1}""", false)]
    [TestCase("""{"format":"date-time"}""", "\"2026-02-30T10:00:00Z\"", false)]
    [TestCase("""{"format":"date-time"}""", "\"2026-02-28T23:59:59.5+01:00\"", true)]
    [TestCase("""{"format":"date-time"}""", "\"2026-02-28 23:59:59\"", false)]
    [TestCase("""{"format":"idn-email"}""", "\"a@b.example\"", true)]
    [TestCase("""{"format":"idn-email"}""", "\"not an email\"", false)]
    [TestCase("""{"format":"uri"}""", "\"relative/path\"", false)]
    [TestCase("""{"format":"uri"}""", "\"https://example.com/a%20b\"", true)]
    [TestCase("""{"format":"iri-reference"}""", "\"has space\"", false)]
    [TestCase("""{"format":"iri-reference"}""", "\"urn:cdx:x/1#r\"", true)]
    public void Draft07_keywords(string schema, string instance, bool valid)
    {
        var withId = schema.Insert(1, "\"$id\":\"http://example.test/s.json\",");
        var errors = Check(withId, instance);
        Assert.That(errors.Count == 0, Is.EqualTo(valid), string.Join("\n", errors));
    }

    [Test]
    public void Cross_file_refs_resolve_by_id()
    {
        var validator = new JsonSchemaValidator();
        using var a = JsonDocument.Parse("""{"$id":"http://example.test/schema/a.json","properties":{"id":{"$ref":"b.json#/definitions/id"}}}""");
        using var b = JsonDocument.Parse("""{"$id":"http://example.test/schema/b.json","definitions":{"id":{"enum":["X"]}}}""");
        validator.Register(a.RootElement);
        validator.Register(b.RootElement);
        using var good = JsonDocument.Parse("""{"id":"X"}""");
        using var bad = JsonDocument.Parse("""{"id":"Y"}""");
        Assert.That(validator.Validate(good.RootElement, "http://example.test/schema/a.json"), Is.Empty);
        var errors = validator.Validate(bad.RootElement, "http://example.test/schema/a.json");
        Assert.That(errors.Single().InstancePath, Is.EqualTo("/id"));
        Assert.That(errors.Single().Keyword, Is.EqualTo("enum"));
    }
}
