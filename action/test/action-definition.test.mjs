import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { test } from "node:test";
import { actionDir, evaluateCondition, loadAction } from "./run-action.mjs";

const action = loadAction();
// The JSON schemas of action.yml and workflow files (SchemaStore's), compiled to WebAssembly; a test dependency only.
const { validateAction, validateWorkflow } = createRequire(import.meta.url)("@action-validator/core");

test("action.yml matches the action metadata schema", () => {
  assert.deepEqual(validateAction(readFileSync(join(actionDir, "action.yml"), "utf8")).errors, []);
});

test("the README's workflows match the workflow schema", () => {
  const readme = readFileSync(join(actionDir, "README.md"), "utf8");
  const workflows = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]).filter((yaml) => /^jobs:/m.test(yaml));
  assert.equal(workflows.length, 2, "a pull-request and a release workflow");
  for (const workflow of workflows) assert.deepEqual(validateWorkflow(workflow).errors, [], workflow);
});

test("the action is composite and no run: script interpolates an expression (script injection)", () => {
  assert.equal(action.runs.using, "composite");
  for (const step of action.runs.steps.filter((s) => s.run)) {
    assert.doesNotMatch(step.run, /\$\{\{/, `step '${step.name}' must take its inputs through env`);
    assert.equal(step.shell, "bash");
  }
});

test("the inputs and outputs the issue asks for exist, and every output comes from the verify step", () => {
  for (const name of ["bom", "model-dir", "policy", "public-keys", "signature", "bundle", "base-fingerprints", "tool-version", "tool-source", "fail-on", "sarif-file", "comment-on-pr"]) {
    assert.ok(action.inputs[name]?.description, `input ${name}`);
  }
  assert.equal(action.inputs.bom.required, true);
  for (const name of ["result", "errors", "warnings", "json", "sarif", "markdown"]) {
    assert.match(action.outputs[name]?.value ?? "", new RegExp(`^\\$\\{\\{ steps\\.verify\\.outputs\\.${name} \\}\\}$`), `output ${name}`);
  }
});

test("every input the steps reference is declared", () => {
  const referenced = [...JSON.stringify(action.runs.steps).matchAll(/inputs\.([a-z-]+)/g)].map((m) => m[1]);
  for (const name of referenced) assert.ok(name in action.inputs, `inputs.${name} is not declared`);
});

test("the PR comment runs through github-script only when asked and on a pull request", () => {
  const comment = action.runs.steps.find((s) => s.uses?.startsWith("actions/github-script@"));
  const contexts = (commentOnPr, pullRequest) => ({ inputs: { "comment-on-pr": commentOnPr }, github: { event: pullRequest ? { pull_request: { number: 1 } } : {} } });
  assert.equal(evaluateCondition(comment.if, contexts("true", true)), true);
  assert.equal(evaluateCondition(comment.if, contexts("false", true)), false);
  assert.equal(evaluateCondition(comment.if, contexts("true", false)), false);
  assert.match(comment.with.script, /require\(process\.env\.PG_COMMENT_SCRIPT\)/);
  assert.doesNotMatch(comment.with.script, /\$\{\{/);
});
