/**
 * The work lifecycle's transitions, as data: for each machine (a bead's status, a polecat's run, the
 * container lease, an escalation, the rig's clone, the rig's dispatch held by a budget), which state may become which on which event, and
 * the rule (docs/lifecycle.md) that says so. The machine checks every change it makes against these
 * rows (overlay.ts): a change that is not a row is a bug, never a silent new state. docs/lifecycle.md
 * shows the same rows ("The transition table"); a test holds the two together.
 *
 * Adding a state or an event: add its rows here (and to the doc), then the rule that takes them.
 * Only changes are rows: a state that stays what it was needs none.
 */
import type { BeadStatus, Escalation, RigStatus } from "../protocol.ts";
import type { WorkEventType } from "./events.ts";

/** One row: from this state, on this event, to any of these states, by these rules (ids of docs/lifecycle.md, comma-separated). */
export type Row<S extends string> = readonly [from: S, on: WorkEventType, to: readonly S[], rules: string];

/** A bead before it exists is `none`. */
export type BeadState = BeadStatus | "none";
/** A polecat's run (Agent.run.state), `none` without one. */
export type RunState = "none" | "starting" | "running" | "stopping";
/** The lease: no holder, a connected holder, or a holder reconnecting (its socket gone, W2). */
export type LeaseMode = "vacant" | "held" | "away";
export type EscalationState = Escalation["status"] | "none";
export type CloneState = Exclude<RigStatus, "removing">;
/** The rig's dispatch: free, or held by a budget reached (W22). */
export type HoldState = "none" | "held";

const VOIDED = ["container_connected", "container_disconnected", "container_release"] as const;
const RUN_STOPPED_BY = { operator_set_status: "W18", operator_move: "W16", operator_stop_agent: "W15", operator_restart_agent: "W15" } as const;
const OPERATOR_STOPS = Object.keys(RUN_STOPPED_BY) as (keyof typeof RUN_STOPPED_BY)[];
/** The events that retry, close or move a failed bead (W14, W18, W16; a late merge, W10): each ends its failure's escalation (W23). */
const SYSTEM_RESOLVES = ["operator_retry", "operator_set_status", "operator_move", "merge_result"] as const;

export const BEAD_ROWS: readonly Row<BeadState>[] = [
  ["none", "bead_create", ["open"], "W17"],
  ["open", "dispatch", ["in_progress"], "W0"],
  ["in_progress", "done", ["in_review"], "W10"],
  ["in_review", "merge_result", ["closed", "open", "failed"], "W10, W11"],
  ["failed", "merge_result", ["closed"], "W10"],
  ["in_progress", "agent_exited", ["open", "failed"], "W11"],
  ["in_progress", "tick", ["open", "failed"], "W5, W7, W8, W11"],
  ["in_review", "tick", ["failed"], "W10"],
  ...VOIDED.map((on): Row<BeadState> => ["in_progress", on, ["open"], "W5"]),
  ["open", "operator_set_status", ["closed", "failed"], "W18"],
  ["in_progress", "operator_set_status", ["open", "closed", "failed"], "W18"],
  ["in_review", "operator_set_status", ["open", "closed", "failed"], "W18"],
  ["closed", "operator_set_status", ["open", "failed"], "W18"],
  ["failed", "operator_set_status", ["open"], "W14"],
  ["failed", "operator_set_status", ["closed"], "W18"],
  ["failed", "operator_retry", ["open"], "W14"],
  ["in_progress", "operator_stop_agent", ["failed"], "W15"],
  ["in_progress", "operator_restart_agent", ["open"], "W15"],
  ["open", "operator_move", ["closed"], "W16"],
  ["in_progress", "operator_move", ["closed"], "W16"],
  ["failed", "operator_move", ["closed"], "W16"],
];

export const RUN_ROWS: readonly Row<RunState>[] = [
  ["none", "dispatch", ["starting"], "W0"],
  ["starting", "agent_started", ["running"], "W0"],
  ["starting", "done", ["none"], "W10"],
  ["running", "done", ["none"], "W10"],
  ["starting", "agent_exited", ["none"], "W11"],
  ["running", "agent_exited", ["none"], "W11"],
  ["stopping", "agent_exited", ["none"], "W9"],
  ["starting", "tick", ["stopping", "none"], "W5, W7"],
  ["running", "tick", ["stopping", "none"], "W5, W7, W8"],
  ["stopping", "tick", ["none"], "W5, W9"],
  ...VOIDED.flatMap((on) => (["starting", "running", "stopping"] as const).map((from): Row<RunState> => [from, on, ["none"], "W5"])),
  ...OPERATOR_STOPS.flatMap((on) => (["starting", "running"] as const).map((from): Row<RunState> => [from, on, ["stopping"], RUN_STOPPED_BY[on]])),
];

export const LEASE_ROWS: readonly Row<LeaseMode>[] = [
  ["vacant", "container_connected", ["held"], "W1"],
  ["away", "container_connected", ["held"], "W1"],
  ["held", "container_disconnected", ["away"], "W2"],
  ["held", "container_release", ["vacant"], "W3"],
  ["away", "container_release", ["vacant"], "W3"],
  ["vacant", "container_release", ["held"], "W3"],
  ["held", "tick", ["vacant"], "W3"],
  ["away", "tick", ["vacant"], "W3"],
  ["vacant", "tick", ["held"], "W3"],
  ["held", "room_started", ["away"], "W12"],
];

export const ESCALATION_ROWS: readonly Row<EscalationState>[] = [
  ["none", "escalate", ["open"], "W19"],
  ["none", "merge_result", ["open"], "W10, W11"],
  ["none", "tick", ["open"], "W10, W11"],
  ["none", "agent_exited", ["open"], "W11"],
  ["open", "escalation_update", ["acknowledged", "resolved"], "W19"],
  ["acknowledged", "escalation_update", ["resolved"], "W19"],
  // W23: the machine's own escalation for a failed bead, resolved when that bead is retried, closed or moved.
  ...SYSTEM_RESOLVES.flatMap((on) => (["open", "acknowledged"] as const).map((from): Row<EscalationState> => [from, on, ["resolved"], "W23"])),
];

export const CLONE_ROWS: readonly Row<CloneState>[] = [
  ["cloning", "clone_reported", ["ready", "error"], "W20"],
  ["ready", "clone_reported", ["error"], "W20"],
  ["error", "clone_reported", ["ready"], "W20"],
];

/** Dispatch is held while a budget is reached, and free again when none is; only dispatch decides (W22). */
export const HOLD_ROWS: readonly Row<HoldState>[] = [
  ["none", "dispatch", ["held"], "W22"],
  ["held", "dispatch", ["none"], "W22"],
];

/** Every machine's rows by name, as docs/lifecycle.md lists them. */
export const TABLES = { bead: BEAD_ROWS, run: RUN_ROWS, lease: LEASE_ROWS, escalation: ESCALATION_ROWS, clone: CLONE_ROWS, hold: HOLD_ROWS } as const;
export type Machine = keyof typeof TABLES;

const allowed = new Map<Machine, ReadonlySet<string>>(
  Object.entries(TABLES).map(([machine, rows]) => {
    const changes = (rows as readonly Row<string>[]).flatMap(([from, on, to]) => to.map((t) => `${from} ${on} ${t}`));
    return [machine as Machine, new Set(changes)];
  }),
);

/** Whether `machine` may go from `from` to `to` on `on` (staying the same is always allowed). */
export function allows(machine: Machine, from: string, on: WorkEventType, to: string): boolean {
  return from === to || allowed.get(machine)!.has(`${from} ${on} ${to}`);
}

/** Refuses a change that is not a row: the machine would otherwise make up a state nobody documented. */
export function checkRow(machine: Machine, from: string, on: WorkEventType, to: string): void {
  if (!allows(machine, from, on, to)) throw new Error(`work table: ${machine} ${from} → ${to} on ${on} is not a row of party/work/table.ts`);
}
