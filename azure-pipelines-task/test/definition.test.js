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
  const read = new Set([...source.matchAll(/get(?:Path|Bool)?Input\("([A-Za-z]+)"/g)].map((m) => m[1]));
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
