using ProvenanceGate.Diagnostics;
using ProvenanceGate.Verification;

namespace ProvenanceGate.Tests.Verify;

/// <summary>Each check on a hand-written BOM, with a policy that does not require a signature (signing is tested in the tamper suite).</summary>
public sealed class GateChecksTests : IDisposable
{
    private static readonly DateTimeOffset Now = new(2026, 11, 21, 0, 0, 0, TimeSpan.Zero);

    private TempDirectory _temp = null!;
    private string _model = null!;
    private string _policy = null!;

    [SetUp]
    public void SetUp()
    {
        _temp = new TempDirectory();
        _model = HandBom.CreateModel(_temp.Combine("model"));
        _policy = _temp.Combine("policy.yaml");
        File.WriteAllText(_policy, "schemaVersion: 1\nextends: baseline\nsignature:\n  required: false\n");
    }

    [TearDown]
    public void TearDown() => _temp.Dispose();

    public void Dispose() => _temp?.Dispose();

    private GateReport Verify(HandBom bom, string? policy = null) => Gate.Verify(new GateOptions
    {
        BomPath = bom.Write(_temp.Combine("bom.cdx.json")),
        PolicyReference = policy ?? _policy,
        ModelDirectory = _model,
        Now = Now,
    });

    private static string Errors(GateReport report) =>
        string.Join(",", report.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).Select(d => d.Code).Distinct().Order(StringComparer.Ordinal));

    [Test]
    public void A_complete_bom_over_its_own_files_passes()
    {
        var report = Verify(new HandBom(_model));
        Assert.That(Errors(report), Is.Empty, string.Join("\n", report.Diagnostics));
        Assert.That(report.Passed, Is.True);
        Assert.That(report.Checks.Single(c => c.Id == CheckIds.Digests).Status, Is.EqualTo(CheckStatus.Pass));
        Assert.That(report.Checks.Single(c => c.Id == CheckIds.RequiredFields).Status, Is.EqualTo(CheckStatus.Pass));
    }

    [Test]
    public void A_changed_byte_is_a_digest_mismatch_located_at_the_file_component()
    {
        var bom = new HandBom(_model);
        var bytes = File.ReadAllBytes(Path.Combine(_model, "model.safetensors"));
        bytes[^1] ^= 0x01;
        File.WriteAllBytes(Path.Combine(_model, "model.safetensors"), bytes);
        var report = Verify(bom);
        Assert.That(Errors(report), Is.EqualTo("PG4031"));
        var diagnostic = report.Diagnostics.Single(d => d.Code == "PG4031");
        Assert.That(diagnostic.Message, Does.Contain("model.safetensors"));
        var lines = File.ReadAllLines(_temp.Combine("bom.cdx.json"));
        Assert.That(lines[diagnostic.Line!.Value - 1], Does.Contain("\"hashes\""), "the line points at the file's hashes");
    }

    [Test]
    public void Missing_unlisted_and_escaping_files_each_have_their_code()
    {
        var bom = new HandBom(_model).AddFile("gone.safetensors", new string('a', 64));
        File.WriteAllBytes(Path.Combine(_model, "extra.safetensors"), [1, 2, 3]);
        File.WriteAllText(Path.Combine(_model, "notes.txt"), "hello");
        bom.AddFile("../outside.bin", new string('b', 64));
        var report = Verify(bom);
        Assert.That(Errors(report), Is.EqualTo("PG4030,PG4032,PG4033"));
        Assert.That(report.Diagnostics.Single(d => d.Code == "PG4032" && d.Severity == DiagnosticSeverity.Error).Message, Does.Contain("extra.safetensors"));
        Assert.That(report.Diagnostics.Single(d => d.Code == "PG4032" && d.Severity == DiagnosticSeverity.Warning).Message, Does.Contain("notes.txt"));
    }

    [Test]
    public void A_listed_symlink_pointing_out_of_the_model_directory_escapes()
    {
        File.WriteAllText(_temp.Combine("secret.txt"), "outside");
        File.CreateSymbolicLink(Path.Combine(_model, "tokenizer.model"), _temp.Combine("secret.txt"));
        var report = Verify(new HandBom(_model));
        Assert.That(Errors(report), Is.EqualTo("PG4033"));
    }

    [Test]
    public void A_missing_required_field_names_the_framework_clauses()
    {
        var bom = new HandBom(_model);
        bom.Model.Remove("modelCard");
        var report = Verify(bom);
        Assert.That(Errors(report), Is.EqualTo("PG4040"));
        var message = report.Diagnostics.Single(d => d.Code == "PG4040").Message;
        Assert.That(message, Does.Contain("modelCard.modelParameters.task").And.Contain("NIST AI RMF MAP 2.1").And.Contain("EU AI Act Art. 13").And.Contain("ISO/IEC 42001"));
    }

    [Test]
    public void The_eu_ai_act_profile_requires_more_than_baseline()
    {
        var policy = _temp.Combine("eu.yaml");
        File.WriteAllText(policy, "schemaVersion: 1\nextends: eu-ai-act\nsignature:\n  required: false\n");
        var report = Verify(new HandBom(_model), policy);
        var missing = report.Diagnostics.Where(d => d.Code == "PG4040").Select(d => d.Message).ToList();
        Assert.That(missing, Has.Some.Contains("useCases"));
        Assert.That(missing, Has.Some.Contains("Art. 10"));
        Assert.That(missing, Has.None.Contains("modelParameters.task"), "baseline fields are present");
    }

    [Test]
    public void A_permissive_licence_on_a_non_commercial_base_is_flagged()
    {
        var report = Verify(new HandBom(_model).Ancestor("acme/base", licenseId: "CC-BY-NC-4.0"));
        Assert.That(Errors(report), Is.EqualTo("PG4053"));
        Assert.That(report.Diagnostics.Single(d => d.Code == "PG4053").Message, Does.Contain("non-commercial").And.Contain("Apache-2.0"));
    }

    [Test]
    public void Llama_bases_are_recognised_by_licence_name_or_model_id()
    {
        Assert.That(Errors(Verify(new HandBom(_model).Ancestor("acme/base", licenseName: "llama3"))), Is.EqualTo("PG4053"));
        Assert.That(Errors(Verify(new HandBom(_model).Ancestor("meta-llama/Llama-3.1-8B"))), Is.EqualTo("PG4053"));
        var keeps = new HandBom(_model).Ancestor("meta-llama/Llama-3.1-8B");
        keeps.Model["licenses"] = new System.Text.Json.Nodes.JsonArray(new System.Text.Json.Nodes.JsonObject { ["expression"] = "LicenseRef-llama3.1-community" });
        Assert.That(Errors(Verify(keeps)), Is.Empty);
        Assert.That(Errors(Verify(new HandBom(_model).Ancestor("acme/base", licenseId: "MIT"))), Is.Empty);
    }

    [Test]
    public void Deny_and_allow_lists_apply_to_every_leaf()
    {
        var policy = _temp.Combine("licences.yaml");
        File.WriteAllText(policy, "schemaVersion: 1\nextends: baseline\nsignature: {required: false}\nlicenses:\n  deny: [Apache-2.0]\n");
        Assert.That(Errors(Verify(new HandBom(_model), policy)), Is.EqualTo("PG4051"));
        File.WriteAllText(policy, "schemaVersion: 1\nextends: baseline\nsignature: {required: false}\nlicenses:\n  allow: [MIT]\n");
        Assert.That(Errors(Verify(new HandBom(_model), policy)), Is.EqualTo("PG4052"));
    }

    [Test]
    public void Approvals_must_be_present_and_not_overdue()
    {
        var policy = _temp.Combine("approvals.yaml");
        File.WriteAllText(policy, "schemaVersion: 1\nextends: baseline\nsignature: {required: false}\napprovals:\n  required: [security, legal]\n");
        var report = Verify(new HandBom(_model).Approval("security", "2026-01-01", "2026-06-01"), policy);
        Assert.That(Errors(report), Is.EqualTo("PG4060,PG4061"));
        Assert.That(report.Diagnostics.Single(d => d.Code == "PG4060").Message, Does.Contain("'legal'"));
        Assert.That(Errors(Verify(new HandBom(_model).Approval("security", "2026-01-01", "2027-06-01").Approval("legal", "2026-01-01", null), policy)), Is.Empty);
    }

    [Test]
    public void An_exception_waives_until_it_expires_and_then_is_itself_reported()
    {
        var bom = new HandBom(_model);
        File.WriteAllBytes(Path.Combine(_model, "extra.safetensors"), [1, 2, 3]);
        var policy = _temp.Combine("waiver.yaml");
        File.WriteAllText(policy, "schemaVersion: 1\nextends: baseline\nsignature: {required: false}\nexceptions:\n  - code: PG4032\n    expires: 2027-01-01\n    reason: staged rollout\n");
        var waived = Verify(bom, policy);
        Assert.That(Errors(waived), Is.Empty);
        var finding = waived.Diagnostics.Single(d => d.Code == "PG4032");
        Assert.That(finding.Severity, Is.EqualTo(DiagnosticSeverity.Info));
        Assert.That(finding.Message, Does.Contain("waived").And.Contain("staged rollout"));

        File.WriteAllText(policy, "schemaVersion: 1\nextends: baseline\nsignature: {required: false}\nexceptions:\n  - code: PG4032\n    expires: 2026-11-01\n    reason: staged rollout\n");
        Assert.That(Errors(Verify(bom, policy)), Is.EqualTo("PG4032,PG4062"));
    }

    [Test]
    public void A_planted_pickle_importing_os_system_fails_and_a_torch_pickle_only_warns()
    {
        File.WriteAllBytes(Path.Combine(_model, "pytorch_model.bin"), PickleBuilder.TorchStateDict());
        var torch = Verify(new HandBom(_model));
        Assert.That(Errors(torch), Is.Empty);
        Assert.That(torch.Diagnostics.Single(d => d.Code == "PG4081").Severity, Is.EqualTo(DiagnosticSeverity.Warning));

        File.WriteAllBytes(Path.Combine(_model, "pytorch_model.bin"), PickleBuilder.TorchZip(PickleBuilder.OsSystem()));
        var evil = Verify(new HandBom(_model));
        Assert.That(Errors(evil), Is.EqualTo("PG4080"));
        Assert.That(evil.Diagnostics.Single(d => d.Code == "PG4080").Message, Does.Contain("os.system").And.Contain("archive/data.pkl"));
    }

    [Test]
    public void Without_a_base_fingerprint_the_catalogue_says_whether_the_architecture_fits()
    {
        var report = Verify(new HandBom(_model).Ancestor("01-ai/Yi-1.5-6B"));
        Assert.That(Errors(report), Is.Empty);
        var warning = report.Diagnostics.Single(d => d.Code == "PG4073");
        Assert.That(warning.Severity, Is.EqualTo(DiagnosticSeverity.Warning));
        Assert.That(warning.Message, Does.Contain("differs from the catalogued 'Yi-1.5-6B'").And.Contain("hidden_size 16 vs 4096"));
        Assert.That(report.Lineage.Single().Verdict, Is.EqualTo("insufficient-evidence"));
    }

    [Test]
    public void An_unsigned_bom_fails_the_baseline_which_requires_a_signature()
    {
        var report = Verify(new HandBom(_model), "baseline");
        Assert.That(Errors(report), Is.EqualTo("PG4020"));
        Assert.That(report.Checks.Single(c => c.Id == CheckIds.Signature).Status, Is.EqualTo(CheckStatus.Fail));
    }

    [Test]
    public void Failing_on_warnings_turns_a_warning_into_a_failed_gate()
    {
        var options = new GateOptions { BomPath = new HandBom(_model).Write(_temp.Combine("bom.cdx.json")), PolicyReference = _policy, ModelDirectory = _model, Now = Now };
        File.WriteAllText(Path.Combine(_model, "notes.txt"), "an unlisted file that is not a weight: a warning");
        var lenient = Gate.Verify(options);
        Assert.That(lenient.Passed, Is.True);
        Assert.That(lenient.Warnings, Is.EqualTo(1));
        Assert.That(Gate.Verify(options with { FailOnWarning = true }).Passed, Is.False);
    }
}
