using System.Diagnostics;
using System.IO.Compression;
using ProvenanceGate.Bom;
using ProvenanceGate.Diagnostics;

namespace ProvenanceGate.EndToEnd.Tests;

/// <summary>The green sample, built once with the packed package; later tests build it again, publish it and pack it.</summary>
[NonParallelizable]
public sealed class SignedModelAppTests
{
    private static readonly Sample App = new("SignedModelApp");
    private DotNetResult _firstBuild = null!;

    [OneTimeSetUp]
    public void BuildOnce() => _firstBuild = App.Run("build", App.Project);

    [Test, Order(1)]
    public void Build_succeeds_and_puts_the_bom_and_its_signature_next_to_the_app()
    {
        Assert.That(_firstBuild.ExitCode, Is.Zero, _firstBuild.ToString());
        Assert.That(Path.Combine(App.OutputDirectory, App.BomFileName), Does.Exist);
        Assert.That(Path.Combine(App.OutputDirectory, App.BomFileName + ".sig"), Does.Exist);
        Assert.That(Path.Combine(App.OutputDirectory, App.BomFileName + ".sigstore.json"), Does.Exist);
        Assert.That(App.Stamp, Does.Exist);
    }

    [Test, Order(2)]
    public void The_package_under_test_was_restored_from_the_local_feed()
    {
        var metadata = Path.Combine(PackagesFixture.Packages, "provenancegate.build", PackagesFixture.PackageVersion, ".nupkg.metadata");
        Assert.That(Sample.ReadJson(metadata)["source"]!.GetValue<string>(), Is.EqualTo(PackagesFixture.Feed));
    }

    [Test, Order(3)]
    public void Bom_is_a_valid_cyclonedx_document()
    {
        Assume.That(_firstBuild.ExitCode, Is.Zero, _firstBuild.ToString());
        var path = Path.Combine(App.OutputDirectory, App.BomFileName);

        var diagnostics = BomValidator.Validate(File.ReadAllText(path), path);

        Assert.That(diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error), Is.Empty);
        var bom = Sample.ReadJson(path);
        Assert.That((string?)bom["metadata"]!["component"]!["name"], Is.EqualTo("SignedModelApp"));
        var model = bom["components"]!.AsArray().Single(o => (string?)o!["type"] == "machine-learning-model")!;
        var dependencies = bom["dependencies"]!.AsArray();
        var appEdges = dependencies.Single(d => (string?)d!["ref"] == (string?)bom["metadata"]!["component"]!["bom-ref"])!["dependsOn"]!.AsArray().Select(n => (string?)n).ToList();
        Assert.That(appEdges, Does.Contain((string?)model["bom-ref"]), "app -> model");
        var modelEdges = dependencies.Single(d => (string?)d!["ref"] == (string?)model["bom-ref"])!["dependsOn"]!.AsArray().Select(n => (string?)n).ToList();
        Assert.That(modelEdges, Has.Some.Contains("dev-base"), "model -> base model");
    }

    [Test, Order(3)]
    public void Bom_lists_the_nuget_packages_with_the_hashes_restore_recorded()
    {
        Assume.That(_firstBuild.ExitCode, Is.Zero, _firstBuild.ToString());
        var bom = Sample.ReadJson(Path.Combine(App.OutputDirectory, App.BomFileName));

        var yaml = Sample.Objects(bom).SingleOrDefault(o => (string?)o["purl"] == "pkg:nuget/YamlDotNet@16.3.0");
        Assert.That(yaml, Is.Not.Null, "YamlDotNet is a dependency of the app");
        var sha512File = Path.Combine(PackagesFixture.Packages, "yamldotnet", "16.3.0", "yamldotnet.16.3.0.nupkg.sha512");
        var expected = Convert.ToHexStringLower(Convert.FromBase64String(File.ReadAllText(sha512File).Trim()));
        var hashes = yaml!["hashes"]!.AsArray().Select(h => ((string)h!["alg"]!, (string)h["content"]!)).ToList();
        Assert.That(hashes, Does.Contain(("SHA-512", expected)));

        Assert.That(Sample.Objects(bom).Any(o => ((string?)o["purl"])?.StartsWith("pkg:nuget/ProvenanceGate.Build@", StringComparison.Ordinal) == true),
            Is.False, "the build-time package does not ship with the app, so it is not in its BOM");
    }

    [Test, Order(4)]
    public void Signature_verifies_with_openssl()
    {
        Assume.That(_firstBuild.ExitCode, Is.Zero, _firstBuild.ToString());
        var bom = Path.Combine(App.OutputDirectory, App.BomFileName);
        var der = Path.Combine(PackagesFixture.Root, "bom.sig.der");
        File.WriteAllBytes(der, Convert.FromBase64String(File.ReadAllText(bom + ".sig").Trim()));

        var (exitCode, output) = Exec("openssl", "dgst", "-sha256", "-verify", Path.Combine(App.Directory, "keys", "sample-signing.pub"), "-signature", der, bom);

        Assert.That(exitCode, Is.Zero, output);
        Assert.That(output, Does.Contain("Verified OK"));
    }

    [Test, Order(10)]
    public void Second_unchanged_build_skips_the_generation()
    {
        Assume.That(_firstBuild.ExitCode, Is.Zero, _firstBuild.ToString());
        var bom = Path.Combine(App.IntermediateDirectory, App.BomFileName);
        var before = File.GetLastWriteTimeUtc(bom);

        var second = App.Run("build", App.Project, "--no-restore", "-v:d");

        Assert.That(second.ExitCode, Is.Zero, second.ToString());
        Assert.That(second.Output, Does.Contain("Skipping target \"_ProvenanceGateGenerate\" because all output files are up-to-date"));
        Assert.That(File.GetLastWriteTimeUtc(bom), Is.EqualTo(before));
    }

    [Test, Order(11)]
    public void Publish_carries_the_bom_and_its_signature()
    {
        var publish = Path.Combine(PackagesFixture.Root, "publish");
        var result = App.Run("publish", App.Project, "-c", "Debug", "-o", publish);

        Assert.That(result.ExitCode, Is.Zero, result.ToString());
        Assert.That(Path.Combine(publish, App.BomFileName), Does.Exist);
        Assert.That(Path.Combine(publish, App.BomFileName + ".sig"), Does.Exist);
    }

    [Test, Order(12)]
    public void Pack_puts_the_bom_into_the_apps_package()
    {
        var output = Path.Combine(PackagesFixture.Root, "app-package");
        var result = App.Run("pack", App.Project, "-c", "Debug", "-o", output);

        Assert.That(result.ExitCode, Is.Zero, result.ToString());
        using var nupkg = ZipFile.OpenRead(Directory.GetFiles(output, "SignedModelApp.*.nupkg").Single());
        var entries = nupkg.Entries.Select(e => e.FullName).ToList();
        Assert.That(entries, Does.Contain($"provenance/net10.0/{App.BomFileName}"));
        Assert.That(entries, Does.Contain($"provenance/net10.0/{App.BomFileName}.sig"));
        var nuspec = new StreamReader(nupkg.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open()).ReadToEnd();
        Assert.That(nuspec, Does.Not.Contain("ProvenanceGate.Build"), "a development dependency never becomes a package dependency");
    }

    [Test, Order(13)]
    public void The_accelerator_property_reaches_the_gate_and_a_misspelt_one_fails_the_build()
    {
        var misspelt = App.Run("build", App.Project, "--no-incremental", "-p:ProvenanceGateAccelerator=cdua");
        var explicitCpu = App.Run("build", App.Project, "--no-incremental", "-p:ProvenanceGateAccelerator=cpu", "-v:n");

        Assert.That(misspelt.ExitCode, Is.Not.Zero, misspelt.ToString());
        Assert.That(misspelt.Output, Does.Contain("error PG3053"), misspelt.ToString());
        Assert.That(explicitCpu.ExitCode, Is.Zero, explicitCpu.ToString());
        Assert.That(App.Stamp, Does.Exist, "the gate passed again on the CPU path");
    }

    private static (int ExitCode, string Output) Exec(string fileName, params string[] arguments)
    {
        var startInfo = new ProcessStartInfo(fileName) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
            startInfo.ArgumentList.Add(argument);
        using var process = Process.Start(startInfo)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout.Result + stderr);
    }
}
