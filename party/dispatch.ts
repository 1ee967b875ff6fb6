/** Which polecat works on which bead, as pure functions. */
import { LIMITS, PRIORITIES, polecatIdentity, type Agent, type Bead, type BeadHistoryEntry, type BeadStatus } from "./protocol.ts";

/** Polecat names, handed out in this order; past the pool, `polecat-<n>`. */
export const POLECAT_POOL = [
  "toast", "maple", "birch", "shadow", "ember", "juniper", "flint", "hazel",
  "cinder", "willow", "pepper", "quartz", "sable", "thistle", "rowan", "basil",
] as const;

export type Assignment = { beadId: string; identity: string; name: string; isNewAgent: boolean };

/** Beads waiting for a polecat, most urgent first, then oldest. */
export function queueOrder(beads: Iterable<Bead>): Bead[] {
  const rank = (b: Bead) => PRIORITIES.length - PRIORITIES.indexOf(b.priority);
  return [...beads]
    .filter((b) => b.status === "open")
    .sort((a, b) => rank(a) - rank(b) || a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));
}

/**
 * Hooks open beads to polecats: those without a run first (a run being stopped still holds its
 * polecat), then new ones named from the pool, never more than `maxPolecats` runs at once nor
 * more than `maxPolecats` polecats in all. Beads beyond that wait, `open`.
 */
export function planDispatch(input: { rigName: string; beads: Iterable<Bead>; agents: Iterable<Agent>; maxPolecats: number }): Assignment[] {
  const polecats = [...input.agents].filter((a) => a.role === "polecat");
  const busy = polecats.filter((a) => a.run !== undefined).length;
  let capacity = Math.max(0, input.maxPolecats - busy);
  if (capacity === 0) return [];
  const free = polecats.filter((a) => a.run === undefined).sort((a, b) => a.name.localeCompare(b.name));
  const taken = new Set(polecats.map((a) => a.name));
  let total = polecats.length;
  const assignments: Assignment[] = [];
  for (const bead of queueOrder(input.beads)) {
    if (capacity === 0) break;
    const reuse = free.shift();
    if (reuse) {
      assignments.push({ beadId: bead.id, identity: reuse.identity, name: reuse.name, isNewAgent: false });
    } else if (total < input.maxPolecats) {
      const name = nextPolecatName(taken);
      taken.add(name);
      total += 1;
      assignments.push({ beadId: bead.id, identity: polecatIdentity(input.rigName, name), name, isNewAgent: true });
    } else {
      break;
    }
    capacity -= 1;
  }
  return assignments;
}

export function nextPolecatName(taken: ReadonlySet<string>): string {
  const pooled = POLECAT_POOL.find((n) => !taken.has(n));
  if (pooled) return pooled;
  for (let n = POLECAT_POOL.length + 1; ; n++) if (!taken.has(`polecat-${n}`)) return `polecat-${n}`;
}

/** `gt/<polecat>/<last 8 of the bead id>`. */
export function branchName(polecat: string, beadId: string): string {
  return `gt/${polecat}/${beadId.slice(-8)}`;
}

/**
 * A bead moved to `status`, its history extended. The record keeps only the last few entries (it
 * is what the document shows); the room stores each entry apart as it is written (RigRoom.write).
 */
export function withStatus(bead: Bead, status: BeadStatus, now: number, note?: string): Bead {
  const entry: BeadHistoryEntry = note ? { at: now, status, note } : { at: now, status };
  const history = [...(bead.history ?? []), entry];
  const next: Bead = { ...bead, status, updatedAt: now, history: history.slice(-LIMITS.historyInDoc), historyCount: (bead.historyCount ?? bead.history?.length ?? 0) + 1 };
  if (status === "closed") next.closedAt = now;
  else delete next.closedAt;
  return next;
}

/** Where a bead's stored history entries are: one key each, in order of their `seq`. */
export function historyPrefix(beadId: string): string {
  return `beadhist:${beadId}:`;
}

/** Where a bead's history entry `seq` (0 for its first status) is stored. */
export function historyKey(beadId: string, seq: number): string {
  return `${historyPrefix(beadId)}${String(seq).padStart(8, "0")}`;
}

/**
 * The storage a bead's change adds to its history: each entry it recorded, under its own key, and
 * the entry that falls out of the last LIMITS.historyKept. A record from before the split (a whole
 * history, no count) has its earlier entries stored too, so none is lost.
 */
export function historyWrites(before: Bead | undefined, after: Bead): { put: Record<string, BeadHistoryEntry>; delete: string[] } {
  const put: Record<string, BeadHistoryEntry> = {};
  const del: string[] = [];
  const count = after.historyCount;
  if (count === undefined) return { put, delete: del };
  const earlier = before?.historyCount ?? (before ? (before.history?.length ?? 0) : 0);
  const recorded = after.history ?? [];
  const added = recorded.slice(recorded.length - Math.min(count - earlier, recorded.length));
  const whole = before && before.historyCount === undefined ? [...(before.history ?? []), ...added] : added;
  whole.forEach((entry, i) => {
    const seq = count - whole.length + i;
    put[historyKey(after.id, seq)] = entry;
    if (seq >= LIMITS.historyKept) del.push(historyKey(after.id, seq - LIMITS.historyKept));
  });
  return { put, delete: del.filter((key) => !(key in put)) };
}
