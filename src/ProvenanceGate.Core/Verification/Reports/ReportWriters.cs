using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Xml;
using System.Xml.Linq;
using ProvenanceGate.Diagnostics;

namespace ProvenanceGate.Verification;

/// <summary>Writes a <see cref="GateReport"/> as text, JSON (schemaVersion 1), SARIF 2.1.0, JUnit XML or Markdown.</summary>
public static class ReportWriters
{
    public static IReadOnlyList<string> Formats { get; } = ["text", "json", "sarif", "junit", "markdown"];

    public static string ToolVersion { get; } = VersionOf(typeof(Gate).Assembly);

    public const string InformationUri = "https://github.com/provenancegate/provenancegate";

    public static void Write(GateReport report, string format, TextWriter writer)
    {
        switch (format)
        {
            case "text":
                WriteText(report, writer);
                break;
            case "json":
                writer.WriteLine(ToJson(report).ToJsonString(Indented));
                break;
            case "sarif":
                writer.WriteLine(ToSarif(report).ToJsonString(Indented));
                break;
            case "junit":
                WriteJunit(report, writer);
                break;
            case "markdown":
                WriteMarkdown(report, writer);
                break;
            default:
                throw Diagnostics.Diagnostics.GateReportSpecInvalid.Exception($"unknown report format '{format}' (use {string.Join(", ", Formats)})");
        }
    }

    public static string Write(GateReport report, string format)
    {
        using var writer = new StringWriter(CultureInfo.InvariantCulture) { NewLine = "\n" };
        Write(report, format, writer);
        return writer.ToString();
    }

    // ---- text -------------------------------------------------------------------------------------

    private static void WriteText(GateReport report, TextWriter writer)
    {
        writer.WriteLine($"ProvenanceGate verify {report.BomPath}: {(report.Passed ? "PASS" : "FAIL")} ({Count(report.Errors, "error")}, {Count(report.Warnings, "warning")})");
        writer.WriteLine();
        foreach (var check in report.Checks)
            writer.WriteLine($"  [{check.StatusText,-4}] {check.Title,-22} {check.Reason}");
        if (report.Diagnostics.Count > 0)
        {
            writer.WriteLine();
            foreach (var diagnostic in report.Diagnostics)
                writer.WriteLine("  " + diagnostic);
        }

        if (report.Lineage.Count > 0)
        {
            writer.WriteLine();
            writer.WriteLine("  Lineage:");
            foreach (var lineage in report.Lineage)
                writer.WriteLine($"    {lineage.Model} <- {lineage.DeclaredBase}: {lineage.Verdict}{Score(lineage.Score)}; {lineage.Reason}");
        }
    }

    // ---- JSON -------------------------------------------------------------------------------------

    /// <summary>The JSON report, schemaVersion 1. Field names are a contract with the MSBuild task and the CI wrappers.</summary>
    public static JsonObject ToJson(GateReport report) => new()
    {
        ["schemaVersion"] = 1,
        ["tool"] = new JsonObject { ["name"] = "ProvenanceGate", ["version"] = ToolVersion },
        ["bom"] = report.BomPath,
        ["result"] = report.Passed ? "pass" : "fail",
        ["summary"] = new JsonObject
        {
            ["errors"] = report.Errors,
            ["warnings"] = report.Warnings,
            ["checks"] = report.Checks.Count,
            ["failedChecks"] = report.Checks.Count(c => c.Status == CheckStatus.Fail),
        },
        ["checks"] = new JsonArray(report.Checks.Select(c => (JsonNode)new JsonObject
        {
            ["id"] = c.Id,
            ["title"] = c.Title,
            ["status"] = c.StatusText,
            ["reason"] = c.Reason,
        }).ToArray()),
        ["diagnostics"] = new JsonArray(report.Findings.Select(f => (JsonNode)new JsonObject
        {
            ["code"] = f.Diagnostic.Code,
            ["severity"] = SeverityText(f.Diagnostic.Severity),
            ["check"] = f.Check,
            ["message"] = f.Diagnostic.Message,
            ["file"] = f.Diagnostic.File,
            ["line"] = f.Diagnostic.Line,
            ["column"] = f.Diagnostic.Column,
        }).ToArray()),
        ["lineage"] = new JsonArray(report.Lineage.Select(l => (JsonNode)new JsonObject
        {
            ["model"] = l.Model,
            ["declaredBase"] = l.DeclaredBase,
            ["verdict"] = l.Verdict,
            ["score"] = l.Score,
            ["reason"] = l.Reason,
        }).ToArray()),
    };

    // ---- SARIF 2.1.0 ------------------------------------------------------------------------------

    public static JsonObject ToSarif(GateReport report)
    {
        var codes = report.Diagnostics.Select(d => d.Descriptor).DistinctBy(d => d.Code).OrderBy(d => d.Code, StringComparer.Ordinal).ToList();
        var rules = codes.Select(d => (JsonNode)new JsonObject
        {
            ["id"] = d.Code,
            ["name"] = RuleName(d.Title),
            ["shortDescription"] = new JsonObject { ["text"] = d.Title },
            ["helpUri"] = $"{InformationUri}#diagnostic-codes",
            ["properties"] = SarifRuleProperties(d, report.Diagnostics.Where(x => x.Code == d.Code).Max(x => x.Severity)),
        }).ToArray();

        var results = report.Findings.Select(f =>
        {
            var diagnostic = f.Diagnostic;
            var file = diagnostic.File ?? report.BomPath;
            var region = new JsonObject();
            if (diagnostic.File is not null && diagnostic.Line is { } line)
            {
                region["startLine"] = line;
                if (diagnostic.Column is { } column)
                    region["startColumn"] = column;
            }

            var physical = new JsonObject { ["artifactLocation"] = new JsonObject { ["uri"] = RelativeUri(file) } };
            if (region.Count > 0)
                physical["region"] = region;
            return (JsonNode)new JsonObject
            {
                ["ruleId"] = diagnostic.Code,
                ["ruleIndex"] = codes.FindIndex(d => d.Code == diagnostic.Code),
                ["level"] = SarifLevel(diagnostic.Severity),
                ["message"] = new JsonObject { ["text"] = diagnostic.Message },
                ["locations"] = new JsonArray(new JsonObject { ["physicalLocation"] = physical }),
                ["partialFingerprints"] = new JsonObject { ["provenanceGate/v1"] = Fingerprint(diagnostic, file) },
                ["properties"] = new JsonObject { ["check"] = f.Check },
            };
        }).ToArray();

        return new JsonObject
        {
            ["$schema"] = "https://json.schemastore.org/sarif-2.1.0.json",
            ["version"] = "2.1.0",
            ["runs"] = new JsonArray(new JsonObject
            {
                ["tool"] = new JsonObject
                {
                    ["driver"] = new JsonObject
                    {
                        ["name"] = "ProvenanceGate",
                        ["version"] = ToolVersion,
                        ["semanticVersion"] = ToolVersion,
                        ["informationUri"] = InformationUri,
                        ["rules"] = new JsonArray(rules),
                    },
                },
                ["results"] = new JsonArray(results),
                ["properties"] = new JsonObject
                {
                    ["result"] = report.Passed ? "pass" : "fail",
                    ["checks"] = new JsonArray(report.Checks.Select(c => (JsonNode)new JsonObject { ["id"] = c.Id, ["status"] = c.StatusText }).ToArray()),
                },
            }),
        };
    }

    private static string SarifLevel(DiagnosticSeverity severity) => severity switch { DiagnosticSeverity.Error => "error", DiagnosticSeverity.Warning => "warning", _ => "note" };

    /// <summary>
    /// GitHub code scanning ranks and filters alerts by <c>security-severity</c> (a CVSS-like 0.0-10.0 score:
    /// 9.0+ critical, 7.0+ high, 4.0+ medium) and groups them by tags; without it every alert reads as "warning".
    /// A provenance or integrity failure (digests, signature, lineage, unsafe serialization) is what lets a
    /// substituted model ship, so errors are high; warnings medium; notes low.
    /// </summary>
    private static JsonObject SarifRuleProperties(DiagnosticDescriptor descriptor, DiagnosticSeverity worst)
    {
        var area = descriptor.Code[2] switch
        {
            '0' => "usage",
            '1' => "bom",
            '2' => "signature",
            '3' => "fingerprint",
            '4' => "gate",
            '5' => "msbuild",
            _ => "ci",
        };
        return new JsonObject
        {
            ["security-severity"] = worst switch { DiagnosticSeverity.Error => "8.0", DiagnosticSeverity.Warning => "5.0", _ => "2.0" },
            ["tags"] = new JsonArray("security", "supply-chain", "ml-provenance", area),
            ["precision"] = "high",
        };
    }

    /// <summary>A repository-relative URI when the file is under the working directory (what code scanning expects).</summary>
    private static string RelativeUri(string path)
    {
        var full = Path.GetFullPath(path);
        var relative = Path.GetRelativePath(Directory.GetCurrentDirectory(), full);
        var chosen = relative.StartsWith("..", StringComparison.Ordinal) || Path.IsPathRooted(relative) ? full : relative;
        var segments = chosen.Replace('\\', '/').Split('/').Select(Uri.EscapeDataString);
        var uri = string.Join('/', segments);
        return Path.IsPathRooted(chosen) ? "file://" + uri : uri;
    }

    /// <summary>Stable across runs and line moves: code, file and message, hashed.</summary>
    private static string Fingerprint(Diagnostic diagnostic, string file) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{diagnostic.Code}\n{Path.GetFileName(file)}\n{diagnostic.Message}")))[..32];

    private static string RuleName(string title) =>
        string.Concat(title.Split(' ', '-', ',', ';', '.').Where(w => w.Length > 0).Select(w => char.ToUpperInvariant(w[0]) + w[1..]));

    // ---- JUnit XML --------------------------------------------------------------------------------

    /// <summary>
    /// The Ant JUnit format (the schema Jenkins, Azure Pipelines and GitLab read): one testsuite, one testcase per check,
    /// a failure listing a failed check's errors, skipped for a skipped check; every diagnostic also in system-out.
    /// </summary>
    private static void WriteJunit(GateReport report, TextWriter writer)
    {
        var failures = report.Checks.Count(c => c.Status == CheckStatus.Fail);
        var skipped = report.Checks.Count(c => c.Status == CheckStatus.Skip);
        var suite = new XElement("testsuite",
            new XAttribute("name", "ProvenanceGate.verify"),
            new XAttribute("package", "ProvenanceGate"),
            new XAttribute("id", 0),
            new XAttribute("timestamp", report.Now.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture)),
            new XAttribute("hostname", "localhost"),
            new XAttribute("tests", report.Checks.Count),
            new XAttribute("failures", failures),
            new XAttribute("errors", 0),
            new XAttribute("skipped", skipped),
            new XAttribute("time", "0"),
            new XElement("properties",
                new XElement("property", new XAttribute("name", "bom"), new XAttribute("value", report.BomPath)),
                new XElement("property", new XAttribute("name", "result"), new XAttribute("value", report.Passed ? "pass" : "fail")),
                new XElement("property", new XAttribute("name", "errors"), new XAttribute("value", report.Errors)),
                new XElement("property", new XAttribute("name", "warnings"), new XAttribute("value", report.Warnings))));
        foreach (var check in report.Checks)
        {
            var testcase = new XElement("testcase",
                new XAttribute("name", $"{check.Id}: {check.Title}"),
                new XAttribute("classname", "ProvenanceGate.verify"),
                new XAttribute("time", "0"));
            if (check.Status == CheckStatus.Fail)
            {
                var errors = report.Findings.Where(f => f.Check == check.Id && f.Diagnostic.Severity == DiagnosticSeverity.Error).Select(f => f.Diagnostic).ToList();
                testcase.Add(new XElement("failure",
                    new XAttribute("message", check.Reason),
                    new XAttribute("type", string.Join(",", errors.Select(d => d.Code).Distinct())),
                    string.Join("\n", errors.Select(d => d.ToString()))));
            }
            else if (check.Status == CheckStatus.Skip)
            {
                testcase.Add(new XElement("skipped", new XAttribute("message", check.Reason)));
            }

            suite.Add(testcase);
        }

        suite.Add(new XElement("system-out", string.Join("\n", report.Findings.Select(f => $"[{f.Check}] {f.Diagnostic}"))));
        suite.Add(new XElement("system-err", ""));
        using var xml = XmlWriter.Create(writer, new XmlWriterSettings { Indent = true, OmitXmlDeclaration = false, Encoding = new UTF8Encoding(false), NewLineChars = "\n" });
        new XDocument(new XDeclaration("1.0", "utf-8", null), new XElement("testsuites", suite)).WriteTo(xml);
        xml.Flush();
        writer.WriteLine();
    }

    // ---- Markdown ---------------------------------------------------------------------------------

    private static void WriteMarkdown(GateReport report, TextWriter writer)
    {
        writer.WriteLine($"## ProvenanceGate: {(report.Passed ? "PASS" : "FAIL")} — {Cell(report.BomPath)}");
        writer.WriteLine();
        writer.WriteLine($"{Count(report.Errors, "error")}, {Count(report.Warnings, "warning")}, {report.Checks.Count(c => c.Status == CheckStatus.Fail)} of {report.Checks.Count} checks failed.");
        writer.WriteLine();
        writer.WriteLine("| check | status | reason |");
        writer.WriteLine("|---|---|---|");
        foreach (var check in report.Checks)
            writer.WriteLine($"| {check.Title} | {StatusBadge(check.Status)} | {Cell(check.Reason)} |");

        if (report.Findings.Count > 0)
        {
            writer.WriteLine();
            writer.WriteLine("### Diagnostics");
            writer.WriteLine();
            writer.WriteLine("| severity | code | check | location | message |");
            writer.WriteLine("|---|---|---|---|---|");
            foreach (var finding in report.Findings)
            {
                var d = finding.Diagnostic;
                var location = d.File is null ? "" : d.Line is null ? d.File : $"{d.File}:{d.Line}";
                writer.WriteLine($"| {SeverityText(d.Severity)} | `{d.Code}` | {finding.Check} | {Cell(location)} | {Cell(d.Message)} |");
            }
        }

        if (report.Lineage.Count > 0)
        {
            writer.WriteLine();
            writer.WriteLine("### Lineage");
            writer.WriteLine();
            writer.WriteLine("| model | declared base | verdict | score | reason |");
            writer.WriteLine("|---|---|---|---|---|");
            foreach (var l in report.Lineage)
                writer.WriteLine($"| {Cell(l.Model)} | {Cell(l.DeclaredBase)} | {l.Verdict} | {(l.Score is { } s ? s.ToString("0.###", CultureInfo.InvariantCulture) : "")} | {Cell(l.Reason)} |");
        }

        if (report.Graph.Count > 0)
        {
            writer.WriteLine();
            WriteMermaid(report.Graph, report.Lineage, writer);
        }
    }

    /// <summary>A mermaid flowchart: base -> fine-tune -> adapter, datasets -> model; a failed lineage edge is drawn dotted.</summary>
    public static void WriteMermaid(IReadOnlyList<LineageEdge> graph, IReadOnlyList<LineageResult> lineage, TextWriter writer)
    {
        var ids = new Dictionary<string, string>(StringComparer.Ordinal);
        string Id(string label)
        {
            if (!ids.TryGetValue(label, out var id))
                ids[label] = id = "n" + ids.Count.ToString(CultureInfo.InvariantCulture);
            return id;
        }

        writer.WriteLine("```mermaid");
        writer.WriteLine("flowchart LR");
        foreach (var edge in graph)
        {
            var failed = lineage.Any(l => edge.To.StartsWith(l.Model, StringComparison.Ordinal) && edge.From.StartsWith(l.DeclaredBase, StringComparison.Ordinal) && l.Verdict is "independent");
            var arrow = failed ? $"-. \"{Label(edge.Relation)} (not derived)\" .->" : $"-- \"{Label(edge.Relation)}\" -->";
            writer.WriteLine($"  {Id(edge.From)}[\"{Label(edge.From)}\"] {arrow} {Id(edge.To)}[\"{Label(edge.To)}\"]");
        }

        writer.WriteLine("```");
    }

    // Mermaid entity codes: a label is BOM text and must not become markup in the rendered diagram.
    private static string Label(string text) => text
        .Replace("\"", "#quot;", StringComparison.Ordinal)
        .Replace("<", "#lt;", StringComparison.Ordinal)
        .Replace(">", "#gt;", StringComparison.Ordinal)
        .Replace("\n", " ", StringComparison.Ordinal);

    private static string StatusBadge(CheckStatus status) => status switch
    {
        CheckStatus.Pass => "✅ pass",
        CheckStatus.Fail => "❌ fail",
        CheckStatus.Warn => "⚠️ warn",
        _ => "⏭️ skip",
    };

    /// <summary>
    /// BOM text as inert Markdown for a table cell: it ends up in PR comments and job summaries, where raw HTML,
    /// links, images and @mentions written by a model publisher or PR author would render or notify people.
    /// </summary>
    public static string Cell(string text)
    {
        var escaped = new StringBuilder(text.Length + 16);
        foreach (var c in text)
        {
            escaped.Append(c switch
            {
                '&' => "&amp;",
                '<' => "&lt;",
                '>' => "&gt;",
                // A zero-width space after @ keeps GitHub and Azure DevOps from linking and notifying a user or team.
                '@' => "@&#8203;",
                '\r' => "",
                '\n' => "<br>",
                // Table cell breaks, code spans, and link or image brackets; other punctuation cannot inject anything.
                '|' or '\\' or '`' or '[' or ']' => "\\" + c,
                _ => c.ToString(),
            });
        }

        return escaped.ToString();
    }

    private static string SeverityText(DiagnosticSeverity severity) => severity switch
    {
        DiagnosticSeverity.Error => "error",
        DiagnosticSeverity.Warning => "warning",
        _ => "info",
    };

    private static string Count(int n, string noun) => $"{n} {noun}{(n == 1 ? "" : "s")}";

    private static string Score(double? score) => score is { } s ? " (score " + s.ToString("0.###", CultureInfo.InvariantCulture) + ")" : "";

    private static string VersionOf(System.Reflection.Assembly assembly)
    {
        var version = assembly.GetName().Version ?? new Version(0, 0, 0);
        return string.Create(CultureInfo.InvariantCulture, $"{version.Major}.{version.Minor}.{Math.Max(0, version.Build)}");
    }

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
}
