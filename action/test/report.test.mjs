import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import {
  ANNOTATION_LIMIT, annotation, annotations, errorSummary, escapeData, escapeProperty, fitSummary, outputText, parseCanonical, repoPath,
} from "../scripts/report.mjs";
import { parseAnnotations, parseOutputFile } from "./run-action.mjs";

const fixture = (name) => JSON.parse(readFileSync(new URL(`fixtures/${name}`, import.meta.url), "utf8"));

test("escaping follows the toolkit: data %, CR, LF; properties also : and ,", () => {
  assert.equal(escapeData("100% done\r\nnext"), "100%25 done%0D%0Anext");
  assert.equal(escapeProperty("C:\\a,b%"), "C%3A\\a%2Cb%25");
});

test("an error annotation carries file, line, col, a title with the check, and the code", () => {
  const line = annotation({ code: "PG4003", severity: "error", check: "digests", message: "x: y, z", file: "m/bom.json", line: 3, column: 7 });
  assert.equal(line, "::error file=m/bom.json,line=3,col=7,title=PG4003 (digests)::PG4003: x: y, z");
});

test("diagnostics without a file are attached to the BOM; absolute paths become workspace-relative", () => {
  assert.match(annotation({ code: "PG1", severity: "warning", message: "m" }, { fallbackFile: "bom.json" }), /^::warning file=bom\.json,title=PG1::/);
  assert.equal(repoPath("/ws/models/a.json", "/ws"), "models/a.json");
  assert.equal(repoPath("/elsewhere/a.json", "/ws"), "/elsewhere/a.json");
  assert.equal(repoPath("rel/a.json", "/ws"), "rel/a.json");
});

test("at most 10 annotations per type, errors first, and one notice says how many more there are", () => {
  const report = fixture("fail.report.json");
  const lines = annotations(report.diagnostics, { fallbackFile: report.bom });
  const parsed = parseAnnotations(lines.join("\n"));
  assert.equal(parsed.filter((a) => a.type === "error").length, ANNOTATION_LIMIT);
  assert.equal(parsed.filter((a) => a.type === "warning").length, 1);
  const notices = parsed.filter((a) => a.type === "notice");
  assert.equal(notices.length, 2, "the info diagnostic and the overflow note");
  assert.match(notices.at(-1).message, /^3 error\(s\) more than GitHub annotates per step/);
  assert.equal(parsed[0].properties.file, "models/tiny.cdx.json");
  assert.equal(parsed[0].properties.line, "21");
});

test("the overflow note keeps the notice count within the limit", () => {
  const many = (severity, n) => Array.from({ length: n }, (_, i) => ({ code: "PG4001", severity, message: `m${i}` }));
  const parsed = parseAnnotations(annotations([...many("error", 11), ...many("info", 15)]).join("\n"));
  assert.equal(parsed.filter((a) => a.type === "notice").length, ANNOTATION_LIMIT);
  assert.match(parsed.at(-1).message, /1 error\(s\), 6 notice\(s\) more/);
});

test("a message with newlines never starts a second workflow command", () => {
  const report = fixture("fail.report.json");
  const line = annotation(report.diagnostics.find((d) => d.code === "PG4010"));
  assert.equal(line.split("\n").length, 1);
  assert.match(line, /100%25 overdue%0Asecond line$/);
});

test("canonical stderr lines parse back into diagnostics", () => {
  const parsed = parseCanonical("noise\nmodels/a.json(12,5): error PG4001: bad: really\nb.yaml(3): warning PG4002: w\nerror PG0001: usage\n");
  assert.deepEqual(parsed.map((d) => [d.file, d.line, d.column, d.severity, d.code, d.message]), [
    ["models/a.json", 12, 5, "error", "PG4001", "bad: really"],
    ["b.yaml", 3, null, "warning", "PG4002", "w"],
    [null, null, null, "error", "PG0001", "usage"],
  ]);
});

test("outputs use a heredoc only for multi-line values, and the runner emulation reads both back", () => {
  const text = outputText({ result: "pass", errors: 0, note: "a\nb", empty: null });
  assert.match(text, /^result=pass\nerrors=0\nnote<<ghadelimiter_[0-9a-f-]+\na\nb\nghadelimiter_[0-9a-f-]+\nempty=\n$/);
  assert.deepEqual(parseOutputFile(text), { result: "pass", errors: "0", note: "a\nb", empty: "" });
});

test("the error summary lists the diagnostics in a table with pipes escaped", () => {
  const md = errorSummary(2, [{ code: "PG0002", severity: "error", file: "a|b.json", message: "not found" }]);
  assert.match(md, /^## ProvenanceGate: ERROR/);
  assert.match(md, /\| PG0002 \| error \| a\\\|b\.json \| not found \|/);
});

test("a summary over the limit is cut at a line and says so", () => {
  const md = Array.from({ length: 100 }, (_, i) => `line ${i}`).join("\n");
  const cut = fitSummary(md, 300);
  assert.ok(Buffer.byteLength(cut) <= 300);
  assert.match(cut, /_Truncated: /);
  assert.equal(fitSummary("short"), "short");
});
