import assert from "node:assert/strict";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { after, test } from "node:test";
import { main, readInputs, reportPaths, splitList, verifyArguments } from "../scripts/verify.mjs";
import { parseAnnotations, parseOutputFile } from "./run-action.mjs";

// Everything this file creates lives here and is removed at the end.
const scratch = mkdtempSync(join(tmpdir(), "pgci-verify-test-"));
after(() => rmSync(scratch, { recursive: true, force: true }));

const fixtures = fileURLToPath(new URL("fixtures/", import.meta.url));

/** Runs the verify step's main() against the fake tool, with a runner-like env; returns what it wrote. */
function runVerify({ exit = 0, report = "pass.report.json", env = {} } = {}) {
  const dir = mkdtempSync(join(scratch, "pgci-verify-"));
  const tool = join(dir, "dotnet-provenance");
  writeFileSync(tool, `#!/usr/bin/env bash\nexec node "${join(fixtures, "fake-verify.mjs")}" "$@"\n`);
  chmodSync(tool, 0o755);
  const files = { output: join(dir, "output"), summary: join(dir, "summary"), calls: join(dir, "calls.json") };
  writeFileSync(files.output, "");
  writeFileSync(files.summary, "");
  let log = "";
  const exitCode = main(
    {
      PATH: process.env.PATH, RUNNER_TEMP: dir, GITHUB_WORKSPACE: dir, GITHUB_OUTPUT: files.output, GITHUB_STEP_SUMMARY: files.summary,
      PG_TOOL: tool, PG_BOM: "models/tiny.cdx.json", PG_FAIL_ON: "error",
      FAKE_EXIT: String(exit), FAKE_REPORT: resolve(fixtures, report), FAKE_CALL_LOG: files.calls, ...env,
    },
    { write: (text) => { log += text; } },
  );
  return {
    exitCode,
    log,
    annotations: parseAnnotations(log),
    outputs: parseOutputFile(readFileSync(files.output, "utf8")),
    summary: readFileSync(files.summary, "utf8"),
    call: existsSync(files.calls) ? JSON.parse(readFileSync(files.calls, "utf8")) : null,
  };
}

test("list inputs split on newlines and commas", () => {
  assert.deepEqual(splitList("a.pub, b.pub\n\n c.pub ,"), ["a.pub", "b.pub", "c.pub"]);
  assert.deepEqual(splitList(undefined), []);
});

test("every input maps to its verify flag, and all reports come from one run", () => {
  const { inputs, problems } = readInputs({
    PG_TOOL: "t", PG_BOM: "bom.json", PG_MODEL_DIR: "model", PG_SCAN_OUTPUT: "bin/Release, publish\n", PG_POLICY: "eu-ai-act", PG_PUBLIC_KEYS: "a.pub\nb.pub",
    PG_SIGNATURE: "bom.sig", PG_BASE_FINGERPRINTS: "fp", PG_FAIL_ON: "Warning", PG_SARIF_FILE: "out/pg.sarif",
  });
  assert.deepEqual(problems, []);
  const paths = reportPaths(inputs, mkdtempSync(join(scratch, "pgci-rt-")));
  assert.deepEqual(verifyArguments(inputs, paths), [
    "verify", "bom.json", "--policy", "eu-ai-act", "--key", "a.pub", "--key", "b.pub", "--signature", "bom.sig",
    "--model-dir", "model", "--scan-output", "bin/Release", "--scan-output", "publish", "--base-fingerprints", "fp", "--fail-on", "warning", "--format", "text",
    "--report", `json=${paths.dir}/report.json`, "--report", `markdown=${paths.dir}/report.md`,
    "--report", `sarif=${join(process.cwd(), "out/pg.sarif")}`,
  ]);
});

test("bad inputs are PG6001 errors and no tool runs", () => {
  const result = runVerify({ env: { PG_BOM: "", PG_FAIL_ON: "sometimes", PG_SIGNATURE: "s", PG_BUNDLE: "b" } });
  assert.equal(result.exitCode, 2);
  assert.equal(result.call, null);
  assert.deepEqual(result.annotations.map((a) => a.properties.title), ["PG6001", "PG6001", "PG6001"]);
  assert.match(result.annotations[1].message, /'fail-on' must be 'error' or 'warning', not 'sometimes'/);
  assert.equal(result.outputs.result, "error");
});

test("a passing gate: outputs, summary, warning annotation, CLI annotations switched off", () => {
  const result = runVerify();
  assert.equal(result.exitCode, 0);
  assert.equal(result.call.annotations, "false");
  assert.equal(result.outputs.result, "pass");
  assert.equal(result.outputs["exit-code"], "0");
  assert.equal(result.outputs.errors, "0");
  assert.equal(result.outputs.warnings, "1");
  assert.ok(existsSync(result.outputs.json) && existsSync(result.outputs.sarif) && existsSync(result.outputs.markdown));
  assert.match(result.summary, /ProvenanceGate: PASS/);
  assert.deepEqual(result.annotations.map((a) => [a.type, a.properties.file, a.properties.line]), [["warning", "models/tiny.cdx.json", "41"]]);
});

test("the tool's output is shown inside stop-commands, so text it echoes cannot issue commands", () => {
  const result = runVerify();
  const lines = result.log.split("\n");
  const start = lines.findIndex((l) => l.startsWith("::stop-commands::provenancegate-"));
  const token = lines[start].slice("::stop-commands::".length);
  const end = lines.indexOf(`::${token}::`);
  const injected = lines.indexOf("::error::injected from the BOM");
  assert.ok(start >= 0 && start < injected && injected < end, result.log);
  assert.ok(!result.annotations.some((a) => a.message.includes("injected")));
});

test("a failing gate still exits 0 (the gate step fails the job) and reports result=fail", () => {
  const result = runVerify({ exit: 1, report: "fail.report.json" });
  assert.equal(result.exitCode, 0);
  assert.equal(result.outputs.result, "fail");
  assert.equal(result.outputs["exit-code"], "1");
  assert.equal(result.outputs.errors, "13");
  assert.equal(result.annotations.filter((a) => a.type === "error").length, 10);
  assert.match(result.summary, /ProvenanceGate: FAIL/);
});

test("an input error of verify (exit 2, no report) becomes result=error with the tool's diagnostics annotated", () => {
  const result = runVerify({ exit: 2 });
  assert.equal(result.outputs.result, "error");
  assert.equal(result.outputs["exit-code"], "2");
  assert.equal(result.outputs.json, "");
  assert.deepEqual(result.annotations.map((a) => [a.type, a.properties.file, a.message]), [["error", "models/tiny.cdx.json", "PG0002: BOM not found"]]);
  assert.match(result.summary, /ProvenanceGate: ERROR[\s\S]*PG0002/);
  assert.match(readFileSync(result.outputs.markdown, "utf8"), /ProvenanceGate: ERROR/);
});

test("two uses in one job write separate report folders: the first's outputs still point at its own files", () => {
  const first = runVerify();
  const runnerTemp = join(first.outputs.json, "..", "..");
  // Same RUNNER_TEMP; this time the tool fails the gate and writes its reports where it is told.
  const second = runVerify({ exit: 1, report: "fail.report.json", env: { RUNNER_TEMP: runnerTemp } });
  assert.equal(second.outputs.result, "fail");
  assert.notEqual(dirname(second.outputs.json), dirname(first.outputs.json));
  assert.notEqual(second.outputs.markdown, first.outputs.markdown);
  assert.equal(JSON.parse(readFileSync(first.outputs.json, "utf8")).result, "pass", "the first step's report is untouched");
  assert.match(readFileSync(first.outputs.markdown, "utf8"), /PASS/);
});

test("a run whose tool wrote no report is never read as a pass", () => {
  const first = runVerify();
  const again = runVerify({ exit: 1, report: "missing.report.json", env: { RUNNER_TEMP: join(first.outputs.json, "..", "..") } });
  assert.equal(again.outputs.result, "error");
  assert.match(again.annotations[0].message, /^PG6003: verify exited 1 but its JSON report is unusable/);
});

test("a report that breaks the contract is PG6003, not a pass", () => {
  const dir = mkdtempSync(join(scratch, "pgci-bad-"));
  writeFileSync(join(dir, "bad.json"), JSON.stringify({ schemaVersion: 2 }));
  const result = runVerify({ report: join(dir, "bad.json") });
  assert.equal(result.outputs.result, "error");
  assert.match(result.annotations[0].message, /^PG6003: verify exited 0 but its JSON report is unusable/);
});
