namespace ProvenanceGate.Tests.Ci;

/// <summary>
/// The real executable, as a workflow step runs it: CI detection happens in Program (the process boundary), so
/// these start dotnet-provenance as a child process with the runner's environment variables.
/// </summary>
public sealed class CiDetectionProcessTests
{
    [Test]
    public void In_github_actions_diagnostics_are_annotated_on_stderr_and_stdout_stays_data()
    {
        var result = RunTool(new() { ["GITHUB_ACTIONS"] = "true" }, "no-such-verb");
        Assert.That(result.ExitCode, Is.EqualTo(2));
        Assert.That(result.Stdout, Is.Empty);
        Assert.That(result.Stderr, Does.Contain("error PG0001: "));
        Assert.That(result.Stderr, Does.Contain("::error title=PG0001 Invalid command-line usage::PG0001: "));
    }

    [Test]
    public void In_azure_pipelines_diagnostics_become_logissue_commands()
    {
        var result = RunTool(new() { ["TF_BUILD"] = "True" }, "no-such-verb");
        Assert.That(result.Stderr, Does.Contain("##vso[task.logissue type=error;code=PG0001;]PG0001: "));
    }

    [Test]
    public void The_off_switch_and_a_plain_shell_give_no_annotations()
    {
        var off = RunTool(new() { ["GITHUB_ACTIONS"] = "true", ["PROVENANCEGATE_ANNOTATIONS"] = "false" }, "no-such-verb");
        var plain = RunTool([], "no-such-verb");
        foreach (var result in new[] { off, plain })
        {
            Assert.That(result.Stderr, Does.Contain("error PG0001: "));
            Assert.That(result.Stderr, Does.Not.Contain("::error").And.Not.Contain("##vso["));
        }
    }

    private static ProcessResult RunTool(Dictionary<string, string> environment, params string[] args)
    {
        // The test itself may run inside a CI runner: start from a clean slate, then add the scenario's variables.
        var variables = new Dictionary<string, string?>();
        foreach (var name in new[] { "GITHUB_ACTIONS", "TF_BUILD", "PROVENANCEGATE_ANNOTATIONS", "GITHUB_WORKSPACE", "BUILD_SOURCESDIRECTORY" })
            variables[name] = null;
        foreach (var (name, value) in environment)
            variables[name] = value;
        return ExternalProcess.RunTool(args, variables);
    }
}
