/**
 * The work lifecycle as one pure function: `step(state, event, now)` applies one event and returns
 * the records that changed, the new lease, the effects to carry out and the reply. A refused event
 * throws a ToolError and changes nothing. Each event has one handler below, which says whether the
 * step looks at the clocks first (W12) and dispatches after (W0).
 */
import { setBudget, townBudget } from "./budget.ts";
import { cloneReported, register, resize } from "./clone.ts";
import { create, done, edit, moveOut, retry, setStatus } from "./beads.ts";
import { observe, resetClocks } from "./clocks.ts";
import { dispatch } from "./dispatch.ts";
import { raise, update } from "./escalations.ts";
import type { EventOf, Replies, ReplyOf, Transition, WorkEvent, WorkEventType } from "./events.ts";
import { connect, disconnect, leaseDeadlines, release, renew, requireEpoch } from "./lease.ts";
import { mergeDeadlines, mergeResult } from "./merges.ts";
import { Overlay } from "./overlay.ts";
import { mergeCommand, runCommand } from "./records.ts";
import { exited, heard, runDeadlines, started, stopAgent } from "./runs.ts";
import type { OwedCommand, WorkState } from "./types.ts";

type Handler<K extends WorkEventType> = {
  /**
   * A lifecycle event starts with the pause check (W12) and marks the room as seen running; an
   * event that only records (a new bead, an edit, an escalation, the clone) touches no clock.
   */
  clocks: boolean;
  /** Dispatch in the same step (W0): not after events that can neither free a polecat nor add work. */
  dispatch: boolean;
  run: (tx: Overlay, event: EventOf<K>) => Replies[K];
};

const LIFECYCLE = { clocks: true, dispatch: true } as const;
/** Can neither free a polecat nor add work: dispatch would find nothing new. */
const NO_DISPATCH = { clocks: true, dispatch: false } as const;
const RECORD = { clocks: false, dispatch: false } as const;

const HANDLERS: { [K in WorkEventType]: Handler<K> } = {
  room_started: { ...LIFECYCLE, run: (tx) => (resetClocks(tx, true), null) },
  tick: {
    ...LIFECYCLE,
    run: (tx) => {
      if (leaseDeadlines(tx)) {
        runDeadlines(tx);
        mergeDeadlines(tx);
      }
      return null;
    },
  },
  dispatch: { ...LIFECYCLE, run: () => null },
  container_connected: { ...LIFECYCLE, run: (tx, e) => connect(tx, e.connection, e.container, e.session) },
  container_disconnected: { ...LIFECYCLE, run: (tx, e) => (disconnect(tx, e.connection), null) },
  container_renew: { ...NO_DISPATCH, run: (tx, e) => renew(tx, e.connection, e.epoch, e.agents) },
  container_release: { ...LIFECYCLE, run: (tx, e) => (release(tx, e.connection, e.epoch), null) },
  agent_heartbeat: {
    ...NO_DISPATCH,
    run: (tx, e) => {
      if (e.epoch !== null) requireEpoch(tx.lease, e.epoch);
      heard(tx, e.identity, false, e.run);
      return null;
    },
  },
  agent_activity: { ...NO_DISPATCH, run: (tx, e) => (heard(tx, e.identity, true, e.run), null) },
  agent_started: { ...NO_DISPATCH, run: (tx, e) => (requireEpoch(tx.lease, e.epoch), started(tx, e)) },
  agent_exited: { ...LIFECYCLE, run: (tx, e) => (requireEpoch(tx.lease, e.epoch), exited(tx, e)) },
  done: { ...LIFECYCLE, run: done },
  merge_result: { ...LIFECYCLE, run: (tx, e) => (requireEpoch(tx.lease, e.epoch), mergeResult(tx, e)) },
  operator_set_status: { ...LIFECYCLE, run: (tx, e) => setStatus(tx, e.beadId, e.status) },
  operator_retry: { ...LIFECYCLE, run: (tx, e) => retry(tx, e.beadId, e.note) },
  operator_stop_agent: { ...LIFECYCLE, run: (tx, e) => stopAgent(tx, e.identity, "stop", e.reason) },
  operator_restart_agent: { ...LIFECYCLE, run: (tx, e) => stopAgent(tx, e.identity, "restart", e.reason) },
  operator_move: { ...LIFECYCLE, run: moveOut },
  bead_create: { ...RECORD, run: create },
  bead_edit: { ...RECORD, run: edit },
  agent_register: { ...RECORD, run: (tx, e) => register(tx, e.name) },
  escalate: { ...RECORD, run: raise },
  escalation_update: { ...RECORD, run: update },
  clone_reported: { ...RECORD, run: cloneReported },
  rig_resize: { ...RECORD, run: (tx, e) => resize(tx, e.maxPolecats) },
  // A budget set or the town's notice is judged by the dispatch of the same step (W22).
  budget_set: { ...LIFECYCLE, run: (tx, e) => setBudget(tx, e.budget) },
  town_budget: { ...LIFECYCLE, run: townBudget },
};

/** Applies one event. Throws ToolError, changing nothing, when the event is refused. */
export function step<E extends WorkEvent>(state: WorkState, event: E, now: number): Transition<ReplyOf<E>> {
  const handler = HANDLERS[event.type] as unknown as Handler<E["type"]>;
  const tx = new Overlay(state, now, event.type);
  if (handler.clocks) observe(tx); // W12: a room that did not run blames nobody for the gap
  const reply = handler.run(tx, event as never) as ReplyOf<E>;
  if (handler.dispatch) dispatch(tx);
  return tx.result(reply, handler.clocks);
}

/** Every command the lease holder is owed in this state (sent again whenever a lease is granted). */
export function owedCommands(state: Pick<WorkState, "beads" | "agents">): OwedCommand[] {
  const owed: OwedCommand[] = [];
  for (const agent of state.agents.values()) {
    const command = runCommand(agent);
    if (command) owed.push(command);
  }
  for (const bead of state.beads.values()) if (bead.status === "in_review") owed.push(mergeCommand(bead));
  return owed;
}
