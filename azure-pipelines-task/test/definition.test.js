"use strict";

const assert = require("node:assert/strict");
const fs = require("node:fs");
const path = require("node:path");
const { test } = require("node:test");

const root = path.join(__dirname, "..");
const task = JSON.parse(fs.readFileSync(path.join(root, "ProvenanceGateVerifyV0", "task.json"), "utf8"));
const extension = JSON.parse(fs.readFileSync(path.join(root, "vss-extension.json"), "utf8"));
const source = fs.readFileSync(path.join(root, "ProvenanceGateVerifyV0", "index.js"), "utf8");

test("task.json: the fixed id, valid names, Node20_1 and Node24 handlers on index.js", () => {
  assert.equal(task.id, "66952656-4135-4f3a-b3d7-34d46a54cd19");
  assert.match(task.name, /^[A-Za-z0-9-]+$/);
  assert.deepEqual(Object.keys(task.execution).sort(), ["Node20_1", "Node24"]);
  for (const handler of Object.values(task.execution)) assert.equal(handler.target, "index.js");
  for (const input of task.inputs) assert.match(input.name, /^[A-Za-z][A-Za-z0-9]*$/);
});

test("every input the task reads is declared, and every declared input is read", () => {
  const read = new Set([...source.matchAll(/(?:get(?:Path|Bool)?Input|pathInput)\("([A-Za-z][A-Za-z0-9]*)"/g)].map((m) => m[1]));
  assert.deepEqual([...read].sort(), task.inputs.map((i) => i.name).sort());
});

test("every output variable the task sets is declared", () => {
  const declared = task.outputVariables.map((v) => v.name).sort();
  const block = source.slice(source.indexOf("const outputs = {"), source.indexOf("};", source.indexOf("const outputs = {")));
  const set = [...block.matchAll(/^\s+(\w+)[,:]/gm)].map((m) => m[1]).sort();
  assert.deepEqual(set, declared);
});

test("vss-extension.json packages the task folder and its icon exists", () => {
  assert.equal(extension.version, `${task.version.Major}.${task.version.Minor}.${task.version.Patch}`);
  assert.deepEqual(extension.files.map((f) => f.path), ["ProvenanceGateVerifyV0"]);
  assert.equal(extension.contributions[0].properties.name, "ProvenanceGateVerifyV0");
  assert.ok(fs.existsSync(path.join(root, extension.icons.default)));
  assert.ok(fs.existsSync(path.join(root, "ProvenanceGateVerifyV0", "icon.png")));
});

// The agent version that first runs each handler (azure-pipelines-agent release notes): an older agent has no
// runner for it. With several handlers the agent takes the newest it has, so the minimum is the oldest of them.
const HANDLER_MINIMUM = { Node20_1: "3.232.1", Node24: "4.265.1" };

const versionParts = (v) => v.split(".").map(Number);
const compare = (a, b) => {
  for (let i = 0; i < 3; i++) if (versionParts(a)[i] !== versionParts(b)[i]) return versionParts(a)[i] - versionParts(b)[i];
  return 0;
};

test("minimumAgentVersion is the oldest agent that runs one of the listed handlers", () => {
  const handlers = Object.keys(task.execution);
  for (const handler of handlers) assert.ok(handler in HANDLER_MINIMUM, `unknown handler ${handler}`);
  const oldest = handlers.map((h) => HANDLER_MINIMUM[h]).sort(compare)[0];
  assert.equal(task.minimumAgentVersion, oldest);
});

test("path inputs are filePath (the picker and agent rooting), the policy is a string because it may name a profile", () => {
  const type = Object.fromEntries(task.inputs.map((i) => [i.name, i.type]));
  for (const name of ["bom", "modelDir", "signature", "bundle", "baseFingerprints"]) assert.equal(type[name], "filePath", name);
  assert.equal(type.policy, "string");
  assert.equal(type.publicKeys, "multiLine");
  assert.deepEqual(Object.keys(task.inputs.find((i) => i.name === "trustFrom").options), ["base", "workspace"]);
  assert.equal(task.inputs.find((i) => i.name === "trustFrom").defaultValue, "base");
});

test("no .taskkey is committed and git ignores it (task-lib writes its vault key there at run time)", () => {
  const { execFileSync } = require("node:child_process");
  const tracked = execFileSync("git", ["ls-files"], { cwd: root, encoding: "utf8" }).split("\n");
  assert.deepEqual(tracked.filter((f) => path.basename(f) === ".taskkey"), []);
  // check-ignore exits 1 (and execFileSync throws) when the path would not be ignored.
  assert.doesNotThrow(() => execFileSync("git", ["check-ignore", "-q", "--no-index", path.join("test", ".taskkey")], { cwd: root, stdio: "ignore" }));
  assert.doesNotThrow(() => execFileSync("git", ["check-ignore", "-q", "--no-index", path.join("ProvenanceGateVerifyV0", ".taskkey")], { cwd: root, stdio: "ignore" }));
});

test("the task ships the same tool pin as the action", () => {
  const lock = fs.readFileSync(path.join(root, "ProvenanceGateVerifyV0", "provenancegate-tool.lock"), "utf8");
  assert.equal(lock, fs.readFileSync(path.join(root, "..", "action", "provenancegate-tool.lock"), "utf8"));
});
