/** Real git repositories for tests: a bare "remote" with one commit on main. */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * As root, the container gives rigs' clones and local remotes to the rigs' own users, and git refuses
 * to work in a repository another user owns unless told it is safe, as it is for these tests' reads.
 */
const IDENTITY = ["-c", "user.name=Test", "-c", "user.email=test@townhall.local", "-c", "safe.directory=*"];

export function git(args: string[], cwd?: string): string {
  return execFileSync("git", [...IDENTITY, ...args], { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
}

/** Creates `<dir>/<name>.git` (bare, default branch main) holding a README commit. */
export function makeBareRepo(dir: string, name: string): string {
  const seed = mkdtempSync(join(tmpdir(), `seed-${name}-`));
  git(["init", "-q", "-b", "main", seed]);
  execFileSync("sh", ["-c", `echo "# ${name}" > README.md`], { cwd: seed });
  git(["add", "README.md"], seed);
  git(["commit", "-q", "-m", "Initial commit"], seed);
  const bare = join(dir, `${name}.git`);
  git(["clone", "-q", "--bare", seed, bare]);
  rmSync(seed, { recursive: true, force: true });
  return bare;
}

/** A file's content on main of a bare repo, or null. */
export function showFile(bare: string, path: string): string | null {
  try {
    return git(["--git-dir", bare, "show", `main:${path}`]);
  } catch {
    return null;
  }
}

export function filesOnMain(bare: string): string[] {
  return git(["--git-dir", bare, "ls-tree", "-r", "--name-only", "main"]).split("\n").filter(Boolean).sort();
}

/** Merge commits on main: [sha, subject, parent count]. */
export function mergesOnMain(bare: string): { sha: string; subject: string }[] {
  const out = git(["--git-dir", bare, "log", "--merges", "--format=%H%x09%s", "main"]);
  return out ? out.split("\n").map((line) => ({ sha: line.split("\t")[0]!, subject: line.split("\t")[1]! })) : [];
}
