// An offline stand-in for the GitHub runner, enough for this composite action: it reads action.yml, evaluates
// the small expression subset the action uses, runs each `run:` step with bash and the env the runner would give
// it (GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, GITHUB_EVENT_PATH, RUNNER_TEMP, ...), and records `uses:` steps with
// their resolved inputs instead of running them.
import { spawn, spawnSync } from "node:child_process";
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

/**
 * `if:` conditions as the runner evaluates them, for the subset this action uses: context paths, 'string',
 * true/false/null literals, == and != (strings compared case-insensitively, like GitHub), !, && and ||,
 * parentheses, and the status functions success(), failure(), always(), cancelled(). As on the runner, a
 * condition without a status function is implicitly `success() && (...)`.
 */
export function evaluateCondition(condition, contexts, status = { failed: false }) {
  const text = condition === undefined ? "success()" : String(condition).trim().replace(/^\$\{\{(.*)\}\}$/s, "$1");
  const tokens = [...text.matchAll(/\s*(\|\||&&|==|!=|!|\(|\)|'[^']*'|[A-Za-z_][A-Za-z0-9_.-]*\(\)|[A-Za-z_][A-Za-z0-9_.-]*)/gy)].map((m) => m[1]);
  if (tokens.join("").replaceAll(" ", "") !== text.replaceAll(" ", "")) throw new Error(`the runner emulation cannot parse the condition '${text}'`);
  let position = 0;
  let usesStatus = false;
  const peek = () => tokens[position];
  const next = () => tokens[position++];
  const truthy = (v) => v !== undefined && v !== null && v !== "" && v !== false && v !== 0;
  const primary = () => {
    const token = next();
    if (token === "!") return !truthy(primary());
    if (token === "(") {
      const value = or();
      if (next() !== ")") throw new Error(`missing ) in '${text}'`);
      return value;
    }
    if (token.startsWith("'")) return token.slice(1, -1);
    if (token === "true") return true;
    if (token === "false") return false;
    if (token === "null") return null;
    if (token.endsWith("()")) {
      usesStatus = true;
      const fn = { "success()": !status.failed, "failure()": status.failed, "always()": true, "cancelled()": false }[token];
      if (fn === undefined) throw new Error(`the runner emulation does not know ${token}`);
      return fn;
    }
    return lookup(token, contexts);
  };
  const comparable = (v) => (v === undefined || v === null ? "" : typeof v === "string" ? v.toLowerCase() : String(v));
  const comparison = () => {
    let left = primary();
    while (peek() === "==" || peek() === "!=") {
      const op = next();
      const right = primary();
      left = op === "==" ? comparable(left) === comparable(right) : comparable(left) !== comparable(right);
    }
    return left;
  };
  const and = () => {
    let left = comparison();
    while (peek() === "&&") {
      next();
      const right = comparison();
      left = truthy(left) && truthy(right);
    }
    return left;
  };
  const or = () => {
    let left = and();
    while (peek() === "||") {
      next();
      const right = and();
      left = truthy(left) || truthy(right);
    }
    return left;
  };
  const value = truthy(or());
  if (position !== tokens.length) throw new Error(`unexpected '${peek()}' in '${text}'`);
  return usesStatus ? value : value && !status.failed;
}

/**
 * Runs the action like a runner would. `inputs` are the `with:` values; `event` becomes the event payload file.
 * Returns the action outputs, the per-step records, the concatenated job summary and the annotations.
 */
export function runAction({ inputs = {}, event = {}, eventName = "push", workspace, env = {}, dir = actionDir, tempRoot = tmpdir(), runnerTemp }) {
  const action = loadAction(dir);
  const root = mkdtempSync(join(tempRoot, "pgci-runner-"));
  runnerTemp ??= join(root, "runner-temp");
  mkdirSync(runnerTemp, { recursive: true });
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

  const contexts = { inputs: resolvedInputs, github, steps: {}, runner: { temp: runnerTemp, os: "Linux", arch: "X64" } };
  const steps = [];
  let summary = "";
  let failed = false;
  action.runs.steps.forEach((step, index) => {
    const record = { id: step.id, name: step.name, uses: step.uses };
    steps.push(record);
    if (!evaluateCondition(step.if, contexts, { failed })) {
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
        RUNNER_TOOL_CACHE: env.RUNNER_TOOL_CACHE ?? join(root, "tool-cache"),
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

/**
 * Starts test/fixtures/fake-github.mjs as a child process (runAction blocks this process's event loop) and
 * returns its base URL, the requests it logged so far, and stop().
 */
export async function startFakeGitHub({ mode = "ok", tempRoot = tmpdir() } = {}) {
  const log = join(mkdtempSync(join(tempRoot, "pgci-github-")), "requests.jsonl");
  writeFileSync(log, "");
  const child = spawn(process.execPath, [join(dirname(fileURLToPath(import.meta.url)), "fixtures", "fake-github.mjs"), log], {
    env: { ...process.env, FAKE_GITHUB_MODE: mode },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const port = await new Promise((resolve, reject) => {
    child.stdout.once("data", (data) => resolve(String(data).trim()));
    child.once("exit", (code) => reject(new Error(`fake GitHub exited ${code}`)));
  });
  return {
    url: `http://127.0.0.1:${port}/`,
    requests: () => readFileSync(log, "utf8").split("\n").filter(Boolean).map((line) => JSON.parse(line)),
    stop: () => child.kill(),
  };
}
