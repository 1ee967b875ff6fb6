/**
 * A rig as the registry would describe it, made from its own document: for a session that reads
 * this rig's document alone (a rig, bead or agent link; a rig-scoped viewer), which reads no part of
 * the town's registry. What only the registry knows (capabilities, runtime, usage, attention) is
 * left out; the views that would show it say it is not part of the link.
 */
import type { Agent, AgentStatus, BeadStatus, Boundary, Escalation, Rig, RigStatus } from "../../../party/protocol.ts";

/** The rig document's `meta` (docs/protocol.md, "Records"), as the dashboard reads it. */
export type RigMeta = {
  name: string;
  rigId: string;
  createdAt?: number;
  status: string;
  maxPolecats: number;
  defaultBranch: string;
  gitUrl: string;
  diskBytes?: number | null;
  archivedClosed?: number;
  archivedOpenEscalations?: number;
  boundary?: Boundary;
};

export function rigFromDoc(
  rigId: string,
  meta: Omit<RigMeta, "rigId"> | undefined,
  beads: Record<string, { status: BeadStatus } | undefined>,
  agents: Record<string, Agent | undefined>,
  escalations: Record<string, Escalation | undefined>,
): Rig {
  const beadCounts = {} as Record<BeadStatus, number>;
  for (const b of Object.values(beads)) if (b) beadCounts[b.status] = (beadCounts[b.status] ?? 0) + 1;
  if (meta?.archivedClosed) beadCounts.closed = (beadCounts.closed ?? 0) + meta.archivedClosed;
  const agentCounts = {} as Record<AgentStatus, number>;
  const polecats = {} as Record<AgentStatus, number>;
  for (const a of Object.values(agents)) {
    if (!a) continue;
    agentCounts[a.status] = (agentCounts[a.status] ?? 0) + 1;
    if (a.role === "polecat") polecats[a.status] = (polecats[a.status] ?? 0) + 1;
  }
  const open = Object.values(escalations).filter((e) => e && e.status !== "resolved").length + (meta?.archivedOpenEscalations ?? 0);
  return {
    id: rigId,
    name: meta?.name ?? "",
    gitUrl: meta?.gitUrl ?? "",
    defaultBranch: meta?.defaultBranch ?? "",
    maxPolecats: meta?.maxPolecats ?? 0,
    createdAt: meta?.createdAt ?? 0,
    status: (meta?.status ?? "cloning") as RigStatus,
    capabilities: [],
    summary: {
      status: (meta?.status ?? "cloning") as RigStatus,
      openEscalations: open,
      beads: beadCounts,
      agents: agentCounts,
      polecats,
      queuedMail: 0,
      lastActivity: null,
      diskBytes: meta?.diskBytes ?? null,
      updatedAt: 0,
      ...(meta?.boundary ? { boundary: meta.boundary } : {}),
    },
  };
}
