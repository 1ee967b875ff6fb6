/**
 * The container's side of agents' output (container/output-shipper.ts): lines split and bounded,
 * redacted with the run's own token, batched, kept while the socket is away (bounded, oldest
 * dropped), sent again after a lost reply without the room storing a line twice.
 */
import { describe, expect, it } from "vitest";
import { ToolCallError } from "../../client/tools.ts";
import { appendLines, newRun, type RingLine, type StoredRun } from "../../party/agent-output.ts";
import { LIMITS } from "../../party/protocol.ts";
import { REDACTED } from "../../party/redact.ts";
import { LineSplitter, OutputShipper, type OutputBatch, type SendFailure } from "../../container/output-shipper.ts";

const RUN = "01J0000000000000000000BEAD.1";
const KEY = { epoch: 3, run: RUN, identity: "alpha/polecats/toast" };

/** A rig room's ring for one run, fed by batches as gt_agent_output would be. */
function fakeRoom() {
  const room = { run: newRun(RUN, KEY.identity, 0) as StoredRun, ring: [] as RingLine[], batches: [] as OutputBatch[] };
  const store = (batch: OutputBatch) => {
    room.batches.push(batch);
    const next = appendLines(room.run, room.ring, batch.lines, batch.first, []);
    room.run = next.run;
    room.ring = next.ring;
  };
  return { room, store, texts: () => room.ring.map((l) => l.text) };
}

function shipper(
  send: (batch: OutputBatch) => Promise<unknown>,
  options: { connected?: () => boolean; backlogLines?: number; classify?: (error: unknown) => SendFailure } = {},
) {
  const logged: string[] = [];
  const s = new OutputShipper({
    send,
    classify:
      options.classify ??
      ((error) =>
        error instanceof ToolCallError && error.code === "LEASE_LOST"
          ? "lease"
          : error instanceof ToolCallError && error.code !== "DISCONNECTED" && error.code !== "TIMEOUT"
            ? "drop"
            : "retry"),
    connected: options.connected ?? (() => true),
    log: (line) => logged.push(line),
    flushMs: 5,
    ...(options.backlogLines ? { backlogLines: options.backlogLines } : {}),
  });
  return { s, logged };
}

describe("LineSplitter", () => {
  it("joins lines across chunks and keeps a last line without its newline for the end", () => {
    const split = new LineSplitter();
    expect(split.push(Buffer.from("one\ntw"))).toEqual([{ text: "one", bytes: 3 }]);
    expect(split.push(Buffer.from("o\n\nthr"))).toEqual([
      { text: "two", bytes: 3 },
      { text: "", bytes: 0 },
    ]);
    expect(split.end()).toEqual([{ text: "thr", bytes: 3 }]);
    expect(split.end()).toEqual([]);
  });

  it("keeps at most its bound of a line, however long, and never half a character", () => {
    const split = new LineSplitter(10);
    expect(split.push(Buffer.from("ééééé"))).toEqual([]); // 10 bytes, no end yet
    for (let i = 0; i < 1000; i++) split.push(Buffer.from("x".repeat(1000)));
    expect(split.push(Buffer.from("\n"))).toEqual([{ text: "ééééé", bytes: 1_000_010 }]);
    expect(new LineSplitter(4).push(Buffer.from("aéé\n"))).toEqual([{ text: "aé", bytes: 5 }]);
  });
});

describe("OutputShipper", () => {
  it("sends a run's lines in order, numbered, shaped and redacted with the run's own token", async () => {
    const { room, store, texts } = fakeRoom();
    const { s } = shipper(async (batch) => store(batch));
    const run = s.open(KEY, ["own-run-token-0123456789"]);
    expect(run.chunk("out", Buffer.from("hello\nmy token: own-run-token-0123456789\n\x1b[31mred\x1b[0m\n"))).toEqual(["hello", `my token: ${REDACTED}`, "red"]);
    run.chunk("err", Buffer.from("oops"));
    expect(run.end()).toEqual([{ stream: "err", text: "oops" }]);
    await s.drain(RUN, 5_000);
    expect(texts()).toEqual(["hello", `my token: ${REDACTED}`, "red", "oops"]);
    expect(room.ring.map((l) => [l.seq, l.stream])).toEqual([
      [1, "out"],
      [2, "out"],
      [3, "out"],
      [4, "err"],
    ]);
    expect(room.batches.every((b) => b.epoch === 3 && b.identity === KEY.identity)).toBe(true);
  });

  it("fills batches up to their bounds: a frame never passes the room's limit", async () => {
    const { room, store } = fakeRoom();
    let connected = false;
    const { s } = shipper(async (batch) => store(batch), { connected: () => connected });
    const run = s.open(KEY, []);
    for (let i = 0; i < 250; i++) run.chunk("out", Buffer.from(`${"z".repeat(1000)} ${i}\n`));
    connected = true;
    s.resume();
    await s.drain(undefined, 5_000);
    expect(room.run.lines + room.run.dropped).toBe(250);
    expect(room.batches.length).toBeGreaterThanOrEqual(5); // 250 KiB of lines: batches of at most 56 KiB
    for (const batch of room.batches) {
      expect(batch.lines.length).toBeLessThanOrEqual(LIMITS.outputBatchLines);
      expect(new TextEncoder().encode(JSON.stringify({ type: "call", id: "c1", tool: "gt_agent_output", args: batch })).byteLength).toBeLessThanOrEqual(
        LIMITS.maxFrameBytes,
      );
    }
  });

  it("keeps lines while the socket is away, dropping the oldest past its bound; the room counts the gap", async () => {
    const { room, store, texts } = fakeRoom();
    let connected = false;
    const { s, logged } = shipper(async (batch) => store(batch), { connected: () => connected, backlogLines: 5 });
    const run = s.open(KEY, []);
    run.chunk("out", Buffer.from(Array.from({ length: 8 }, (_, i) => `l${i}\n`).join("")));
    expect(s.pending(RUN)).toBe(5);
    expect(s.dropped).toBe(3);
    expect(logged.join("\n")).toMatch(/backlog full/);
    connected = true;
    s.resume();
    await s.drain(RUN, 5_000);
    expect(texts()).toEqual(["l3", "l4", "l5", "l6", "l7"]);
    expect(room.run.dropped).toBe(3);
    expect(room.batches[0]!.first).toBe(3);
  });

  it("sends a batch again when its reply was lost, and the room stores it once", async () => {
    const { room, store, texts } = fakeRoom();
    let calls = 0;
    const { s } = shipper(async (batch) => {
      calls += 1;
      store(batch); // it arrived...
      if (calls === 1) throw new ToolCallError("DISCONNECTED", "socket closed before the reply"); // ...but the reply did not
    });
    const run = s.open(KEY, []);
    run.chunk("out", Buffer.from("a\nb\n"));
    await new Promise<void>((resolve) => {
      const wait = () => (calls >= 1 ? resolve() : setImmediate(wait));
      wait();
    });
    run.chunk("out", Buffer.from("c\n"));
    s.resume(); // the socket is back
    await s.drain(RUN, 5_000);
    expect(calls).toBeGreaterThanOrEqual(2);
    expect(texts()).toEqual(["a", "b", "c"]);
    expect(room.run.dropped).toBe(0);
  });

  it("drops every line of an epoch the room says is over, and a batch the room refused", async () => {
    const sent: OutputBatch[] = [];
    let refuse: ToolCallError | null = new ToolCallError("LEASE_LOST", "lease epoch 3 is not current");
    const { s, logged } = shipper(
      async (batch) => {
        sent.push(batch);
        if (refuse) throw refuse;
      },
      { connected: () => true },
    );
    const old = s.open(KEY, []);
    old.chunk("out", Buffer.from("x\ny\n"));
    await s.drain(undefined, 5_000);
    old.chunk("out", Buffer.from("z\n"));
    await s.drain(undefined, 5_000);
    expect([s.pending(), s.dropped]).toEqual([0, 3]);
    refuse = new ToolCallError("CONFLICT", "run is not current");
    s.open({ ...KEY, epoch: 4, run: "01J0000000000000000000BEAD.2" }, []).chunk("err", Buffer.from("w\n"));
    await s.drain(undefined, 5_000);
    expect([s.pending(), s.dropped]).toEqual([0, 4]);
    expect(logged.join("\n")).toMatch(/refused: CONFLICT/);
  });
});
