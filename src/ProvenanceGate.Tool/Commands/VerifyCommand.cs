using System.CommandLine;
using ProvenanceGate.Diagnostics;
using ProvenanceGate.IO;
using ProvenanceGate.Tool.Cli;
using ProvenanceGate.Verification;

namespace ProvenanceGate.Tool.Commands;

/// <summary>`dotnet provenance verify`: the gate. Exit 0 pass, 1 gate failed, 2 usage or input error.</summary>
internal static class VerifyCommand
{
    public static Command Create()
    {
        var bom = new Argument<string>("bom") { Description = "The CycloneDX ML-BOM (JSON) to verify" };
        var policy = new Option<string>("--policy") { Description = "Policy file (YAML or JSON) or built-in profile: " + string.Join(", ", Verification.Policy.PolicyLoader.BuiltInProfiles) + " (default baseline)" };
        var key = new Option<string[]>("--key") { Description = "Trusted public key (cosign.pub PEM); repeatable", Arity = ArgumentArity.ZeroOrMore };
        var signature = new Option<string>("--signature") { Description = "Detached cosign-style signature of the BOM" };
        var bundle = new Option<string>("--bundle") { Description = "Sigstore bundle: a signature of the BOM or an attestation of the model files" };
        var modelDirectory = new Option<string[]>("--model-dir")
        {
            Description = "[REF=]DIR: a model directory the BOM describes, or a single model file (.safetensors, .gguf, .onnx, .bin/.pt/.pth) checked with its own files beside it (digests, unlisted files, pickles, fingerprints); repeatable for a BOM with several models, each matched to its model by REF (bom-ref or name) or by the files it holds",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var scanOutput = new Option<string[]>("--scan-output")
        {
            Description = "An app's output or publish folder: every model file in it (found by content) must be a file of a model the BOM declares; repeatable",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var baseFingerprints = new Option<string>("--base-fingerprints") { Description = "Directory of base-model fingerprints or model directories, matched to the declared base by name" };
        var format = new Option<string>("--format") { Description = "Primary report format: " + string.Join(", ", ReportWriters.Formats), DefaultValueFactory = _ => "text" };
        format.AcceptOnlyFromAmong([.. ReportWriters.Formats]);
        var output = new Option<string>("--output", "-o") { Description = "Write the primary report here instead of stdout" };
        var report = new Option<string[]>("--report") { Description = "Extra report FORMAT=PATH, written in the same run; repeatable", Arity = ArgumentArity.ZeroOrMore };
        var failOn = new Option<string>("--fail-on") { Description = "error (default) or warning: what fails the gate", DefaultValueFactory = _ => "error" };
        failOn.AcceptOnlyFromAmong("error", "warning");
        var timestamp = new Option<string>("--timestamp") { Description = "'Now' for review-by and expiry checks (RFC 3339 or epoch seconds); default SOURCE_DATE_EPOCH, else now" };

        var command = new Command("verify", "Decide whether a model may ship: schema, signature, digests, required fields, licences, governance, lineage and unsafe serialization.")
        {
            bom, policy, key, signature, bundle, modelDirectory, scanOutput, baseFingerprints, format, output, report, failOn, timestamp,
        };
        var accelerator = AcceleratorOptions.AddTo(command);
        command.SetHandler(context =>
        {
            using var selected = accelerator.Apply(context);
            if (context.Get(signature) is not null && context.Get(bundle) is not null)
                throw Diagnostics.Diagnostics.UsageError.Exception("pass either --signature or --bundle, not both");
            var extraReports = ParseReports(context.Get(report) ?? []);
            var options = new GateOptions
            {
                BomPath = context.Get(bom)!,
                PolicyReference = context.Get(policy),
                TrustedKeyReferences = context.Get(key) ?? [],
                SignaturePath = context.Get(signature),
                BundlePath = context.Get(bundle),
                ModelDirectories = ParseModelDirectories(context.Get(modelDirectory) ?? []),
                BaseFingerprintsDirectory = context.Get(baseFingerprints),
                ScanOutputDirectories = context.Get(scanOutput) ?? [],
                Now = SourceDate.Resolve(context.Get(timestamp)),
                FailOnWarning = context.Get(failOn) == "warning",
            };

            var result = Gate.Verify(options);
            foreach (var diagnostic in result.Diagnostics)
                context.Report(diagnostic);

            foreach (var (reportFormat, path) in extraReports)
                AtomicFile.WriteAllText(path, ReportWriters.Write(result, reportFormat));
            var primary = ReportWriters.Write(result, context.Get(format) ?? "text");
            if (context.Get(output) is { } outputPath)
                AtomicFile.WriteAllText(outputPath, primary);
            else
                context.Out.Write(primary);
            return result.ExitCode;
        });
        return command;
    }

    /// <summary>
    /// --model-dir [REF=]DIR. A spec that is an existing directory or file is taken whole even with '=' in its name; otherwise
    /// the text before the first '=' names the model.
    /// </summary>
    internal static List<GateModelDirectory> ParseModelDirectories(IEnumerable<string> specs)
    {
        var result = new List<GateModelDirectory>();
        foreach (var spec in specs)
        {
            var separator = spec.IndexOf('=', StringComparison.Ordinal);
            if (Directory.Exists(spec) || File.Exists(spec) || separator < 0)
                result.Add(new GateModelDirectory(spec));
            else if (separator == 0 || separator == spec.Length - 1)
                throw Diagnostics.Diagnostics.UsageError.Exception($"--model-dir '{spec}' must be DIR or REF=DIR");
            else
                result.Add(new GateModelDirectory(spec[(separator + 1)..], spec[..separator]));
        }

        return result;
    }

    /// <summary>Parses every --report FORMAT=PATH before the gate runs, so a typo is a usage error, not a lost report.</summary>
    internal static List<(string Format, string Path)> ParseReports(IEnumerable<string> specs)
    {
        var reports = new List<(string, string)>();
        foreach (var spec in specs)
        {
            var parts = spec.Split('=', 2);
            if (parts.Length != 2 || parts[1].Length == 0 || !ReportWriters.Formats.Contains(parts[0], StringComparer.Ordinal))
                throw Diagnostics.Diagnostics.GateReportSpecInvalid.Exception($"--report '{spec}' must be FORMAT=PATH with FORMAT one of {string.Join(", ", ReportWriters.Formats)}");
            reports.Add((parts[0], parts[1]));
        }

        return reports;
    }
}
