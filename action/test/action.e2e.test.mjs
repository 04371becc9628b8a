// The action end to end, offline: the runner emulation runs action.yml's steps with bash, the install step
// installs the real ProvenanceGate.Tool from a local feed (the tool-source input), and verify runs for real.
// The feed comes from PROVENANCEGATE_TOOL_FEED (the NUnit wrapper packs this build), or is packed here.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { actionDir, runAction } from "./run-action.mjs";

// Everything this file creates lives here and is removed at the end.
const scratch = mkdtempSync(join(tmpdir(), "pgci-action-e2e-"));
after(() => rmSync(scratch, { recursive: true, force: true }));

const repoRoot = join(actionDir, "..");
let feed;
let version;
let env;
let tool;

before(() => {
  feed = process.env.PROVENANCEGATE_TOOL_FEED;
  if (!feed) {
    feed = mkdtempSync(join(scratch, "pgci-feed-"));
    execFileSync("dotnet", ["pack", join(repoRoot, "src", "ProvenanceGate.Tool"), "-o", feed], { stdio: "inherit" });
  }
  const nupkg = readdirSync(feed).find((f) => /^ProvenanceGate\.Tool\.\d.*\.nupkg$/.test(f));
  assert.ok(nupkg, `no ProvenanceGate.Tool package in ${feed}`);
  version = /^ProvenanceGate\.Tool\.(\d.*)\.nupkg$/.exec(nupkg)[1];
  // A private NuGet cache: the feed's version number does not change between builds, a shared cache would
  // hand out a stale package.
  env = {
    NUGET_PACKAGES: mkdtempSync(join(scratch, "pgci-nuget-")),
    DOTNET_CLI_TELEMETRY_OPTOUT: "1",
    DOTNET_NOLOGO: "1",
    DOTNET_SKIP_FIRST_TIME_EXPERIENCE: "1",
    // verify's "now" for approval review dates: fixed, so the sample's approvals never expire under the test.
    SOURCE_DATE_EPOCH: "1795000000",
  };
  // The same package, installed once more to prepare inputs (keys, BOM, signature) as a user's build would.
  const toolDir = mkdtempSync(join(scratch, "pgci-prep-tool-"));
  execFileSync("dotnet", ["tool", "install", "ProvenanceGate.Tool", "--tool-path", toolDir, "--version", version, "--add-source", feed], {
    env: { ...process.env, ...env },
    stdio: "pipe",
  });
  tool = join(toolDir, process.platform === "win32" ? "dotnet-provenance.exe" : "dotnet-provenance");
});


/**
 * A workspace as a repository would have it: the sample fine-tune, its BOM from `bom`, a cosign key pair from
 * `keygen` and the BOM's signature from `sign`, all made by the real tool.
 */
function signedWorkspace() {
  const workspace = mkdtempSync(join(scratch, "pgci-workspace-"));
  cpSync(join(repoRoot, "samples", "models", "sample-finetune"), join(workspace, "model"), { recursive: true });
  renameSync(join(workspace, "model", "provenance.yaml"), join(workspace, "provenance.yaml"));
  const run = (...args) => execFileSync(tool, args, { cwd: workspace, env: { ...process.env, ...env, COSIGN_PASSWORD: "" }, stdio: "pipe" });
  run("keygen", "--output-key-prefix", "cosign");
  run("bom", "model", "--declaration", "provenance.yaml", "-o", "model.cdx.json");
  run("sign", "model.cdx.json", "--key", "cosign.key", "--output-signature", "model.cdx.json.sig");
  return workspace;
}

const gateInputs = () => ({
  bom: "model.cdx.json",
  "model-dir": "model",
  "public-keys": "cosign.pub",
  signature: "model.cdx.json.sig",
  "sarif-file": "provenancegate.sarif",
  ...toolInputs(),
});


const toolInputs = () => ({ "tool-source": feed, "tool-version": version, "dotnet-version": "" });

/** Runs the github-script step's script as github-script would, against a fake Octokit. */
async function runCommentStep(step) {
  const comments = [];
  const github = {
    paginate: async () => comments,
    rest: {
      issues: {
        listComments: () => {},
        createComment: async (p) => { comments.push({ id: comments.length + 1, body: p.body }); return { data: { id: comments.length } }; },
        updateComment: async (p) => { comments.find((c) => c.id === p.comment_id).body = p.body; },
      },
    },
  };
  const context = { repo: { owner: "o", repo: "r" }, payload: { pull_request: { number: 3 } } };
  const saved = { ...process.env };
  Object.assign(process.env, step.env);
  try {
    const AsyncFunction = (async () => {}).constructor;
    const script = new AsyncFunction("require", "github", "context", "core", step.with.script);
    await script(createRequire(import.meta.url), github, context, { info: () => {} });
  } finally {
    process.env = saved;
  }
  return comments;
}

test("a missing BOM: verify cannot run, result=error, the tool's diagnostic is annotated, the gate step fails", () => {
  const run = runAction({ tempRoot: scratch, inputs: { bom: "models/missing.cdx.json", ...toolInputs() }, env });
  const install = run.step("install");
  assert.equal(install.exitCode, 0, install.stdout + install.stderr);
  assert.ok(existsSync(install.outputs.path), "the install step outputs the installed executable");

  const verify = run.step("verify");
  assert.equal(verify.exitCode, 0, verify.stdout + verify.stderr);
  assert.equal(run.outputs.result, "error");
  assert.equal(run.outputs["exit-code"], "2");
  assert.equal(run.outputs.json, "");
  const errors = run.annotations.filter((a) => a.type === "error");
  assert.ok(errors.length >= 1, verify.stdout + verify.stderr);
  assert.match(errors[0].message, /^PG\d{4}: /);
  assert.doesNotMatch(verify.stderr, /^::error/m, "the CLI's own annotations are switched off inside the action");
  assert.match(run.summary, /^## ProvenanceGate: ERROR/);
  assert.equal(run.step("Apply the gate").exitCode, 2);
  assert.ok(run.failed);
});

test("bad action inputs fail the verify step with PG6001 and skip the rest", () => {
  const run = runAction({ tempRoot: scratch, inputs: { bom: "bom.json", "fail-on": "sometimes", ...toolInputs() }, env });
  assert.equal(run.step("verify").exitCode, 2);
  assert.deepEqual(run.annotations.map((a) => [a.type, a.properties.title]), [["error", "PG6001"]]);
  assert.equal(run.step("Apply the gate").skipped, true);
  assert.equal(run.outputs.result, "error");
});

test("the comment step gets the markdown report and posts one marked comment on a pull request", async () => {
  const run = runAction({
    tempRoot: scratch,
    inputs: { bom: "models/missing.cdx.json", "comment-on-pr": "true", ...toolInputs() },
    env,
    event: { pull_request: { number: 3 } },
    eventName: "pull_request",
  });
  const comment = run.steps.find((s) => s.uses?.startsWith("actions/github-script@"));
  assert.equal(comment.skipped, undefined, "the comment step runs on a pull request when asked");
  assert.equal(comment.with["github-token"], "test-token");
  assert.equal(comment.env.PG_MARKDOWN, run.outputs.markdown);
  const comments = await runCommentStep(comment);
  assert.equal(comments.length, 1);
  assert.match(comments[0].body, /^<!-- provenancegate -->\n## ProvenanceGate: ERROR/);
});

test("no comment without comment-on-pr, nor outside a pull request", () => {
  const quiet = runAction({ tempRoot: scratch, inputs: { bom: "x.json", ...toolInputs() }, env, event: { pull_request: { number: 3 } }, eventName: "pull_request" });
  const push = runAction({ tempRoot: scratch, inputs: { bom: "x.json", "comment-on-pr": "true", ...toolInputs() }, env });
  for (const run of [quiet, push]) {
    assert.equal(run.steps.find((s) => s.uses?.startsWith("actions/github-script@")).skipped, true);
  }
});


test("a signed, untouched model passes: outputs, summary with the lineage graph, SARIF, no error annotation, PR comment", async () => {
  const workspace = signedWorkspace();
  const run = runAction({
    tempRoot: scratch,
    inputs: { ...gateInputs(), "comment-on-pr": "true" },
    env,
    workspace,
    event: { pull_request: { number: 3 } },
    eventName: "pull_request",
  });
  const verify = run.step("verify");
  assert.equal(run.outputs.result, "pass", verify.stdout + verify.stderr);
  assert.equal(run.outputs["exit-code"], "0");
  assert.equal(run.outputs.errors, "0");

  const report = JSON.parse(readFileSync(run.outputs.json, "utf8"));
  assert.equal(report.schemaVersion, 1);
  assert.equal(report.result, "pass");
  assert.equal(String(report.summary.warnings), run.outputs.warnings);
  assert.match(run.summary, /PASS/);
  assert.match(run.summary, /```mermaid/);

  assert.equal(run.outputs.sarif, join(workspace, "provenancegate.sarif"));
  const sarif = JSON.parse(readFileSync(run.outputs.sarif, "utf8"));
  assert.equal(sarif.version, "2.1.0");
  assert.ok(!sarif.runs.flatMap((r) => r.results ?? []).some((r) => r.level === "error"));

  assert.deepEqual(run.annotations.filter((a) => a.type === "error"), []);
  for (const warning of run.annotations.filter((a) => a.type === "warning")) assert.match(warning.message, /^PG\d{4}: /);
  assert.equal(run.step("Apply the gate").exitCode, 0);
  assert.equal(run.failed, false);

  const comments = await runCommentStep(run.steps.find((s) => s.uses?.startsWith("actions/github-script@")));
  assert.equal(comments.length, 1);
  assert.match(comments[0].body, /^<!-- provenancegate -->\n[\s\S]*PASS/);
});

test("a tampered weight file fails the gate: PG annotations on the BOM, FAIL summary, SARIF results, failed step", () => {
  const workspace = signedWorkspace();
  const weights = join(workspace, "model", "model.safetensors");
  const bytes = readFileSync(weights);
  bytes[bytes.length - 1] ^= 0xff;
  writeFileSync(weights, bytes);

  const run = runAction({ tempRoot: scratch, inputs: gateInputs(), env, workspace });
  const verify = run.step("verify");
  assert.equal(run.outputs.result, "fail", verify.stdout + verify.stderr);
  assert.equal(run.outputs["exit-code"], "1");
  assert.ok(Number(run.outputs.errors) >= 1);

  const errors = run.annotations.filter((a) => a.type === "error");
  assert.ok(errors.length >= 1 && errors.length <= 10);
  for (const error of errors) {
    assert.match(error.properties.title, /^PG4\d{3}/);
    assert.match(error.message, /^PG4\d{3}: /);
    assert.ok(error.properties.file, "each error points at a file");
  }
  assert.ok(errors.some((e) => e.properties.file === "model.cdx.json" || e.properties.file?.startsWith("model/")), JSON.stringify(errors));
  assert.match(run.summary, /FAIL/);

  const sarif = JSON.parse(readFileSync(run.outputs.sarif, "utf8"));
  const results = sarif.runs.flatMap((r) => r.results ?? []);
  assert.ok(results.some((r) => r.level === "error" && /^PG4\d{3}$/.test(r.ruleId)), JSON.stringify(results));

  assert.equal(run.step("Apply the gate").exitCode, 1);
  assert.ok(run.failed);
});
