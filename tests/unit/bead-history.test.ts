/**
 * A bead's history is split: its record (what the document shows) keeps the last few entries, and
 * each entry is stored apart, the last LIMITS.historyKept of them kept (party/work/records.ts, its
 * keys in party/rig/store/keys.ts).
 */
import { describe, expect, it } from "vitest";
import { historyKey, historyWrites } from "../../party/rig/store/keys.ts";
import { historyPage } from "../../party/rig/store/archive.ts";
import { withStatus } from "../../party/work/index.ts";
import { LIMITS, type Bead, type BeadHistoryEntry, type BeadStatus } from "../../party/protocol.ts";

const STATUSES: BeadStatus[] = ["in_progress", "in_review", "open", "failed", "closed"];

function created(): Bead {
  return {
    id: "bead-1",
    title: "t",
    body: "",
    status: "open",
    priority: "medium",
    requires: [],
    createdAt: 0,
    updatedAt: 0,
    history: [{ at: 0, status: "open", note: "created" }],
    historyCount: 1,
  };
}

/** Applies `changes` status changes one write each, as the room does, into a storage map. */
function run(start: Bead, changes: number) {
  const storage = new Map<string, BeadHistoryEntry>(Object.entries(historyWrites(undefined, start).put));
  let bead = start;
  const all: BeadHistoryEntry[] = [...(start.history ?? [])];
  for (let i = 1; i <= changes; i++) {
    const next = withStatus(bead, STATUSES[i % STATUSES.length]!, i, `change ${i}`);
    all.push(next.history!.at(-1)!);
    const { put, delete: del } = historyWrites(bead, next);
    for (const [k, v] of Object.entries(put)) storage.set(k, v);
    for (const k of del) storage.delete(k);
    bead = next;
  }
  return { bead, storage, all };
}

describe("bead history", () => {
  it("keeps the last few entries in the record and the last LIMITS.historyStored in storage, in order", () => {
    const { bead, storage, all } = run(created(), LIMITS.historyStored + 5);
    expect(bead.historyCount).toBe(LIMITS.historyStored + 6);
    expect(bead.history).toEqual(all.slice(-LIMITS.historyInDoc));
    const keys = [...storage.keys()].sort();
    expect(keys).toHaveLength(LIMITS.historyStored);
    expect(keys[0]).toBe(historyKey("bead-1", 6));
    expect(keys.map((k) => storage.get(k))).toEqual(all.slice(-LIMITS.historyStored));
  });

  it("keeps a bead's whole history of more than 20 changes, a page at a time (gt_bead_history)", async () => {
    const { bead, storage, all } = run(created(), 25);
    const kv = { list: async () => new Map([...storage.entries()].sort(([a], [b]) => a.localeCompare(b))) } as unknown as Parameters<typeof historyPage>[0];
    const newest = await historyPage(kv, bead, undefined, 20);
    expect(newest.total).toBe(26);
    expect(newest.entries.map((e) => e.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 6));
    expect(newest.before).toBe(6);
    const older = await historyPage(kv, bead, newest.before!, 20);
    expect(older.entries.map(({ seq, ...e }) => [seq, e])).toEqual(all.slice(0, 6).map((e, i) => [i, e]));
    expect(older.before).toBeNull();
  });

  it("stores a record's whole history from before the split, so no entry is lost", () => {
    const old: Bead = { ...created(), history: Array.from({ length: 8 }, (_, i) => ({ at: i, status: "open" as const, note: `old ${i}` })) };
    delete old.historyCount;
    const next = withStatus(old, "in_progress", 100);
    const { put, delete: del } = historyWrites(old, next);
    expect(next.historyCount).toBe(9);
    expect(Object.keys(put).sort()).toEqual(Array.from({ length: 9 }, (_, i) => historyKey("bead-1", i)));
    expect(Object.values(put).at(-1)).toEqual({ at: 100, status: "in_progress" });
    expect(put[historyKey("bead-1", 0)]).toEqual({ at: 0, status: "open", note: "old 0" });
    expect(del).toEqual([]);
  });

  it("a change that is not a status change stores nothing", () => {
    const bead = created();
    expect(historyWrites(bead, { ...bead, title: "renamed" })).toEqual({ put: {}, delete: [] });
  });
});
