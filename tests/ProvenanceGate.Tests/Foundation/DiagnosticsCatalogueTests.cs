using System.Text.RegularExpressions;
using ProvenanceGate.Diagnostics;

namespace ProvenanceGate.Tests.Foundation;

public sealed partial class DiagnosticsCatalogueTests
{
    [Test]
    public void Codes_are_unique_and_well_formed()
    {
        var codes = Diagnostics.Diagnostics.All.Select(d => d.Code).ToList();
        Assert.That(codes, Is.Unique);
        Assert.That(codes, Has.All.Match("^PG[0-9]{4}$"));
        Assert.That(Diagnostics.Diagnostics.All.Select(d => d.ExitCode), Has.All.AnyOf(ExitCodes.GateFailed, ExitCodes.InputError));
    }

    [Test]
    public void Readme_lists_every_code_with_its_title()
    {
        var readme = File.ReadAllText(RepoPaths.InRepo("README.md"));
        var rows = CodeRow().Matches(readme).ToDictionary(m => m.Groups["code"].Value, m => m.Groups["rest"].Value);
        foreach (var descriptor in Diagnostics.Diagnostics.All)
        {
            Assert.That(rows.ContainsKey(descriptor.Code), $"README has no row for {descriptor.Code}");
            Assert.That(rows[descriptor.Code], Does.Contain(descriptor.Title), $"README row for {descriptor.Code} does not carry its title");
        }

        Assert.That(rows.Keys, Is.SubsetOf(Diagnostics.Diagnostics.All.Select(d => d.Code)), "README lists codes that do not exist");
    }

    [Test]
    public void Canonical_line_matches_msbuild_format()
    {
        var diagnostic = Diagnostics.Diagnostics.FileNotFound.Error("gone", "a/b.json", 3, 7);
        Assert.That(diagnostic.ToString(), Is.EqualTo("a/b.json(3,7): error PG0002: gone"));
        Assert.That(Diagnostics.Diagnostics.FileNotFound.Warning("w").ToString(), Is.EqualTo("warning PG0002: w"));
    }

    [GeneratedRegex(@"^\|\s*`?(?<code>PG[0-9]{4})`?\s*\|(?<rest>.*)$", RegexOptions.Multiline)]
    private static partial Regex CodeRow();
}
