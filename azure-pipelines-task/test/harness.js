// The task under azure-pipelines-task-lib's TaskMockRunner (run by MockTestRunner in task.test.js). The scenario
// comes as JSON in PG_SCENARIO: inputs, variables, the temp folder, the exit code and report fixture of the mocked
// verify, and whether the agent's tools folder already holds a (good or bad) copy of the tool.
"use strict";

const fs = require("fs");
const path = require("path");

const taskDir = path.join(__dirname, "..", "ProvenanceGateVerifyV0");
const { TaskMockRunner } = require(path.join(taskDir, "node_modules", "azure-pipelines-task-lib", "mock-run"));

const scenario = JSON.parse(process.env.PG_SCENARIO);
// The task makes a fresh folder per run with mkdtemp; here it gets a predictable name so the answers can name it.
const work = path.join(scenario.temp, "provenancegate-run");
const lock = fs.readFileSync(path.join(taskDir, "provenancegate-tool.lock"), "utf8");
const version = scenario.inputs.toolVersion || /^version=(.+)$/m.exec(lock)[1];
const sha512 = scenario.inputs.toolSha512 || /^sha512=(.+)$/m.exec(lock)[1];
const toolDir = path.join(scenario.temp, "tools", "ProvenanceGate.Tool", `${version}-${sha512.slice(0, 32)}`);
const tool = path.join(toolDir, "dotnet-provenance");
const reports = {
  json: path.join(work, "report.json"),
  markdown: path.join(work, "report.md"),
  junit: path.join(work, "report.junit.xml"),
  sarif: path.join(work, "report.sarif"),
};

// The mocked exec runs nothing, so what the install and verify would leave is laid down beforehand.
fs.mkdirSync(work, { recursive: true });
if (scenario.storedPackage) {
  const store = path.join(toolDir, ".store", "provenancegate.tool", version, "provenancegate.tool", version);
  fs.mkdirSync(store, { recursive: true });
  fs.writeFileSync(path.join(store, `provenancegate.tool.${version}.nupkg`), scenario.storedPackage);
}
if (scenario.report) {
  fs.copyFileSync(path.join(__dirname, "fixtures", scenario.report), reports.json);
  fs.writeFileSync(reports.markdown, `## ProvenanceGate: ${scenario.verifyExit === 0 ? "PASS" : "FAIL"}\n`);
  fs.writeFileSync(reports.junit, '<testsuite name="ProvenanceGate"/>\n');
  fs.writeFileSync(reports.sarif, '{"version":"2.1.0","runs":[]}\n');
}

const tmr = new TaskMockRunner(path.join(taskDir, "index.js"));
tmr.registerMock("fs", { ...fs, mkdtempSync: () => work });
for (const [name, value] of Object.entries(scenario.inputs)) tmr.setInput(name, value);
// What the agent exports for its variables: Agent.TempDirectory is AGENT_TEMPDIRECTORY, and so on.
process.env.AGENT_TEMPDIRECTORY = scenario.temp;
process.env.AGENT_TOOLSDIRECTORY = path.join(scenario.temp, "tools");
for (const [name, value] of Object.entries(scenario.variables || {})) process.env[name.replaceAll(".", "_").toUpperCase()] = value;

const install = `/usr/bin/dotnet tool install ProvenanceGate.Tool --tool-path ${toolDir} --version ${version} --configfile ${path.join(work, "install", "nuget.config")}`;
const verify = [tool, "verify", scenario.inputs.bom, ...(scenario.verifyArgs || []),
  "--report", `json=${reports.json}`, "--report", `markdown=${reports.markdown}`,
  "--report", `junit=${reports.junit}`, "--report", `sarif=${reports.sarif}`].join(" ");
const exec = {
  [install]: scenario.installExit
    ? { code: scenario.installExit, stderr: "error NU1101: Unable to find package ProvenanceGate.Tool" }
    : { code: 0, stdout: `Tool 'provenancegate.tool' (version '${version}') was successfully installed.` },
  // BOM text the tool echoes must not reach the agent as a command.
  [verify]: { code: scenario.verifyExit, stdout: scenario.verifyExit === 0 ? "PASS ##vso[task.setvariable variable=result]pwned" : "", stderr: scenario.verifyStderr || "" },
};
if (scenario.githubArgs) exec[[tool, ...scenario.githubArgs.map((a) => a.replace("$WORK", work))].join(" ")] = { code: 0, stdout: "created comment 1" };
tmr.setAnswers({ which: { dotnet: "/usr/bin/dotnet" }, checkPath: { "/usr/bin/dotnet": true }, exec });
tmr.run();

