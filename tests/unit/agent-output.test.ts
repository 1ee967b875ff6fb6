/**
 * Agents' output in the rig room (party/agent-output.ts): shaping lines, the ring's bounds, run
 * bookkeeping and retention, what a read returns and to whom, against the in-memory storage fake.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  AgentOutput,
  RINGS_IN_MEMORY,
  appendLines,
  batchKey,
  chooseRun,
  cutLine,
  newRun,
  pageOf,
  runKey,
  shapeLine,
  type IncomingLine,
  type RingLine,
  type StoredRun,
} from "../../party/agent-output.ts";
import { LIMITS, ToolError, type Agent, type Bead, type RunInfo } from "../../party/protocol.ts";
import { runEnded } from "../../party/work/index.ts";
import { REDACTED, redact } from "../../party/redact.ts";
import { FakeStorage } from "../helpers/fake-storage.ts";

const BEAD = "01J0000000000000000000BEAD";
const OTHER = "01J0000000000000000000OTHR";
const TOAST = "alpha/polecats/toast";
const MAPLE = "alpha/polecats/maple";
const run = (n: number, bead = BEAD) => `${bead}.${n}`;
const bytes = (text: string) => new TextEncoder().encode(text).byteLength;
const lines = (n: number, text = (i: number) => `line ${i}`, at = 1000): IncomingLine[] =>
  Array.from({ length: n }, (_, i) => ({ at, stream: i % 2 ? "err" : "out", text: text(i) }));

/** Appends batches to a fresh run, as the room would, carrying ring and run along. */
function fill(batches: IncomingLine[][], start: StoredRun = newRun(run(1), TOAST, 0)): { run: StoredRun; ring: RingLine[]; deleted: string[]; put: string[] } {
  let state = { run: start, ring: [] as RingLine[] };
  const deleted: string[] = [];
  const put: string[] = [];
  for (const batch of batches) {
    const next = appendLines(state.run, state.ring, batch, undefined, []);
    deleted.push(...next.delete);
    put.push(...Object.keys(next.put));
    state = next;
  }
  return { ...state, deleted, put };
}

describe("lines", () => {
  it("cuts a line to 4 KiB on a character boundary and says how long it was", () => {
    const long = "é".repeat(3000); // 6000 bytes
    const cut = cutLine(long);
    expect(bytes(cut)).toBeLessThanOrEqual(LIMITS.outputLineBytes);
    expect(cut).toMatch(/^é+ … \[line cut: 6000 bytes\]$/);
    expect(cutLine("short")).toBe("short");
    // The container kept only the first part; the marker gives the line's real length.
    expect(cutLine("abc", LIMITS.outputLineBytes, 1_000_000)).toBe("abc … [line cut: 1000000 bytes]");
  });

  it("shows what a terminal would: the last of a line overwritten with \\r, no escape sequences, redacted", () => {
    expect(shapeLine("progress 10%\rprogress 50%\rprogress 100%\r")).toBe("progress 100%");
    expect(shapeLine("\x1b[31mred\x1b[0m \x1b]0;title\x07text\x07")).toBe("red text");
    expect(shapeLine("Authorization: Bearer abc123def456")).toBe(`Authorization: Bearer ${REDACTED}`);
  });

  it("marks invisible characters after redacting, so the marks never split a secret from its match", () => {
    const secret = "run-token-0123456789abcdef";
    expect(shapeLine(`tok ${[...secret].join("\u200b")} \u202eend`, (t) => redact(t, [secret]))).toBe(`tok ${REDACTED} ⟨U+202E⟩end`);
  });

  it("keeps every shaped line within 4 KiB, whatever was printed", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 3000 }), fc.nat({ max: 10 }), (text, repeat) => {
        expect(bytes(shapeLine(text.repeat(repeat)))).toBeLessThanOrEqual(LIMITS.outputLineBytes);
      }),
    );
  });
});

describe("the ring of a run", () => {
  it("numbers lines from 1 and keeps the last 2,000, counting the dropped ones", () => {
    const { run: r, ring } = fill(Array.from({ length: 11 }, () => lines(LIMITS.outputBatchLines)));
    expect(ring.length).toBe(LIMITS.outputRingLines);
    expect(r).toMatchObject({ lines: 2_000, dropped: 200, nextSeq: 2_201 });
    expect(ring[0]!.seq).toBe(201);
    expect(ring.at(-1)!.seq).toBe(2_200);
  });

  it("keeps at most 256 KiB, dropping the oldest lines", () => {
    const { run: r, ring } = fill(Array.from({ length: 100 }, () => lines(10, () => "x".repeat(1000))));
    expect(r.bytes).toBeLessThanOrEqual(LIMITS.outputRingBytes);
    expect(r.bytes).toBe(ring.reduce((sum, l) => sum + bytes(l.text), 0));
    expect(r.lines + r.dropped).toBe(1000);
    expect(r.lines).toBe(Math.floor(LIMITS.outputRingBytes / 1000));
  });

  it("holds both bounds after any sequence of batches, and deletes exactly the emptied storage batches", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 1, max: 200 }), fc.integer({ min: 0, max: 4000 })), { minLength: 1, maxLength: 25 }), (shape) => {
        // Many short lines or a few long ones: both bounds are reached, at a bounded cost per run.
        const { run: r, ring, deleted, put } = fill(shape.map(([n, size]) => lines(n, () => "y".repeat(n > 40 ? size % 100 : size))));
        expect(r.lines).toBe(ring.length);
        expect(r.lines).toBeLessThanOrEqual(LIMITS.outputRingLines);
        expect(r.bytes).toBeLessThanOrEqual(LIMITS.outputRingBytes);
        expect(r.lines + r.dropped).toBe(shape.reduce((sum, [n]) => sum + n, 0));
        // What is left in storage: the batches put and not deleted are exactly those holding kept lines.
        const live = new Set(put.filter((k) => k.startsWith("agentlog:lines:")).filter((k) => !deleted.includes(k)));
        expect(live).toEqual(new Set(ring.map((l) => batchKey(r.run, l.batch))));
      }),
      { numRuns: 30 },
    );
  }, 60_000);

  it("stores a batch sent again once, and counts a gap in the container's numbering as dropped", () => {
    const start = newRun(run(1), TOAST, 0);
    const a = appendLines(start, [], lines(3), 0, []);
    const again = appendLines(a.run, a.ring, lines(3), 0, []);
    expect([again.added.length, again.run.lines, again.run.dropped]).toEqual([0, 3, 0]);
    const overlap = appendLines(again.run, again.ring, lines(5), 1, []); // lines 1-5: 1 and 2 were stored
    expect(overlap.added.map((l) => l.seq)).toEqual([4, 5, 6]);
    const gap = appendLines(overlap.run, overlap.ring, lines(2), 10, []); // 6..9 never arrived
    expect([gap.run.lines, gap.run.dropped, gap.added.map((l) => l.seq)]).toEqual([8, 4, [7, 8]]);
  });

  it("redacts again in the room with its own secrets", () => {
    const a = appendLines(newRun(run(1), TOAST, 0), [], [{ at: 1, stream: "out", text: "the town secret is town-secret-123456789" }], undefined, [
      "town-secret-123456789",
    ]);
    expect(a.added[0]!.text).toBe(`the town secret is ${REDACTED}`);
  });

  it("pages: the last `limit` lines, or the first `limit` after a seq", () => {
    const { ring } = fill([lines(10)]);
    expect(pageOf(ring, undefined, 3).map((l) => l.seq)).toEqual([8, 9, 10]);
    expect(pageOf(ring, 4, 3).map((l) => l.seq)).toEqual([5, 6, 7]);
    expect(pageOf(ring, 10, 3)).toEqual([]);
    expect(Object.keys(pageOf(ring, 0, 1)[0]!).sort()).toEqual(["at", "seq", "stream", "text"]);
  });
});

describe("choosing what a read shows", () => {
  const info = (r: string, identity: string, startedAt: number, extra: Partial<RunInfo> = {}): RunInfo => ({
    run: r,
    identity,
    beadId: r.split(".")[0]!,
    startedAt,
    lines: 0,
    bytes: 0,
    dropped: 0,
    ...extra,
  });
  const all = [info(run(1), TOAST, 1, { endedAt: 2, exit: "exit 4" }), info(run(2), MAPLE, 3, { endedAt: 4 }), info(run(1, OTHER), TOAST, 5)];
  const none = () => undefined;

  it("an identity's runs newest first; its current run, else its latest", () => {
    expect(chooseRun(all, { identity: TOAST }, {}, none)).toEqual({ run: all[2], runs: [all[2], all[0]] });
    expect(chooseRun(all, { identity: TOAST }, {}, () => run(1)).run).toEqual(all[0]);
  });

  it("a bead's runs, whoever ran them; a named run with its agent's runs", () => {
    expect(chooseRun(all, { bead_id: BEAD }, {}, none)).toEqual({ run: all[1], runs: [all[1], all[0]] });
    expect(chooseRun(all, { run: run(1) }, {}, none)).toEqual({ run: all[0], runs: [all[2], all[0]] });
  });

  it("a link for an agent reads only that agent's runs; one for a bead only that bead's", () => {
    const forbidden = (f: () => unknown) => expect(f).toThrow(expect.objectContaining({ code: "FORBIDDEN" }));
    expect(chooseRun(all, { bead_id: BEAD }, { agent: "toast" }, none).runs).toEqual([all[0]]);
    forbidden(() => chooseRun(all, { identity: MAPLE }, { agent: "toast" }, none));
    forbidden(() => chooseRun(all, { run: run(2) }, { agent: "toast" }, none));
    expect(chooseRun(all, { identity: TOAST }, { bead: BEAD }, none)).toEqual({ run: all[0], runs: [all[0]] });
    forbidden(() => chooseRun(all, { bead_id: OTHER }, { bead: BEAD }, none));
    forbidden(() => chooseRun(all, { run: run(1, OTHER) }, { bead: BEAD }, none));
  });

  it("refuses a query that names nothing, a run not kept, a run of someone else", () => {
    const invalid = (f: () => unknown) => expect(f).toThrow(expect.objectContaining({ code: "INVALID_ARGS" }));
    invalid(() => chooseRun(all, {}, {}, none));
    invalid(() => chooseRun(all, { run: run(9) }, {}, none));
    invalid(() => chooseRun(all, { run: run(2), identity: TOAST }, {}, none));
    invalid(() => chooseRun(all, { run: run(1, OTHER), bead_id: BEAD }, {}, none));
    expect(() => chooseRun(all, {}, {}, none)).toThrow(ToolError);
  });
});

describe("runs ended by the work machine", () => {
  const agent = (fields: Partial<Agent>): Agent => ({ identity: TOAST, role: "polecat", name: "toast", status: "working", ...fields });
  const running = agent({ run: { id: run(1), bead: BEAD, state: "running", since: 1 }, lastExit: "exit 0" });
  const bead = (status: Bead["status"]): Bead => ({
    id: BEAD,
    title: "t",
    body: "",
    status,
    priority: "medium",
    requires: [],
    assignee: TOAST,
    createdAt: 0,
    updatedAt: 0,
  });

  it("an exit, a lost run or a dead agent ends it, with the machine's words", () => {
    expect(runEnded(running, agent({ status: "idle", lastExit: "exit 4" }), [bead("open")])).toEqual({ run: run(1), exit: "exit 4" });
    expect(runEnded(running, agent({ status: "idle", lastExit: "lost: its container released the rig" }), [])).toEqual({
      run: run(1),
      exit: "lost: its container released the rig",
    });
  });

  it("gt_done does not: its process is still exiting, and its exit is reported", () => {
    expect(runEnded(running, agent({ status: "idle", lastExit: "exit 0" }), [bead("in_review")])).toBeNull();
  });

  it("a run that goes on, or no run at all, ends nothing", () => {
    expect(runEnded(running, { ...running, status: "stalled" }, [])).toBeNull();
    expect(runEnded(running, { ...running, run: { ...running.run!, state: "stopping", reason: "hung" } }, [])).toBeNull();
    expect(runEnded(undefined, running, [])).toBeNull();
  });
});

describe("AgentOutput in storage", () => {
  it("keeps lines across a restart of the room (a new store on the same storage)", async () => {
    const storage = new FakeStorage();
    const first = new AgentOutput(storage);
    await first.started(run(1), TOAST, 10);
    await first.append(run(1), TOAST, 0, lines(3), 11);
    await first.ended(run(1), TOAST, "exit 4", 12, false);
    const again = new AgentOutput(storage);
    const log = await again.log({ identity: TOAST }, {}, () => undefined);
    expect(log.run).toMatchObject({ run: run(1), beadId: BEAD, startedAt: 10, endedAt: 12, exit: "exit 4", lines: 3, dropped: 0 });
    expect(log.lines.map((l) => [l.seq, l.stream, l.text])).toEqual([
      [1, "out", "line 0"],
      [2, "err", "line 1"],
      [3, "out", "line 2"],
    ]);
    expect(log.next).toBe(3);
    // Appending after the restart continues the numbering and the ring read back from storage.
    await again.append(
      run(1),
      TOAST,
      3,
      lines(1, () => "late"),
      13,
    );
    expect((await again.log({ run: run(1), after: 3 }, {}, () => undefined)).lines.map((l) => [l.seq, l.text])).toEqual([[4, "late"]]);
  });

  it("keeps the last 20 runs of each agent, deleting the older ones' lines", async () => {
    const storage = new FakeStorage();
    const output = new AgentOutput(storage);
    for (let n = 1; n <= 23; n++) {
      await output.started(run(n), TOAST, n);
      await output.append(run(n), TOAST, 0, lines(2), n);
    }
    await output.started(run(1, OTHER), MAPLE, 100);
    const runs = await output.all();
    expect(
      runs
        .filter((r) => r.identity === TOAST)
        .map((r) => r.run)
        .sort(),
    ).toEqual(Array.from({ length: 20 }, (_, i) => run(i + 4)).sort());
    expect(storage.keys("agentlog:run:").length).toBe(21);
    expect(storage.keys(`agentlog:lines:${run(3)}:`)).toEqual([]);
    expect(storage.keys(`agentlog:lines:${run(4)}:`).length).toBe(1);
    expect(storage.deleteCalls.every((keys) => keys.length <= 128) && storage.putCalls.every((keys) => keys.length <= 128)).toBe(true);
  });

  it("remembers how a run whose output aged out ended, and a bead's read says so (also after a restart)", async () => {
    const storage = new FakeStorage();
    const output = new AgentOutput(storage);
    for (let n = 1; n <= 23; n++) {
      await output.started(run(n), TOAST, n * 10);
      await output.append(run(n), TOAST, 0, lines(2), n * 10);
      if (n !== 2) await output.ended(run(n), TOAST, `exit ${n}`, n * 10 + 5, false);
    }
    for (const reader of [output, new AgentOutput(storage)]) {
      const log = await reader.log({ bead_id: BEAD }, {}, () => undefined);
      expect(log.runs.length).toBe(20);
      expect(log.aged?.map((r) => [r.run, r.exit, r.startedAt, r.endedAt, r.lines])).toEqual([
        [run(3), "exit 3", 30, 35, 2],
        [run(2), "ended (no exit reported)", 20, 30, 2],
        [run(1), "exit 1", 10, 15, 2],
      ]);
      // Only a bead's read carries them; a link scoped to another bead sees none.
      expect((await reader.log({ identity: TOAST }, {}, () => undefined)).aged).toBeUndefined();
      expect((await reader.log({ bead_id: BEAD }, { agent: "maple" }, () => undefined)).aged).toBeUndefined();
    }
    expect(storage.keys("agentlog:gone:").length).toBe(3);
  });

  it("a new run closes an earlier one whose exit never came; an exit of an unknown run is kept only when asked", async () => {
    const output = new AgentOutput(new FakeStorage());
    await output.started(run(1), TOAST, 1);
    const changed = await output.started(run(2), TOAST, 2);
    expect(changed.map((r) => [r.run, r.exit])).toEqual([
      [run(2), undefined],
      [run(1), "ended (no exit reported)"],
    ]);
    expect(await output.ended(run(3), TOAST, "exit 1", 3, false)).toEqual([]);
    const created = await output.ended(run(4), TOAST, "no worktree: disk full", 4, true);
    expect(created[0]).toMatchObject({ run: run(4), startedAt: 4, endedAt: 4, exit: "no worktree: disk full", lines: 0 });
    // Ended once: a later report does not rewrite it.
    expect(await output.ended(run(4), TOAST, "exit 0", 5, true)).toEqual([]);
  });

  it("keeps at most a few rings in memory and reads the others back from storage", async () => {
    const storage = new FakeStorage();
    const output = new AgentOutput(storage);
    const count = RINGS_IN_MEMORY + 5;
    for (let i = 0; i < count; i++)
      await output.append(
        `${BEAD}.${i + 1}`,
        `alpha/polecats/p${i}`,
        0,
        lines(1, () => `from p${i}`),
        i,
      );
    const rings = (output as unknown as { rings: Map<string, unknown> }).rings;
    expect(rings.size).toBe(RINGS_IN_MEMORY);
    expect(rings.has(`${BEAD}.1`)).toBe(false); // the least recently used went first
    const log = await output.log({ identity: "alpha/polecats/p0" }, {}, () => undefined);
    expect(log.lines.map((l) => l.text)).toEqual(["from p0"]);
    expect(rings.size).toBe(RINGS_IN_MEMORY);
  });

  it("the backlog of a socket: the identity's current run's last 500 lines, within the link's scope", async () => {
    const output = new AgentOutput(new FakeStorage());
    await output.append(run(1), TOAST, 0, lines(200), 1);
    await output.append(run(1), TOAST, 200, lines(200), 2);
    await output.append(run(1), TOAST, 400, lines(200), 3);
    await output.append(
      run(1, OTHER),
      TOAST,
      0,
      lines(1, () => "other bead"),
      4,
    );
    const current = await output.backlog(TOAST, {}, run(1));
    expect([current.run?.run, current.lines.length, current.lines[0]!.seq]).toEqual([run(1), 500, 101]);
    expect((await output.backlog(TOAST, {}, undefined)).run?.run).toBe(run(1, OTHER)); // latest
    expect((await output.backlog(TOAST, { bead: BEAD }, undefined)).run?.run).toBe(run(1));
    expect(await output.backlog(MAPLE, {}, undefined)).toEqual({ run: null, lines: [] });
  });

  it("once closed (the rig was removed) forgets everything and stores nothing more", async () => {
    const storage = new FakeStorage();
    const output = new AgentOutput(storage);
    await output.append(run(1), TOAST, 0, lines(1), 1);
    const late = output.append(run(1), TOAST, 1, lines(1), 2); // in flight as the rig goes
    output.close();
    await storage.deleteAll();
    await expect(late).rejects.toMatchObject({ code: "UNKNOWN_RIG" });
    await expect(output.started(run(2), TOAST, 3)).rejects.toMatchObject({ code: "UNKNOWN_RIG" });
    expect(await output.all()).toEqual([]);
    expect(storage.keys()).toEqual([]);
  });
});
