import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { DurableOutbox } from "../../party/durable-outbox.ts";
import type { Attempt, OutboxEntry } from "../../party/outbox.ts";
import { FakeStorage } from "../helpers/fake-storage.ts";

const T0 = 1_000_000;

function entry(key: string, nextAttemptAt: number, attempts = 0): OutboxEntry {
  return { key, kind: "mail", payload: { n: key }, attempts, nextAttemptAt, createdAt: T0 };
}

function stored(...entries: OutboxEntry[]): Record<string, unknown> {
  return Object.fromEntries(entries.map((e) => [DurableOutbox.storageKey(e.key), e]));
}

function setup(initial: Record<string, unknown>, attempt: (entry: OutboxEntry) => Promise<Attempt>) {
  const storage = new FakeStorage(initial);
  const attemptFn = vi.fn(attempt);
  const settle = vi.fn(async (_entry: OutboxEntry, _outcome: Exclude<Attempt, { kind: "retry" }>) => {});
  const outbox = new DurableOutbox(storage, attemptFn, settle);
  return { storage, attempt: attemptFn, settle, outbox };
}

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(T0);
});

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe("DurableOutbox.load", () => {
  it("picks up stored entries and sets the alarm to the earliest", async () => {
    const { storage, outbox } = setup({ ...stored(entry("a", T0 + 5000), entry("b", T0 + 2000), entry("c", T0 + 9000)), "mail:x": {} }, async () => ({
      kind: "delivered",
    }));
    await outbox.load();
    expect(outbox.size).toBe(3);
    expect(outbox.has("b")).toBe(true);
    expect(storage.alarm).toBe(T0 + 2000);
  });

  it("sets the alarm just after now for entries already overdue", async () => {
    const { storage, outbox } = setup(stored(entry("a", T0 - 5000)), async () => ({ kind: "delivered" }));
    await outbox.load();
    expect(storage.alarm).toBe(T0 + 1);
  });

  it("sets no alarm when nothing waits", async () => {
    const { storage, outbox } = setup({}, async () => ({ kind: "delivered" }));
    await outbox.load();
    expect(storage.alarms).toEqual([]);
  });
});

describe("DurableOutbox.enqueue", () => {
  it("persists the entry under outbox:<key> and schedules the alarm", async () => {
    const { storage, outbox } = setup({}, async () => ({ kind: "delivered" }));
    await outbox.enqueue(entry("m1", T0 + 250));
    expect(storage.data.get("outbox:m1")).toEqual(entry("m1", T0 + 250));
    expect(outbox.has("m1")).toBe(true);
    expect(storage.alarm).toBe(T0 + 250);
  });
});

describe("DurableOutbox.flush", () => {
  it("delivered: settles and removes the entry from storage and memory", async () => {
    const { storage, settle, outbox } = setup(stored(entry("m1", T0)), async () => ({ kind: "delivered" }));
    await outbox.load();
    await outbox.flush();
    expect(settle).toHaveBeenCalledOnce();
    expect(settle).toHaveBeenCalledWith(expect.objectContaining({ key: "m1" }), { kind: "delivered" });
    expect(storage.data.has("outbox:m1")).toBe(false);
    expect(outbox.size).toBe(0);
  });

  it("rejected: settles with the error and removes the entry", async () => {
    const rejected: Attempt = { kind: "rejected", error: "UNKNOWN_RECIPIENT: b/polecats/x" };
    const { storage, settle, outbox } = setup(stored(entry("m1", T0)), async () => rejected);
    await outbox.load();
    await outbox.flush();
    expect(settle).toHaveBeenCalledWith(expect.objectContaining({ key: "m1" }), rejected);
    expect(storage.data.has("outbox:m1")).toBe(false);
    expect(outbox.has("m1")).toBe(false);
  });

  it.each([
    ["a retry reply", async (): Promise<Attempt> => ({ kind: "retry", error: "HTTP 503" }), "HTTP 503"],
    ["a thrown error", async (): Promise<Attempt> => Promise.reject(new Error("connection reset")), "connection reset"],
  ])("%s: increments attempts, rewrites the entry later and reschedules the alarm", async (_name, attempt, error) => {
    const { storage, settle, outbox } = setup(stored(entry("m1", T0, 2)), attempt);
    vi.spyOn(Math, "random").mockReturnValue(0.5); // no jitter
    await outbox.load();
    vi.setSystemTime(T0 + 100);
    await outbox.flush();

    expect(settle).not.toHaveBeenCalled();
    const rewritten = storage.data.get("outbox:m1") as OutboxEntry;
    expect(rewritten.attempts).toBe(3);
    expect(rewritten.lastError).toBe(error);
    expect(rewritten.nextAttemptAt).toBe(T0 + 100 + 1000); // attempt 3: 250 ms * 2^2
    expect(outbox.has("m1")).toBe(true);
    expect(storage.alarm).toBe(rewritten.nextAttemptAt);
  });

  it("does not attempt entries not yet due, and wakes for them later", async () => {
    const { storage, attempt, outbox } = setup(stored(entry("due", T0), entry("later", T0 + 10_000)), async () => ({ kind: "delivered" }));
    await outbox.load();
    await outbox.flush();
    expect(attempt.mock.calls.map(([e]) => e.key)).toEqual(["due"]);
    expect(outbox.has("later")).toBe(true);
    expect(storage.data.has("outbox:later")).toBe(true);
    expect(storage.alarm).toBe(T0 + 10_000);

    vi.setSystemTime(T0 + 10_000);
    await outbox.flush();
    expect(attempt.mock.calls.map(([e]) => e.key)).toEqual(["due", "later"]);
    expect(outbox.size).toBe(0);
  });

  it("attempts due entries earliest first", async () => {
    const { attempt, outbox } = setup(stored(entry("b", T0 - 10), entry("a", T0 - 500), entry("c", T0)), async () => ({ kind: "delivered" }));
    await outbox.load();
    await outbox.flush();
    expect(attempt.mock.calls.map(([e]) => e.key)).toEqual(["a", "b", "c"]);
  });

  it("flush() calls during a pass never attempt an entry twice", async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const { attempt, outbox } = setup(stored(entry("m1", T0), entry("m2", T0)), async () => {
      await gate;
      return { kind: "delivered" };
    });
    await outbox.load();
    const first = outbox.flush();
    const second = outbox.flush();
    release();
    await Promise.all([first, second]);
    expect(attempt).toHaveBeenCalledTimes(2);
    expect(attempt.mock.calls.map(([e]) => e.key).sort()).toEqual(["m1", "m2"]);
  });

  it("an entry added during a pass is attempted by the flush called after adding it", async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const { attempt, outbox } = setup(stored(entry("slow", T0)), async (e) => {
      if (e.key === "slow") await gate;
      return { kind: "delivered" };
    });
    await outbox.load();
    const running = outbox.flush();
    await outbox.enqueue(entry("late", T0));
    const next = outbox.flush();
    release();
    await Promise.all([running, next]);
    expect(attempt.mock.calls.map(([e]) => e.key)).toEqual(["slow", "late"]);
  });

  it("a flush after the previous pass finished runs a new pass", async () => {
    const { attempt, outbox } = setup({}, async () => ({ kind: "delivered" }));
    await outbox.flush();
    await outbox.enqueue(entry("m1", T0));
    await outbox.flush();
    expect(attempt).toHaveBeenCalledOnce();
  });

  it("keeps an entry whose settle failed, for the next pass", async () => {
    const { storage, settle, outbox } = setup(stored(entry("m1", T0)), async () => ({ kind: "delivered" }));
    settle.mockRejectedValueOnce(new Error("write failed"));
    await outbox.load();
    await expect(outbox.flush()).rejects.toThrow("write failed");
    expect(storage.data.has("outbox:m1")).toBe(true);
    expect(outbox.has("m1")).toBe(true);
    await outbox.flush();
    expect(settle).toHaveBeenCalledTimes(2);
    expect(outbox.size).toBe(0);
  });
});
