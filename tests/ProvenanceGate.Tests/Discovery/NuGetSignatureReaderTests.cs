using ProvenanceGate.NuGet;

namespace ProvenanceGate.Tests.Discovery;

/// <summary>The facts recorded for a package's signature, read from a real nuget.org package signature.</summary>
public sealed class NuGetSignatureReaderTests
{
    [Test]
    public void A_nuget_org_package_has_an_author_signature_and_a_repository_countersignature()
    {
        var signature = NuGetSignatureReader.Parse(File.ReadAllBytes(RepoPaths.TestData("discovery", "resnet18-0.24.0.signature.p7s")));

        Assert.That(signature.IsSigned, Is.True);
        Assert.That(signature.Author!.Subject, Does.Contain("O=Microsoft Corporation"));
        Assert.That(signature.Repository!.Subject, Does.Contain("NuGet.org"));
        Assert.That(signature.Author.CertificateSha256, Does.Match("^[0-9a-f]{64}$").And.Not.EqualTo(signature.Repository.CertificateSha256));
        Assert.That(signature.Author.Timestamp, Is.Not.Null);
        Assert.That(signature.Repository.Timestamp, Is.GreaterThanOrEqualTo(signature.Author.Timestamp!.Value));
    }

    [Test]
    public void A_package_folder_without_a_signature_file_is_unsigned_and_garbage_is_not_a_signature()
    {
        using var temp = new TempDirectory();
        Assert.That(NuGetSignatureReader.Read(temp.Path).IsSigned, Is.False);

        File.WriteAllBytes(temp.Combine(NuGetSignatureReader.SignatureFileName), [0x30, 0x82, 0xff, 0xff, 1, 2, 3]);
        Assert.That(NuGetSignatureReader.Read(temp.Path).IsSigned, Is.False);
    }
}
