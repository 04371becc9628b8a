// The action end to end, offline: the runner emulation runs action.yml's steps with bash, the install step
// installs the real ProvenanceGate.Tool from a local feed (the tool-source input), and verify runs for real.
// The feed comes from PROVENANCEGATE_TOOL_FEED (the NUnit wrapper packs this build), or is packed here.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { actionDir, runAction, startFakeGitHub } from "./run-action.mjs";

// Everything this file creates lives here and is removed at the end.
const scratch = mkdtempSync(join(tmpdir(), "pgci-action-e2e-"));
after(() => rmSync(scratch, { recursive: true, force: true }));

const repoRoot = join(actionDir, "..");
let feed;
let version;
let sha512;
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
  sha512 = createHash("sha512").update(readFileSync(join(feed, nupkg))).digest("hex");
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


// This build's package is not the release the action pins, so the test pins it the way a user pins a private build.
const toolInputs = () => ({ "tool-source": feed, "tool-version": version, "tool-sha512": sha512, "dotnet-version": "" });

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

test("bad action inputs fail the verify step with PG6001; the gate step still runs and fails", () => {
  const run = runAction({ tempRoot: scratch, inputs: { bom: "bom.json", "fail-on": "sometimes", ...toolInputs() }, env });
  assert.equal(run.step("verify").exitCode, 2);
  assert.deepEqual(run.annotations.map((a) => [a.type, a.properties.title]), [["error", "PG6001"]]);
  assert.equal(run.step("Apply the gate").exitCode, 2);
  assert.equal(run.outputs.result, "error");
});

test("no feedback step without comment-on-pr or check-run; no comment outside a pull request", () => {
  const quiet = runAction({ tempRoot: scratch, inputs: { bom: "x.json", ...toolInputs() }, env, event: { pull_request: { number: 3 } }, eventName: "pull_request" });
  assert.equal(quiet.step("Report to GitHub").skipped, true);
  const push = runAction({ tempRoot: scratch, inputs: { bom: "x.json", "comment-on-pr": "true", ...toolInputs() }, env });
  assert.match(push.step("Report to GitHub").stdout, /nothing to post/);
  assert.equal(push.step("Report to GitHub").exitCode, 0);
});

test("a signed, untouched model passes: outputs, summary with the lineage graph, SARIF, no error annotation, PR comment and check run", async (t) => {
  const github = await startFakeGitHub({ tempRoot: scratch });
  t.after(() => github.stop());
  const workspace = signedWorkspace();
  const run = runAction({
    tempRoot: scratch,
    inputs: { ...gateInputs(), "comment-on-pr": "true", "check-run": "true", "trust-from": "workspace" },
    env: { ...env, GITHUB_API_URL: github.url, GITHUB_REPOSITORY: "octo/model" },
    workspace,
    event: { pull_request: { number: 3, head: { sha: "a".repeat(40) } } },
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

  const feedback = run.step("Report to GitHub");
  assert.equal(feedback.exitCode, 0, feedback.stdout + feedback.stderr);
  const posted = github.requests().filter((r) => r.method === "POST");
  const comment = posted.find((r) => r.url === "/api/v3/repos/octo/model/issues/3/comments");
  assert.match(comment.body.body, /^<!-- provenancegate -->\n## ProvenanceGate: PASS/);
  const check = posted.find((r) => r.url === "/api/v3/repos/octo/model/check-runs");
  assert.equal(check.body.conclusion, "success");
  assert.equal(check.body.head_sha, "a".repeat(40));
});

test("a fork's read-only token: one PG6007 notice instead of the comment, and the failed gate still fails the job", async (t) => {
  const github = await startFakeGitHub({ mode: "readonly", tempRoot: scratch });
  t.after(() => github.stop());
  const workspace = signedWorkspace();
  const weights = join(workspace, "model", "model.safetensors");
  const bytes = readFileSync(weights);
  bytes[0] ^= 0xff;
  writeFileSync(weights, bytes);
  const run = runAction({
    tempRoot: scratch,
    inputs: { ...gateInputs(), "comment-on-pr": "true", "check-run": "true", "upload-sarif": "true", "trust-from": "workspace" },
    env: { ...env, GITHUB_API_URL: github.url, GITHUB_REPOSITORY: "octo/model" },
    workspace,
    event: { pull_request: { number: 3, head: { sha: "b".repeat(40), repo: { fork: true } } } },
    eventName: "pull_request",
  });
  const feedback = run.step("Report to GitHub");
  assert.equal(feedback.exitCode, 0, feedback.stdout + feedback.stderr);
  const notices = feedback.annotations.filter((a) => a.type === "notice");
  assert.equal(notices.length, 1, feedback.stderr);
  assert.match(notices[0].message, /^PG6007: /);
  assert.deepEqual(feedback.annotations.filter((a) => a.type === "error"), []);
  assert.ok(github.requests().some((r) => r.status === 403), "the comment was attempted and refused");
  assert.equal(run.step("Upload SARIF to code scanning").skipped, true, "no SARIF upload from a fork");
  assert.equal(run.step("Apply the gate").exitCode, 1, "the gate is applied all the same");
  assert.ok(run.failed);
});

test("a tool package that differs from the pin is removed unrun (PG6004) and the gate step still fails the job", () => {
  const run = runAction({ tempRoot: scratch, inputs: { bom: "model.cdx.json", ...toolInputs(), "tool-sha512": "0".repeat(128) }, env });
  const install = run.step("install");
  assert.equal(install.exitCode, 2);
  assert.deepEqual(install.annotations.map((a) => a.properties.title), ["PG6004"]);
  assert.ok(!existsSync(join(run.runnerTemp, "..", "tool-cache", "provenancegate", `${version}-${"0".repeat(32)}`, "dotnet-provenance")));
  assert.equal(run.step("verify").skipped, true);
  assert.equal(run.step("Apply the gate").exitCode, 2);
});

test("a second use of the install step reuses the cached tool after re-hashing it", () => {
  const runnerTemp = mkdtempSync(join(scratch, "pgci-shared-temp-"));
  const first = runAction({ tempRoot: scratch, runnerTemp, inputs: { bom: "x.json", ...toolInputs() }, env: { ...env, RUNNER_TOOL_CACHE: join(runnerTemp, "cache") } });
  assert.match(first.step("install").stdout, /installed; SHA-512 matches the pin/);
  const second = runAction({ tempRoot: scratch, runnerTemp, inputs: { bom: "x.json", ...toolInputs() }, env: { ...env, RUNNER_TOOL_CACHE: join(runnerTemp, "cache") } });
  assert.match(second.step("install").stdout, /cached copy matches the pinned SHA-512/);
  assert.notEqual(first.outputs.markdown, second.outputs.markdown, "each use has its own report folder");
});

test("no node on PATH nor in the runner's externals: PG6006 says what to add, and the gate fails", () => {
  const empty = mkdtempSync(join(scratch, "pgci-no-node-"));
  const output = join(empty, "output");
  writeFileSync(output, "");
  const run = spawnSync("/bin/bash", [join(actionDir, "scripts", "node.sh"), join(actionDir, "scripts", "verify.mjs")], {
    encoding: "utf8",
    env: { PATH: empty, GITHUB_OUTPUT: output },
  });
  assert.equal(run.status, 2);
  assert.match(run.stdout, /^::error title=PG6006::PG6006: Node\.js was not found .*actions\/setup-node/m);
  assert.equal(readFileSync(output, "utf8"), "result=error\nexit-code=2\n");
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

// ---- Trust from the base commit: a real git repository with a base commit and a hostile PR commit ----------

const git = (cwd, ...args) => execFileSync("git", args, { cwd, encoding: "utf8", env: { ...process.env, GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@example.invalid", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@example.invalid" } }).trim();

/**
 * The base branch as a team keeps it: the signed model and BOM, the trusted key under keys/, a policy that
 * extends baseline. The signing key itself is not in the repository. Returns the workspace and base commit.
 */
function baseRepository() {
  const workspace = signedWorkspace();
  cpSync(join(workspace, "cosign.pub"), join(workspace, "keys", "cosign.pub"), { recursive: true, force: true });
  rmSync(join(workspace, "cosign.pub"));
  renameSync(join(workspace, "cosign.key"), join(mkdtempSync(join(scratch, "pgci-secret-")), "cosign.key"));
  writeFileSync(join(workspace, "provenance-policy.yaml"), "schemaVersion: 1\nname: team\nextends: baseline\n");
  git(workspace, "init", "-q", "-b", "main");
  git(workspace, "add", "-A");
  git(workspace, "commit", "-q", "-m", "base: signed model, trusted key, team policy");
  return { workspace, base: git(workspace, "rev-parse", "HEAD") };
}

/** What a hostile pull request commits on top: a tampered weight file plus whatever it uses to hide it. */
function hostileCommit(workspace, { rekey = false, relaxPolicy = false, nugetConfig = false }) {
  const weights = join(workspace, "model", "model.safetensors");
  const bytes = readFileSync(weights);
  bytes[bytes.length - 1] ^= 0xff;
  writeFileSync(weights, bytes);
  if (rekey) {
    // A fresh key pair, a BOM regenerated from the tampered files, signed with the new key, which replaces the trusted one.
    const keys = mkdtempSync(join(scratch, "pgci-attacker-"));
    const run = (cwd, ...args) => execFileSync(tool, args, { cwd, env: { ...process.env, ...env, COSIGN_PASSWORD: "" }, stdio: "pipe" });
    run(keys, "keygen", "--output-key-prefix", "attacker");
    rmSync(join(workspace, "model.cdx.json"));
    rmSync(join(workspace, "model.cdx.json.sig"));
    run(workspace, "bom", "model", "--declaration", "provenance.yaml", "-o", "model.cdx.json");
    run(workspace, "sign", "model.cdx.json", "--key", join(keys, "attacker.key"), "--output-signature", "model.cdx.json.sig");
    cpSync(join(keys, "attacker.pub"), join(workspace, "keys", "cosign.pub"));
  }
  if (relaxPolicy) {
    writeFileSync(join(workspace, "provenance-policy.yaml"), "schemaVersion: 1\nname: relaxed\nsignature:\n  required: false\ndigests:\n  enabled: false\n");
  }
  if (nugetConfig) {
    // Its own feed, mapped as the only source of ProvenanceGate.Tool: the same id and version, other bytes.
    const evilFeed = join(workspace, "evil-feed");
    cpSync(feed, evilFeed, { recursive: true });
    for (const file of readdirSync(evilFeed)) writeFileSync(join(evilFeed, file), Buffer.concat([readFileSync(join(evilFeed, file)), Buffer.from("tampered")]));
    writeFileSync(join(workspace, "nuget.config"), `<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources><clear /><add key="evil" value="evil-feed" /></packageSources>
  <packageSourceMapping><packageSource key="evil"><package pattern="*" /></packageSource></packageSourceMapping>
</configuration>
`);
  }
  git(workspace, "add", "-A");
  git(workspace, "commit", "-q", "-m", "hostile pull request");
  return git(workspace, "rev-parse", "HEAD");
}

function gateOnPullRequest(workspace, base, head, extra = {}) {
  return runAction({
    tempRoot: scratch,
    inputs: { ...gateInputs(), "public-keys": "keys/cosign.pub", policy: "provenance-policy.yaml", "sarif-file": "", ...extra },
    env,
    workspace,
    event: { pull_request: { number: 9, base: { sha: base }, head: { sha: head } } },
    eventName: "pull_request",
  });
}

test("a PR that re-keys, re-signs, relaxes the policy and brings its own nuget.config still fails the gate", () => {
  const { workspace, base } = baseRepository();
  const head = hostileCommit(workspace, { rekey: true, relaxPolicy: true, nugetConfig: true });

  const run = gateOnPullRequest(workspace, base, head);
  const verify = run.step("verify");
  assert.equal(run.outputs["trust-source"], base, run.step("trust").stdout + run.step("trust").stderr);
  assert.equal(run.outputs.result, "fail", verify.stdout + verify.stderr);
  const errors = run.annotations.filter((a) => a.type === "error");
  assert.ok(errors.some((a) => /\(signature\)$/.test(a.properties.title)), `the signature does not verify with the base branch's key: ${JSON.stringify(errors)}`);
  assert.equal(run.step("Apply the gate").exitCode, 1);

  // The installed tool is the pinned package from the trusted source, not the PR's feed.
  const install = run.step("install");
  assert.match(install.stdout, /SHA-512 matches the pin/);
  assert.doesNotMatch(install.stdout + install.stderr, /evil/);

  // The same commit judged by its own files (the old behaviour, now only by explicit opt-in) would have passed.
  const optedIn = gateOnPullRequest(workspace, base, head, { "trust-from": "workspace" });
  assert.equal(optedIn.outputs.result, "pass", optedIn.step("verify").stdout);
  assert.ok(optedIn.annotations.some((a) => a.type === "warning" && /trust-from: workspace/.test(a.message)));
});

test("a PR that only relaxes the policy next to a tampered weight file still fails under the base branch's policy", () => {
  const { workspace, base } = baseRepository();
  const head = hostileCommit(workspace, { relaxPolicy: true });
  const run = gateOnPullRequest(workspace, base, head);
  assert.equal(run.outputs.result, "fail", run.step("verify").stdout);
  assert.ok(run.annotations.some((a) => a.type === "error" && /^PG4\d{3}: /.test(a.message)));
  assert.equal(gateOnPullRequest(workspace, base, head, { "trust-from": "workspace" }).outputs.result, "pass");
});

test("a key the base branch does not have yet is PG6005, and the gate fails", () => {
  const { workspace, base } = baseRepository();
  cpSync(join(workspace, "keys", "cosign.pub"), join(workspace, "keys", "new.pub"));
  git(workspace, "add", "-A");
  const head = (git(workspace, "commit", "-q", "-m", "add a key"), git(workspace, "rev-parse", "HEAD"));
  const run = gateOnPullRequest(workspace, base, head, { "public-keys": "keys/cosign.pub\nkeys/new.pub" });
  assert.deepEqual(run.step("trust").annotations.map((a) => a.properties.title), ["PG6005"]);
  assert.match(run.step("trust").annotations[0].message, /'keys\/new\.pub' is not in the base commit/);
  assert.equal(run.step("verify").skipped, true);
  assert.equal(run.step("Apply the gate").exitCode, 2);
});

test("a base commit missing from a shallow checkout is fetched from origin", () => {
  const { workspace: upstream, base } = baseRepository();
  const clone = join(mkdtempSync(join(scratch, "pgci-clone-")), "repo");
  const head = hostileCommit(upstream, { relaxPolicy: true });
  git(upstream, "config", "uploadpack.allowReachableSHA1InWant", "true");
  execFileSync("git", ["clone", "-q", "--depth=1", `file://${upstream}`, clone]);
  assert.throws(() => git(clone, "cat-file", "-e", `${base}^{commit}`), "the shallow clone lacks the base commit");
  const run = gateOnPullRequest(clone, base, head);
  assert.equal(run.outputs["trust-source"], base, run.step("trust").stdout + run.step("trust").stderr);
  assert.equal(run.outputs.result, "fail");
});

test("the release script pins exactly the package it is given, and only the version this repository declares", () => {
  const nupkg = join(feed, readdirSync(feed).find((f) => f.endsWith(".nupkg")));
  const printed = execFileSync("bash", [join(actionDir, "scripts", "pin-tool.sh"), "--print", nupkg], { encoding: "utf8" });
  assert.match(printed, new RegExp(`^version=${version.replaceAll(".", "\\.")}$`, "m"));
  assert.match(printed, new RegExp(`^sha512=${sha512}$`, "m"), "the hash of the very bytes to publish");
  const committed = readFileSync(join(actionDir, "provenancegate-tool.lock"), "utf8");
  assert.equal(/^version=(.+)$/m.exec(committed)[1], version, "the committed pin is this release's version");

  const other = join(mkdtempSync(join(scratch, "pgci-other-")), "ProvenanceGate.Tool.9.9.9.nupkg");
  cpSync(nupkg, other);
  const refused = spawnSync("bash", [join(actionDir, "scripts", "pin-tool.sh"), "--print", other], { encoding: "utf8" });
  assert.equal(refused.status, 2);
  assert.match(refused.stderr, /is version 9\.9\.9, but Directory\.Build\.props says/);
});
