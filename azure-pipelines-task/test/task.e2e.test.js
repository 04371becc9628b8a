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
let sha512;
let tool;
let env;

before(() => {
  feed = process.env.PROVENANCEGATE_TOOL_FEED;
  if (!feed) {
    feed = fs.mkdtempSync(path.join(scratch, "pgci-feed-"));
    execFileSync("dotnet", ["pack", path.join(repoRoot, "src", "ProvenanceGate.Tool"), "-o", feed], { stdio: "inherit" });
  }
  const nupkg = fs.readdirSync(feed).find((f) => /^ProvenanceGate\.Tool\.\d.*\.nupkg$/.test(f));
  version = /^ProvenanceGate\.Tool\.(\d.*)\.nupkg$/.exec(nupkg)[1];
  sha512 = require("node:crypto").createHash("sha512").update(fs.readFileSync(path.join(feed, nupkg))).digest("hex");
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

/** Runs the task as the agent does: INPUT_* and agent variables in the environment, the checkout as cwd. */
function runTask(workspace, { inputs: extraInputs = {}, variables = {}, path: searchPath } = {}) {
  const agentTemp = fs.mkdtempSync(path.join(scratch, "pgci-agent-temp-"));
  const inputs = {
    INPUT_BOM: "model.cdx.json", INPUT_MODELDIR: "model", INPUT_PUBLICKEYS: "cosign.pub", INPUT_SIGNATURE: "model.cdx.json.sig",
    INPUT_FAILON: "error", INPUT_PUBLISHTESTRESULTS: "true", INPUT_TOOLVERSION: version, INPUT_TOOLSHA512: sha512, INPUT_TOOLSOURCE: feed,
    ...extraInputs,
  };
  const run = spawnSync(process.execPath, [taskEntry], {
    cwd: workspace,
    encoding: "utf8",
    env: {
      ...process.env, ...env, ...inputs, TF_BUILD: "True", AGENT_TEMPDIRECTORY: agentTemp, AGENT_TOOLSDIRECTORY: path.join(agentTemp, "tools"),
      BUILD_SOURCESDIRECTORY: workspace, ...variables, ...(searchPath ? { PATH: searchPath } : {}),
    },
  });
  const lines = run.stdout.split(/\r?\n/);
  const work = path.join(agentTemp, fs.readdirSync(agentTemp).find((d) => d.startsWith("provenancegate-")) ?? "provenancegate-missing");
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

const git = (cwd, ...args) => execFileSync("git", args, { cwd, encoding: "utf8", env: { ...process.env, GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@example.invalid", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@example.invalid" } }).trim();

test("a pull request that re-keys, re-signs and relaxes the policy still fails against the target branch's key and policy", () => {
  // The target branch on "origin": the signed model, the trusted key under keys/, a policy extending baseline.
  const upstream = signedWorkspace();
  fs.mkdirSync(path.join(upstream, "keys"));
  fs.renameSync(path.join(upstream, "cosign.pub"), path.join(upstream, "keys", "cosign.pub"));
  fs.renameSync(path.join(upstream, "cosign.key"), path.join(fs.mkdtempSync(path.join(scratch, "pgci-secret-")), "cosign.key"));
  fs.writeFileSync(path.join(upstream, "provenance-policy.yaml"), "schemaVersion: 1\nname: team\nextends: baseline\n");
  git(upstream, "init", "-q", "-b", "main");
  git(upstream, "add", "-A");
  git(upstream, "commit", "-q", "-m", "base");

  // The PR's checkout: tampered weights, a BOM regenerated from them, signed with the PR author's key, which
  // replaces the trusted one, and a policy without signature or digest checks.
  const checkout = path.join(fs.mkdtempSync(path.join(scratch, "pgci-checkout-")), "s");
  execFileSync("git", ["clone", "-q", upstream, checkout]);
  const weights = path.join(checkout, "model", "model.safetensors");
  const bytes = fs.readFileSync(weights);
  bytes[bytes.length - 1] ^= 0xff;
  fs.writeFileSync(weights, bytes);
  const keys = fs.mkdtempSync(path.join(scratch, "pgci-attacker-"));
  const run = (cwd, ...args) => execFileSync(tool, args, { cwd, env: { ...process.env, ...env, COSIGN_PASSWORD: "" }, stdio: "pipe" });
  run(keys, "keygen", "--output-key-prefix", "attacker");
  fs.rmSync(path.join(checkout, "model.cdx.json"));
  fs.rmSync(path.join(checkout, "model.cdx.json.sig"));
  run(checkout, "bom", "model", "--declaration", "provenance.yaml", "-o", "model.cdx.json");
  run(checkout, "sign", "model.cdx.json", "--key", path.join(keys, "attacker.key"), "--output-signature", "model.cdx.json.sig");
  fs.copyFileSync(path.join(keys, "attacker.pub"), path.join(checkout, "keys", "cosign.pub"));
  fs.writeFileSync(path.join(checkout, "provenance-policy.yaml"), "schemaVersion: 1\nname: relaxed\nsignature:\n  required: false\ndigests:\n  enabled: false\n");
  git(checkout, "commit", "-q", "-am", "hostile pull request");

  const pullRequest = { BUILD_REASON: "PullRequest", SYSTEM_PULLREQUEST_TARGETBRANCH: "refs/heads/main" };
  const inputs = { INPUT_PUBLICKEYS: "keys/cosign.pub", INPUT_POLICY: "provenance-policy.yaml" };
  const judged = runTask(checkout, { inputs, variables: pullRequest });
  assert.equal(judged.variable("result"), "fail", judged.log);
  assert.match(judged.log, /read from the target branch at [0-9a-f]{40}/);
  assert.ok(judged.lines.some((l) => l.startsWith("##vso[task.complete result=Failed;]ProvenanceGate: FAIL")), judged.log);

  // The same checkout judged by its own files (the old behaviour, now an explicit opt-in) would have passed.
  const optedIn = runTask(checkout, { inputs: { ...inputs, INPUT_TRUSTFROM: "workspace" }, variables: pullRequest });
  assert.equal(optedIn.variable("result"), "pass", optedIn.log);
});

test("the agent's proxy reaches dotnet tool install, which runs outside the checkout with a private package folder", () => {
  // A dotnet that records how it was started, then runs the real one.
  const bin = fs.mkdtempSync(path.join(scratch, "pgci-bin-"));
  const record = path.join(bin, "calls.jsonl");
  const realDotnet = execFileSync("bash", ["-c", "command -v dotnet"], { encoding: "utf8" }).trim();
  fs.writeFileSync(path.join(bin, "dotnet"), `#!/usr/bin/env node
require("fs").appendFileSync(${JSON.stringify(record)}, JSON.stringify({ args: process.argv.slice(2), cwd: process.cwd(), env: process.env }) + "\\n");
const r = require("child_process").spawnSync(${JSON.stringify(realDotnet)}, process.argv.slice(2), { stdio: "inherit" });
process.exit(r.status ?? 1);
`);
  fs.chmodSync(path.join(bin, "dotnet"), 0o755);
  const workspace = signedWorkspace();
  fs.writeFileSync(path.join(workspace, "nuget.config"), '<configuration><packageSources><clear /><add key="evil" value="evil-feed" /></packageSources></configuration>');
  const { variable, log } = runTask(workspace, {
    variables: { AGENT_PROXYURL: "http://proxy.example:3128", AGENT_PROXYUSERNAME: "agent", AGENT_PROXYPASSWORD: "pw", AGENT_PROXYBYPASSLIST: JSON.stringify(["127.0.0.1", "feeds.example"]) },
    path: `${bin}${path.delimiter}${process.env.PATH}`,
  });
  assert.equal(variable("result"), "pass", log);
  const install = fs.readFileSync(record, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l)).find((c) => c.args[0] === "tool" && c.args[1] === "install");
  assert.equal(install.env.HTTPS_PROXY, "http://agent:pw@proxy.example:3128");
  assert.equal(install.env.NO_PROXY, "127.0.0.1,feeds.example");
  assert.ok(!install.cwd.startsWith(workspace), "never inside the checkout, whose nuget.config would apply");
  assert.ok(install.env.NUGET_PACKAGES && !install.env.NUGET_PACKAGES.startsWith(workspace));
  assert.match(fs.readFileSync(install.args[install.args.indexOf("--configfile") + 1], "utf8"), /<clear \/>/);
});
