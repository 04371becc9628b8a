using ProvenanceGate.Licensing;

namespace ProvenanceGate.Tests.Bom;

public sealed class SpdxExpressionTests
{
    [TestCase("MIT", "MIT")]
    [TestCase("apache-2.0", "Apache-2.0")]
    [TestCase("MIT OR Apache-2.0", "MIT OR Apache-2.0")]
    [TestCase("(MIT OR Apache-2.0) AND BSD-3-Clause", "(MIT OR Apache-2.0) AND BSD-3-Clause")]
    [TestCase("((MIT))", "MIT")]
    [TestCase("GPL-2.0-only WITH Classpath-exception-2.0", "GPL-2.0-only WITH Classpath-exception-2.0")]
    [TestCase("LGPL-2.1+", "LGPL-2.1+")]
    [TestCase("EPL-1.0+", "EPL-1.0+")]
    [TestCase("LicenseRef-llama3", "LicenseRef-llama3")]
    [TestCase("DocumentRef-spdx-tool-1.2:LicenseRef-MIT-Style-2", "DocumentRef-spdx-tool-1.2:LicenseRef-MIT-Style-2")]
    [TestCase("MIT AND Apache-2.0 OR ISC", "MIT AND Apache-2.0 OR ISC")]
    public void Valid_expressions_parse_and_print_canonically(string text, string canonical)
    {
        Assert.That(SpdxExpression.TryParse(text, out var expression, out var error), Is.True, error);
        Assert.That(expression!.ToString(), Is.EqualTo(canonical));
    }

    [TestCase("")]
    [TestCase("MIT AND")]
    [TestCase("AND MIT")]
    [TestCase("(MIT")]
    [TestCase("MIT)")]
    [TestCase("MIT and Apache-2.0")]
    [TestCase("NOT-A-LICENSE")]
    [TestCase("Apache-2.0 AND NOT-A-LICENSE")]
    [TestCase("MIT WITH NotAnException")]
    [TestCase("LicenseRef-x WITH Classpath-exception-2.0")]
    [TestCase("MIT Apache-2.0")]
    [TestCase("MIT/Apache")]
    [TestCase("llama3")]
    public void Invalid_expressions_are_rejected(string text)
    {
        Assert.That(SpdxExpression.TryParse(text, out _, out var error), Is.False);
        Assert.That(error, Is.Not.Empty);
    }

    [Test]
    public void Precedence_and_sets_are_exposed()
    {
        var expression = SpdxExpression.Parse("MIT OR Apache-2.0 AND LicenseRef-custom");
        Assert.That(expression.Root, Is.TypeOf<SpdxCompound>());
        var root = (SpdxCompound)expression.Root;
        Assert.That(root.Operator, Is.EqualTo(SpdxOperator.Or));
        Assert.That(((SpdxCompound)root.Right).Operator, Is.EqualTo(SpdxOperator.And));
        Assert.That(expression.LicenseIds, Is.EquivalentTo((string[])["MIT", "Apache-2.0", "LicenseRef-custom"]));
        Assert.That(expression.Operators, Is.EquivalentTo((SpdxOperator[])[SpdxOperator.Or, SpdxOperator.And]));
        Assert.That(expression.Licenses.Single(l => l.Id == "LicenseRef-custom").IsLicenseRef, Is.True);
    }

    [Test]
    public void Licence_list_separates_licences_from_exceptions()
    {
        Assert.That(SpdxLicenses.IsKnownId("MIT"), Is.True);
        Assert.That(SpdxLicenses.IsKnownId("mit"), Is.True);
        Assert.That(SpdxLicenses.IsKnownId("0BSD"), Is.True);
        Assert.That(SpdxLicenses.IsKnownId("ZPL-2.1"), Is.True);
        Assert.That(SpdxLicenses.IsKnownId("LLVM-exception"), Is.False);
        Assert.That(SpdxLicenses.IsKnownException("LLVM-exception"), Is.True);
        Assert.That(SpdxLicenses.IsKnownException("389-exception"), Is.True);
        Assert.That(SpdxLicenses.IsKnownId("llama3"), Is.False);
        Assert.That(SpdxLicenses.LicenseCount, Is.GreaterThan(600));
    }
}
