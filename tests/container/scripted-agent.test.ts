/**
 * The scripted agent writes what a bead's body tells it to, and a bead's body and its repository
 * may be hostile: it must never write outside its worktree (issue 11).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { inside } from "../../container/agents/scripted.ts";

let dir: string;
let worktree: string;
let outside: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "townhall-scripted-"));
  worktree = join(dir, "worktree");
  outside = join(dir, "outside");
  mkdirSync(join(worktree, "src"), { recursive: true });
  mkdirSync(outside);
  writeFileSync(join(outside, "secret"), "untouched");
  // What a hostile repository can hold: links to a file and to a directory outside the worktree.
  symlinkSync(join(outside, "secret"), join(worktree, "notes.md"));
  symlinkSync(outside, join(worktree, "docs"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("the scripted agent's paths", () => {
  it("accepts paths inside the worktree, creating their directories", async () => {
    expect(await inside(worktree, "src/app.ts")).toBe(join(worktree, "src/app.ts"));
    expect(await inside(worktree, "new/deep/file.md")).toBe(join(worktree, "new/deep/file.md"));
  });

  it.each([
    ["a symlinked file", "notes.md", /through a link/],
    ["a symlinked directory", "docs/secret", /through a link/],
    ["a new file under a symlinked directory", "docs/new/file.md", /through a link/],
    ["..", "../outside/secret", /outside the worktree/],
    ["an absolute path", "/etc/passwd", /outside the worktree/],
    ["git's own files", ".git/hooks/pre-commit", /git's files/],
  ])("refuses %s", async (_what, path, error) => {
    await expect(inside(worktree, path)).rejects.toThrow(error);
    expect(readFileSync(join(outside, "secret"), "utf8")).toBe("untouched");
    expect(() => readFileSync(join(outside, "new/file.md"))).toThrow(); // no directory made outside either
  });
});
