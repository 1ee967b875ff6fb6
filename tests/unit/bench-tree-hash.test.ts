/**
 * The benches name the server code they measured by a hash of party/ (bench/lib/server.ts): it
 * must change when any file under party/ changes, in a subfolder too.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { filesUnder, treeHash } from "../../bench/lib/tree-hash.ts";

const made: string[] = [];
afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "townhall-tree-hash-"));
  made.push(dir);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, ".."), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

describe("the bench's server snapshot hash", () => {
  it("lists every file under the folder, subfolders included, by sorted relative path", () => {
    const dir = tree({ "town.ts": "a", "town/room.ts": "b", "town/deep/plan.ts": "c", "access.ts": "d" });
    expect(filesUnder(dir)).toEqual(["access.ts", "town.ts", "town/deep/plan.ts", "town/room.ts"]);
  });

  it("changes when a file in a subfolder changes, and only then", () => {
    const before = treeHash(tree({ "access.ts": "x", "town/room.ts": "one" }));
    expect(treeHash(tree({ "access.ts": "x", "town/room.ts": "one" }))).toBe(before);
    expect(treeHash(tree({ "access.ts": "x", "town/room.ts": "two" }))).not.toBe(before);
    expect(treeHash(tree({ "access.ts": "x", "town/moved.ts": "one" }))).not.toBe(before);
    expect(treeHash(tree({ "access.ts": "x", "town/room.ts": "one", "town/new.ts": "" }))).not.toBe(before);
  });
});
