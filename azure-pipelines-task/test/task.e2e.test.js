// The task for real, as the agent runs it (node index.js with INPUT_* and agent variables in the environment):
// it installs ProvenanceGate.Tool from a local feed and runs verify on a signed sample model. The feed comes
// from PROVENANCEGATE_TOOL_FEED (the NUnit wrapper packs this build), or is packed here.
"use strict";

const assert = require("node:assert/strict");
const { execFileSync, spawnSync } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { after, before, test } = require("node:test");

// Everything this file creates lives here and is removed at the end.
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "pgci-azure-e2e-"));
after(() => fs.rmSync(scratch, { recursive: true, force: true }));

const repoRoot = path.join(__dirname, "..", "..");
const taskEntry = path.join(__dirname, "..", "ProvenanceGateVerifyV0", "index.js");
let feed;
let version;
let tool;
let env;

before(() => {
  feed = process.env.PROVENANCEGATE_TOOL_FEED;
  if (!feed) {
    feed = fs.mkdtempSync(path.join(scratch, "pgci-feed-"));
    execFileSync("dotnet", ["pack", path.join(repoRoot, "src", "ProvenanceGate.Tool"), "-o", feed], { stdio: "inherit" });
  }
  version = /^ProvenanceGate\.Tool\.(\d.*)\.nupkg$/.exec(fs.readdirSync(feed).find((f) => /^ProvenanceGate\.Tool\.\d.*\.nupkg$/.test(f)))[1];
  // A private NuGet cache (the version does not change between builds) and a fixed "now" for approvals.
  env = { NUGET_PACKAGES: fs.mkdtempSync(path.join(scratch, "pgci-nuget-")), DOTNET_NOLOGO: "1", DOTNET_CLI_TELEMETRY_OPTOUT: "1", SOURCE_DATE_EPOCH: "1795000000" };
  const toolDir = fs.mkdtempSync(path.join(scratch, "pgci-prep-tool-"));
  execFileSync("dotnet", ["tool", "install", "ProvenanceGate.Tool", "--tool-path", toolDir, "--version", version, "--add-source", feed], { env: { ...process.env, ...env }, stdio: "pipe" });
  tool = path.join(toolDir, process.platform === "win32" ? "dotnet-provenance.exe" : "dotnet-provenance");
});

/** The sample fine-tune with a BOM, a key pair and a signature, all made by the real tool. */
function signedWorkspace() {
  const workspace = fs.mkdtempSync(path.join(scratch, "pgci-azure-ws-"));
  fs.cpSync(path.join(repoRoot, "samples", "models", "sample-finetune"), path.join(workspace, "model"), { recursive: true });
  fs.renameSync(path.join(workspace, "model", "provenance.yaml"), path.join(workspace, "provenance.yaml"));
  const run = (...args) => execFileSync(tool, args, { cwd: workspace, env: { ...process.env, ...env, COSIGN_PASSWORD: "" }, stdio: "pipe" });
  run("keygen", "--output-key-prefix", "cosign");
  run("bom", "model", "--declaration", "provenance.yaml", "-o", "model.cdx.json");
  run("sign", "model.cdx.json", "--key", "cosign.key", "--output-signature", "model.cdx.json.sig");
  return workspace;
}

function runTask(workspace) {
  const agentTemp = fs.mkdtempSync(path.join(scratch, "pgci-agent-temp-"));
  const inputs = {
    INPUT_BOM: "model.cdx.json", INPUT_MODELDIR: "model", INPUT_PUBLICKEYS: "cosign.pub", INPUT_SIGNATURE: "model.cdx.json.sig",
    INPUT_FAILON: "error", INPUT_PUBLISHTESTRESULTS: "true", INPUT_TOOLVERSION: version, INPUT_TOOLSOURCE: feed,
  };
  const run = spawnSync(process.execPath, [taskEntry], {
    cwd: workspace,
    encoding: "utf8",
    env: { ...process.env, ...env, ...inputs, TF_BUILD: "True", AGENT_TEMPDIRECTORY: agentTemp },
  });
  const lines = run.stdout.split(/\r?\n/);
  const work = path.join(agentTemp, "provenancegate");
  const variable = (name) => {
    const prefix = `##vso[task.setvariable variable=${name};isOutput=true;issecret=false;]`;
    const line = lines.find((l) => l.startsWith(prefix));
    return line === undefined ? undefined : line.slice(prefix.length);
  };
  return { run, lines, work, variable, log: run.stdout + run.stderr };
}

test("a signed, untouched model: the task succeeds with summary, JUnit results and outputs from the real tool", () => {
  const { run, lines, work, variable, log } = runTask(signedWorkspace());
  assert.equal(run.status, 0, log);
  assert.equal(variable("result"), "pass", log);
  assert.equal(variable("exitCode"), "0");
  assert.equal(variable("errors"), "0");
  assert.ok(lines.includes(`##vso[task.uploadsummary]${work}/report.md`), log);
  assert.match(fs.readFileSync(path.join(work, "report.md"), "utf8"), /PASS/);
  assert.ok(lines.some((l) => l.startsWith("##vso[results.publish type=JUnit;") && l.includes(`resultFiles=${work}/report.junit.xml;`)), log);
  assert.match(fs.readFileSync(path.join(work, "report.junit.xml"), "utf8"), /<testsuite/);
  assert.equal(JSON.parse(fs.readFileSync(variable("jsonReport"), "utf8")).result, "pass");
  assert.ok(!lines.some((l) => l.startsWith("##vso[task.logissue type=error")), log);
  assert.ok(lines.some((l) => /^##vso\[task\.complete result=Succeeded(WithIssues)?;\]ProvenanceGate: PASS/.test(l)), log);
  // No --base-fingerprints: the lineage check warns, and the warning points at the BOM line.
  assert.ok(lines.some((l) => /^##vso\[task\.logissue type=warning;code=PG4\d{3};sourcepath=model\.cdx\.json;linenumber=\d+;/.test(l)), log);
});

test("a tampered weight file: PG4xxx build issues on the BOM and a failed task", () => {
  const workspace = signedWorkspace();
  const weights = path.join(workspace, "model", "model.safetensors");
  const bytes = fs.readFileSync(weights);
  bytes[bytes.length - 1] ^= 0xff;
  fs.writeFileSync(weights, bytes);

  const { lines, variable, log } = runTask(workspace);
  assert.equal(variable("result"), "fail", log);
  assert.equal(variable("exitCode"), "1");
  const issues = lines.filter((l) => l.startsWith("##vso[task.logissue type=error;code=PG4"));
  assert.ok(issues.length >= 1 && issues.length <= 10, log);
  assert.ok(issues.every((l) => /;sourcepath=[^;]+;linenumber=\d+;/.test(l)), issues.join("\n"));
  assert.ok(lines.some((l) => l.startsWith("##vso[task.complete result=Failed;]ProvenanceGate: FAIL")), log);
  // The CLI's own logissue lines are switched off inside the task: each problem is reported once.
  assert.equal(lines.filter((l) => l.startsWith("##vso[task.logissue type=error")).length, Math.min(Number(variable("errors")), 10), log);
});
