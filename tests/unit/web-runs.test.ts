/** What the bead page says of runs whose output aged out (web/src/lib/runs.ts). */
import { describe, expect, it } from "vitest";
import type { RunInfo } from "../../party/protocol.ts";
import { agedRuns, duration } from "../../web/src/lib/runs.ts";

const info = (n: number, startedAt: number, endedAt?: number, exit?: string): RunInfo => ({
  run: `B.${n}`,
  identity: "r/polecats/toast",
  beadId: "B",
  startedAt,
  ...(endedAt !== undefined ? { endedAt } : {}),
  ...(exit ? { exit } : {}),
  lines: 2,
  bytes: 20,
  dropped: 0,
});

describe("aged-out runs", () => {
  it("says nothing when every run the bead counts is kept", () => {
    expect(agedRuns(0, [], [])).toBeNull();
    expect(agedRuns(2, [info(1, 1), info(2, 2)], [])).toBeNull();
  });

  it("a bead that ran 4 times with none kept is not 'no runs yet': its runs aged out, before when and how many unknown", () => {
    expect(agedRuns(4, [], [])).toEqual({ before: null, unknown: 4, why: "each agent keeps the output of its last 20 runs" });
    expect(agedRuns(4, [], [info(1, 1000, 5000, "exit 0")])).toMatchObject({ before: 5000, unknown: 3 });
    expect(agedRuns(3, [info(3, 9000)], [info(1, 1000, 5000), info(2, 6000, 7000)])).toMatchObject({ before: 9000, unknown: 0 });
  });

  it("a run's length reads as seconds, minutes or hours", () => {
    expect(duration({ startedAt: 0 })).toBeNull();
    expect(duration({ startedAt: 0, endedAt: 42_000 })).toBe("42 s");
    expect(duration({ startedAt: 0, endedAt: 185_000 })).toBe("3 min 5 s");
    expect(duration({ startedAt: 0, endedAt: 7_800_000 })).toBe("2 h 10 min");
  });
});
