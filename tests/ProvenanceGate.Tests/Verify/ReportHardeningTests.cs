using System.Text.Json.Nodes;
using ProvenanceGate.Verification;

namespace ProvenanceGate.Tests.Verify;

/// <summary>
/// The Markdown report goes into PR comments and job summaries; the SARIF into code scanning. A model publisher or
/// PR author controls the BOM text, so it must arrive inert, and code scanning must rank the alerts.
/// </summary>
public sealed class ReportHardeningTests : IDisposable
{
    private const string Hostile = "<img src=x onerror=alert(1)> @octocat @org/team [click](https://evil.example) ![t](https://evil.example/t.png) `x` | y";
    private TempDirectory _temp = null!;

    [SetUp]
    public void SetUp() => _temp = new TempDirectory();

    [TearDown]
    public void TearDown() => _temp.Dispose();

    public void Dispose() => _temp?.Dispose();

    [Test]
    public void Cell_leaves_no_html_mention_link_image_or_code_span_in_bom_text()
    {
        var cell = ReportWriters.Cell(Hostile + "\nnext line");

        Assert.That(cell, Does.Not.Contain("<img"));
        Assert.That(cell, Does.Contain("&lt;img src=x onerror=alert(1)&gt;"));
        Assert.That(cell, Does.Not.Match("@[A-Za-z]"), "a mention needs @ directly before the name");
        Assert.That(cell, Does.Contain("@&#8203;octocat").And.Contain("@&#8203;org/team"));
        Assert.That(cell, Does.Contain("\\[click\\](https://evil.example)").And.Contain("!\\[t\\]"));
        Assert.That(cell, Does.Contain("\\`x\\`").And.Contain("\\| y"));
        Assert.That(cell, Does.EndWith("<br>next line"), "line breaks stay inside the table cell");
    }

    [Test]
    public void A_hostile_base_model_name_reaches_the_markdown_report_escaped()
    {
        var model = HandBom.CreateModel(_temp.Combine("model"));
        var bom = new HandBom(model).Ancestor(Hostile, licenseId: "CC-BY-NC-4.0").Write(_temp.Combine("bom.cdx.json"));
        var report = Gate.Verify(new GateOptions { BomPath = bom, PolicyReference = "baseline", ModelDirectory = model, Now = TamperFixture.Now });

        var markdown = ReportWriters.Write(report, "markdown");

        Assert.That(markdown, Does.Contain("octocat"), "the name is reported");
        Assert.That(markdown, Does.Not.Contain("<img"), "no HTML, in the tables nor in the mermaid labels");
        // Mentions and links do nothing inside the mermaid code block; everywhere else they must be escaped.
        var outsideDiagram = markdown[..markdown.IndexOf("```mermaid", StringComparison.Ordinal)];
        Assert.That(outsideDiagram, Does.Not.Contain("@octocat"));
        Assert.That(outsideDiagram, Does.Not.Match(@"(?<!\\)\]\("), "no link or image survives");
    }

    [Test]
    public void Sarif_rules_carry_security_severity_and_tags_for_code_scanning()
    {
        var model = HandBom.CreateModel(_temp.Combine("model"));
        var bom = new HandBom(model).Write(_temp.Combine("bom.cdx.json"));
        var weights = Path.Combine(model, "model.safetensors");
        var bytes = File.ReadAllBytes(weights);
        bytes[^1] ^= 0xff;
        File.WriteAllBytes(weights, bytes);
        var report = Gate.Verify(new GateOptions { BomPath = bom, PolicyReference = "baseline", ModelDirectory = model, Now = TamperFixture.Now });

        var rules = JsonNode.Parse(ReportWriters.Write(report, "sarif"))!["runs"]![0]!["tool"]!["driver"]!["rules"]!.AsArray();

        Assert.That(rules, Is.Not.Empty);
        foreach (var rule in rules)
        {
            var properties = rule!["properties"]!;
            var severity = double.Parse(properties["security-severity"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture);
            Assert.That(severity, Is.InRange(0.1, 10.0));
            Assert.That(properties["tags"]!.AsArray().Select(t => t!.GetValue<string>()), Does.Contain("security").And.Contain("supply-chain"));
        }

        var errorCodes = report.Diagnostics.Where(d => d.Severity == Diagnostics.DiagnosticSeverity.Error).Select(d => d.Code).ToHashSet();
        Assert.That(errorCodes, Is.Not.Empty, "the tampered weights fail the gate");
        foreach (var rule in rules.Where(r => errorCodes.Contains(r!["id"]!.GetValue<string>())))
            Assert.That(rule!["properties"]!["security-severity"]!.GetValue<string>(), Is.EqualTo("8.0"), "errors rank high in code scanning");
    }
}
