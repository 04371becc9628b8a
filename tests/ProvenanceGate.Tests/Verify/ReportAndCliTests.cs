using System.Text.Json.Nodes;
using System.Xml.Linq;
using System.Xml.Schema;
using ProvenanceGate.Verification;

namespace ProvenanceGate.Tests.Verify;

/// <summary>The report formats and the verify/diff/report commands on a hand-written BOM with known failures.</summary>
public sealed class ReportAndCliTests : IDisposable
{
    private TempDirectory _temp = null!;
    private string _model = null!;
    private string _bom = null!;
    private string _policy = null!;

    [SetUp]
    public void SetUp()
    {
        _temp = new TempDirectory();
        _model = HandBom.CreateModel(_temp.Combine("model"));
        var bom = new HandBom(_model).Ancestor("acme/base", licenseId: "CC-BY-NC-4.0");
        bom.Model["modelCard"]!["modelParameters"]!["datasets"] = new JsonArray(new JsonObject { ["type"] = "dataset", ["name"] = "acme/chats" });
        _bom = bom.Write(_temp.Combine("bom.cdx.json"));
        File.Copy(Path.Combine(_model, "model.safetensors"), Path.Combine(_model, "extra.safetensors"));
        _policy = _temp.Combine("policy.yaml");
        File.WriteAllText(_policy, "schemaVersion: 1\nextends: baseline\nsignature: {required: false}\n");
    }

    [TearDown]
    public void TearDown() => _temp.Dispose();

    public void Dispose() => _temp?.Dispose();

    private GateReport Report() => Gate.Verify(new GateOptions { BomPath = _bom, PolicyReference = _policy, ModelDirectory = _model, Now = TamperFixture.Now });

    [Test]
    public void Json_report_follows_the_contract()
    {
        var json = JsonNode.Parse(ReportWriters.Write(Report(), "json"))!;
        Assert.That(json["schemaVersion"]!.GetValue<int>(), Is.EqualTo(1));
        Assert.That(json["tool"]!["name"]!.GetValue<string>(), Is.EqualTo("ProvenanceGate"));
        Assert.That(json["result"]!.GetValue<string>(), Is.EqualTo("fail"));
        Assert.That(json["summary"]!["checks"]!.GetValue<int>(), Is.EqualTo(CheckIds.All.Count));
        // digests (extra.safetensors), licences (NC base), lineage (the duplicate tensors of the slipped-in file cannot be fingerprinted)
        Assert.That(json["summary"]!["failedChecks"]!.GetValue<int>(), Is.EqualTo(3), json.ToJsonString());
        Assert.That(json["checks"]!.AsArray().Select(c => c!["id"]!.GetValue<string>()), Is.EqualTo(CheckIds.All));
        var diagnostic = json["diagnostics"]!.AsArray().First(d => d!["code"]!.GetValue<string>() == "PG4053")!;
        Assert.That(diagnostic["check"]!.GetValue<string>(), Is.EqualTo("licenses"));
        Assert.That(diagnostic["severity"]!.GetValue<string>(), Is.EqualTo("error"));
        Assert.That(diagnostic["file"]!.GetValue<string>(), Is.EqualTo(_bom));
        Assert.That(diagnostic["line"]!.GetValue<int>(), Is.GreaterThan(1));
        Assert.That(diagnostic["column"]!.GetValue<int>(), Is.GreaterThan(1));
    }

    [Test]
    public void Sarif_has_one_result_per_diagnostic_with_rule_and_location()
    {
        var report = Report();
        var sarif = JsonNode.Parse(ReportWriters.Write(report, "sarif"))!;
        Assert.That(sarif["version"]!.GetValue<string>(), Is.EqualTo("2.1.0"));
        var run = sarif["runs"]![0]!;
        var results = run["results"]!.AsArray();
        Assert.That(results, Has.Count.EqualTo(report.Diagnostics.Count));
        var rules = run["tool"]!["driver"]!["rules"]!.AsArray().Select(r => r!["id"]!.GetValue<string>()).ToList();
        foreach (var result in results)
        {
            var ruleId = result!["ruleId"]!.GetValue<string>();
            Assert.That(rules[result["ruleIndex"]!.GetValue<int>()], Is.EqualTo(ruleId));
            Assert.That(result["partialFingerprints"]!["provenanceGate/v1"]!.GetValue<string>(), Has.Length.EqualTo(32));
            Assert.That(result["locations"]![0]!["physicalLocation"]!["artifactLocation"]!["uri"]!.GetValue<string>(), Does.EndWith("bom.cdx.json"));
        }

        var licence = results.First(r => r!["ruleId"]!.GetValue<string>() == "PG4053")!;
        Assert.That(licence["level"]!.GetValue<string>(), Is.EqualTo("error"));
        Assert.That(licence["locations"]![0]!["physicalLocation"]!["region"]!["startLine"]!.GetValue<int>(), Is.GreaterThan(1));
    }

    [Test]
    public void Junit_has_one_testcase_per_check_and_failures_for_failed_checks()
    {
        var xml = XDocument.Parse(ReportWriters.Write(Report(), "junit"));
        var suite = xml.Root!.Element("testsuite")!;
        Assert.That(xml.Root.Name.LocalName, Is.EqualTo("testsuites"));
        Assert.That(suite.Elements("testcase").Count(), Is.EqualTo(CheckIds.All.Count));
        Assert.That((int)suite.Attribute("tests")!, Is.EqualTo(CheckIds.All.Count));
        Assert.That((int)suite.Attribute("failures")!, Is.EqualTo(suite.Elements("testcase").Count(t => t.Element("failure") is not null)));
        var licences = suite.Elements("testcase").Single(t => ((string)t.Attribute("name")!).StartsWith("licenses", StringComparison.Ordinal));
        Assert.That((string)licences.Element("failure")!.Attribute("type")!, Is.EqualTo("PG4053"));
        Assert.That(licences.Element("failure")!.Value, Does.Contain("error PG4053"));
        Assert.That(suite.Element("system-out")!.Value, Does.Contain("[digests]").And.Contain("error PG4032"), "every diagnostic is also in system-out");
    }

    [Test]
    public void Junit_is_valid_against_the_ant_junit_schema()
    {
        var schemas = new System.Xml.Schema.XmlSchemaSet();
        schemas.Add(null, RepoPaths.TestData("junit", "JUnit.xsd"));
        foreach (var report in new[] { Report(), Gate.Verify(new GateOptions { BomPath = new HandBom(_model).Write(_temp.Combine("ok.cdx.json")), PolicyReference = "baseline", Now = TamperFixture.Now }) })
        {
            var xml = XDocument.Parse(ReportWriters.Write(report, "junit"));
            var errors = new List<string>();
            xml.Validate(schemas, (_, e) => errors.Add(e.Message));
            Assert.That(errors, Is.Empty);
        }

        var broken = XDocument.Parse("<testsuites><testsuite name='x'/></testsuites>");
        var brokenErrors = new List<string>();
        broken.Validate(schemas, (_, e) => brokenErrors.Add(e.Message));
        Assert.That(brokenErrors, Is.Not.Empty, "the oracle rejects an incomplete report");
    }

    [Test]
    public void Markdown_has_verdict_tables_and_a_mermaid_lineage_graph()
    {
        var markdown = ReportWriters.Write(Report(), "markdown");
        Assert.That(markdown, Does.StartWith("## ProvenanceGate: FAIL"));
        Assert.That(markdown, Does.Contain("| Licences | ❌ fail |"));
        Assert.That(markdown, Does.Contain("`PG4032`"));
        Assert.That(markdown, Does.Contain("```mermaid\nflowchart LR\n"));
        Assert.That(markdown, Does.Contain("[\"acme/base\"] -- \"derived\" --> ").And.Contain("[\"acme/chats\"] -- \"trained on\" --> "));
    }

    [Test]
    public void Verify_writes_every_requested_report_in_one_run()
    {
        var result = Cli.Run("verify", _bom, "--policy", _policy, "--model-dir", _model, "--timestamp", "2026-11-21T00:00:00Z",
            "--format", "json", "-o", _temp.Combine("r.json"), "--report", "sarif=" + _temp.Combine("r.sarif"), "--report", "junit=" + _temp.Combine("r.xml"),
            "--report", "markdown=" + _temp.Combine("r.md"));
        Assert.That(result.ExitCode, Is.EqualTo(1), result.Stderr);
        Assert.That(result.Stdout, Is.Empty);
        Assert.That(result.Stderr, Does.Contain("error PG4053").And.Contain("error PG4032"));
        foreach (var file in new[] { "r.json", "r.sarif", "r.xml", "r.md" })
            Assert.That(File.Exists(_temp.Combine(file)), file);
    }

    [TestCase("--report", "pdf=x.pdf", "PG4003")]
    [TestCase("--report", "sarif", "PG4003")]
    [TestCase("--policy", "no-such-profile", "PG4002")]
    [TestCase("--model-dir", "/no/such/dir", "PG0003")]
    public void Bad_input_exits_2_and_writes_nothing(string option, string value, string code)
    {
        string[] policy = option == "--policy" ? [] : ["--policy", _policy];
        var result = Cli.Run(["verify", _bom, .. policy, option, value, "--report", "json=" + _temp.Combine("out.json")]);
        Assert.That(result.ExitCode, Is.EqualTo(2), result.Stderr);
        Assert.That(result.Stderr, Does.Contain(code));
        Assert.That(result.Stderr, Does.Not.Contain("   at "), "no stack trace");
        Assert.That(File.Exists(_temp.Combine("out.json")), Is.False);
    }

    [Test]
    public void An_unreadable_bom_or_both_signature_kinds_exit_2()
    {
        File.WriteAllText(_temp.Combine("broken.json"), "{ \"bomFormat\": ");
        Assert.That(Cli.Run("verify", _temp.Combine("broken.json")).Stderr, Does.Contain("error PG4001"));
        Assert.That(Cli.Run("verify", _temp.Combine("missing.json")).ExitCode, Is.EqualTo(2));
        Assert.That(Cli.Run("verify", _bom, "--signature", _bom, "--bundle", _bom).ExitCode, Is.EqualTo(2));
    }

    [Test]
    public void Diff_reports_changes_and_exits_0_unless_asked()
    {
        var before = _temp.Combine("old.cdx.json");
        File.Copy(_bom, before);
        var bom = new HandBom(_model).Ancestor("acme/other-base", licenseId: "MIT");
        bom.Model["version"] = "1.1.0";
        var after = bom.Write(_temp.Combine("new.cdx.json"));

        var same = Cli.Run("diff", before, before, "--exit-code");
        Assert.That(same.ExitCode, Is.EqualTo(0));
        Assert.That(same.Stdout, Does.Contain("no differences"));

        var text = Cli.Run("diff", before, after);
        Assert.That(text.ExitCode, Is.EqualTo(0));
        Assert.That(text.Stdout, Does.Contain("~ model 'tiny-ft' version: 1.0.0 -> 1.1.0"));
        Assert.That(text.Stdout, Does.Contain("- model 'tiny-ft' base model: acme/base").And.Contain("+ model 'tiny-ft' base model: acme/other-base"));
        Assert.That(text.Stdout, Does.Contain("+ file 'extra.safetensors' sha256:"));
        Assert.That(Cli.Run("diff", before, after, "--exit-code").ExitCode, Is.EqualTo(1));

        var json = JsonNode.Parse(Cli.Run("diff", before, after, "--format", "json").Stdout)!;
        Assert.That(json["identical"]!.GetValue<bool>(), Is.False);
        Assert.That(json["changes"]!.AsArray().Any(c => c!["subject"]!.GetValue<string>() == "file 'extra.safetensors'"), Is.True);
        Assert.That(Cli.Run("diff", before, after, "--format", "markdown").Stdout, Does.Contain("| ~ | model 'tiny-ft' | version | 1.0.0 | 1.1.0 |"));
    }

    [Test]
    public void Report_views_render_markdown_and_html()
    {
        var executive = Cli.Run("report", _bom, "--view", "executive", "--timestamp", "2026-11-21T00:00:00Z");
        Assert.That(executive.ExitCode, Is.EqualTo(0), executive.Stderr);
        Assert.That(executive.Stdout, Does.Contain("licence obligation dropped").And.Contain("acme/base"));

        var legal = Cli.Run("report", _bom, "--view", "legal");
        Assert.That(legal.Stdout, Does.Contain("DROPPED by the declared licence").And.Contain("CC-BY-NC-4.0"));

        var engineering = Cli.Run("report", _bom, "--view", "engineering", "--format", "html", "-o", _temp.Combine("eng.html"));
        Assert.That(engineering.ExitCode, Is.EqualTo(0));
        var html = File.ReadAllText(_temp.Combine("eng.html"));
        Assert.That(html, Does.StartWith("<!DOCTYPE html>").And.Contain("<pre class=\"mermaid\">").And.Contain("model.safetensors"));
        Assert.That(XDocument.Parse(html.Replace("<!DOCTYPE html>", "", StringComparison.Ordinal).Replace("<meta charset=\"utf-8\">", "<meta charset=\"utf-8\"/>", StringComparison.Ordinal)).Root!.Name.LocalName, Is.EqualTo("html"));
    }
}
