/** The rig summary that rigs push to the town, computed from a rig's records. */
import {
  AGENT_STATUSES,
  BEAD_STATUSES,
  type Agent,
  type AgentStatus,
  type Bead,
  type BeadStatus,
  type Escalation,
  type Mail,
  type RigStatus,
  type RigSummary,
} from "./protocol.ts";

function zeroCounts<K extends string>(keys: readonly K[]): Record<K, number> {
  return Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;
}

export function emptySummary(now: number): RigSummary {
  return {
    beads: zeroCounts<BeadStatus>(BEAD_STATUSES),
    agents: zeroCounts<AgentStatus>(AGENT_STATUSES),
    queuedMail: 0,
    openEscalations: 0,
    lastActivity: null,
    diskBytes: null,
    updatedAt: now,
  };
}

export function computeSummary(
  input: {
    rigName: string;
    status?: RigStatus;
    beads: Iterable<Bead>;
    agents: Iterable<Agent>;
    mail: Iterable<Mail>;
    escalations?: Iterable<Escalation>;
    /** Closed beads no longer in the document (retention). */
    archivedClosed?: number;
    /** Open escalations no longer in the document. */
    archivedOpenEscalations?: number;
    lastActivity: number | null;
    diskBytes: number | null;
  },
  now: number,
): RigSummary {
  const summary = emptySummary(now);
  if (input.status) summary.status = input.status;
  summary.openEscalations = [...(input.escalations ?? [])].filter((e) => e.status === "open").length + (input.archivedOpenEscalations ?? 0);
  for (const bead of input.beads) summary.beads[bead.status] += 1;
  summary.beads.closed += input.archivedClosed ?? 0;
  for (const agent of input.agents) summary.agents[agent.status] += 1;
  // Mail that is waiting on someone: still in this rig's outbox, or in one of its inboxes unread.
  // (A sender's copy of cross-rig mail is also `delivered`, but it waits in the other rig.)
  const local = `${input.rigName}/`;
  for (const mail of input.mail) {
    if (mail.state === "queued" || (mail.state === "delivered" && mail.to.startsWith(local))) summary.queuedMail += 1;
  }
  summary.lastActivity = input.lastActivity;
  summary.diskBytes = input.diskBytes;
  return summary;
}
