/**
 * The record changes the rules are made of: a bead's status move with its history entry (the only
 * way a status changes), a run cleared from its agent, and the commands a record owes the container.
 */
import { LIMITS, type Agent, type Bead, type BeadHistoryEntry, type BeadStatus } from "../protocol.ts";
import type { OwedCommand } from "./types.ts";

/**
 * A bead moved to `status`, its history extended. The record keeps only the last few entries (it
 * is what the document shows); the store keeps each entry apart as it is written (historyEntries).
 */
export function withStatus(bead: Bead, status: BeadStatus, now: number, note?: string): Bead {
  const entry: BeadHistoryEntry = note ? { at: now, status, note } : { at: now, status };
  const history = [...(bead.history ?? []), entry];
  const next: Bead = {
    ...bead,
    status,
    updatedAt: now,
    history: history.slice(-LIMITS.historyInDoc),
    historyCount: (bead.historyCount ?? bead.history?.length ?? 0) + 1,
  };
  if (status === "closed") next.closedAt = now;
  else delete next.closedAt;
  return next;
}

/**
 * The history entries a bead's change adds, by their number (`seq`, 0 for its first status), and
 * the numbers that fall out of the last LIMITS.historyStored. A record from before the history was
 * kept apart (a whole history, no count) has its earlier entries added too, so none is lost.
 */
export function historyEntries(before: Bead | undefined, after: Bead): { add: [seq: number, entry: BeadHistoryEntry][]; drop: number[] } {
  const count = after.historyCount;
  if (count === undefined) return { add: [], drop: [] };
  const earlier = before?.historyCount ?? (before ? (before.history?.length ?? 0) : 0);
  const recorded = after.history ?? [];
  const added = recorded.slice(recorded.length - Math.min(count - earlier, recorded.length));
  const whole = before && before.historyCount === undefined ? [...(before.history ?? []), ...added] : added;
  const add = whole.map((entry, i): [number, BeadHistoryEntry] => [count - whole.length + i, entry]);
  const kept = new Set(add.map(([seq]) => seq));
  const drop = add.filter(([seq]) => seq >= LIMITS.historyStored).map(([seq]) => seq - LIMITS.historyStored);
  return { add, drop: drop.filter((seq) => !kept.has(seq)) };
}

/** Unfinished work back to the queue: open, unassigned, its merge state cleared. */
export function reopen(bead: Bead, now: number, note: string): Bead {
  const next = withStatus(bead, "open", now, note);
  delete next.assignee;
  delete next.branch;
  delete next.until;
  delete next.mergeTries;
  return next;
}

/** Failed with its reason; the last assignee stays, so the bead says who ran it last. */
export function failed(bead: Bead, now: number, why: string): Bead {
  const next = withStatus(bead, "failed", now, why);
  next.failure = why;
  delete next.until;
  return next;
}

/** The agent without its run (and what belonged to it). Mutates `agent`, a fresh copy. */
export function clearRun(agent: Agent): void {
  delete agent.run;
  delete agent.hook;
  delete agent.branch;
  delete agent.pid;
}

/** What a run owes the container: a `starting` run its start, a `stopping` run its stop. */
export function runCommand(agent: Agent): OwedCommand | null {
  const run = agent.run;
  if (!run) return null;
  if (run.state === "starting") return { kind: "start_agent", id: `start:${run.id}`, identity: agent.identity, beadId: run.bead, run: run.id };
  if (run.state === "stopping")
    return { kind: "stop_agent", id: `stop:${run.id}`, identity: agent.identity, beadId: run.bead, run: run.id, reason: run.reason ?? "stopped" };
  return null;
}

/** The merge a bead in review owes: one id per run and try, so the container takes each on once. */
export function mergeCommand(bead: Bead): OwedCommand {
  const attempt = bead.mergeTries ?? 1;
  return {
    kind: "merge",
    id: `merge:${bead.id}:${bead.runs ?? 0}:${attempt}`,
    identity: bead.assignee ?? "",
    beadId: bead.id,
    branch: bead.branch ?? "",
    attempt,
  };
}
