/**
 * The rig summary that rigs push to the town, computed from a rig's records: counts, what needs the
 * operator (party/attention.ts) and beads closed per hour (party/hours.ts). It is all the overview
 * needs, so the overview reads only the town document; it is bounded whatever the rig holds.
 */
import { attentionItems, isNudgeMail } from "./attention.ts";
import { last24, type HourlyCounts } from "./hours.ts";
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
  type RigUsage,
  type Boundary,
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
    polecats: zeroCounts<AgentStatus>(AGENT_STATUSES),
    attention: [],
    closedByHour: last24({}, now),
  };
}

export function computeSummary(
  input: {
    rigName: string;
    /** The rig's id and, when it is in error, why and since when (the attention lane). */
    rigId?: string;
    status?: RigStatus;
    error?: string | undefined;
    errorAt?: number | undefined;
    beads: Iterable<Bead>;
    agents: Iterable<Agent>;
    mail: Iterable<Mail>;
    escalations?: Iterable<Escalation>;
    /** Closed beads no longer in the document (retention). */
    archivedClosed?: number;
    /** Open escalations no longer in the document. */
    archivedOpenEscalations?: number;
    /** Beads closed per hour (kept in storage: the document drops long-closed beads). */
    closedHours?: HourlyCounts;
    lastActivity: number | null;
    diskBytes: number | null;
    boundary?: Boundary | undefined;
    /** Today's usage, by hour, the budget and the hold (W22). */
    usage?: RigUsage | undefined;
  },
  now: number,
): RigSummary {
  const summary = emptySummary(now);
  if (input.status) summary.status = input.status;
  // Arrays: each is read twice (the counts, then the attention list).
  const beads = [...input.beads];
  const mail = [...input.mail];
  const escalations = [...(input.escalations ?? [])];
  summary.openEscalations = escalations.filter((e) => e.status === "open").length + (input.archivedOpenEscalations ?? 0);
  for (const bead of beads) summary.beads[bead.status] += 1;
  summary.beads.closed += input.archivedClosed ?? 0;
  const agents = [...input.agents];
  for (const agent of agents) {
    summary.agents[agent.status] += 1;
    if (agent.role === "polecat") summary.polecats![agent.status] += 1;
  }
  // Mail that is waiting on someone: still in this rig's outbox, or in one of its inboxes unread.
  // (A sender's copy of cross-rig mail is also `delivered`, but it waits in the other rig.)
  const local = `${input.rigName}/`;
  for (const m of mail) {
    if (isNudgeMail(m)) continue; // an older room's nudge: never mail anyone waits on
    if (m.state === "queued" || (m.state === "delivered" && m.to.startsWith(local))) summary.queuedMail += 1;
  }
  summary.attention = attentionItems({
    rig: { id: input.rigId ?? "", name: input.rigName, status: input.status, error: input.error, errorAt: input.errorAt },
    beads,
    agents,
    mail,
    escalations,
    hold: input.usage?.hold,
  });
  summary.closedByHour = last24(input.closedHours ?? {}, now);
  summary.lastActivity = input.lastActivity;
  summary.diskBytes = input.diskBytes;
  if (input.boundary) summary.boundary = input.boundary;
  if (input.usage) summary.usage = input.usage;
  return summary;
}
