namespace ProvenanceGate.Verification;

/// <summary>A family of base-model licences whose obligations reach derived models, and how a derived licence honours them.</summary>
public sealed record RestrictedLicenseFamily(string Name, string Obligation, Func<string, bool> Matches);

/// <summary>
/// The small, documented table of restrictive base-model licences. A fine-tune, adapter, merge or quantization of a
/// base under one of these must itself carry a licence of the same family; declaring a permissive licence instead
/// (Apache-2.0 on a CC-BY-NC base) is how obligations get lost. Licences are matched on SPDX ids, LicenseRef names and
/// the Hugging Face licence slugs model cards use.
/// </summary>
public static class RestrictedLicenses
{
    public static IReadOnlyList<RestrictedLicenseFamily> Families { get; } =
    [
        new("non-commercial", "use is limited to non-commercial purposes; derivatives must keep the non-commercial licence",
            id => Has(id, "-nc") || Has(id, "noncommercial") || Has(id, "non-commercial") || Has(id, "research-only") || Has(id, "research-use")),
        new("llama community", "Meta Llama community licence: derivatives must ship the licence, its acceptable use policy and 'Built with Llama'",
            id => Has(id, "llama")),
        new("gemma", "Gemma terms of use: derivatives are bound by the Gemma terms and prohibited use policy",
            id => Has(id, "gemma")),
        new("responsible AI (RAIL)", "OpenRAIL/RAIL use-based restrictions must be passed on to every derivative",
            id => Has(id, "openrail") || Has(id, "bigscience-bloom-rail") || Has(id, "-rail-")),
        new("share-alike", "copyleft (CC-BY-SA, GPL, AGPL): derivatives must be released under the same licence",
            id => Has(id, "cc-by-sa") || Has(id, "gpl")),
    ];

    /// <summary>The family a licence id, LicenseRef or slug belongs to, or null for permissive and unknown licences.</summary>
    public static RestrictedLicenseFamily? FamilyOf(string licence) => Families.FirstOrDefault(f => f.Matches(Normalize(licence)));

    private static string Normalize(string licence) => "-" + licence.Trim().ToLowerInvariant().Replace('_', '-').Replace(' ', '-') + "-";

    private static bool Has(string normalized, string token) =>
        normalized.Contains(token.StartsWith('-') ? token + "-" : token, StringComparison.Ordinal) ||
        (token.StartsWith('-') && normalized.Contains(token + ".", StringComparison.Ordinal));
}
