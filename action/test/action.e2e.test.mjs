// The action end to end, offline: the runner emulation runs action.yml's steps with bash, the install step
// installs the real ProvenanceGate.Tool from a local feed (the tool-source input), and verify runs for real.
// The feed comes from PROVENANCEGATE_TOOL_FEED (the NUnit wrapper packs this build), or is packed here.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, test } from "node:test";
import { actionDir, runAction } from "./run-action.mjs";

const repoRoot = join(actionDir, "..");
let feed;
let version;
let env;

before(() => {
  feed = process.env.PROVENANCEGATE_TOOL_FEED;
  if (!feed) {
    feed = mkdtempSync(join(tmpdir(), "pg-feed-"));
    execFileSync("dotnet", ["pack", join(repoRoot, "src", "ProvenanceGate.Tool"), "-o", feed], { stdio: "inherit" });
  }
  const nupkg = readdirSync(feed).find((f) => /^ProvenanceGate\.Tool\..+\.nupkg$/.test(f));
  assert.ok(nupkg, `no ProvenanceGate.Tool package in ${feed}`);
  version = /^ProvenanceGate\.Tool\.(.+)\.nupkg$/.exec(nupkg)[1];
  // A private NuGet cache: the feed's version number does not change between builds, a shared cache would
  // hand out a stale package.
  env = {
    NUGET_PACKAGES: mkdtempSync(join(tmpdir(), "pg-nuget-")),
    DOTNET_CLI_TELEMETRY_OPTOUT: "1",
    DOTNET_NOLOGO: "1",
    DOTNET_SKIP_FIRST_TIME_EXPERIENCE: "1",
  };
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
  const run = runAction({ inputs: { bom: "models/missing.cdx.json", ...toolInputs() }, env });
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
  const run = runAction({ inputs: { bom: "bom.json", "fail-on": "sometimes", ...toolInputs() }, env });
  assert.equal(run.step("verify").exitCode, 2);
  assert.deepEqual(run.annotations.map((a) => [a.type, a.properties.title]), [["error", "PG6001"]]);
  assert.equal(run.step("Apply the gate").skipped, true);
  assert.equal(run.outputs.result, "error");
});

test("the comment step gets the markdown report and posts one marked comment on a pull request", async () => {
  const run = runAction({
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
  const quiet = runAction({ inputs: { bom: "x.json", ...toolInputs() }, env, event: { pull_request: { number: 3 } }, eventName: "pull_request" });
  const push = runAction({ inputs: { bom: "x.json", "comment-on-pr": "true", ...toolInputs() }, env });
  for (const run of [quiet, push]) {
    assert.equal(run.steps.find((s) => s.uses?.startsWith("actions/github-script@")).skipped, true);
  }
});

