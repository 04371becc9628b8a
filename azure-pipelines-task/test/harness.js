// The task under azure-pipelines-task-lib's TaskMockRunner (run by MockTestRunner in task.test.js). The scenario
// comes as JSON in PG_SCENARIO: inputs, the temp folder, the exit code and report fixture of the mocked verify.
"use strict";

const fs = require("fs");
const path = require("path");

const taskDir = path.join(__dirname, "..", "ProvenanceGateVerifyV0");
const { TaskMockRunner } = require(path.join(taskDir, "node_modules", "azure-pipelines-task-lib", "mock-run"));

const scenario = JSON.parse(process.env.PG_SCENARIO);
const work = path.join(scenario.temp, "provenancegate");
const tool = path.join(work, "tool", "dotnet-provenance");
const reports = {
  json: path.join(work, "report.json"),
  markdown: path.join(work, "report.md"),
  junit: path.join(work, "report.junit.xml"),
  sarif: path.join(work, "report.sarif"),
};

// The mocked exec runs nothing, so the reports verify would write are laid down beforehand.
fs.mkdirSync(work, { recursive: true });
if (scenario.report) {
  fs.copyFileSync(path.join(__dirname, "fixtures", scenario.report), reports.json);
  fs.writeFileSync(reports.markdown, `## ProvenanceGate: ${scenario.verifyExit === 0 ? "PASS" : "FAIL"}\n`);
  fs.writeFileSync(reports.junit, '<testsuite name="ProvenanceGate"/>\n');
  fs.writeFileSync(reports.sarif, '{"version":"2.1.0","runs":[]}\n');
}

const tmr = new TaskMockRunner(path.join(taskDir, "index.js"));
for (const [name, value] of Object.entries(scenario.inputs)) tmr.setInput(name, value);
// What the agent exports for its variables: Agent.TempDirectory is AGENT_TEMPDIRECTORY.
process.env.AGENT_TEMPDIRECTORY = scenario.temp;

const install = [`/usr/bin/dotnet tool install ProvenanceGate.Tool --tool-path ${path.join(work, "tool")}`,
  ...(scenario.inputs.toolVersion ? [`--version ${scenario.inputs.toolVersion}`] : []),
  ...(scenario.inputs.toolSource ? [`--add-source ${scenario.inputs.toolSource}`] : [])].join(" ");
const verify = [tool, "verify", scenario.inputs.bom, ...(scenario.verifyArgs || []),
  "--report", `json=${reports.json}`, "--report", `markdown=${reports.markdown}`,
  "--report", `junit=${reports.junit}`, "--report", `sarif=${reports.sarif}`].join(" ");
tmr.setAnswers({
  which: { dotnet: "/usr/bin/dotnet" },
  checkPath: { "/usr/bin/dotnet": true },
  rmRF: { [work]: { success: true } },
  exec: {
    [install]: scenario.installExit
      ? { code: scenario.installExit, stderr: "error NU1101: Unable to find package ProvenanceGate.Tool" }
      : { code: 0, stdout: "Tool 'provenancegate.tool' (version '0.1.0') was successfully installed." },
    // BOM text the tool echoes must not reach the agent as a command.
    [verify]: { code: scenario.verifyExit, stdout: scenario.verifyExit === 0 ? "PASS ##vso[task.setvariable variable=result]pwned" : "", stderr: scenario.verifyStderr || "" },
  },
});
tmr.run();
