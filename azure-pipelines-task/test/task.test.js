// MockTestRunner tests of the Azure Pipelines task, offline: MockTestRunner would download Node for the
// handlers task.json lists, so the download folder is seeded in a temp HOME with the Node running these tests.
"use strict";

const assert = require("node:assert/strict");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { after, test } = require("node:test");

// Everything this file creates lives here and is removed at the end.
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "pgci-azure-test-"));
after(() => fs.rmSync(scratch, { recursive: true, force: true }));

const home = fs.mkdtempSync(path.join(scratch, "pgci-azure-home-"));
process.env.HOME = home;
const download = path.join(home, "azure-pipelines-task-lib", "_download");
for (const [major, version] of [[20, "v20.13.1"], [24, "v24.10.0"]]) {
  const bin = path.join(download, `node${major}`, `node-${version}-linux-x64`, "bin");
  fs.mkdirSync(bin, { recursive: true });
  fs.symlinkSync(process.execPath, path.join(bin, "node"));
  fs.writeFileSync(path.join(download, `node${major}.completed`), "");
}

const taskDir = path.join(__dirname, "..", "ProvenanceGateVerifyV0");
// Required after HOME is set: mock-test fixes its download folder when it loads.
const { MockTestRunner } = require(path.join(taskDir, "node_modules", "azure-pipelines-task-lib", "mock-test"));

const crypto = require("node:crypto");
const sha512Of = (text) => crypto.createHash("sha512").update(text).digest("hex");

// A private build of the tool, pinned the way a user pins one: its version and the hash of its package.
const pinned = { toolVersion: "9.9.9", toolSha512: sha512Of("pinned package") };

async function runTask(scenario) {
  const temp = fs.mkdtempSync(path.join(scratch, "pgci-azure-"));
  process.env.PG_SCENARIO = JSON.stringify({ temp, storedPackage: "pinned package", ...scenario });
  const runner = new MockTestRunner(path.join(__dirname, "harness.js"), path.join(taskDir, "task.json"));
  await runner.runAsync();
  const work = path.join(temp, "provenancegate-run");
  const toolDir = (version, sha512) => path.join(temp, "tools", "ProvenanceGate.Tool", `${version}-${sha512.slice(0, 32)}`);
  const lines = runner.stdout.split(/\r?\n/);
  return { runner, work, temp, toolDir, lines, count: (prefix) => lines.filter((l) => l.startsWith(prefix)).length };
}

const verifyArgs = ["--key", "keys/a.pub", "--key", "keys/b.pub", "--model-dir", "model", "--scan-output", "bin/Release", "--scan-output", "publish", "--fail-on", "error", "--format", "text"];
const inputs = { bom: "models/tiny.cdx.json", publicKeys: "keys/a.pub\nkeys/b.pub", modelDir: "model", scanOutput: "bin/Release\npublish", failOn: "error", publishTestResults: "true", trustFrom: "workspace", ...pinned };

test("a passing gate with the tool already in the agent's tools folder: no install, one verify, summary, JUnit, outputs", async () => {
  const { runner, work, count } = await runTask({ inputs, verifyArgs, verifyExit: 0, report: "pass.report.json" });
  assert.ok(runner.succeeded, runner.stdout);
  assert.equal(runner.invokedToolCount, 1);
  assert.ok(runner.stdOutContained("cached copy in the agent's tools folder matches the pinned SHA-512"));
  assert.ok(runner.stdOutContained("##vso[task.logissue type=warning;code=PG4007;sourcepath=models/tiny.cdx.json;linenumber=41;columnnumber=9;]PG4007: licence 'LicenseRef-custom' is not on the allow list"));
  assert.equal(count("##vso[task.logissue type=error"), 0);
  assert.ok(runner.stdOutContained(`##vso[task.uploadsummary]${work}/report.md`));
  assert.ok(runner.stdOutContained(`##vso[results.publish type=JUnit;mergeResults=true;runTitle=ProvenanceGate;publishRunAttachments=true;resultFiles=${work}/report.junit.xml;]`));
  assert.ok(runner.stdOutContained("##vso[task.setvariable variable=result;isOutput=true;issecret=false;]pass"));
  assert.ok(runner.stdOutContained("##vso[task.setvariable variable=warnings;isOutput=true;issecret=false;]1"));
  assert.ok(runner.stdOutContained("##vso[task.complete result=SucceededWithIssues;]ProvenanceGate: PASS with 1 warning(s)"));
  assert.ok(runner.stdOutContained("PASS ##_vso[task.setvariable variable=result]pwned"), "the tool's output is neutralized");
  assert.ok(!runner.stdOutContained("PASS ##vso["));
});

test("a failed gate fails the task with at most 10 error issues and the rest counted", async () => {
  const { runner, count } = await runTask({ inputs, verifyArgs, verifyExit: 1, report: "fail.report.json" });
  assert.ok(runner.failed, runner.stdout);
  assert.equal(runner.invokedToolCount, 1);
  assert.equal(count("##vso[task.logissue type=error;code=PG4003;sourcepath=models/tiny.cdx.json;linenumber="), 10);
  assert.equal(count("##vso[task.logissue type=warning;code=PG4011;"), 1);
  assert.ok(runner.stdOutContained("ProvenanceGate: 3 more error(s) and 0 more warning(s) are not build issues"));
  assert.ok(runner.stdOutContained("##vso[task.setvariable variable=result;isOutput=true;issecret=false;]fail"));
  assert.ok(runner.stdOutContained("##vso[task.setvariable variable=errors;isOutput=true;issecret=false;]13"));
  assert.ok(runner.createdErrorIssue("ProvenanceGate: FAIL, 13 error(s), 1 warning(s)"));
});

test("verify's input error (exit 2) fails the task with the tool's diagnostic as an issue", async () => {
  const { runner } = await runTask({ inputs, verifyArgs, verifyExit: 2, verifyStderr: "models/tiny.cdx.json: error PG0002: BOM not found" });
  assert.ok(runner.failed, runner.stdout);
  assert.ok(runner.stdOutContained("##vso[task.logissue type=error;code=PG0002;sourcepath=models/tiny.cdx.json;]PG0002: BOM not found"));
  assert.ok(runner.stdOutContained("##vso[task.setvariable variable=result;isOutput=true;issecret=false;]error"));
  assert.ok(runner.createdErrorIssue("ProvenanceGate: verify could not check the BOM (exit code 2)"));
});

test("missing and invalid inputs fail before any tool runs", async () => {
  const { runner } = await runTask({ inputs: { failOn: "sometimes" }, verifyExit: 0 });
  assert.ok(runner.failed, runner.stdout);
  assert.equal(runner.invokedToolCount, 0);
  assert.ok(runner.createdErrorIssue("PG6001: input 'bom' is required: the path of the CycloneDX ML-BOM to verify"));
  assert.ok(runner.stdOutContained("##vso[task.logissue type=error;code=PG6001;]PG6001: input 'failOn' must be 'error' or 'warning', not 'sometimes'"));
});

test("by default the pinned release is installed, from a generated config that clears every inherited source", async () => {
  const { runner, work, toolDir } = await runTask({ inputs: { ...inputs, toolVersion: "", toolSha512: "", toolSource: "/feeds/local" }, storedPackage: null, verifyExit: 0 });
  const lock = fs.readFileSync(path.join(taskDir, "provenancegate-tool.lock"), "utf8");
  const [version, sha512] = [/^version=(.+)$/m.exec(lock)[1], /^sha512=(.+)$/m.exec(lock)[1]];
  assert.ok(runner.ran(`/usr/bin/dotnet tool install ProvenanceGate.Tool --tool-path ${toolDir(version, sha512)} --version ${version} --configfile ${work}/install/nuget.config`), runner.stdout);
  const config = fs.readFileSync(path.join(work, "install", "nuget.config"), "utf8");
  assert.match(config, /<packageSources>\s*<clear \/>\s*<add key="provenancegate-tool" value="\/feeds\/local" \/>\s*<\/packageSources>/);
  // The mocked install leaves no package behind, so nothing matches the pin and nothing runs.
  assert.ok(runner.failed);
  assert.equal(runner.invokedToolCount, 1);
  assert.ok(runner.errorIssues.some((m) => m.startsWith(`PG6004: ProvenanceGate.Tool ${version} from '/feeds/local' has SHA-512 unknown, not the pinned ${sha512}`)), runner.errorIssues.join("\n"));
});

test("a cached package that no longer matches the pin is reinstalled, and still not run when it differs", async () => {
  const { runner, toolDir } = await runTask({ inputs, storedPackage: "swapped package", verifyExit: 0 });
  assert.equal(runner.invokedToolCount, 1, "the install, never verify");
  assert.ok(runner.errorIssues.some((m) => m.startsWith("PG6004: ")), runner.stdout);
  assert.ok(!fs.existsSync(toolDir(pinned.toolVersion, pinned.toolSha512)), "the mismatching tool is removed");
});

test("another version without its SHA-512 is refused", async () => {
  const { runner } = await runTask({ inputs: { ...inputs, toolVersion: "0.0.1", toolSha512: "" }, verifyExit: 0 });
  assert.ok(runner.failed);
  assert.equal(runner.invokedToolCount, 0);
  assert.ok(runner.errorIssues.some((m) => /^PG6001: toolVersion '0\.0\.1' is not the version this task pins/.test(m)), runner.errorIssues.join("\n"));
});

test("a failed install is PG6002 and verify never runs", async () => {
  const { runner } = await runTask({ inputs, storedPackage: null, verifyExit: 0, installExit: 1 });
  assert.ok(runner.failed, runner.stdout);
  assert.equal(runner.invokedToolCount, 1);
  assert.ok(runner.errorIssues.some((m) => m.startsWith("PG6002: ProvenanceGate.Tool 9.9.9 could not be installed from 'nuget.org'")), runner.errorIssues.join("\n"));
});

test("empty filePath inputs (which the agent fills with the sources folder) are not passed to verify", async () => {
  const { runner } = await runTask({
    inputs: { ...inputs, scanOutput: "", modelDir: "/agent/_work/1/s", signature: "/agent/_work/1/s", baseFingerprints: "/agent/_work/1/s" },
    variables: { "Build.SourcesDirectory": "/agent/_work/1/s" },
    verifyArgs: ["--key", "keys/a.pub", "--key", "keys/b.pub", "--fail-on", "error", "--format", "text"],
    verifyExit: 0,
    report: "pass.report.json",
  });
  assert.ok(runner.succeeded, runner.stdout);
});

test("on a GitHub repository the tool posts the PR comment and check run with the token in its environment only", async () => {
  const githubArgs = ["github", "--markdown", "$WORK/report.md", "--check", "--repository", "octo/model", "--report", "$WORK/report.json", "--pr-comment", "--pull-request", "12", "--sha", "c0ffee"];
  const { runner, work, toolDir } = await runTask({
    inputs: { ...inputs, githubFeedback: "true", githubToken: "ghs_secret" },
    variables: { "Build.Repository.Provider": "GitHub", "Build.Repository.Name": "octo/model", "System.PullRequest.PullRequestNumber": "12", "System.PullRequest.SourceCommitId": "c0ffee" },
    verifyArgs,
    verifyExit: 1,
    report: "fail.report.json",
    githubArgs,
  });
  const tool = path.join(toolDir(pinned.toolVersion, pinned.toolSha512), "dotnet-provenance");
  assert.ok(runner.ran([tool, ...githubArgs.map((a) => a.replace("$WORK", work))].join(" ")), runner.stdout);
  assert.equal(runner.invokedToolCount, 2, "verify, then the GitHub feedback");
  const commandLines = runner.stdout.split(/\r?\n/).filter((l) => l.startsWith(tool) || l.startsWith("[command]"));
  assert.ok(commandLines.length > 0 && !commandLines.some((l) => l.includes("ghs_secret")), "the token is never on a command line");
  assert.ok(runner.failed, "the gate decides the task result");
});
