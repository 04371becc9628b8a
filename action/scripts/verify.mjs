// The action's verify step: runs `dotnet-provenance verify` once with every report it needs, then writes the
// step outputs, the job summary and the annotations. It fails (exit 2) only for its own bad inputs; the gate
// result is applied by the action's last step, so the PR comment step can still run on a failed gate.
import { spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { annotations, appendTo, errorSummary, escapeData, fitSummary, outputText, parseCanonical, readReport } from "./report.mjs";

/** A list input: one item per line or comma, blanks ignored. */
export const splitList = (value) => String(value ?? "").split(/[\n,]/).map((s) => s.trim()).filter(Boolean);

/** Reads and checks the inputs the composite action passes through env; returns problems instead of throwing. */
export function readInputs(env) {
  const inputs = {
    bom: env.PG_BOM?.trim() ?? "",
    modelDir: env.PG_MODEL_DIR?.trim() ?? "",
    scanOutput: splitList(env.PG_SCAN_OUTPUT),
    policy: env.PG_POLICY?.trim() ?? "",
    keys: splitList(env.PG_PUBLIC_KEYS),
    signature: env.PG_SIGNATURE?.trim() ?? "",
    bundle: env.PG_BUNDLE?.trim() ?? "",
    baseFingerprints: env.PG_BASE_FINGERPRINTS?.trim() ?? "",
    failOn: (env.PG_FAIL_ON?.trim() || "error").toLowerCase(),
    sarifFile: env.PG_SARIF_FILE?.trim() ?? "",
    tool: env.PG_TOOL?.trim() ?? "",
  };
  const problems = [];
  if (!inputs.bom) problems.push("input 'bom' is required: the path of the CycloneDX ML-BOM to verify");
  if (!["error", "warning"].includes(inputs.failOn)) problems.push(`input 'fail-on' must be 'error' or 'warning', not '${env.PG_FAIL_ON}'`);
  if (inputs.signature && inputs.bundle) problems.push("inputs 'signature' and 'bundle' are alternatives; set one");
  if (!inputs.tool) problems.push("the tool path is missing (the install step did not run?)");
  return { inputs, problems };
}

/**
 * The report files of one run, in a folder of their own under the runner's temp folder (unless the SARIF path
 * was chosen): two uses of the action in one job never overwrite each other's reports or outputs.
 */
export function reportPaths(inputs, runnerTemp) {
  mkdirSync(runnerTemp, { recursive: true });
  const dir = mkdtempSync(join(runnerTemp, "provenancegate-reports-"));
  return {
    dir,
    json: join(dir, "report.json"),
    markdown: join(dir, "report.md"),
    sarif: inputs.sarifFile ? resolve(inputs.sarifFile) : join(dir, "report.sarif"),
  };
}

/** The verify command line (after the executable): text on stdout for the log, the other formats as files. */
export function verifyArguments(inputs, paths) {
  const args = ["verify", inputs.bom];
  const option = (name, value) => value && args.push(name, value);
  option("--policy", inputs.policy);
  for (const key of inputs.keys) args.push("--key", key);
  option("--signature", inputs.signature);
  option("--bundle", inputs.bundle);
  option("--model-dir", inputs.modelDir);
  for (const folder of inputs.scanOutput) args.push("--scan-output", folder);
  option("--base-fingerprints", inputs.baseFingerprints);
  args.push("--fail-on", inputs.failOn, "--format", "text");
  args.push("--report", `json=${paths.json}`, "--report", `markdown=${paths.markdown}`, "--report", `sarif=${paths.sarif}`);
  return args;
}

/** An error of the wrapper itself (PG6xxx), as an annotation. */
const wrapperError = (code, message) => `::error title=${code}::${escapeData(`${code}: ${message}`)}\n`;

export function main(env = process.env, out = process.stdout) {
  const { inputs, problems } = readInputs(env);
  const workspace = env.GITHUB_WORKSPACE || process.cwd();
  if (problems.length) {
    for (const p of problems) out.write(wrapperError("PG6001", p));
    appendTo(env.GITHUB_OUTPUT, outputText({ result: "error", "exit-code": 2 }));
    return 2;
  }

  const paths = reportPaths(inputs, env.RUNNER_TEMP || join(workspace, ".provenancegate"));
  // A chosen SARIF path may hold an earlier run's report, which must never be read as this run's.
  rmSync(paths.sarif, { force: true });
  const args = verifyArguments(inputs, paths);
  // The CLI would annotate its own stderr lines too; this script annotates from the report, so once is enough.
  const run = spawnSync(inputs.tool, args, {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...env, PROVENANCEGATE_ANNOTATIONS: "false" },
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  // The command line and the tool's output quote inputs and BOM text from the pull request; inside
  // stop-commands no line of them can act as a workflow command (a fake annotation, add-mask, ...).
  const token = `provenancegate-${randomUUID()}`;
  const shown = [`[command] ${inputs.tool} ${args.join(" ")}`, run.stdout, run.stderr]
    .filter(Boolean)
    .map((text) => (text.endsWith("\n") ? text : text + "\n"))
    .join("");
  out.write(`::stop-commands::${token}\n${shown}::${token}::\n`);
  const exitCode = run.status ?? 2;
  if (run.error) out.write(wrapperError("PG6002", `could not start ${inputs.tool}: ${run.error.message}`));

  let report = null;
  if (exitCode === 0 || exitCode === 1) {
    try {
      report = readReport(paths.json);
    } catch (error) {
      out.write(wrapperError("PG6003", `verify exited ${exitCode} but its JSON report is unusable: ${error.message}`));
    }
  }

  const diagnostics = report ? report.diagnostics : parseCanonical(run.stderr ?? "");
  for (const line of annotations(diagnostics, { workspace, fallbackFile: inputs.bom })) out.write(line + "\n");

  let markdown;
  if (report && existsSync(paths.markdown)) {
    markdown = readFileSync(paths.markdown, "utf8");
  } else {
    // The comment and summary still explain what happened; the markdown output always names a file.
    markdown = errorSummary(exitCode, diagnostics);
    writeFileSync(paths.markdown, markdown);
  }
  appendTo(env.GITHUB_STEP_SUMMARY, fitSummary(markdown));

  const result = report ? (exitCode === 0 ? "pass" : "fail") : "error";
  const count = (severity) => diagnostics.filter((d) => d.severity === severity).length;
  appendTo(env.GITHUB_OUTPUT, outputText({
    result,
    "exit-code": report ? exitCode : exitCode === 0 || exitCode === 1 ? 2 : exitCode,
    errors: report ? report.summary.errors : count("error"),
    warnings: report ? report.summary.warnings : count("warning"),
    json: report ? paths.json : "",
    sarif: report && existsSync(paths.sarif) ? paths.sarif : "",
    markdown: paths.markdown,
  }));
  return 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  process.exitCode = main();
}
