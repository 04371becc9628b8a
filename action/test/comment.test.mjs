import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";

// Everything this file creates lives here and is removed at the end.
const scratch = mkdtempSync(join(tmpdir(), "pgci-comment-test-"));
after(() => rmSync(scratch, { recursive: true, force: true }));

const { MARKER, BODY_LIMIT, commentBody, upsertComment } = createRequire(import.meta.url)("../scripts/comment.cjs");

/** The slice of github-script's Octokit client the comment script uses, backed by an in-memory list. */
function fakeGitHub(existing = []) {
  const comments = existing.map((c) => ({ ...c }));
  const calls = [];
  const listComments = async () => { throw new Error("called through paginate only"); };
  return {
    comments,
    calls,
    paginate: async (method, params) => {
      assert.equal(method, listComments);
      calls.push(["list", params]);
      return comments;
    },
    rest: {
      issues: {
        listComments,
        createComment: async (params) => {
          calls.push(["create", params]);
          comments.push({ id: 100 + comments.length, body: params.body });
          return { data: { id: 100 + comments.length - 1 } };
        },
        updateComment: async (params) => {
          calls.push(["update", params]);
          comments.find((c) => c.id === params.comment_id).body = params.body;
        },
      },
    },
  };
}

const context = { repo: { owner: "o", repo: "r" }, payload: { pull_request: { number: 7 } } };

function markdown(text) {
  const path = join(mkdtempSync(join(scratch, "pgci-comment-")), "report.md");
  writeFileSync(path, text);
  return path;
}

test("the first run creates one comment with the hidden marker", async () => {
  const github = fakeGitHub([{ id: 1, body: "LGTM" }]);
  const outcome = await upsertComment({ github, context, markdownPath: markdown("## ProvenanceGate: FAIL") });
  assert.deepEqual(outcome, { action: "created", id: 101 });
  assert.deepEqual(github.calls[0], ["list", { owner: "o", repo: "r", issue_number: 7, per_page: 100 }]);
  assert.equal(github.comments.length, 2);
  assert.equal(github.comments[1].body, `${MARKER}\n## ProvenanceGate: FAIL`);
});

test("later runs update the marked comment instead of adding another", async () => {
  const github = fakeGitHub([{ id: 1, body: "LGTM" }, { id: 5, body: `${MARKER}\n## ProvenanceGate: FAIL` }]);
  const outcome = await upsertComment({ github, context, markdownPath: markdown("## ProvenanceGate: PASS") });
  assert.deepEqual(outcome, { action: "updated", id: 5 });
  assert.equal(github.comments.length, 2);
  assert.equal(github.comments[1].body, `${MARKER}\n## ProvenanceGate: PASS`);
});

test("outside a pull request nothing is posted", async () => {
  const github = fakeGitHub();
  assert.deepEqual(await upsertComment({ github, context: { ...context, payload: {} }, markdownPath: "unused" }), { action: "skipped" });
  assert.equal(github.calls.length, 0);
});

test("a body over GitHub's limit is truncated at a line, keeping the marker", () => {
  const body = commentBody(Array.from({ length: 20000 }, (_, i) => `| row ${i} |`).join("\n"));
  assert.ok(body.length <= BODY_LIMIT);
  assert.ok(body.startsWith(MARKER));
  assert.match(body, /_Truncated: the full report is in the job summary._\n$/);
});
