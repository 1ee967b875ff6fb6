/**
 * Every source file is as Prettier writes it (.prettierrc.json, .prettierignore): one formatter,
 * checked with the rest of the tests so CI refuses an unformatted change. `npm run format` fixes it.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import * as prettier from "prettier";
import { describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "../..");

describe("formatting", () => {
  it("every file Prettier formats is formatted", async () => {
    // The files of the checkout: tracked, and new ones not ignored (what a commit would hold).
    const files = execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard", "-z"], { cwd: ROOT, encoding: "utf8" })
      .split("\0")
      .filter(Boolean);
    const unformatted: string[] = [];
    for (const file of files) {
      const path = join(ROOT, file);
      const info = await prettier.getFileInfo(path, { ignorePath: join(ROOT, ".prettierignore") });
      if (info.ignored || !info.inferredParser) continue;
      let source: string;
      try {
        source = readFileSync(path, "utf8");
      } catch {
        continue; // deleted in the working tree
      }
      const options = await prettier.resolveConfig(path);
      if (!(await prettier.check(source, { ...options, filepath: path }))) unformatted.push(file);
    }
    expect(unformatted, "run npm run format").toEqual([]);
  }, 120_000);
});
