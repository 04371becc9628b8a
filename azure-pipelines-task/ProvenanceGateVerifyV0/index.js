// Azure Pipelines task: installs ProvenanceGate.Tool, runs `dotnet provenance verify` once with every report,
// and maps the results onto the pipeline: build issues, a summary tab, JUnit test results, output variables and
// the task result. The gate logic lives in the CLI; this file only translates.
"use strict";

const fs = require("fs");
const path = require("path");
const tl = require("azure-pipelines-task-lib/task");

/** The agent keeps the first 10 errors and 10 warnings of a step as issues (its _maxIssueCount). */
const ISSUE_LIMIT = 10;

/** One item per line or comma, blanks ignored. */
function splitList(value) {
  return String(value || "").split(/[\n,]/).map((s) => s.trim()).filter(Boolean);
}

/** Canonical diagnostic lines ("file(line,col): error PG1001: message") from the tool's stderr. */
function parseCanonical(text) {
  const pattern = /^(?:(.+?)(?:\((\d+)(?:,(\d+))?\))?: )?(error|warning|info) (PG\d{4}): (.*)$/;
  return String(text).split(/\r?\n/).map((line) => pattern.exec(line)).filter(Boolean).map((m) => ({
    code: m[5], severity: m[4], message: m[6], file: m[1] || null, line: m[2] ? Number(m[2]) : null, column: m[3] ? Number(m[3]) : null,
  }));
}

/** Reports diagnostics as build issues within the agent's limit; Azure has no notice type, so info is log only. */
function logIssues(diagnostics, bomPath) {
  const counts = { error: 0, warning: 0 };
  const suppressed = { error: 0, warning: 0 };
  for (const d of diagnostics) {
    if (!(d.severity in counts)) {
      tl.writeExternalOutput(`${d.code}: ${d.message}\n`, { source: "repository" });
      continue;
    }
    if (counts[d.severity] >= ISSUE_LIMIT) {
      suppressed[d.severity]++;
      continue;
    }
    counts[d.severity]++;
    const type = d.severity === "error" ? tl.IssueType.Error : tl.IssueType.Warning;
    tl.logIssue(type, `${d.code}: ${d.message}`, d.file || bomPath, d.line || undefined, d.column || undefined, d.code);
  }
  if (suppressed.error + suppressed.warning > 0) {
    console.log(`ProvenanceGate: ${suppressed.error} more error(s) and ${suppressed.warning} more warning(s) are not build issues (the agent keeps ${ISSUE_LIMIT} per type); see the summary tab.`);
  }
}

function fail(code, message) {
  tl.logIssue(tl.IssueType.Error, `${code}: ${message}`, undefined, undefined, undefined, code);
  tl.setVariable("result", "error", false, true);
  tl.setVariable("exitCode", "2", false, true);
  tl.setResult(tl.TaskResult.Failed, `${code}: ${message}`);
}

function readInputs() {
  const inputs = {
    bom: tl.getPathInput("bom", false, false) || "",
    modelDir: tl.getInput("modelDir", false) || "",
    policy: tl.getInput("policy", false) || "",
    keys: splitList(tl.getInput("publicKeys", false)),
    signature: tl.getInput("signature", false) || "",
    bundle: tl.getInput("bundle", false) || "",
    baseFingerprints: tl.getInput("baseFingerprints", false) || "",
    failOn: (tl.getInput("failOn", false) || "error").trim().toLowerCase(),
    publishTestResults: tl.getBoolInput("publishTestResults", false),
    toolVersion: tl.getInput("toolVersion", false) || "",
    toolSource: tl.getInput("toolSource", false) || "",
  };
  const problems = [];
  if (!inputs.bom) problems.push("input 'bom' is required: the path of the CycloneDX ML-BOM to verify");
  if (!["error", "warning"].includes(inputs.failOn)) problems.push(`input 'failOn' must be 'error' or 'warning', not '${inputs.failOn}'`);
  if (inputs.signature && inputs.bundle) problems.push("inputs 'signature' and 'bundle' are alternatives; set one");
  return { inputs, problems };
}

/** Installs the tool into a fresh folder and returns the executable's path, or null when installing failed. */
async function installTool(inputs, workDir) {
  const toolDir = path.join(workDir, "tool");
  const install = tl.tool(tl.which("dotnet", true)).arg(["tool", "install", "ProvenanceGate.Tool", "--tool-path", toolDir]);
  if (inputs.toolVersion) install.arg(["--version", inputs.toolVersion]);
  if (inputs.toolSource) {
    // A .nupkg file is accepted for convenience; NuGet wants the folder that holds it.
    const isFile = fs.existsSync(inputs.toolSource) && fs.statSync(inputs.toolSource).isFile();
    install.arg(["--add-source", isFile ? path.dirname(inputs.toolSource) : inputs.toolSource]);
  }
  const code = await install.execAsync({ ignoreReturnCode: true });
  if (code !== 0) return null;
  return path.join(toolDir, process.platform === "win32" ? "dotnet-provenance.exe" : "dotnet-provenance");
}

function verifyArguments(inputs, reports) {
  const args = ["verify", inputs.bom];
  const option = (name, value) => value && args.push(name, value);
  option("--policy", inputs.policy);
  for (const key of inputs.keys) args.push("--key", key);
  option("--signature", inputs.signature);
  option("--bundle", inputs.bundle);
  option("--model-dir", inputs.modelDir);
  option("--base-fingerprints", inputs.baseFingerprints);
  args.push("--fail-on", inputs.failOn, "--format", "text");
  for (const format of ["json", "markdown", "junit", "sarif"]) args.push("--report", `${format}=${reports[format]}`);
  return args;
}

function readReport(file) {
  const report = JSON.parse(fs.readFileSync(file, "utf8"));
  if (report.schemaVersion !== 1 || !Array.isArray(report.diagnostics) || !report.summary) {
    throw new Error(`${file}: not a ProvenanceGate verify report (schemaVersion 1 expected)`);
  }
  return report;
}

async function run() {
  const { inputs, problems } = readInputs();
  if (problems.length) {
    for (const p of problems.slice(1)) tl.logIssue(tl.IssueType.Error, `PG6001: ${p}`, undefined, undefined, undefined, "PG6001");
    return fail("PG6001", problems[0]);
  }

  // A fresh folder each run: a stale report from an earlier task in the job must never be read as this one's.
  const workDir = path.join(tl.getVariable("Agent.TempDirectory") || require("os").tmpdir(), "provenancegate");
  tl.rmRF(workDir);
  tl.mkdirP(workDir);
  const tool = await installTool(inputs, workDir);
  if (!tool) return fail("PG6002", `ProvenanceGate.Tool could not be installed (version '${inputs.toolVersion || "latest"}', source '${inputs.toolSource || "NuGet"}'); see the log.`);

  const reports = {
    json: path.join(workDir, "report.json"),
    markdown: path.join(workDir, "report.md"),
    junit: path.join(workDir, "report.junit.xml"),
    sarif: path.join(workDir, "report.sarif"),
  };
  const verify = tl.tool(tool).arg(verifyArguments(inputs, reports));
  let stderr = "";
  verify.on("stderr", (data) => { stderr += data.toString(); });
  // The CLI would log its own ##vso issues too; this task reports from the JSON report, so once is enough.
  // Its output quotes BOM text from the repository: externalOutput neutralizes any "##vso[" marker in it.
  const exitCode = await verify.execAsync({
    ignoreReturnCode: true,
    env: { ...process.env, PROVENANCEGATE_ANNOTATIONS: "false" },
    externalOutput: { source: "childProcess" },
  });

  let report = null;
  if (exitCode === 0 || exitCode === 1) {
    try {
      report = readReport(reports.json);
    } catch (error) {
      return fail("PG6003", `verify exited ${exitCode} but its JSON report is unusable: ${error.message}`);
    }
  }

  const diagnostics = report ? report.diagnostics : parseCanonical(stderr);
  logIssues(diagnostics, inputs.bom);
  if (!report || !fs.existsSync(reports.markdown)) {
    const rows = diagnostics.map((d) => `| ${d.code} | ${d.severity} | ${String(d.message).replace(/\|/g, "\\|")} |`);
    fs.writeFileSync(reports.markdown, [
      "## ProvenanceGate: ERROR", "",
      `\`dotnet provenance verify\` could not check the BOM (exit code ${exitCode}); the gate did not run.`, "",
      ...(rows.length ? ["| code | severity | message |", "|---|---|---|", ...rows] : ["See the task log."]), "",
    ].join("\n"));
  }
  tl.uploadSummary(reports.markdown);
  if (report && inputs.publishTestResults && fs.existsSync(reports.junit)) {
    new tl.TestPublisher("JUnit").publish([reports.junit], "true", "", "", "ProvenanceGate", "true");
  }

  const result = report ? (exitCode === 0 ? "pass" : "fail") : "error";
  const count = (severity) => diagnostics.filter((d) => d.severity === severity).length;
  const outputs = {
    result,
    exitCode: String(report ? exitCode : exitCode === 0 || exitCode === 1 ? 2 : exitCode),
    errors: String(report ? report.summary.errors : count("error")),
    warnings: String(report ? report.summary.warnings : count("warning")),
    jsonReport: report ? reports.json : "",
    sarifReport: report && fs.existsSync(reports.sarif) ? reports.sarif : "",
    junitReport: report && fs.existsSync(reports.junit) ? reports.junit : "",
    markdownReport: reports.markdown,
  };
  for (const [name, value] of Object.entries(outputs)) tl.setVariable(name, value, false, true);

  if (result === "pass") {
    const warnings = Number(outputs.warnings);
    tl.setResult(warnings ? tl.TaskResult.SucceededWithIssues : tl.TaskResult.Succeeded, `ProvenanceGate: PASS${warnings ? ` with ${warnings} warning(s)` : ""}`);
  } else if (result === "fail") {
    tl.setResult(tl.TaskResult.Failed, `ProvenanceGate: FAIL, ${outputs.errors} error(s), ${outputs.warnings} warning(s)`);
  } else {
    tl.setResult(tl.TaskResult.Failed, `ProvenanceGate: verify could not check the BOM (exit code ${exitCode})`);
  }
}

run().catch((error) => tl.setResult(tl.TaskResult.Failed, error.message));
