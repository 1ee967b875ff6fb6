/**
 * The rooms run from a copy of party/ alone (partykit dev in the tests, the soak and the benches
 * snapshot it), so party/ must import nothing of the repository outside itself: a relative import
 * leaving party/ works in the checkout and breaks every snapshot.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const PARTY = join(import.meta.dirname, "../../party");

describe("party/", () => {
  it("imports nothing of the repository outside party/", () => {
    const leaving: string[] = [];
    for (const file of readdirSync(PARTY, { recursive: true, encoding: "utf8" }).filter((f) => /\.tsx?$/.test(f))) {
      const source = readFileSync(join(PARTY, file), "utf8");
      // Resolved from the importing file's own folder: a subfolder's `../` may stay inside party/.
      for (const [, spec] of source.matchAll(/(?:from|import)\s*\(?\s*"([^"]+)"/g)) {
        if (spec!.startsWith(".") && relative(PARTY, resolve(dirname(join(PARTY, file)), spec!)).startsWith("..")) leaving.push(`${file}: ${spec}`);
      }
    }
    expect(leaving).toEqual([]);
  });
});
