// The trust files of a pull-request build (public keys, policy, base fingerprints) as they are on the PR's
// target branch, never the PR's own copies: a PR that re-keys, re-signs and relaxes the policy in one commit
// still meets the target branch's key and policy. Mirrors the GitHub Action's scripts/trust.sh for the agent,
// which may be Windows without bash.
"use strict";

const { execFileSync } = require("child_process");
const fs = require("fs");
const path = require("path");

class TrustError extends Error {}

const git = (cwd, args, options = {}) => execFileSync("git", args, { cwd, stdio: ["ignore", "pipe", "pipe"], ...options });

/**
 * The commit the trust files are read from: the tip of the PR's target branch (fetched when the checkout is
 * shallow), or null when the build is not a pull request or the user opted in to the workspace's files.
 */
function baseCommit({ trustFrom, buildReason, targetBranch, sourcesDirectory }) {
  if (trustFrom === "workspace" || buildReason !== "PullRequest") return null;
  if (!targetBranch) throw new TrustError("a pull-request build without System.PullRequest.TargetBranch");
  const branch = targetBranch.replace(/^refs\/heads\//, "");
  try {
    git(sourcesDirectory, ["fetch", "--no-tags", "--depth=1", "origin", `+refs/heads/${branch}:refs/provenancegate/base`]);
    return git(sourcesDirectory, ["rev-parse", "refs/provenancegate/base^{commit}"], { encoding: "utf8" }).trim();
  } catch (error) {
    throw new TrustError(`the target branch '${branch}' could not be fetched from origin: ${String(error.stderr || error.message).trim()}`);
  }
}

/**
 * A path as git names it in a commit: relative to the repository, forward slashes. The agent roots filePath
 * inputs in the sources folder, so absolute paths inside it are accepted; a path outside it has no base version.
 */
function repositoryPath(sourcesDirectory, input) {
  const relative = path.relative(sourcesDirectory, path.resolve(sourcesDirectory, input));
  if (relative.startsWith("..") || path.isAbsolute(relative)) {
    throw new TrustError(`'${input}' is outside the repository, so it has no version on the target branch (set trustFrom: workspace, or pass the key as trustedPublicKey)`);
  }
  return relative.split(path.sep).join("/");
}

/** Copies PATH as it is in COMMIT (a file, or a folder via git archive | tar) to DEST; returns the copy's path. */
function fromCommit(sourcesDirectory, commit, input, dest) {
  const file = repositoryPath(sourcesDirectory, input);
  let type;
  try {
    type = git(sourcesDirectory, ["cat-file", "-t", `${commit}:./${file}`], { encoding: "utf8" }).trim();
  } catch {
    throw new TrustError(`'${file}' is not on the target branch (${commit}): a trust file must be merged before a pull request can rely on it (or set trustFrom: workspace)`);
  }
  if (type === "blob") {
    fs.writeFileSync(dest, git(sourcesDirectory, ["show", `${commit}:./${file}`]));
    return dest;
  }
  fs.mkdirSync(dest, { recursive: true });
  const archive = git(sourcesDirectory, ["archive", "--format=tar", commit, "--", file], { maxBuffer: 1024 * 1024 * 1024 });
  execFileSync("tar", ["-x", "-C", dest], { input: archive });
  return path.join(dest, file);
}

/**
 * Resolves the inputs verify trusts. `commit` null means the workspace's files as given. A policy that is not a
 * file on the target branch may still be a built-in profile name.
 */
function resolveTrust({ commit, sourcesDirectory, keys, policy, baseFingerprints, trustedPublicKey, outDir }) {
  const resolved = { keys: [...keys], policy, baseFingerprints };
  if (commit) {
    resolved.keys = keys.map((key, i) => fromCommit(sourcesDirectory, commit, key, path.join(outDir, `key-${i + 1}.pub`)));
    if (policy) {
      let onBranch = true;
      try {
        git(sourcesDirectory, ["cat-file", "-e", `${commit}:./${repositoryPath(sourcesDirectory, policy)}`]);
      } catch {
        onBranch = false;
      }
      if (onBranch) resolved.policy = fromCommit(sourcesDirectory, commit, policy, path.join(outDir, policy.endsWith(".json") ? "policy.json" : "policy.yaml"));
      else if (!/^[a-z][a-z0-9-]*$/.test(policy)) throw new TrustError(`policy '${policy}' is not on the target branch (${commit}) and is not a built-in profile name`);
    }
    if (baseFingerprints) resolved.baseFingerprints = fromCommit(sourcesDirectory, commit, baseFingerprints.replace(/[\\/]+$/, ""), path.join(outDir, "fingerprints"));
  }
  if (trustedPublicKey) {
    const file = path.join(outDir, "key-input.pub");
    fs.writeFileSync(file, trustedPublicKey.endsWith("\n") ? trustedPublicKey : trustedPublicKey + "\n");
    resolved.keys.push(file);
  }
  return resolved;
}

module.exports = { TrustError, baseCommit, resolveTrust };
