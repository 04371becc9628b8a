// Packs the extension the way it is published (`tfx extension create`, tfx-cli from this folder's lock file) and
// checks what the VSIX holds: the agent runs the task from the package and never runs npm install, so the
// task's node_modules, its pin and its trust module must be inside; secrets and dev tools must not.
"use strict";

const assert = require("node:assert/strict");
const { execFileSync } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { after, test } = require("node:test");

const root = path.join(__dirname, "..");
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "pgci-vsix-"));
after(() => fs.rmSync(scratch, { recursive: true, force: true }));

const JSZip = require(path.join(root, "node_modules", "jszip"));

test("tfx extension create packs the task with its node_modules, pin and trust module, and nothing secret", async () => {
  const tfx = path.join(root, "node_modules", "tfx-cli", "_build", "tfx-cli.js");
  assert.ok(fs.existsSync(tfx), "tfx-cli is missing: run npm ci in azure-pipelines-task (.ci/install-deps.sh)");
  execFileSync(process.execPath, [tfx, "extension", "create", "--root", root, "--manifest-globs", "vss-extension.json", "--output-path", scratch, "--no-prompt"], { stdio: "pipe" });
  const vsix = fs.readdirSync(scratch).find((f) => f.endsWith(".vsix"));
  assert.ok(vsix, "no .vsix written");

  const zip = await JSZip.loadAsync(fs.readFileSync(path.join(scratch, vsix)));
  const entries = Object.keys(zip.files);
  for (const file of ["index.js", "trust.js", "task.json", "provenancegate-tool.lock", "icon.png", "node_modules/azure-pipelines-task-lib/task.js"]) {
    assert.ok(entries.includes(`ProvenanceGateVerifyV0/${file}`), `ProvenanceGateVerifyV0/${file} is not in the VSIX`);
  }
  assert.ok(entries.filter((e) => e.startsWith("ProvenanceGateVerifyV0/node_modules/")).length > 50, "the task's dependencies travel with it");
  assert.deepEqual(entries.filter((e) => path.posix.basename(e) === ".taskkey"), []);
  assert.deepEqual(entries.filter((e) => /node_modules\/tfx-cli\//.test(e)), [], "the packer itself is not shipped");
  const manifest = await zip.file("extension.vsixmanifest").async("string");
  const { version } = JSON.parse(fs.readFileSync(path.join(root, "vss-extension.json"), "utf8"));
  assert.ok(manifest.includes(`Version="${version}"`), `the VSIX carries the extension's version ${version}`);
});
