/** One run's output as the downloaded text file (web/src/lib/run-text.ts). */
import { describe, expect, it } from "vitest";
import { runFileName, runText } from "../../web/src/lib/run-text.ts";

describe("run download", () => {
  it("says which run it is, how it ended and what is kept, then every line in order", () => {
    const run = { run: "01JB.3", identity: "r/polecats/toast", beadId: "01JB", startedAt: 0, endedAt: 60_000, exit: "exit 0", lines: 2, bytes: 10, dropped: 5 };
    const text = runText(run, [
      { seq: 6, at: 1_000, stream: "out", text: "hello" },
      { seq: 7, at: 2_000, stream: "err", text: "key [redacted]" },
    ]);
    const lines = text.trimEnd().split("\n");
    expect(lines[0]).toBe("# run 01JB.3 of r/polecats/toast, bead 01JB");
    expect(lines[1]).toContain("ended 1970-01-01T00:01:00.000Z (exit 0)");
    expect(lines[2]).toContain("the 5 oldest were dropped");
    expect(lines.slice(3)).toEqual(["1970-01-01T00:00:01.000Z out hello", "1970-01-01T00:00:02.000Z err key [redacted]"]);
    expect(runFileName(run)).toBe("run-01JB.3.txt");
    expect(runFileName({ run: "a/b c" })).toBe("run-a_b_c.txt");
  });
});
