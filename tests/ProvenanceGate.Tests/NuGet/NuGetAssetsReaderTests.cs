using System.Security.Cryptography;
using System.Text;
using ProvenanceGate.Diagnostics;
using ProvenanceGate.NuGet;

namespace ProvenanceGate.Tests.NuGet;

public sealed class NuGetAssetsReaderTests
{
    private static readonly string[] AllIds = ["App.Lib", "Microsoft.Build.Utilities.Core", "System.Diagnostics.EventLog", "YamlDotNet"];
    private static readonly string[] YamlOnly = ["YamlDotNet"];
    private static readonly string[] OnlyA = ["A"];
    private static readonly string YamlSha = Convert.ToBase64String(SHA512.HashData("yaml"u8));
    private static readonly string AppSha = Convert.ToBase64String(SHA512.HashData("app"u8));
    private static readonly string BuildSha = Convert.ToBase64String(SHA512.HashData("build"u8));
    private static readonly string EventLogSha = Convert.ToBase64String(SHA512.HashData("eventlog"u8));

    [Test]
    public void Reads_packages_with_hex_hashes_purls_graph_and_licences()
    {
        using var temp = new TempDirectory();
        var assets = WriteAssets(temp);

        var graph = NuGetAssetsReader.Read(assets, "net10.0");

        Assert.That(graph.ProjectName, Is.EqualTo("SampleApp"));
        Assert.That(graph.ProjectVersion, Is.EqualTo("1.2.3"));
        Assert.That(graph.Packages.Select(p => p.Id), Is.EqualTo(AllIds));

        var yaml = graph.Find("yamldotnet")!;
        Assert.That(yaml.Version, Is.EqualTo("16.3.0"));
        Assert.That(yaml.Purl, Is.EqualTo("pkg:nuget/YamlDotNet@16.3.0"));
        Assert.That(yaml.Sha512Hex, Is.EqualTo(Convert.ToHexStringLower(SHA512.HashData("yaml"u8))));
        Assert.That(yaml.License, Is.EqualTo(new NuGetLicense("MIT", null, null)));
        Assert.That(yaml.IsDirect, Is.False);
        Assert.That(yaml.IsDevelopmentDependency, Is.False);

        var app = graph.Find("App.Lib")!;
        Assert.That(app.IsDirect, Is.True);
        Assert.That(app.Dependencies, Is.EqualTo(YamlOnly));
        Assert.That(app.License, Is.EqualTo(new NuGetLicense("Apache-2.0 OR MIT WITH LLVM-exception", null, null)), "the expression is kept whole");
    }

    [Test]
    public void The_nupkg_file_hash_wins_over_the_assets_content_hash()
    {
        using var temp = new TempDirectory();
        var assets = WriteAssets(temp);
        // nuget.org packages are repository-signed: the assets file records the hash without the signature, the
        // .nupkg.sha512 file the hash of the .nupkg as downloaded.
        File.WriteAllText(temp.Combine("packages", "yamldotnet", "16.3.0", "yamldotnet.16.3.0.nupkg.sha512"), Convert.ToBase64String(SHA512.HashData("signed nupkg"u8)));

        var graph = NuGetAssetsReader.Read(assets, "net10.0");

        Assert.That(graph.Find("YamlDotNet")!.Sha512Hex, Is.EqualTo(Convert.ToHexStringLower(SHA512.HashData("signed nupkg"u8))));
        Assert.That(graph.Find("App.Lib")!.Sha512Hex, Is.EqualTo(Convert.ToHexStringLower(SHA512.HashData("app"u8))), "no .nupkg.sha512: the assets hash");
    }

    [Test]
    public void Packages_reachable_only_through_private_assets_are_development_dependencies()
    {
        using var temp = new TempDirectory();
        var graph = NuGetAssetsReader.Read(WriteAssets(temp), "net10.0");

        Assert.That(graph.Find("Microsoft.Build.Utilities.Core")!.IsDevelopmentDependency, Is.True);
        Assert.That(graph.Find("System.Diagnostics.EventLog")!.IsDevelopmentDependency, Is.True);
        Assert.That(graph.Find("App.Lib")!.IsDevelopmentDependency, Is.False);
    }

    [Test]
    public void License_url_is_the_fallback_and_the_deprecation_url_is_ignored()
    {
        using var temp = new TempDirectory();
        var graph = NuGetAssetsReader.Read(WriteAssets(temp), "net10.0");

        Assert.That(graph.Find("System.Diagnostics.EventLog")!.License, Is.EqualTo(new NuGetLicense(null, "Unknown - See URL", "https://example.org/eula")));
        Assert.That(graph.Find("Microsoft.Build.Utilities.Core")!.License, Is.EqualTo(new NuGetLicense(null, "See LICENSE.txt in the package", null)));
    }

    [Test]
    public void Single_framework_projects_need_no_target_framework()
    {
        using var temp = new TempDirectory();
        var graph = NuGetAssetsReader.Read(WriteAssets(temp), null);
        Assert.That(graph.TargetFramework, Is.EqualTo("net10.0"));
        Assert.That(graph.Packages, Has.Count.EqualTo(4));
    }

    [Test]
    public void Unknown_framework_is_PG5002()
    {
        using var temp = new TempDirectory();
        var assets = WriteAssets(temp);
        var ex = Assert.Throws<ProvenanceException>(() => NuGetAssetsReader.Read(assets, "net48"));
        Assert.That(ex!.Diagnostic.Code, Is.EqualTo("PG5002"));
        Assert.That(ex.Diagnostic.File, Is.EqualTo(assets));
    }

    [Test]
    public void Missing_assets_file_is_PG5001_and_asks_for_a_restore()
    {
        using var temp = new TempDirectory();
        var ex = Assert.Throws<ProvenanceException>(() => NuGetAssetsReader.Read(temp.Combine("obj", "project.assets.json"), "net10.0"));
        Assert.That(ex!.Diagnostic.Code, Is.EqualTo("PG5001"));
        Assert.That(ex.Message, Does.Contain("dotnet restore"));
    }

    [Test]
    public void Malformed_json_is_PG5001_with_a_line()
    {
        using var temp = new TempDirectory();
        var path = temp.Combine("project.assets.json");
        File.WriteAllText(path, "{\n  \"version\": 3,\n  \"targets\": {\n");
        var ex = Assert.Throws<ProvenanceException>(() => NuGetAssetsReader.Read(path, "net10.0"));
        Assert.That(ex!.Diagnostic.Code, Is.EqualTo("PG5001"));
        Assert.That(ex.Diagnostic.Line, Is.Not.Null);
    }

    [Test]
    public void Bad_hash_is_PG5001_naming_the_package()
    {
        using var temp = new TempDirectory();
        var path = temp.Combine("project.assets.json");
        File.WriteAllText(path, """
            { "version": 3,
              "targets": { "net10.0": { "A/1.0.0": { "type": "package" } } },
              "libraries": { "A/1.0.0": { "sha512": "not-base64!", "type": "package", "path": "a/1.0.0" } } }
            """);
        var ex = Assert.Throws<ProvenanceException>(() => NuGetAssetsReader.Read(path, null));
        Assert.That(ex!.Diagnostic.Code, Is.EqualTo("PG5001"));
        Assert.That(ex.Message, Does.Contain("A/1.0.0"));
    }

    [Test]
    public void Malformed_nuspec_is_PG5003_naming_it()
    {
        using var temp = new TempDirectory();
        var assets = WriteAssets(temp);
        var nuspec = temp.Combine("packages", "yamldotnet", "16.3.0", "yamldotnet.nuspec");
        File.WriteAllText(nuspec, "<package><metadata>");
        var ex = Assert.Throws<ProvenanceException>(() => NuGetAssetsReader.Read(assets, "net10.0"));
        Assert.That(ex!.Diagnostic.Code, Is.EqualTo("PG5003"));
        Assert.That(ex.Diagnostic.File, Is.EqualTo(nuspec));
    }

    [Test]
    public void Project_references_are_not_packages()
    {
        using var temp = new TempDirectory();
        var path = temp.Combine("project.assets.json");
        File.WriteAllText(path, $$"""
            { "version": 3,
              "targets": { "net10.0": { "Other/1.0.0": { "type": "project" }, "A/1.0.0": { "type": "package" } } },
              "libraries": { "Other/1.0.0": { "type": "project", "path": "../Other/Other.csproj" },
                             "A/1.0.0": { "sha512": "{{YamlSha}}", "type": "package", "path": "a/1.0.0" } } }
            """);
        var graph = NuGetAssetsReader.Read(path, "net10.0");
        Assert.That(graph.Packages.Select(p => p.Id), Is.EqualTo(OnlyA));
        Assert.That(graph.Packages[0].License, Is.Null, "no nuspec found: no licence, no failure");
    }

    /// <summary>A hand-written assets file modelled on a real restore: one direct package, one transitive, one PrivateAssets="all" tree.</summary>
    private static string WriteAssets(TempDirectory temp)
    {
        var packages = temp.Combine("packages") + Path.DirectorySeparatorChar;
        WriteNuspec(packages, "yamldotnet", "16.3.0", """<license type="expression">MIT</license><licenseUrl>https://licenses.nuget.org/MIT</licenseUrl>""");
        WriteNuspec(packages, "app.lib", "2.0.0", """<license type="expression">Apache-2.0 OR MIT WITH LLVM-exception</license>""");
        WriteNuspec(packages, "microsoft.build.utilities.core", "18.9.6", """<license type="file">LICENSE.txt</license><licenseUrl>https://aka.ms/deprecateLicenseUrl</licenseUrl>""");
        WriteNuspec(packages, "system.diagnostics.eventlog", "10.0.11", """<licenseUrl>https://example.org/eula</licenseUrl>""");

        var json = $$"""
            {
              "version": 3,
              "targets": {
                "net10.0": {
                  "App.Lib/2.0.0": { "type": "package", "dependencies": { "YamlDotNet": "16.3.0" }, "runtime": { "lib/net8.0/App.Lib.dll": {} } },
                  "Microsoft.Build.Utilities.Core/18.9.6": { "type": "package", "dependencies": { "System.Diagnostics.EventLog": "10.0.11" } },
                  "System.Diagnostics.EventLog/10.0.11": { "type": "package" },
                  "YamlDotNet/16.3.0": { "type": "package" }
                },
                "net10.0/linux-x64": {
                  "Runtime.Only/1.0.0": { "type": "package" }
                }
              },
              "libraries": {
                "App.Lib/2.0.0": { "sha512": "{{AppSha}}", "type": "package", "path": "app.lib/2.0.0", "files": [ "app.lib.2.0.0.nupkg.sha512", "app.lib.nuspec" ] },
                "Microsoft.Build.Utilities.Core/18.9.6": { "sha512": "{{BuildSha}}", "type": "package", "path": "microsoft.build.utilities.core/18.9.6", "files": [ "microsoft.build.utilities.core.nuspec" ] },
                "System.Diagnostics.EventLog/10.0.11": { "sha512": "{{EventLogSha}}", "type": "package", "path": "system.diagnostics.eventlog/10.0.11", "files": [ "system.diagnostics.eventlog.nuspec" ] },
                "YamlDotNet/16.3.0": { "sha512": "{{YamlSha}}", "type": "package", "path": "yamldotnet/16.3.0", "files": [ "yamldotnet.nuspec", "lib/net8.0/YamlDotNet.dll" ] }
              },
              "projectFileDependencyGroups": { "net10.0": [ "App.Lib >= 2.0.0", "Microsoft.Build.Utilities.Core >= 18.9.6" ] },
              "packageFolders": { "{{packages.Replace("\\", "\\\\", StringComparison.Ordinal)}}": {} },
              "project": {
                "version": "1.2.3",
                "restore": { "projectName": "SampleApp" },
                "frameworks": {
                  "net10.0": {
                    "targetAlias": "net10.0",
                    "dependencies": {
                      "App.Lib": { "target": "Package", "version": "[2.0.0, )" },
                      "Microsoft.Build.Utilities.Core": { "suppressParent": "All", "target": "Package", "version": "[18.9.6, )" }
                    }
                  }
                }
              }
            }
            """;
        var path = temp.Combine("obj", "project.assets.json");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, json, Encoding.UTF8);
        return path;
    }

    private static void WriteNuspec(string packages, string id, string version, string licenseXml)
    {
        var directory = Path.Combine(packages, id, version);
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, id + ".nuspec"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <package xmlns="http://schemas.microsoft.com/packaging/2013/05/nuspec.xsd">
              <metadata><id>{id}</id><version>{version}</version>{licenseXml}</metadata>
            </package>
            """);
    }
}
