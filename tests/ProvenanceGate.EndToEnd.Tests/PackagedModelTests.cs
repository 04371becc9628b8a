using System.Text.RegularExpressions;
using ProvenanceGate.Bom;
using ProvenanceGate.Diagnostics;

namespace ProvenanceGate.EndToEnd.Tests;

/// <summary>
/// Models that arrive in NuGet packages: a package built here that copies an ONNX model to the output (as
/// Microsoft.ML.DnnImageFeaturizer.ResNet18 does), consumed by an app with the gate on; then the real ResNet18 package.
/// </summary>
[NonParallelizable]
public sealed partial class PackagedModelTests
{
    private const string ModelPackageId = "Acme.TinyOnnxModel";
    private static readonly Sample App = new("OnnxConsumerApp");

    [OneTimeSetUp]
    public void PackTheModelPackage()
    {
        var package = Directory.CreateDirectory(Path.Combine(PackagesFixture.Workspace, "TinyOnnxModelPackage")).FullName;
        Directory.CreateDirectory(Path.Combine(package, "tools", "models"));
        Directory.CreateDirectory(Path.Combine(package, "build"));
        File.Copy(RepoPaths.InRepo("tests", "ProvenanceGate.Tests", "TestData", "discovery", "tiny-add.onnx"), Path.Combine(package, "tools", "models", "tiny-add.onnx"));
        File.WriteAllText(Path.Combine(package, "TinyOnnxModelPackage.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <TargetFramework>netstandard2.0</TargetFramework>
                <PackageId>{ModelPackageId}</PackageId>
                <Version>1.0.0</Version>
                <IncludeBuildOutput>false</IncludeBuildOutput>
                <NoWarn>$(NoWarn);NU5128</NoWarn>
              </PropertyGroup>
              <ItemGroup>
                <None Include="tools/models/tiny-add.onnx" Pack="true" PackagePath="tools/models/" />
                <None Include="build/{ModelPackageId}.props" Pack="true" PackagePath="build/" />
              </ItemGroup>
            </Project>
            """);
        PackWithModelsCopiedToOutput(package, ModelPackageId, "Models");
    }

    /// <summary>Packs a package whose build .props copies its tools/models to the consumer's output, as ML.NET's model packages do.</summary>
    private static void PackWithModelsCopiedToOutput(string project, string packageId, string outputFolder)
    {
        File.WriteAllText(Path.Combine(project, "build", packageId + ".props"), $$"""
            <Project>
              <ItemGroup>
                <Content Include="$(MSBuildThisFileDirectory)..\tools\models\**\*.*">
                  <Link>{{outputFolder}}\%(RecursiveDir)%(Filename)%(Extension)</Link>
                  <CopyToOutputDirectory>PreserveNewest</CopyToOutputDirectory>
                </Content>
              </ItemGroup>
            </Project>
            """);
        var pack = DotNet.Run(project, PackagesFixture.Packages, "pack", "-o", PackagesFixture.Feed);
        Assert.That(pack.ExitCode, Is.Zero, pack.ToString());
    }

    private static void WriteApp(string declaredModel)
    {
        Directory.CreateDirectory(App.Directory);
        File.WriteAllText(Path.Combine(App.Directory, "Program.cs"), "System.Console.WriteLine(\"tiny-add\");\n");
        File.WriteAllText(Path.Combine(App.Directory, "tiny-add.provenance.yaml"), """
            schemaVersion: 1
            model:
              id: acme/tiny-add
              version: 1.0.0
              license: Apache-2.0
              task: tabular-regression
            """);
        File.WriteAllText(App.Project, ConsumerProject(ModelPackageId, "1.0.0", declaredModel));
    }

    [Test, Order(1)]
    public void A_model_copied_from_a_package_without_provenance_fails_the_build_at_the_project_file()
    {
        WriteApp(declaredModel: "");

        var build = App.Run("build", App.Project);

        Assert.That(build.ExitCode, Is.Not.Zero, build.ToString());
        Assert.That(UndeclaredAtProject().Matches(build.Output).Select(m => m.Groups["path"].Value).Distinct(), Is.EqualTo((string[])["Models/tiny-add.onnx"]), build.ToString());
        Assert.That(build.Output, Does.Contain("(119 bytes, onnx, from NuGet package pkg:nuget/Acme.TinyOnnxModel@1.0.0)"));
        Assert.That(App.Stamp, Does.Not.Exist, "a failed gate leaves no stamp");

        // The rejected BOM still says what was found, for the reviewer.
        var rejected = Sample.ReadJson(Path.Combine(App.IntermediateDirectory, "provenancegate", "rejected", App.BomFileName));
        var model = Sample.Objects(rejected).Single(o => (string?)o["type"] == "machine-learning-model");
        Assert.That((string?)model["purl"], Is.EqualTo("pkg:nuget/Acme.TinyOnnxModel@1.0.0#tools/models/tiny-add.onnx"));
        var dependencies = rejected["dependencies"]!.AsArray();
        var packageEdges = dependencies.Single(d => (string?)d!["ref"] == "pkg:nuget/Acme.TinyOnnxModel@1.0.0")!["dependsOn"]!.AsArray().Select(n => (string?)n);
        Assert.That(packageEdges, Does.Contain((string?)model["bom-ref"]), "package -> the model it ships");
        Assert.That(BomValidator.Validate(rejected.ToJsonString(), "rejected.cdx.json").Where(d => d.Severity == DiagnosticSeverity.Error), Is.Empty);
    }

    [Test, Order(2)]
    public void Declaring_the_packaged_model_makes_the_build_green()
    {
        WriteApp(declaredModel: $"""<ProvenanceModel Include="tools/models" Package="{ModelPackageId}" Declaration="tiny-add.provenance.yaml" />""");

        var build = App.Run("build", App.Project);

        Assert.That(build.ExitCode, Is.Zero, build.ToString());
        var bom = Sample.ReadJson(Path.Combine(App.OutputDirectory, App.BomFileName));
        var models = Sample.Objects(bom).Where(o => (string?)o["type"] == "machine-learning-model").ToList();
        Assert.That(models.Select(m => (string?)m["name"]), Is.EqualTo((string[])["tiny-add"]), "declared once, not also listed as undeclared");
    }

    [Test, Order(3)]
    public void The_real_resnet18_package_ships_two_onnx_models_that_the_bom_attributes_to_it()
    {
        var app = new Sample("ResNetConsumerApp");
        Directory.CreateDirectory(app.Directory);
        File.WriteAllText(Path.Combine(app.Directory, "Program.cs"), "System.Console.WriteLine(\"resnet\");\n");
        File.WriteAllText(app.Project, ConsumerProject("Microsoft.ML.DnnImageFeaturizer.ResNet18", "0.24.0"));

        var build = app.Run("build", app.Project);

        Assert.That(build.ExitCode, Is.Not.Zero, build.ToString());
        Assert.That(UndeclaredAtProject().Matches(build.Output).Select(m => m.Groups["path"].Value).Distinct().Order(StringComparer.Ordinal),
            Is.EqualTo((string[])["DnnImageModels/ResNet18Onnx/ResNet18.onnx", "DnnImageModels/ResNetPrepOnnx/ResNetPreprocess.onnx"]), build.ToString());

        var bom = Sample.ReadJson(Path.Combine(app.IntermediateDirectory, "provenancegate", "rejected", app.BomFileName));
        var models = Sample.Objects(bom).Where(o => (string?)o["type"] == "machine-learning-model").ToList();
        Assert.That(models.Select(m => (string?)m["purl"]), Is.EquivalentTo((string[])[
            "pkg:nuget/Microsoft.ML.DnnImageFeaturizer.ResNet18@0.24.0#tools/DnnImageModels/ResNet18Onnx/ResNet18.onnx",
            "pkg:nuget/Microsoft.ML.DnnImageFeaturizer.ResNet18@0.24.0#tools/DnnImageModels/ResNetPrepOnnx/ResNetPreprocess.onnx"]));
        var resnet = models.Single(m => ((string?)m["name"])!.EndsWith("ResNet18.onnx", StringComparison.Ordinal));
        var packaged = Path.Combine(PackagesFixture.Packages, "microsoft.ml.dnnimagefeaturizer.resnet18", "0.24.0", "tools", "DnnImageModels", "ResNet18Onnx", "ResNet18.onnx");
        Assert.That((string?)resnet["hashes"]![0]!["content"], Is.EqualTo(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(packaged)))));

        // NuGet's own evidence: nuget.org packages carry an author signature (Microsoft) and a repository countersignature.
        var library = Sample.Objects(bom).Single(o => (string?)o["purl"] == "pkg:nuget/Microsoft.ML.DnnImageFeaturizer.ResNet18@0.24.0");
        var properties = library["properties"]!.AsArray().ToDictionary(p => (string)p!["name"]!, p => (string)p!["value"]!);
        Assert.That(properties["provenancegate:nuget:signed"], Is.EqualTo("true"));
        Assert.That(properties["provenancegate:nuget:signature:author:subject"], Does.Contain("Microsoft Corporation"));
        Assert.That(properties["provenancegate:nuget:signature:author:certificate-sha256"], Does.Match("^[0-9a-f]{64}$"));
        Assert.That(properties["provenancegate:nuget:signature:repository:subject"], Does.Contain("NuGet.org"));
        Assert.That(properties, Does.ContainKey("provenancegate:nuget:signature:author:timestamp"));
        Assert.That(BomValidator.Validate(bom.ToJsonString(), "resnet.cdx.json").Where(d => d.Severity == DiagnosticSeverity.Error), Is.Empty);
    }

    [Test, Order(4)]
    public void A_model_package_with_its_own_signed_bom_needs_no_declaration_and_fails_once_its_model_is_swapped()
    {
        // The model package: a library that ships samples/models/sample-finetune and, through ProvenanceGate.Build's
        // pack step, its signed ML-BOM under provenance/net10.0/.
        var library = Directory.CreateDirectory(Path.Combine(PackagesFixture.Workspace, "SampleFinetunePackage")).FullName;
        Directory.CreateDirectory(Path.Combine(library, "build"));
        File.WriteAllText(Path.Combine(library, "SampleFinetunePackage.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <PackageId>Acme.SampleFinetune</PackageId>
                <Version>1.0.0</Version>
                <IsPackable>true</IsPackable>
                <ProvenanceGateSigningKey>../SignedModelApp/keys/sample-signing.key</ProvenanceGateSigningKey>
                <ProvenanceGateTrustedKeys>../SignedModelApp/keys/sample-signing.pub</ProvenanceGateTrustedKeys>
                <ProvenanceGateVerifyOnBuild>true</ProvenanceGateVerifyOnBuild>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="ProvenanceGate.Build" Version="{PackagesFixture.PackageVersion}" PrivateAssets="all" />
                <ProvenanceModel Include="../models/sample-finetune" BaseFingerprint="../SignedModelApp/base/dev-base.fingerprint.json" />
                <None Include="../models/sample-finetune/**" Pack="true" PackagePath="tools/models/sample-finetune/" />
                <None Include="build/Acme.SampleFinetune.props" Pack="true" PackagePath="build/" />
              </ItemGroup>
            </Project>
            """);
        PackWithModelsCopiedToOutput(library, "Acme.SampleFinetune", "models");

        var app = new Sample("ModelPackageConsumerApp");
        Directory.CreateDirectory(app.Directory);
        File.WriteAllText(Path.Combine(app.Directory, "Program.cs"), "System.Console.WriteLine(\"chat\");\n");
        File.WriteAllText(app.Project, ConsumerProject("Acme.SampleFinetune", "1.0.0"));

        var green = app.Run("build", app.Project);

        Assert.That(green.ExitCode, Is.Zero, green.ToString());
        var bom = Sample.ReadJson(Path.Combine(app.OutputDirectory, app.BomFileName));
        var model = Sample.Objects(bom).Single(o => (string?)o["type"] == "machine-learning-model" && o["pedigree"] is not null);
        Assert.That(model["properties"]!.AsArray().Where(p => (string?)p!["name"] == "provenancegate:nuget:package").Select(p => (string?)p!["value"]),
            Is.EqualTo((string[])["pkg:nuget/Acme.SampleFinetune@1.0.0"]));
        Assert.That(model["pedigree"]!["ancestors"]!.AsArray().Select(a => (string?)a!["name"]), Has.Some.Contains("dev-base"), "the lineage travels with the model");
        Assert.That(Sample.Objects(bom).Any(o => (string?)o["type"] == "machine-learning-model" && o["properties"]?.AsArray()
            .Any(p => (string?)p!["name"] == "provenancegate:declared" && (string?)p["value"] == "false") == true), Is.False);

        // Swap the model's weights inside the restored package: the shipped file no longer matches the package's signed BOM.
        var weights = Path.Combine(PackagesFixture.Packages, "acme.samplefinetune", "1.0.0", "tools", "models", "sample-finetune", "model.safetensors");
        var bytes = File.ReadAllBytes(weights);
        bytes[^3] ^= 0x20;
        File.WriteAllBytes(weights, bytes);

        var red = app.Run("build", app.Project);

        Assert.That(red.ExitCode, Is.Not.Zero, red.ToString());
        Assert.That(UndeclaredAtProject().Matches(red.Output).Select(m => m.Groups["path"].Value).Distinct(), Is.EqualTo((string[])["models/sample-finetune/model.safetensors"]), red.ToString());
    }

    /// <summary>An app with the gate on, signing with the sample key, that references <paramref name="package"/>.</summary>
    [Test, Order(5)]
    public void A_model_that_only_publish_copies_fails_the_publish_and_takes_the_bom_out_of_the_publish_folder()
    {
        // The evasion: an item copied to the publish folder only never reaches the build output the BOM is made from.
        WriteApp(declaredModel: $"""
            <ProvenanceModel Include="tools/models" Package="{ModelPackageId}" Declaration="tiny-add.provenance.yaml" />
            <None Include="extra/side.safetensors" CopyToPublishDirectory="PreserveNewest" />
            """);
        Directory.CreateDirectory(Path.Combine(App.Directory, "extra"));
        var header = """{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"""u8.ToArray();
        File.WriteAllBytes(Path.Combine(App.Directory, "extra", "side.safetensors"), [.. BitConverter.GetBytes((long)header.Length), .. header, .. new byte[8]]);

        var build = App.Run("build", App.Project);
        Assert.That(build.ExitCode, Is.Zero, "the build output holds only the declared model: " + build);

        var publishFolder = Path.Combine(PackagesFixture.Root, "onnx-consumer-publish");
        var publish = App.Run("publish", App.Project, "-o", publishFolder);

        Assert.That(publish.ExitCode, Is.Not.Zero, publish.ToString());
        Assert.That(UndeclaredAtProject().Matches(publish.Output).Select(m => m.Groups["path"].Value).Distinct(), Is.EqualTo((string[])["extra/side.safetensors"]), publish.ToString());
        Assert.That(publish.Output, Does.Contain("found in the output, not in the BOM"));
        Assert.That(Path.Combine(publishFolder, "extra", "side.safetensors"), Does.Exist);
        Assert.That(Path.Combine(publishFolder, App.BomFileName), Does.Not.Exist, "a BOM that does not describe the folder is not left in it");
        Assert.That(Path.Combine(publishFolder, App.BomFileName + ".sig"), Does.Not.Exist);
    }

    private static string ConsumerProject(string package, string version, string items = "") => $"""
        <Project Sdk="Microsoft.NET.Sdk">
          <PropertyGroup>
            <OutputType>Exe</OutputType>
            <TargetFramework>net10.0</TargetFramework>
            <ProvenanceGateSigningKey>../SignedModelApp/keys/sample-signing.key</ProvenanceGateSigningKey>
            <ProvenanceGateTrustedKeys>../SignedModelApp/keys/sample-signing.pub</ProvenanceGateTrustedKeys>
            <ProvenanceGateVerifyOnBuild>true</ProvenanceGateVerifyOnBuild>
          </PropertyGroup>
          <ItemGroup>
            <PackageReference Include="ProvenanceGate.Build" Version="{PackagesFixture.PackageVersion}" PrivateAssets="all" />
            <PackageReference Include="{package}" Version="{version}" />
          </ItemGroup>
          <ItemGroup>
            {items}
          </ItemGroup>
        </Project>
        """;

    /// <summary>"…/OnnxConsumerApp.csproj : error PG4090: model file 'Models/tiny-add.onnx' (…)": the fix goes in the project file.</summary>
    [GeneratedRegex(@"\.csproj\s?: error PG4090: model file '(?<path>[^']+)'", RegexOptions.Multiline)]
    private static partial Regex UndeclaredAtProject();
}
