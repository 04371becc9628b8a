using System.CommandLine;
using ProvenanceGate.Diagnostics;
using ProvenanceGate.Tool.Cli;

namespace ProvenanceGate.Tests.Ci;

public sealed class CiAnnotationsTests
{
    private static readonly DiagnosticDescriptor Descriptor = new("PG9999", "Test: title, with punctuation", 1);

    [Test]
    public void GitHub_error_has_file_line_col_title_and_code_prefixed_message()
    {
        var line = CiAnnotations.FormatGitHub(Descriptor.Error("digest mismatch", "models/bom.cdx.json", 12, 5), "models/bom.cdx.json");
        Assert.That(line, Is.EqualTo("::error file=models/bom.cdx.json,line=12,col=5,title=PG9999 Test%3A title%2C with punctuation::PG9999: digest mismatch"));
    }

    [Test]
    public void GitHub_maps_warning_and_info_to_warning_and_notice_and_omits_missing_location()
    {
        Assert.That(CiAnnotations.FormatGitHub(Descriptor.Warning("w"), null), Is.EqualTo("::warning title=PG9999 Test%3A title%2C with punctuation::PG9999: w"));
        Assert.That(CiAnnotations.FormatGitHub(Descriptor.Info("i", "a.json"), "a.json"), Does.StartWith("::notice file=a.json,title="));
    }

    [Test]
    public void GitHub_escapes_percent_and_newlines_in_data_and_also_colon_and_comma_in_properties()
    {
        Assert.That(CiAnnotations.EscapeGitHubData("100% a:b,c\r\nnext"), Is.EqualTo("100%25 a:b,c%0D%0Anext"));
        Assert.That(CiAnnotations.EscapeGitHubProperty("C:\\x,y%\n"), Is.EqualTo("C%3A\\x%2Cy%25%0A"));
        var line = CiAnnotations.FormatGitHub(Descriptor.Error("line one\n::error::injected"), null);
        Assert.That(line.Split('\n'), Has.Length.EqualTo(1), "a message must never start a second command line");
        Assert.That(line, Does.EndWith("::PG9999: line one%0A::error::injected"));
    }

    [Test]
    public void Azure_logissue_matches_task_lib_property_order_and_escaping()
    {
        var line = CiAnnotations.FormatAzure(Descriptor.Error("50% off; really]\nyes", "dir;x]/bom.json", 3, 7), "dir;x]/bom.json");
        Assert.That(line, Is.EqualTo("##vso[task.logissue type=error;code=PG9999;sourcepath=dir%3Bx%5D/bom.json;linenumber=3;columnnumber=7;]PG9999: 50%AZP25 off; really]%0Ayes"));
        Assert.That(CiAnnotations.FormatAzure(Descriptor.Warning("w"), null), Is.EqualTo("##vso[task.logissue type=warning;code=PG9999;]PG9999: w"));
    }

    [TestCase("true", null, null, "GitHubActions")]
    [TestCase(null, "True", null, "AzurePipelines")]
    [TestCase("true", null, "false", "None")]
    [TestCase(null, "True", "0", "None")]
    [TestCase(null, null, null, "None")]
    [TestCase("false", "False", null, "None")]
    public void Detects_the_runner_from_the_environment_and_honours_the_off_switch(string? githubActions, string? tfBuild, string? annotations, string expected)
    {
        var environment = new Dictionary<string, string?> { ["GITHUB_ACTIONS"] = githubActions, ["TF_BUILD"] = tfBuild, [CiAnnotations.SwitchVariable] = annotations };
        Assert.That(CiAnnotations.Detect(name => environment.GetValueOrDefault(name)).Platform.ToString(), Is.EqualTo(expected));
    }

    [Test]
    public void Absolute_paths_inside_the_workspace_become_repository_relative()
    {
        using var temp = new TempDirectory();
        var annotations = CiAnnotations.Detect(name => name switch { "GITHUB_ACTIONS" => "true", "GITHUB_WORKSPACE" => temp.Path, _ => null });
        var inside = annotations.Annotate(Descriptor.Error("m", temp.Combine("models", "bom.cdx.json"), 1));
        var outside = annotations.Annotate(Descriptor.Error("m", "/elsewhere/bom.cdx.json", 1));
        Assert.That(inside, Does.StartWith("::error file=models/bom.cdx.json,line=1,"));
        Assert.That(outside, Does.StartWith("::error file=/elsewhere/bom.cdx.json,"));
    }

    [Test]
    public void At_most_ten_per_type_are_annotated_and_the_rest_are_counted()
    {
        var annotations = new CiAnnotations(CiPlatform.GitHubActions);
        var errors = Enumerable.Range(1, 13).Select(i => annotations.Annotate(Descriptor.Error($"e{i}"))).ToList();
        var warning = annotations.Annotate(Descriptor.Warning("still room for warnings"));

        Assert.That(errors.Take(10), Has.All.Not.Null);
        Assert.That(errors.Skip(10), Has.All.Null);
        Assert.That(warning, Does.StartWith("::warning "));
        Assert.That(annotations.SuppressedSummary(), Does.StartWith("ProvenanceGate: 3 error(s) more not annotated"));
        Assert.That(annotations.SuppressedSummary(), Does.Not.StartWith("::"));
    }

    [Test]
    public void Canonical_lines_cannot_smuggle_runner_commands_in_ci()
    {
        const string Line = "bom.json(1): error PG9999: name 'x\n::error::fake' or ##vso[task.setvariable variable=a]b";
        Assert.That(new CiAnnotations(CiPlatform.GitHubActions).Neutralize(Line), Is.EqualTo("bom.json(1): error PG9999: name 'x ::error::fake' or ##vso[task.setvariable variable=a]b"));
        Assert.That(new CiAnnotations(CiPlatform.AzurePipelines).Neutralize(Line), Is.EqualTo("bom.json(1): error PG9999: name 'x ::error::fake' or ##_vso[task.setvariable variable=a]b"));
        Assert.That(new CiAnnotations(CiPlatform.GitHubActions).Neutralize("::odd.json: error PG1: m"), Is.EqualTo(" ::odd.json: error PG1: m"));
        Assert.That(new CiAnnotations(CiPlatform.None).Neutralize(Line), Is.EqualTo(Line), "outside CI the line is left exactly as it is");
    }

    [Test]
    public void Azure_drops_info_because_it_has_no_notice_type()
    {
        var annotations = new CiAnnotations(CiPlatform.AzurePipelines);
        Assert.That(annotations.Annotate(Descriptor.Info("i")), Is.Null);
        Assert.That(annotations.SuppressedSummary(), Is.Null);
    }

    [Test]
    public void A_verb_run_in_github_actions_writes_annotations_to_stderr_and_leaves_stdout_to_data()
    {
        var root = new ProvenanceRootCommand("test") { Annotations = new CiAnnotations(CiPlatform.GitHubActions) };
        var verb = new Command("many", "reports 12 errors");
        verb.SetHandler(context =>
        {
            context.Out.WriteLine("{\"data\":true}");
            for (var i = 1; i <= 12; i++)
                context.Report(Descriptor.Error($"problem {i}", "bom.cdx.json", i));
            return 1;
        });
        root.Subcommands.Add(verb);
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();

        var exitCode = root.Parse(["many"]).Invoke(new InvocationConfiguration { Output = stdout, Error = stderr });

        var lines = stderr.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.That(exitCode, Is.EqualTo(1));
        Assert.That(stdout.ToString().Trim(), Is.EqualTo("{\"data\":true}"));
        Assert.That(lines.Count(l => l.StartsWith("bom.cdx.json(", StringComparison.Ordinal)), Is.EqualTo(12), "every canonical line stays");
        Assert.That(lines.Count(l => l.StartsWith("::error ", StringComparison.Ordinal)), Is.EqualTo(10));
        Assert.That(lines, Does.Contain("::error file=bom.cdx.json,line=1,title=PG9999 Test%3A title%2C with punctuation::PG9999: problem 1"));
        Assert.That(lines[^1], Does.StartWith("ProvenanceGate: 2 error(s) more not annotated"));
    }

    [Test]
    public void Usage_errors_are_annotated_in_azure_pipelines_and_not_without_a_runner()
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var exitCode = ProvenanceCli.Run(["no-such-verb"], stdout, stderr, new CiAnnotations(CiPlatform.AzurePipelines));

        Assert.That(exitCode, Is.EqualTo(2));
        Assert.That(stderr.ToString(), Does.Contain("##vso[task.logissue type=error;code=PG0001;]PG0001: "));
        Assert.That(Cli.Run("no-such-verb").Stderr, Does.Not.Contain("##vso").And.Not.Contain("::error"));
    }
}
