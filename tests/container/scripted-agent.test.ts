/**
 * The scripted agent writes what a bead's body tells it to, and a bead's body and its repository
 * may be hostile: it must never write outside its worktree (issue 11).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { inside, parseSteps, stepsForRun } from "../../container/agents/scripted.ts";

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

describe("the scripted agent's language", () => {
  it("reads say, exit with a reason for stderr, and first <n>", () => {
    expect(parseSteps("say go test ok\nexit 4: migrate: relation exists\nexit 2\nfirst 3 exit 1: flaky\nonce hang")).toEqual([
      { kind: "say", text: "go test ok" },
      { kind: "exit", code: 4, text: "migrate: relation exists" },
      { kind: "exit", code: 2 },
      { kind: "exit", code: 1, text: "flaky", firstRuns: 3 },
      { kind: "hang", once: true },
    ]);
  });

  it("leaves prose alone", () => {
    expect(parseSteps("We should exit gracefully.\nexit soon\nsay\nfirst three exit 1")).toEqual([]);
  });

  it("does `once` steps on the first try and `first <n>` steps in the first n runs, whatever the attempts", () => {
    const steps = parseSteps("once exit 3: first try\nfirst 2 exit 4: early runs\nsay always");
    const kinds = (bead: { attempts?: number; runs?: number }) => stepsForRun(steps, bead).map((s) => (s.kind === "exit" ? s.code : s.kind));
    expect(kinds({ attempts: 0, runs: 1 })).toEqual([3, 4, "say"]);
    expect(kinds({ attempts: 1, runs: 2 })).toEqual([4, "say"]);
    expect(kinds({ attempts: 2, runs: 3 })).toEqual(["say"]);
    expect(kinds({ attempts: 0, runs: 3 })).toEqual([3, "say"]); // an operator's retry resets attempts, not runs
  });
});
