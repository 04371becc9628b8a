// Posts the ProvenanceGate summary on the pull request, or updates the comment an earlier run posted, so a PR
// carries ONE ProvenanceGate comment however often the workflow runs. Called from actions/github-script
// (CommonJS because github-script hands the script `require`), with its authenticated Octokit client.
"use strict";

const fs = require("node:fs");

const MARKER = "<!-- provenancegate -->";

/** GitHub rejects comment bodies over 65,536 characters. */
const BODY_LIMIT = 65536;

function commentBody(markdown) {
  const body = `${MARKER}\n${markdown}`;
  if (body.length <= BODY_LIMIT) return body;
  const note = "\n\n_Truncated: the full report is in the job summary._\n";
  const cut = body.slice(0, BODY_LIMIT - note.length);
  return cut.slice(0, cut.lastIndexOf("\n")) + note;
}

/**
 * @param {{ github: any, context: any, markdownPath: string }} args github-script's `github` and `context`.
 * @returns {Promise<{ action: "created" | "updated" | "skipped", id?: number }>}
 */
async function upsertComment({ github, context, markdownPath }) {
  const pullRequest = context.payload && context.payload.pull_request;
  if (!pullRequest) return { action: "skipped" };
  const { owner, repo } = context.repo;
  const issue_number = pullRequest.number;
  const body = commentBody(fs.readFileSync(markdownPath, "utf8"));

  const comments = await github.paginate(github.rest.issues.listComments, { owner, repo, issue_number, per_page: 100 });
  const previous = comments.find((c) => typeof c.body === "string" && c.body.includes(MARKER));
  if (previous) {
    await github.rest.issues.updateComment({ owner, repo, comment_id: previous.id, body });
    return { action: "updated", id: previous.id };
  }
  const created = await github.rest.issues.createComment({ owner, repo, issue_number, body });
  return { action: "created", id: created.data.id };
}

module.exports = { MARKER, BODY_LIMIT, commentBody, upsertComment };
