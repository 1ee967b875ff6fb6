/**
 * The wire types issue 12 adds (attention, agent output, moved beads, escalation notes), written
 * exactly as the shared contract gives them, for the dashboard to build against while the server
 * branches add them to party/protocol.ts. Once they are there, this module only re-exports them.
 */
import type { AgentStatus, Bead, ConvoyBead, Escalation, RigSummary, Severity } from "../../../party/protocol.ts";

export type AttentionItem = {
  kind: "failed_bead" | "escalation" | "agent" | "waiting_mail" | "rig_error";
  /** bead id | escalation id | agent identity | rig id */
  id: string;
  /** bead title | escalation title | identity | rig name */
  title: string;
  /** why: the failure, severity + from, "stalled for 3 min", "2 unread mails", the clone error */
  detail: string;
  severity?: Severity;
  /** since when */
  at: number;
};

export type SummaryNext = RigSummary & {
  polecats?: Record<AgentStatus, number>;
  attention?: AttentionItem[];
  /** 24 counts, [23] = the current hour. */
  closedByHour?: number[];
};

export type BeadNext = Bead & {
  movedTo?: { rig: string; beadId: string };
  movedFrom?: { rig: string; beadId: string };
};

export type EscalationNext = Omit<Escalation, "status"> & {
  status: "open" | "acknowledged" | "resolved";
  note?: string;
  acknowledgedAt?: number;
  resolvedAt?: number;
};

export type ConvoyBeadNext = ConvoyBead & { doneAt?: number };

export type OutputLine = { seq: number; at: number; stream: "out" | "err"; text: string };
export type RunInfo = {
  run: string;
  identity: string;
  beadId: string;
  startedAt: number;
  endedAt?: number;
  /** "exit 4", "signal SIGKILL", "stopped: …" */
  exit?: string;
  lines: number;
  bytes: number;
  dropped: number;
};
export type AgentLogResult = { run: RunInfo | null; runs: RunInfo[]; lines: OutputLine[]; next: number };

/** Frames of the agent output socket (`/parties/rig/<town>.<rigId>/output/<identity>`), server → client. */
export type OutputFrame = { type: "output"; run: RunInfo | null; lines: OutputLine[] } | { type: "run"; run: RunInfo };

export type BeadMoveResult = { bead_id: string; rig: string; moved_from: { rig: string; bead_id: string } };
