/**
 * What keeps the rig document bounded, and reads what it moved out: closed beads past the retention
 * count go to `archive:<id>`, escalations past LIMITS.escalationsKept to `escalation-archive:<id>`,
 * long bodies and whole histories to their own keys. Used by the store only (the one writer).
 */
import type * as Y from "yjs";
import { LIMITS, RIG_DOC, type Bead, type BeadHistoryEntry, type BeadHistoryPage, type Escalation } from "../../protocol.ts";
import type { Change, KeyValueStorage, RecordDoc } from "../../records.ts";
import { KEYS, historyPrefix } from "./keys.ts";
import type { RigMeta } from "./meta.ts";

/** A bead moved out of the document by retention, still readable (gt_bead_status, reconciliation). */
export function archived(storage: KeyValueStorage, id: string): Promise<Bead | undefined> {
  return storage.get<Bead>(KEYS.archive(id));
}

/** A bead with its whole body and its last LIMITS.historyKept history entries (the document holds a preview and the last few). */
export async function wholeBead(storage: KeyValueStorage, bead: Bead): Promise<Bead> {
  let whole = bead;
  if (bead.bodyBytes !== undefined) {
    const body = await storage.get<string>(KEYS.beadBody(bead.id));
    const { bodyBytes: _size, ...rest } = bead;
    if (body !== undefined) whole = { ...rest, body };
  }
  if ((bead.historyCount ?? 0) > (bead.history?.length ?? 0)) {
    const stored = await storage.list<BeadHistoryEntry>({ prefix: historyPrefix(bead.id) });
    if (stored.size) whole = { ...whole, history: [...stored.values()].slice(-LIMITS.historyKept) };
  }
  return whole;
}

/** A page of a bead's stored history: the `limit` entries before number `before` (default: past the newest), oldest first. */
export async function historyPage(storage: KeyValueStorage, bead: Bead, before: number | undefined, limit: number): Promise<BeadHistoryPage> {
  const total = bead.historyCount ?? bead.history?.length ?? 0;
  const stored = await storage.list<BeadHistoryEntry>({ prefix: historyPrefix(bead.id) });
  const prefix = historyPrefix(bead.id).length;
  // A record from before the history was kept apart has it whole in the record, numbered from 0.
  const all: (BeadHistoryEntry & { seq: number })[] = stored.size
    ? [...stored.entries()].map(([key, entry]) => ({ ...entry, seq: Number(key.slice(prefix)) }))
    : (bead.history ?? []).map((entry, i) => ({ ...entry, seq: total - (bead.history?.length ?? 0) + i }));
  const end = Math.min(before ?? total, total);
  const entries = all.filter((e) => e.seq < end && e.seq >= end - limit).sort((a, b) => a.seq - b.seq);
  const first = entries[0]?.seq;
  const oldest = all.reduce((min, e) => Math.min(min, e.seq), Infinity);
  return { bead_id: bead.id, total, entries, before: first !== undefined && first > oldest ? first : null };
}

/** A new bead's record: a long body stays whole in storage, and the document holds a preview and its size. */
export function withPreview(bead: Bead): { record: Bead; put: Record<string, unknown> } {
  const bytes = new TextEncoder().encode(bead.body).byteLength;
  if (bytes <= LIMITS.longTextBytes || bead.bodyBytes !== undefined) return { record: bead, put: {} };
  return { record: { ...bead, body: bead.body.slice(0, LIMITS.previewChars), bodyBytes: bytes }, put: { [KEYS.beadBody(bead.id)]: bead.body } };
}

/**
 * What adding escalations writes, the document kept bounded: past LIMITS.escalationsKept, the oldest
 * resolved ones, then the oldest open ones, move to storage; open ones moved out still count in the
 * summary (`archivedOpenEscalations` of `meta`, the write's own next meta).
 */
export function escalationChanges(
  live: readonly Escalation[],
  added: Escalation[],
  meta: RigMeta,
): { changes: Change[]; put: Record<string, unknown>; meta: RigMeta } {
  const all = [...live, ...added];
  const excess = all.length - LIMITS.escalationsKept;
  const out = excess > 0 ? all.sort((a, b) => (a.status === b.status ? a.createdAt - b.createdAt : a.status === "resolved" ? -1 : 1)).slice(0, excess) : [];
  const outIds = new Set(out.map((e) => e.id));
  const movedOpen = out.filter((e) => e.status === "open").length;
  const next = movedOpen ? { ...meta, archivedOpenEscalations: (meta.archivedOpenEscalations ?? 0) + movedOpen } : meta;
  const changes: Change[] = [
    ...added.filter((e) => !outIds.has(e.id)).map((e) => ({ collection: RIG_DOC.escalations, key: e.id, value: e })),
    ...out.filter((e) => !added.includes(e)).map((e) => ({ collection: RIG_DOC.escalations, key: e.id, value: null })),
  ];
  return { changes, put: Object.fromEntries(out.map((e) => [KEYS.escalationArchive(e.id), e])), meta: next };
}

/**
 * An escalation the machine changed after retention moved it out: it stays in storage, and when it
 * was open it no longer counts among the open ones moved out.
 */
export async function archivedEscalationChange(
  storage: KeyValueStorage,
  next: Escalation,
  meta: RigMeta,
): Promise<{ put: Record<string, unknown>; meta: RigMeta }> {
  const before = await storage.get<Escalation>(KEYS.escalationArchive(next.id));
  const counted = before?.status === "open" ? { ...meta, archivedOpenEscalations: Math.max(0, (meta.archivedOpenEscalations ?? 0) - 1) } : meta;
  return { put: { [KEYS.escalationArchive(next.id)]: next }, meta: counted };
}

/**
 * Y.Map's `size` copies every entry to count them (9.6 ms at 50k beads), too slow to ask after every
 * close. Its internal map holds one item per key ever set, deleted or not: a cheap upper bound.
 */
export function beadCountUpperBound(map: Y.Map<Bead>): number {
  return (map as unknown as { _map: Map<string, unknown> })._map.size;
}

/**
 * Past the retention count, the longest-closed beads move from the document to `archive:<id>`, one
 * write per batch of at most 2,000. Returns whether more are left for another batch.
 */
export async function retire(records: RecordDoc, requireMeta: () => RigMeta, retainClosed: number): Promise<boolean> {
  const closed = records.values<Bead>(RIG_DOC.beads).filter((b) => b.status === "closed");
  const excess = closed.length - retainClosed;
  if (excess <= 0) return false;
  const oldest = closed.sort((a, b) => (a.closedAt ?? 0) - (b.closedAt ?? 0)).slice(0, Math.min(excess, 2_000));
  const meta = requireMeta();
  await records.write(
    [
      ...oldest.map((b) => ({ collection: RIG_DOC.beads, key: b.id, value: null })),
      { collection: RIG_DOC.meta, key: "rig", value: { ...meta, archivedClosed: (meta.archivedClosed ?? 0) + oldest.length } },
    ],
    [],
    { put: Object.fromEntries(oldest.map((b) => [KEYS.archive(b.id), b])) },
  );
  return excess > oldest.length;
}
