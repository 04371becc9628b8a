// Azure Pipelines task: installs ProvenanceGate.Tool, runs `dotnet provenance verify` once with every report,
// and maps the results onto the pipeline: build issues, a summary tab, JUnit test results, output variables and
// the task result. The gate logic lives in the CLI; this file only translates.
"use strict";

const crypto = require("crypto");
const fs = require("fs");
const os = require("os");
const path = require("path");
const tl = require("azure-pipelines-task-lib/task");
const { TrustError, baseCommit, resolveTrust } = require("./trust");

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

/** A filePath input: the agent turns an empty one into the sources folder, so only a supplied value counts. */
const pathInput = (name) => (tl.filePathSupplied(name) ? tl.getPathInput(name, false, false) : "") || "";

function readInputs() {
  const inputs = {
    bom: tl.getPathInput("bom", false, false) || "",
    modelDir: pathInput("modelDir"),
    scanOutput: splitList(tl.getInput("scanOutput", false)),
    policy: tl.getInput("policy", false) || "",
    keys: splitList(tl.getInput("publicKeys", false)),
    trustedPublicKey: tl.getInput("trustedPublicKey", false) || "",
    trustFrom: (tl.getInput("trustFrom", false) || "base").trim().toLowerCase(),
    signature: pathInput("signature"),
    bundle: pathInput("bundle"),
    baseFingerprints: pathInput("baseFingerprints"),
    failOn: (tl.getInput("failOn", false) || "error").trim().toLowerCase(),
    publishTestResults: tl.getBoolInput("publishTestResults", false),
    githubFeedback: tl.getBoolInput("githubFeedback", false),
    githubToken: tl.getInput("githubToken", false) || "",
    githubApiUrl: tl.getInput("githubApiUrl", false) || "",
    toolVersion: tl.getInput("toolVersion", false) || "",
    toolSha512: (tl.getInput("toolSha512", false) || "").trim().toLowerCase(),
    toolSource: tl.getInput("toolSource", false) || "",
  };
  const problems = [];
  if (!inputs.bom) problems.push("input 'bom' is required: the path of the CycloneDX ML-BOM to verify");
  if (!["error", "warning"].includes(inputs.failOn)) problems.push(`input 'failOn' must be 'error' or 'warning', not '${inputs.failOn}'`);
  if (!["base", "workspace"].includes(inputs.trustFrom)) problems.push(`input 'trustFrom' must be 'base' or 'workspace', not '${inputs.trustFrom}'`);
  if (inputs.signature && inputs.bundle) problems.push("inputs 'signature' and 'bundle' are alternatives; set one");
  return { inputs, problems };
}

/** version=/sha512= lines of provenancegate-tool.lock, written at release by action/scripts/pin-tool.sh. */
function readPin() {
  const text = fs.readFileSync(path.join(__dirname, "provenancegate-tool.lock"), "utf8");
  const value = (key) => (new RegExp(`^${key}=(.+)$`, "m").exec(text) || [])[1];
  return { version: value("version"), sha512: value("sha512") };
}

/** The version and SHA-512 to install: the pin, or the user's own version with its own hash. */
function toolPin(inputs) {
  const pin = readPin();
  const version = inputs.toolVersion || pin.version;
  let sha512 = inputs.toolSha512;
  if (!sha512) {
    if (version !== pin.version) return { problem: `toolVersion '${version}' is not the version this task pins (${pin.version}); give its SHA-512 in toolSha512 as well` };
    sha512 = pin.sha512;
  }
  if (!/^[0-9A-Za-z.+-]+$/.test(version)) return { problem: `toolVersion '${version}' is not a NuGet version` };
  if (!/^[0-9a-f]{128}$/.test(sha512)) return { problem: "toolSha512 must be the 128 hex digits of sha512sum over the .nupkg" };
  return { version, sha512 };
}

const sha512Of = (file) => crypto.createHash("sha512").update(fs.readFileSync(file)).digest("hex");
const xmlEscape = (text) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/** The agent's proxy (Agent.ProxyUrl and its credentials and bypass list) as the variables dotnet/NuGet read. */
function proxyEnvironment() {
  const proxy = tl.getHttpProxyConfiguration();
  if (!proxy) return {};
  const url = proxy.proxyFormattedUrl || proxy.proxyUrl;
  const environment = { HTTP_PROXY: url, HTTPS_PROXY: url };
  if (proxy.proxyBypassHosts && proxy.proxyBypassHosts.length) environment.NO_PROXY = proxy.proxyBypassHosts.join(",");
  return environment;
}

/**
 * Installs the pinned tool into Agent.ToolsDirectory (reused by later runs on the agent while it still hashes
 * right) and returns the executable, or throws { code, message }. The install runs in an empty folder with a
 * generated nuget.config that clears every inherited source: the repository's nuget.config is never read.
 */
async function installTool(inputs, pin, workDir) {
  const toolsRoot = tl.getVariable("Agent.ToolsDirectory") || path.join(workDir, "tools");
  const toolDir = path.join(toolsRoot, "ProvenanceGate.Tool", `${pin.version}-${pin.sha512.slice(0, 32)}`);
  const id = "provenancegate.tool";
  const lower = pin.version.toLowerCase();
  // NuGet keeps the package it downloaded beside the extracted tool: hashing it checks the bytes that will run.
  const stored = path.join(toolDir, ".store", id, lower, id, lower, `${id}.${lower}.nupkg`);
  const executable = path.join(toolDir, process.platform === "win32" ? "dotnet-provenance.exe" : "dotnet-provenance");
  if (fs.existsSync(stored) && sha512Of(stored) === pin.sha512) {
    console.log(`ProvenanceGate.Tool ${pin.version}: cached copy in the agent's tools folder matches the pinned SHA-512`);
    return executable;
  }
  fs.rmSync(toolDir, { recursive: true, force: true });
  const installDir = path.join(workDir, "install");
  fs.mkdirSync(installDir);
  let source = inputs.toolSource || "https://api.nuget.org/v3/index.json";
  // A .nupkg file is accepted for convenience; NuGet wants the folder that holds it.
  if (fs.existsSync(source) && fs.statSync(source).isFile()) source = path.dirname(path.resolve(source));
  const config = path.join(installDir, "nuget.config");
  fs.writeFileSync(config, `<?xml version="1.0" encoding="utf-8"?>\n<configuration>\n  <packageSources>\n    <clear />\n    <add key="provenancegate-tool" value="${xmlEscape(source)}" />\n  </packageSources>\n</configuration>\n`);
  const install = tl.tool(tl.which("dotnet", true)).arg(["tool", "install", "ProvenanceGate.Tool", "--tool-path", toolDir, "--version", pin.version, "--configfile", config]);
  const code = await install.execAsync({
    cwd: installDir,
    ignoreReturnCode: true,
    // A private package folder: a poisoned copy in a shared NuGet cache must not stand in for the download.
    env: { ...process.env, ...proxyEnvironment(), NUGET_PACKAGES: path.join(installDir, "packages") },
  });
  if (code !== 0) throw { code: "PG6002", message: `ProvenanceGate.Tool ${pin.version} could not be installed from '${inputs.toolSource || "nuget.org"}'; see the log.` };
  const actual = fs.existsSync(stored) ? sha512Of(stored) : "unknown";
  if (actual !== pin.sha512) {
    fs.rmSync(toolDir, { recursive: true, force: true });
    throw { code: "PG6004", message: `ProvenanceGate.Tool ${pin.version} from '${inputs.toolSource || "nuget.org"}' has SHA-512 ${actual}, not the pinned ${pin.sha512}; it was removed unrun` };
  }
  console.log(`ProvenanceGate.Tool ${pin.version} installed; SHA-512 matches the pin`);
  return executable;
}

/**
 * The same PR comment and check run as the GitHub Action, from the tool's one GitHub client, when this pipeline
 * builds a GitHub repository. A read-only token is a notice (PG6007) from the tool; other failures are warnings
 * here, because the gate's verdict is the task result, not the comment.
 */
async function postToGitHub(tool, inputs, jsonReport, markdownReport) {
  if (tl.getVariable("Build.Repository.Provider") !== "GitHub") {
    console.log("ProvenanceGate: githubFeedback skipped: this pipeline does not build a GitHub repository");
    return;
  }
  if (!inputs.githubToken) {
    tl.warning("PG6009: githubFeedback needs githubToken (a secret variable with a token that may write pull-request comments and checks)");
    return;
  }
  const args = ["github", "--markdown", markdownReport, "--check", "--repository", tl.getVariable("Build.Repository.Name") || ""];
  if (jsonReport) args.push("--report", jsonReport);
  const pullRequest = tl.getVariable("System.PullRequest.PullRequestNumber");
  if (pullRequest) args.push("--pr-comment", "--pull-request", pullRequest);
  const sha = tl.getVariable("System.PullRequest.SourceCommitId") || tl.getVariable("Build.SourceVersion");
  if (sha) args.push("--sha", sha);
  if (inputs.githubApiUrl) args.push("--api-url", inputs.githubApiUrl);
  const code = await tl.tool(tool).arg(args).execAsync({
    ignoreReturnCode: true,
    env: { ...process.env, ...proxyEnvironment(), GITHUB_TOKEN: inputs.githubToken },
  });
  if (code !== 0) tl.warning(`ProvenanceGate: the GitHub comment and check run could not be posted (exit code ${code}); see the log`);
}

function verifyArguments(inputs, reports) {
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

  const pin = toolPin(inputs);
  if (pin.problem) return fail("PG6001", pin.problem);

  // A folder of its own for each run: two uses of the task in one job never share or overwrite reports.
  const tempRoot = tl.getVariable("Agent.TempDirectory") || os.tmpdir();
  fs.mkdirSync(tempRoot, { recursive: true });
  const workDir = fs.mkdtempSync(path.join(tempRoot, "provenancegate-"));
  let tool;
  try {
    tool = await installTool(inputs, pin, workDir);
  } catch (error) {
    if (!error.code) throw error;
    return fail(error.code, error.message);
  }

  const sourcesDirectory = tl.getVariable("Build.SourcesDirectory") || process.cwd();
  const pullRequestBuild = tl.getVariable("Build.Reason") === "PullRequest";
  let trusted;
  try {
    const commit = baseCommit({ trustFrom: inputs.trustFrom, buildReason: tl.getVariable("Build.Reason"), targetBranch: tl.getVariable("System.PullRequest.TargetBranch"), sourcesDirectory });
    if (commit) console.log(`ProvenanceGate: keys, policy and fingerprints are read from the target branch at ${commit}`);
    else if (pullRequestBuild) tl.warning("trustFrom: workspace: keys, policy and fingerprints come from the pull request itself, which can change them.");
    const outDir = path.join(workDir, "trust");
    fs.mkdirSync(outDir);
    trusted = resolveTrust({ commit, sourcesDirectory, keys: inputs.keys, policy: inputs.policy, baseFingerprints: inputs.baseFingerprints, trustedPublicKey: inputs.trustedPublicKey, outDir });
  } catch (error) {
    if (!(error instanceof TrustError)) throw error;
    return fail("PG6005", error.message);
  }

  const reports = {
    json: path.join(workDir, "report.json"),
    markdown: path.join(workDir, "report.md"),
    junit: path.join(workDir, "report.junit.xml"),
    sarif: path.join(workDir, "report.sarif"),
  };
  const verify = tl.tool(tool).arg(verifyArguments({ ...inputs, ...trusted }, reports));
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
  if (inputs.githubFeedback) await postToGitHub(tool, inputs, report ? reports.json : "", reports.markdown);

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
