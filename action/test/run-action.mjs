// An offline stand-in for the GitHub runner, enough for this composite action: it reads action.yml, evaluates
// the small expression subset the action uses, runs each `run:` step with bash and the env the runner would give
// it (GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, GITHUB_EVENT_PATH, RUNNER_TEMP, ...), and records `uses:` steps with
// their resolved inputs instead of running them.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";

export const actionDir = join(dirname(fileURLToPath(import.meta.url)), "..");

export function loadAction(dir = actionDir) {
  return parse(readFileSync(join(dir, "action.yml"), "utf8"));
}

/** Parses a $GITHUB_OUTPUT file: `name=value` lines and `name<<DELIMITER` heredocs. */
export function parseOutputFile(text) {
  const outputs = {};
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (!line) continue;
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc) {
      const end = lines.indexOf(heredoc[2], i + 1);
      if (end < 0) throw new Error(`unterminated heredoc for ${heredoc[1]}`);
      outputs[heredoc[1]] = lines.slice(i + 1, end).join("\n");
      i = end;
      continue;
    }
    const eq = line.indexOf("=");
    if (eq < 0) throw new Error(`malformed output line: ${line}`);
    outputs[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return outputs;
}

/** Workflow-command annotations in a step's log. */
export function parseAnnotations(log) {
  const annotations = [];
  let stopToken = null;
  for (const line of log.split(/\r?\n/)) {
    // ::stop-commands::TOKEN turns command processing off until a line ::TOKEN::, as on the runner.
    if (stopToken) {
      if (line === `::${stopToken}::`) stopToken = null;
      continue;
    }
    const stop = /^::stop-commands::(.+)$/.exec(line);
    if (stop) {
      stopToken = stop[1];
      continue;
    }
    const m = /^::(error|warning|notice)(?: ([^:]*))?::(.*)$/.exec(line);
    if (!m) continue;
    const properties = {};
    for (const pair of (m[2] ?? "").split(",").filter(Boolean)) {
      const eq = pair.indexOf("=");
      properties[pair.slice(0, eq)] = unescape(pair.slice(eq + 1));
    }
    annotations.push({ type: m[1], properties, message: unescape(m[3]) });
  }
  return annotations;
}

const unescape = (s) => s.replaceAll("%0D", "\r").replaceAll("%0A", "\n").replaceAll("%3A", ":").replaceAll("%2C", ",").replaceAll("%25", "%");

/** Looks up a context path such as inputs.bom, steps.verify.outputs.result or github.event.pull_request. */
function lookup(path, contexts) {
  const [head, ...rest] = path.split(".");
  let value = contexts[head];
  for (const key of rest) value = value == null ? undefined : value[key];
  return value;
}

/** `${{ path }}` interpolation; only plain context paths (that is all this action uses). */
export function interpolate(text, contexts) {
  return String(text).replaceAll(/\$\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}/g, (_, path) => {
    const value = lookup(path, contexts);
    return value == null ? "" : typeof value === "object" ? JSON.stringify(value) : String(value);
  });
}

/** `if:` conditions: terms joined by &&, each `path == 'literal'`, `path != 'literal'` or a bare path (truthy). */
export function evaluateCondition(condition, contexts) {
  if (condition === undefined) return true;
  return String(condition).replace(/^\$\{\{(.*)\}\}$/s, "$1").split("&&").every((term) => {
    const m = /^\s*([A-Za-z0-9_.-]+)\s*(?:(==|!=)\s*'([^']*)')?\s*$/.exec(term);
    if (!m) throw new Error(`the runner emulation does not understand the condition term '${term.trim()}'`);
    const value = lookup(m[1], contexts);
    if (!m[2]) return value !== undefined && value !== null && value !== "" && value !== false;
    const text = value == null ? "" : String(value);
    return m[2] === "==" ? text === m[3] : text !== m[3];
  });
}

/**
 * Runs the action like a runner would. `inputs` are the `with:` values; `event` becomes the event payload file.
 * Returns the action outputs, the per-step records, the concatenated job summary and the annotations.
 */
export function runAction({ inputs = {}, event = {}, eventName = "push", workspace, env = {}, dir = actionDir, tempRoot = tmpdir() }) {
  const action = loadAction(dir);
  const root = mkdtempSync(join(tempRoot, "pgci-runner-"));
  const runnerTemp = join(root, "runner-temp");
  mkdirSync(runnerTemp);
  workspace ??= mkdtempSync(join(root, "workspace-"));
  const eventPath = join(root, "event.json");
  writeFileSync(eventPath, JSON.stringify(event));

  const github = { action_path: dir, token: "test-token", event, event_name: eventName, workspace };
  const resolvedInputs = {};
  for (const [name, spec] of Object.entries(action.inputs ?? {})) {
    const given = inputs[name];
    if (given === undefined && spec.required) throw new Error(`required input '${name}' not given`);
    resolvedInputs[name] = given ?? interpolate(spec.default ?? "", { github });
  }
  for (const name of Object.keys(inputs)) {
    if (!(name in resolvedInputs)) throw new Error(`unknown input '${name}'`);
  }

  const contexts = { inputs: resolvedInputs, github, steps: {}, runner: { temp: runnerTemp } };
  const steps = [];
  let summary = "";
  let failed = false;
  action.runs.steps.forEach((step, index) => {
    const record = { id: step.id, name: step.name, uses: step.uses };
    steps.push(record);
    // The runner's implicit success(): a failed step skips the ones after it.
    if (failed || !evaluateCondition(step.if, contexts)) {
      record.skipped = true;
      return;
    }
    record.env = Object.fromEntries(Object.entries(step.env ?? {}).map(([k, v]) => [k, interpolate(v, contexts)]));
    if (step.uses) {
      record.with = Object.fromEntries(Object.entries(step.with ?? {}).map(([k, v]) => [k, interpolate(v, contexts)]));
      return;
    }

    const outputFile = join(root, `output-${index}`);
    const summaryFile = join(root, `summary-${index}`);
    const script = join(root, `step-${index}.sh`);
    writeFileSync(outputFile, "");
    writeFileSync(summaryFile, "");
    writeFileSync(script, step.run);
    const run = spawnSync("bash", ["--noprofile", "--norc", "-eo", "pipefail", script], {
      cwd: workspace,
      encoding: "utf8",
      env: {
        ...process.env,
        ...env,
        ...record.env,
        CI: "true",
        GITHUB_ACTIONS: "true",
        GITHUB_ACTION_PATH: dir,
        GITHUB_WORKSPACE: workspace,
        GITHUB_EVENT_PATH: eventPath,
        GITHUB_EVENT_NAME: eventName,
        GITHUB_OUTPUT: outputFile,
        GITHUB_STEP_SUMMARY: summaryFile,
        RUNNER_TEMP: runnerTemp,
      },
    });
    Object.assign(record, {
      exitCode: run.status,
      stdout: run.stdout,
      stderr: run.stderr,
      outputs: parseOutputFile(readFileSync(outputFile, "utf8")),
      annotations: parseAnnotations(`${run.stdout}\n${run.stderr}`),
    });
    summary += readFileSync(summaryFile, "utf8");
    if (step.id) contexts.steps[step.id] = { outputs: record.outputs };
    if (run.status !== 0) failed = true;
  });

  const outputs = Object.fromEntries(Object.entries(action.outputs ?? {}).map(([name, spec]) => [name, interpolate(spec.value, contexts)]));
  return {
    outputs,
    steps,
    step: (id) => steps.find((s) => s.id === id || s.name === id),
    summary,
    annotations: steps.flatMap((s) => s.annotations ?? []),
    failed,
    runnerTemp,
    workspace,
  };
}
