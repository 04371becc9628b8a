// Turns a `dotnet provenance verify` JSON report (schemaVersion 1) into GitHub's conventions: step outputs,
// the job summary and annotations. Pure functions plus small file writers; no npm dependencies.
import { randomUUID } from "node:crypto";
import { appendFileSync, readFileSync } from "node:fs";
import { isAbsolute, relative, sep } from "node:path";

/** GitHub keeps 10 error, 10 warning and 10 notice annotations per step and drops the rest. */
export const ANNOTATION_LIMIT = 10;

/** The job summary of one step may hold at most 1 MiB. */
export const SUMMARY_LIMIT = 1024 * 1024;

// actions/toolkit command.ts: data escapes % CR LF; property values also : and ,.
export const escapeData = (text) => String(text).replaceAll("%", "%25").replaceAll("\r", "%0D").replaceAll("\n", "%0A");
export const escapeProperty = (text) => escapeData(text).replaceAll(":", "%3A").replaceAll(",", "%2C");

const COMMAND = { error: "error", warning: "warning", info: "notice" };

/** A path GitHub can attach an annotation to: relative to the workspace when it lies inside it. */
export function repoPath(file, workspace) {
  if (!file) return null;
  if (!workspace || !isAbsolute(file)) return file;
  const inside = relative(workspace, file);
  return inside.startsWith("..") || isAbsolute(inside) ? file : inside.split(sep).join("/");
}

/** One workflow-command line for a diagnostic of the JSON report. */
export function annotation(diagnostic, { workspace, fallbackFile } = {}) {
  const command = COMMAND[diagnostic.severity] ?? "notice";
  const file = repoPath(diagnostic.file ?? fallbackFile, workspace);
  const properties = [];
  if (file) {
    properties.push(`file=${escapeProperty(file)}`);
    if (Number.isInteger(diagnostic.line)) properties.push(`line=${diagnostic.line}`);
    if (Number.isInteger(diagnostic.column)) properties.push(`col=${diagnostic.column}`);
  }
  const title = diagnostic.check ? `${diagnostic.code} (${diagnostic.check})` : diagnostic.code;
  properties.push(`title=${escapeProperty(title)}`);
  return `::${command} ${properties.join(",")}::${escapeData(`${diagnostic.code}: ${diagnostic.message}`)}`;
}

/**
 * The annotation lines for all diagnostics, within GitHub's per-step limits: errors first, and when any type
 * overflows, one notice (kept free for it) says how many more there are and where to find them.
 */
export function annotations(diagnostics, { workspace, fallbackFile, limit = ANNOTATION_LIMIT } = {}) {
  const bySeverity = { error: [], warning: [], info: [] };
  for (const d of diagnostics) (bySeverity[d.severity] ?? bySeverity.info).push(d);
  const overflow = { error: Math.max(0, bySeverity.error.length - limit), warning: Math.max(0, bySeverity.warning.length - limit) };
  const needsNote = overflow.error + overflow.warning > 0;
  const noticeRoom = needsNote ? limit - 1 : limit;
  overflow.info = Math.max(0, bySeverity.info.length - noticeRoom);

  const lines = [
    ...bySeverity.error.slice(0, limit),
    ...bySeverity.warning.slice(0, limit),
    ...bySeverity.info.slice(0, noticeRoom),
  ].map((d) => annotation(d, { workspace, fallbackFile }));
  if (needsNote) {
    const parts = [["error", overflow.error], ["warning", overflow.warning], ["notice", overflow.info]]
      .filter(([, n]) => n > 0)
      .map(([word, n]) => `${n} ${word}(s)`);
    lines.push(`::notice title=ProvenanceGate::${escapeData(`${parts.join(", ")} more than GitHub annotates per step; see the job summary or the SARIF report.`)}`);
  }
  return lines;
}

/**
 * Canonical diagnostic lines ("file(line,col): error PG1001: message") as report diagnostics. Used when verify
 * stopped with an input error and wrote no report, so the error still becomes an annotation.
 */
export function parseCanonical(text) {
  const pattern = /^(?:(.+?)(?:\((\d+)(?:,(\d+))?\))?: )?(error|warning|info) (PG\d{4}): (.*)$/;
  const diagnostics = [];
  for (const line of String(text).split(/\r?\n/)) {
    const m = pattern.exec(line);
    if (!m) continue;
    diagnostics.push({
      code: m[5],
      severity: m[4],
      check: null,
      message: m[6],
      file: m[1] ?? null,
      line: m[2] ? Number(m[2]) : null,
      column: m[3] ? Number(m[3]) : null,
    });
  }
  return diagnostics;
}

/** `name=value` lines for $GITHUB_OUTPUT; multi-line values use a random heredoc delimiter like core.setOutput. */
export function outputText(outputs) {
  let text = "";
  for (const [name, raw] of Object.entries(outputs)) {
    const value = raw == null ? "" : String(raw);
    if (!value.includes("\n") && !value.includes("\r")) {
      text += `${name}=${value}\n`;
      continue;
    }
    const delimiter = `ghadelimiter_${randomUUID()}`;
    text += `${name}<<${delimiter}\n${value}\n${delimiter}\n`;
  }
  return text;
}

/** Markdown for the job summary when verify produced no report (input error). */
export function errorSummary(exitCode, diagnostics) {
  const rows = diagnostics.map((d) => `| ${d.code} | ${d.severity} | ${cell(d.file ?? "")} | ${cell(d.message)} |`);
  return [
    "## ProvenanceGate: ERROR",
    "",
    `\`dotnet provenance verify\` could not check the BOM (exit code ${exitCode}); the gate did not run.`,
    "",
    ...(rows.length ? ["| code | severity | file | message |", "|---|---|---|---|", ...rows, ""] : ["See the step log for details.", ""]),
  ].join("\n");
}

const cell = (text) => String(text).replaceAll("|", "\\|").replaceAll(/\r?\n/g, " ");

/** Keeps the summary under GitHub's per-step limit, cutting at a line and saying so. */
export function fitSummary(markdown, limit = SUMMARY_LIMIT) {
  if (Buffer.byteLength(markdown) <= limit) return markdown;
  const note = "\n\n_Truncated: the full report is in the step's json/markdown outputs and the SARIF file._\n";
  let cut = Buffer.from(markdown).subarray(0, limit - Buffer.byteLength(note)).toString();
  cut = cut.slice(0, Math.max(0, cut.lastIndexOf("\n")));
  return cut + note;
}

/** Reads a JSON report and checks the fields this script relies on. */
export function readReport(path) {
  const report = JSON.parse(readFileSync(path, "utf8"));
  if (report.schemaVersion !== 1 || !Array.isArray(report.diagnostics) || !report.summary) {
    throw new Error(`${path}: not a ProvenanceGate verify report (schemaVersion 1 expected)`);
  }
  return report;
}

export function appendTo(file, text) {
  if (file) appendFileSync(file, text.endsWith("\n") ? text : text + "\n");
}
