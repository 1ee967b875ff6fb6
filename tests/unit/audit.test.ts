/** The audit trail's own rules (party/audit.ts): numbering, bounded keeping, filtered pages newest first. */
import { describe, expect, it } from "vitest";
import { AuditLog, auditKey, auditPage, auditWho, withNote } from "../../party/audit.ts";
import type { AuditEntry } from "../../party/protocol.ts";
import { FakeStorage } from "../helpers/fake-storage.ts";

const who = { role: "operator", sub: "ada", jti: "01JTI" };
const entry = (seq: number, extra: Partial<AuditEntry> = {}): AuditEntry => ({ seq, at: seq, who, action: "bead_retry", text: `retried ${seq}`, ...extra });

describe("auditPage", () => {
  it("pages newest first, with the cursor of the next page, and filters by bead and agent", () => {
    const entries = Array.from({ length: 7 }, (_, i) => entry(i + 1, { bead: i % 2 ? "B1" : "B2", agent: i < 3 ? "r/polecats/a" : "r/polecats/b" }));
    const first = auditPage(entries, { limit: 3 }, 2000, false);
    expect(first.entries.map((e) => e.seq)).toEqual([7, 6, 5]);
    expect(first.older).toBe(5);
    const second = auditPage(entries, { limit: 3, before: first.older! }, 2000, false);
    expect(second.entries.map((e) => e.seq)).toEqual([4, 3, 2]);
    const last = auditPage(entries, { limit: 3, before: second.older! }, 2000, false);
    expect(last.entries.map((e) => e.seq)).toEqual([1]);
    expect(last.older).toBeNull();
    expect(auditPage(entries, { bead_id: "B1" }, 2000, false).entries.map((e) => e.seq)).toEqual([6, 4, 2]);
    expect(auditPage(entries, { agent: "r/polecats/a" }, 2000, false).entries.map((e) => e.seq)).toEqual([3, 2, 1]);
  });

  it("says there is no older page when the last one is exactly full", () => {
    const page = auditPage([entry(1), entry(2)], { limit: 2 }, 2000, false);
    expect(page.entries).toHaveLength(2);
    expect(page.older).toBeNull();
  });
});

describe("auditWho and withNote", () => {
  it("keeps the token's role, subject, id and scope, and nothing else", () => {
    const token = { role: "operator", sub: "ops-laptop", jti: "J1", town: "t", iat: 1, exp: 2, rig: "01ARZ3NDEKTSV4RRFFQ69G5FAV" } as const;
    expect(auditWho(token)).toEqual({ role: "operator", sub: "ops-laptop", jti: "J1", rig: "01ARZ3NDEKTSV4RRFFQ69G5FAV" });
  });
  it("drops a blank note", () => {
    expect(withNote({ a: 1 }, "  ")).toEqual({ a: 1 });
    expect(withNote({ a: 1 }, " flaky ")).toEqual({ a: 1, note: "flaky" });
  });
});

describe("AuditLog", () => {
  it("stores nothing until the caller writes the staged puts, and reads them after commit", async () => {
    const storage = new FakeStorage();
    const log = new AuditLog(storage);
    await log.load();
    const staged = log.stage(who, [{ action: "agent_stop", text: "stopped", agent: "r/polecats/a", note: "hung" }], 5);
    expect(log.page({}).entries).toEqual([]);
    await storage.put(staged.put);
    await staged.commit();
    expect(log.page({}).entries).toEqual([{ seq: 1, at: 5, who, action: "agent_stop", text: "stopped", agent: "r/polecats/a", note: "hung" }]);
    // A room restart reads the same entries, and numbers on from them.
    const again = new AuditLog(storage);
    await again.load();
    expect(again.page({}).entries.map((e) => e.seq)).toEqual([1]);
    const next = again.stage(who, [{ action: "bead_retry", text: "retried" }]);
    expect(Object.keys(next.put)).toEqual([auditKey(2)]);
  });

  it("keeps the last N: past it the oldest leave storage and pages say entries were dropped", async () => {
    const storage = new FakeStorage();
    const log = new AuditLog(storage, 3);
    await log.load();
    for (let i = 0; i < 5; i++) {
      const staged = log.stage(who, [{ action: "sling", text: `slung ${i}` }]);
      await storage.put(staged.put);
      await staged.commit();
    }
    const page = log.page({});
    expect(page.entries.map((e) => e.seq)).toEqual([5, 4, 3]);
    expect(page).toMatchObject({ kept: 3, dropped: true, older: null });
    expect([...(await storage.list({ prefix: "audit:" })).keys()]).toEqual([auditKey(3), auditKey(4), auditKey(5)]);
    const reloaded = new AuditLog(storage, 3);
    await reloaded.load();
    expect(reloaded.page({})).toMatchObject({ dropped: true });
    expect(new AuditLog(new FakeStorage(), 3).page({}).dropped).toBe(false);
  });
});
