using System.Text.RegularExpressions;

namespace ProvenanceGate.EndToEnd.Tests;

/// <summary>The red sample: its model claims to be a fine-tune of dev-base but is the independent dev-twin.</summary>
[NonParallelizable]
public sealed partial class TamperedModelAppTests
{
    private static readonly Sample App = new("TamperedModelApp");

    [Test]
    public void Build_fails_on_lineage_and_never_passes_on_the_next_build()
    {
        var first = App.Run("build", App.Project);

        Assert.That(first.ExitCode, Is.Not.Zero, first.ToString());
        Assert.That(LineageError().IsMatch(first.Output), first.ToString());
        Assert.That(App.Stamp, Does.Not.Exist, "a failed gate leaves no stamp");
        Assert.That(Path.Combine(App.IntermediateDirectory, App.BomFileName), Does.Not.Exist, "nor a BOM");
        Assert.That(Path.Combine(App.OutputDirectory, App.BomFileName), Does.Not.Exist);

        var second = App.Run("build", App.Project, "--no-restore", "-v:d");

        Assert.That(second.ExitCode, Is.Not.Zero, second.ToString());
        Assert.That(second.Output, Does.Not.Contain("Skipping target \"_ProvenanceGateGenerate\""));
        Assert.That(LineageError().IsMatch(second.Output), second.ToString());
    }

    /// <summary>The canonical MSBuild line of the lineage check: "file(line,col): error PG4070: the weights of ... do not derive from ...".</summary>
    [GeneratedRegex(@"\.cdx\.json\([0-9]+,[0-9]+\): error PG4070: ", RegexOptions.Multiline)]
    private static partial Regex LineageError();
}
