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

async function runTask(scenario) {
  const temp = fs.mkdtempSync(path.join(scratch, "pgci-azure-"));
  process.env.PG_SCENARIO = JSON.stringify({ temp, ...scenario });
  const runner = new MockTestRunner(path.join(__dirname, "harness.js"), path.join(taskDir, "task.json"));
  await runner.runAsync();
  const work = path.join(temp, "provenancegate");
  const lines = runner.stdout.split(/\r?\n/);
  return { runner, work, lines, count: (prefix) => lines.filter((l) => l.startsWith(prefix)).length };
}

const verifyArgs = ["--key", "keys/a.pub", "--key", "keys/b.pub", "--model-dir", "model", "--fail-on", "error", "--format", "text"];
const inputs = { bom: "models/tiny.cdx.json", publicKeys: "keys/a.pub\nkeys/b.pub", modelDir: "model", failOn: "error", publishTestResults: "true" };

test("a passing gate: one install, one verify, warning issue, summary, JUnit results, outputs", async () => {
  const { runner, work, count } = await runTask({ inputs, verifyArgs, verifyExit: 0, report: "pass.report.json" });
  assert.ok(runner.succeeded, runner.stdout);
  assert.equal(runner.invokedToolCount, 2);
  assert.ok(runner.ran(`/usr/bin/dotnet tool install ProvenanceGate.Tool --tool-path ${work}/tool`));
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
  assert.equal(runner.invokedToolCount, 2);
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

test("the tool is installed from the given version and source", async () => {
  const { runner, work } = await runTask({ inputs: { ...inputs, toolVersion: "0.1.0", toolSource: "/feeds/local" }, verifyArgs, verifyExit: 0, report: "pass.report.json" });
  assert.ok(runner.succeeded, runner.stdout);
  assert.ok(runner.ran(`/usr/bin/dotnet tool install ProvenanceGate.Tool --tool-path ${work}/tool --version 0.1.0 --add-source /feeds/local`));
});

test("a failed install is PG6002 and verify never runs", async () => {
  const { runner } = await runTask({ inputs, verifyArgs, verifyExit: 0, installExit: 1 });
  assert.ok(runner.failed, runner.stdout);
  assert.equal(runner.invokedToolCount, 1);
  assert.ok(runner.errorIssues.some((m) => m.startsWith("PG6002: ProvenanceGate.Tool could not be installed (version 'latest', source 'NuGet')")), runner.errorIssues.join("\n"));
});
