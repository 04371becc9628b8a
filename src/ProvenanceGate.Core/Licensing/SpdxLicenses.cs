using System.Collections.Frozen;
using System.Text.Json;

namespace ProvenanceGate.Licensing;

/// <summary>
/// The SPDX licence and exception ids that CycloneDX accepts, read from the embedded <c>spdx.schema.json</c>
/// (the same list the schema validates <c>license.id</c> against). Lookups ignore case, as SPDX expressions do.
/// </summary>
public static class SpdxLicenses
{
    private static readonly Lazy<(FrozenDictionary<string, string> Licenses, FrozenDictionary<string, string> Exceptions)> Lists = new(Load);

    /// <summary>True for an SPDX licence id (not an exception), ignoring case.</summary>
    public static bool IsKnownId(string id) => Lists.Value.Licenses.ContainsKey(id);

    public static bool IsKnownException(string id) => Lists.Value.Exceptions.ContainsKey(id);

    /// <summary>The id as SPDX spells it ("apache-2.0" gives "Apache-2.0"), or null when unknown.</summary>
    public static string? Canonical(string id) => Lists.Value.Licenses.GetValueOrDefault(id);

    public static string? CanonicalException(string id) => Lists.Value.Exceptions.GetValueOrDefault(id);

    public static int LicenseCount => Lists.Value.Licenses.Count;

    private static (FrozenDictionary<string, string>, FrozenDictionary<string, string>) Load()
    {
        using var document = JsonDocument.Parse(Bom.CycloneDxSchemas.ReadResource("spdx.schema.json"));
        var ids = document.RootElement.GetProperty("enum").EnumerateArray().Select(e => e.GetString()!).ToList();

        // The schema lists all licences in alphabetical order, then all exceptions in alphabetical order;
        // the first step backwards in that order is where the exceptions begin.
        var split = ids.Count;
        for (var i = 1; i < ids.Count; i++)
        {
            if (StringComparer.OrdinalIgnoreCase.Compare(ids[i], ids[i - 1]) < 0)
            {
                split = i;
                break;
            }
        }

        var licenses = ids.Take(split).ToFrozenDictionary(id => id, id => id, StringComparer.OrdinalIgnoreCase);
        var exceptions = ids.Skip(split).ToFrozenDictionary(id => id, id => id, StringComparer.OrdinalIgnoreCase);
        return (licenses, exceptions);
    }
}
