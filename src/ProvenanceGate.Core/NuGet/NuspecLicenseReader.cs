using System.Xml;
using System.Xml.Linq;

namespace ProvenanceGate.NuGet;

/// <summary>
/// Reads the licence a package declares in its .nuspec. NuGet.Packaging is not available here, and the licence is all
/// we need, so this reads the XML directly, ignoring the nuspec namespace (it differs between schema versions).
/// </summary>
public static class NuspecLicenseReader
{
    /// <summary>nuget.org writes this URL into every package that declares a licence expression or file; it says nothing itself.</summary>
    private const string DeprecatedLicenseUrl = "https://aka.ms/deprecateLicenseUrl";

    /// <summary>The licence, or null when the nuspec declares none.</summary>
    public static NuGetLicense? Read(string nuspecPath)
    {
        XDocument document;
        try
        {
            var settings = new XmlReaderSettings { DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null };
            using var reader = XmlReader.Create(nuspecPath, settings);
            document = XDocument.Load(reader);
        }
        catch (XmlException ex)
        {
            throw Diagnostics.Diagnostics.NuspecUnreadable.Exception(
                $"'{nuspecPath}' is not a valid .nuspec: {ex.Message}", nuspecPath, ex.LineNumber == 0 ? null : ex.LineNumber, inner: ex);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw Diagnostics.Diagnostics.NuspecUnreadable.Exception($"cannot read '{nuspecPath}': {ex.Message}", nuspecPath, inner: ex);
        }

        var metadata = document.Root?.Elements().FirstOrDefault(e => e.Name.LocalName == "metadata")
            ?? throw Diagnostics.Diagnostics.NuspecUnreadable.Exception($"'{nuspecPath}' has no <metadata> element", nuspecPath);
        return FromMetadata(metadata);
    }

    private static NuGetLicense? FromMetadata(XElement metadata)
    {
        var license = metadata.Elements().FirstOrDefault(e => e.Name.LocalName == "license");
        var licenseUrl = metadata.Elements().FirstOrDefault(e => e.Name.LocalName == "licenseUrl")?.Value.Trim();
        if (string.Equals(licenseUrl, DeprecatedLicenseUrl, StringComparison.OrdinalIgnoreCase) || string.IsNullOrEmpty(licenseUrl))
            licenseUrl = null;

        if (license is not null && !string.IsNullOrWhiteSpace(license.Value))
        {
            var type = license.Attribute("type")?.Value;
            var value = license.Value.Trim();
            if (string.Equals(type, "expression", StringComparison.OrdinalIgnoreCase))
                return new NuGetLicense(value, null, null);
            if (string.Equals(type, "file", StringComparison.OrdinalIgnoreCase))
                return new NuGetLicense(null, $"See {value} in the package", licenseUrl);
        }

        return licenseUrl is null ? null : new NuGetLicense(null, "Unknown - See URL", licenseUrl);
    }
}
