/**
 * Where the rig room keeps what is not a document record, one key each. Records themselves are
 * `<collection>:<key>` (party/records.ts, with `events:` and `lineage:`); the live room keeps
 * `room-id`, `origin` and `revoked:` (party/live/); the durable outbox `outbox:`; agents'
 * output `agentlog:` (party/agent-output.ts); mail `mailbody:`, `mailarchive:`, `mailindex:`
 * (party/post-office.ts).
 */
import { historyEntries } from "../../work/index.ts";
import type { Agent, Bead, BeadHistoryEntry } from "../../protocol.ts";

export const KEYS = {
  /** The lease's lasting part (StoredLease). */
  lease: "lease",
  /** Beads closed per hour, the last 24 hours (party/hours.ts), written with each closing bead. */
  closedHours: "closed-hours",
  /** The rig's usage sums: today's and the last 24 hours' (store/usage.ts StoredUsage), written with each run's usage. */
  usage: "usage",
  /** One run's usage (store/usage.ts RunUsage): there, it was counted (W22). */
  runUsage: (run: string) => `runusage:${run}`,
  /** The room's id, kept through a wipe (a later alarm must still know where it is). */
  roomId: "room-id",
  /** A closed bead retention moved out of the document. */
  archive: (beadId: string) => `archive:${beadId}`,
  /** A bead's whole body, when the document holds a preview of it. */
  beadBody: (beadId: string) => `beadbody:${beadId}`,
  /** An escalation retention moved out of the document. */
  escalationArchive: (id: string) => `escalation-archive:${id}`,
  /** An agent's notes belong to the work: a polecat's next bead starts clean, and a redone bead resumes them. */
  checkpoint: (agent: Agent) => (agent.hook ? `checkpoint:bead:${agent.hook}` : `checkpoint:agent:${agent.identity}`),
  /** Outbox entries (party/durable-outbox.ts), counted by the test hook. */
  outboxPrefix: "outbox:",
};

/** Where a bead's stored history entries are: one key each, in order of their `seq`. */
export function historyPrefix(beadId: string): string {
  return `beadhist:${beadId}:`;
}

/** Where a bead's history entry `seq` (0 for its first status) is stored. */
export function historyKey(beadId: string, seq: number): string {
  return `${historyPrefix(beadId)}${String(seq).padStart(8, "0")}`;
}

/** The storage a bead's change adds to its history (see historyEntries): each entry under its own key. */
export function historyWrites(before: Bead | undefined, after: Bead): { put: Record<string, BeadHistoryEntry>; delete: string[] } {
  const { add, drop } = historyEntries(before, after);
  return { put: Object.fromEntries(add.map(([seq, entry]) => [historyKey(after.id, seq), entry])), delete: drop.map((seq) => historyKey(after.id, seq)) };
}
