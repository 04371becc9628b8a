using System.Security.Cryptography;
using ProvenanceGate.Build;
using ProvenanceGate.Signing;

namespace ProvenanceGate.Tests.MSBuild;

[NonParallelizable] // COSIGN_PASSWORD is process-wide
public sealed class SignModelBomTests
{
    [Test]
    public void Signs_the_bom_with_a_relative_pkcs8_key()
    {
        using var temp = new TempDirectory();
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        File.WriteAllText(temp.Combine("signing.key"), key.ExportPkcs8PrivateKeyPem());
        var (task, engine) = Create(temp, "signing.key");

        Assert.That(task.Execute(), Is.True, string.Join("\n", engine.Errors));

        Assert.That(Verifies(key, temp), Is.True);
        Assert.That(File.ReadAllText(temp.Combine("app.cdx.json.sigstore.json")), Does.Contain(Convert.ToBase64String(SHA256.HashData(File.ReadAllBytes(task.BomPath)))));
    }

    [Test]
    public void Unchanged_bom_keeps_a_signature_that_still_verifies()
    {
        using var temp = new TempDirectory();
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        File.WriteAllText(temp.Combine("signing.key"), key.ExportPkcs8PrivateKeyPem());
        var (first, _) = Create(temp, "signing.key");
        Assert.That(first.Execute(), Is.True);
        var signature = File.ReadAllText(first.SignaturePath);

        var (second, engine) = Create(temp, "signing.key");
        second.BomChanged = false;

        Assert.That(second.Execute(), Is.True);
        Assert.That(File.ReadAllText(second.SignaturePath), Is.EqualTo(signature), "ECDSA signatures are randomized: a rewrite would differ");
        Assert.That(engine.Messages, Has.Some.Contains("still signs the unchanged BOM"));
    }

    [Test]
    public void Unchanged_bom_is_signed_again_when_the_key_changed()
    {
        using var temp = new TempDirectory();
        using var oldKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var newKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        File.WriteAllText(temp.Combine("signing.key"), oldKey.ExportPkcs8PrivateKeyPem());
        Assert.That(Create(temp, "signing.key").Task.Execute(), Is.True);

        File.WriteAllText(temp.Combine("signing.key"), newKey.ExportPkcs8PrivateKeyPem());
        var (task, _) = Create(temp, "signing.key");
        task.BomChanged = false;

        Assert.That(task.Execute(), Is.True);
        Assert.That(Verifies(newKey, temp), Is.True);
    }

    [Test]
    public void Encrypted_key_from_env_uses_COSIGN_PASSWORD_and_without_it_is_PG2003()
    {
        using var temp = new TempDirectory();
        var (privatePem, _) = CosignKeyPair.Generate("s3cret");
        var previousPassword = Environment.GetEnvironmentVariable(PasswordSource.EnvironmentVariable);
        Environment.SetEnvironmentVariable("PG_TEST_SIGNING_KEY", privatePem);
        try
        {
            Environment.SetEnvironmentVariable(PasswordSource.EnvironmentVariable, null);
            var (without, engine) = Create(temp, "env://PG_TEST_SIGNING_KEY");
            Assert.That(without.Execute(), Is.False);
            Assert.That(engine.Errors.Single(), Does.StartWith("test.csproj: error PG2003: "), "no file of its own: MSBuild names the project");
            Assert.That(engine.Errors.Single(), Does.Not.Contain("PRIVATE"), "never echo key material");
            Assert.That(File.Exists(without.SignaturePath), Is.False);

            Environment.SetEnvironmentVariable(PasswordSource.EnvironmentVariable, "s3cret");
            var (with, engine2) = Create(temp, "env://PG_TEST_SIGNING_KEY");
            Assert.That(with.Execute(), Is.True, string.Join("\n", engine2.Errors));
            Assert.That(File.Exists(with.SignaturePath), Is.True);
        }
        finally
        {
            Environment.SetEnvironmentVariable(PasswordSource.EnvironmentVariable, previousPassword);
            Environment.SetEnvironmentVariable("PG_TEST_SIGNING_KEY", null);
        }
    }

    [Test]
    public void Missing_key_file_is_a_coded_error_naming_it()
    {
        using var temp = new TempDirectory();
        var (task, engine) = Create(temp, "keys/absent.key");

        Assert.That(task.Execute(), Is.False);

        Assert.That(engine.Errors.Single(), Does.Match(@"absent\.key: error PG[0-9]{4}: "));
    }

    private static bool Verifies(ECDsa key, TempDirectory temp)
    {
        var signature = Convert.FromBase64String(File.ReadAllText(temp.Combine("app.cdx.json.sig")));
        return key.VerifyData(File.ReadAllBytes(temp.Combine("app.cdx.json")), signature, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
    }

    private static (SignModelBom Task, FakeBuildEngine Engine) Create(TempDirectory temp, string key)
    {
        var bom = temp.Combine("app.cdx.json");
        if (!File.Exists(bom))
            File.WriteAllText(bom, "{\"bomFormat\":\"CycloneDX\"}\n");
        var engine = new FakeBuildEngine();
        var task = new SignModelBom
        {
            BuildEngine = engine,
            BomPath = bom,
            ProjectDirectory = temp.Path,
            SigningKey = key,
            SignaturePath = bom + ".sig",
            BundlePath = bom + ".sigstore.json",
        };
        return (task, engine);
    }
}
