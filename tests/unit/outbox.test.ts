import { describe, expect, it } from "vitest";
import { afterFailure, BACKOFF, backoffDelay, classifyReply, dueEntries, nextWake, type OutboxEntry } from "../../party/outbox.ts";

const fixed = (value: number) => () => value;

function entry(key: string, nextAttemptAt: number, attempts = 0): OutboxEntry {
  return { key, kind: "mail", payload: null, attempts, nextAttemptAt, createdAt: 0 };
}

describe("backoffDelay", () => {
  it("grows exponentially from 250 ms (random 0.5 = no jitter)", () => {
    const mid = fixed(0.5);
    expect([1, 2, 3, 4, 5].map((n) => backoffDelay(n, mid))).toEqual([250, 500, 1000, 2000, 4000]);
    expect(backoffDelay(0, mid)).toBe(250);
  });

  it("is capped at 60 s", () => {
    expect(backoffDelay(9, fixed(0.5))).toBe(60_000); // 250 * 2^8 = 64 000 > cap
    expect(backoffDelay(50, fixed(0.5))).toBe(60_000);
  });

  it("jitters by ±20 %: random 0 and 1 give the bounds", () => {
    expect(backoffDelay(3, fixed(0))).toBe(800);
    expect(backoffDelay(3, fixed(1))).toBe(1200);
    expect(BACKOFF.jitter).toBe(0.2);
  });

  it("stays within the bounds for any random value", () => {
    for (let r = 0; r <= 1; r += 0.05) {
      const delay = backoffDelay(4, fixed(r));
      expect(delay).toBeGreaterThanOrEqual(1600);
      expect(delay).toBeLessThanOrEqual(2400);
    }
  });
});

describe("afterFailure", () => {
  it("increments attempts, records the error and schedules the next attempt", () => {
    const next = afterFailure(entry("m1", 100, 2), 10_000, "HTTP 503", fixed(0.5));
    expect(next).toEqual({ ...entry("m1", 10_000 + 1000, 3), lastError: "HTTP 503" });
  });

  it("does not mutate the original entry", () => {
    const original = entry("m1", 100, 0);
    afterFailure(original, 10_000, "x", fixed(0.5));
    expect(original).toEqual(entry("m1", 100, 0));
  });
});

describe("dueEntries", () => {
  it("keeps entries due at or before now, earliest first", () => {
    const entries = [entry("late", 300), entry("future", 1001), entry("early", 100), entry("now", 1000)];
    expect(dueEntries(entries, 1000).map((e) => e.key)).toEqual(["early", "late", "now"]);
  });

  it("returns nothing when nothing is due", () => {
    expect(dueEntries([entry("a", 5000)], 1000)).toEqual([]);
  });
});

describe("nextWake", () => {
  it("is the earliest nextAttemptAt", () => {
    expect(nextWake([entry("a", 500), entry("b", 200), entry("c", 900)])).toBe(200);
  });

  it("is null when nothing waits", () => {
    expect(nextWake([])).toBeNull();
  });
});

describe("classifyReply", () => {
  it.each([200, 201, 204, 299])("%i is delivered", (status) => {
    expect(classifyReply(status, { ok: true })).toEqual({ kind: "delivered" });
  });

  it.each([
    [404, "UNKNOWN_RECIPIENT", "unknown recipient b/polecats/x"],
    [400, "INVALID_ARGS", "bad mail"],
    [403, "FORBIDDEN", "wrong key"],
  ])("%i is rejected with 'CODE: message'", (status, code, message) => {
    expect(classifyReply(status, { ok: false, error: { code, message } })).toEqual({ kind: "rejected", error: `${code}: ${message}` });
  });

  it.each([500, 503, 408, 429])("%i is retried", (status) => {
    expect(classifyReply(status, { ok: false, error: { code: "INTERNAL", message: "boom" } })).toEqual({ kind: "retry", error: "INTERNAL: boom" });
  });

  it("falls back to 'HTTP <status>' when the body has no error", () => {
    expect(classifyReply(404, null)).toEqual({ kind: "rejected", error: "HTTP 404" });
    expect(classifyReply(502, "Bad Gateway")).toEqual({ kind: "retry", error: "HTTP 502" });
  });
});
