using ProvenanceGate.Diagnostics;
using ProvenanceGate.Verification.Policy;

namespace ProvenanceGate.Tests.Verify;

public sealed class PolicyLoaderTests
{
    [Test]
    public void Built_in_profiles_load_by_name_and_default_to_baseline()
    {
        Assert.That(PolicyLoader.BuiltInProfiles, Does.Contain("baseline").And.Contain("eu-ai-act"));
        var baseline = PolicyLoader.Load(null);
        Assert.That(baseline.Name, Is.EqualTo("baseline"));
        Assert.That(baseline.Signature.Required, Is.True);
        Assert.That(baseline.RequiredFields.Select(f => f.Id), Does.Contain("model-licence"));
        Assert.That(baseline.RequiredFields, Has.All.Matches<RequiredField>(f => f.Clauses.Count == 3), "every field maps to NIST, EU AI Act and ISO/IEC 42001");
    }

    [Test]
    public void Eu_ai_act_extends_baseline_and_overrides_lineage()
    {
        var eu = PolicyLoader.Load("eu-ai-act");
        var ids = eu.RequiredFields.Select(f => f.Id).ToList();
        Assert.That(ids, Does.Contain("model-licence").And.Contain("model-intended-use").And.Contain("dataset-governance"));
        Assert.That(eu.Lineage.OnCloserBase, Is.EqualTo(PolicyAction.Fail));
        Assert.That(eu.Lineage.OnIndependent, Is.EqualTo(PolicyAction.Fail), "inherited from baseline");
    }

    [Test]
    public void A_file_policy_extends_a_profile_and_can_drop_or_add_fields()
    {
        using var temp = new TempDirectory();
        var path = temp.Combine("policy.yaml");
        File.WriteAllText(path, """
            schemaVersion: 1
            name: acme
            extends: baseline
            requiredFields:
              - id: model-task
                enabled: false
              - id: model-owner
                path: property:acme:owner
                clauses: ["ISO/IEC 42001 A.3.2"]
            licenses:
              deny: [AGPL-3.0-only]
            exceptions:
              - code: PG4081
                component: pkg:huggingface/acme/tiny
                expires: 2027-01-31
                reason: migrating to safetensors
            """);
        var policy = PolicyLoader.Load(path);
        Assert.That(policy.Name, Is.EqualTo("acme"));
        Assert.That(policy.RequiredFields.Select(f => f.Id), Does.Not.Contain("model-task").And.Contain("model-owner").And.Contain("model-licence"));
        Assert.That(string.Join(",", policy.Licenses.Deny), Is.EqualTo("AGPL-3.0-only"));
        Assert.That(policy.Exceptions.Single().Expires.Year, Is.EqualTo(2027));
    }

    [Test]
    public void Json_policies_work_too()
    {
        using var temp = new TempDirectory();
        var path = temp.Combine("policy.json");
        File.WriteAllText(path, """{ "schemaVersion": 1, "extends": "baseline", "signature": { "required": false }, "lineage": { "minimumDerivedScore": 0.7 } }""");
        var policy = PolicyLoader.Load(path);
        Assert.That(policy.Signature.Required, Is.False);
        Assert.That(policy.Lineage.MinimumDerivedScore, Is.EqualTo(0.7));
    }

    [TestCase("schemaVersion: 1\nsignture:\n  required: false\n", "unknown key 'signture'")]
    [TestCase("schemaVersion: 2\n", "schemaVersion: 1")]
    [TestCase("name: x\n", "schemaVersion: 1")]
    [TestCase("schemaVersion: 1\nlineage:\n  onIndependent: maybe\n", "fail, warn or off")]
    [TestCase("schemaVersion: 1\nexceptions:\n  - code: PG4032\n    reason: forever\n", "expires")]
    [TestCase("schemaVersion: 1\nexceptions:\n  - code: PG9999\n    expires: 2027-01-01\n    reason: x\n", "not a ProvenanceGate diagnostic code")]
    [TestCase("schemaVersion: 1\nextends: nosuchprofile\n", "neither a file nor a built-in profile")]
    [TestCase("schemaVersion: 1\nrequiredFields: [ {id: x, path: a, scope: galaxy} ]\n", "scope must be")]
    [TestCase("schemaVersion: 1\n  bad: [\n", "not valid YAML")]
    public void Invalid_policies_are_PG4002_naming_the_problem(string text, string expected)
    {
        using var temp = new TempDirectory();
        var path = temp.Combine("policy.yaml");
        File.WriteAllText(path, text);
        var exception = Assert.Throws<ProvenanceException>(() => PolicyLoader.Load(path))!;
        Assert.That(exception.Diagnostic.Code, Is.EqualTo("PG4002"));
        Assert.That(exception.Diagnostic.Message, Does.Contain(expected));
        Assert.That(exception.ExitCode, Is.EqualTo(ExitCodes.InputError));
    }

    [Test]
    public void Extends_cycles_are_refused()
    {
        using var temp = new TempDirectory();
        File.WriteAllText(temp.Combine("a.yaml"), "schemaVersion: 1\nextends: b.yaml\n");
        File.WriteAllText(temp.Combine("b.yaml"), "schemaVersion: 1\nextends: a.yaml\n");
        var exception = Assert.Throws<ProvenanceException>(() => PolicyLoader.Load(temp.Combine("a.yaml")))!;
        Assert.That(exception.Diagnostic.Message, Does.Contain("cycle"));
    }
}
