import assert from "node:assert/strict";
import { test } from "node:test";
import { evaluateCondition, loadAction } from "./run-action.mjs";

const action = loadAction();

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
