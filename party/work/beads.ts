/**
 * Beads: created (W17), edited by an operator (W18), handed in (gt_done, W10), and the operator's
 * actions on them: a status set, a retry (W14), a move to another rig (W16). Merges are in merges.ts.
 */
import { LIMITS, ToolError, type Agent, type Bead, type BeadStatus } from "../protocol.ts";
import type { EventOf } from "./events.ts";
import type { Overlay } from "./overlay.ts";
import { clearRun, mergeCommand, withStatus } from "./records.ts";
import { resolveFailure } from "./escalations.ts";
import { owner, requireAgent, stopRun } from "./runs.ts";
import { beads as say, runs as runsSay } from "./words.ts";

export function requireBead(tx: Overlay, id: string): Bead {
  const bead = tx.bead(id);
  if (!bead) throw new ToolError("UNKNOWN_BEAD", `no bead ${id} in rig ${tx.config.rigName}`);
  return bead;
}

/**
 * W17: a bead is created once (a retried create, live or archived, answers the bead as it is), and
 * a rig holds at most GT_MAX_OPEN_BEADS unfinished beads. The new bead is dispatched in a step of its own.
 */
export function create(tx: Overlay, event: EventOf<"bead_create">): Bead {
  const fields = event.bead;
  const existing = tx.bead(fields.id) ?? event.archived;
  if (existing) return existing;
  const max = tx.config.maxOpenBeads ?? LIMITS.openBeadsPerRig;
  let unfinished = 0;
  for (const b of tx.state.beads.values()) if (b.status !== "closed" && b.status !== "failed") unfinished++;
  if (unfinished >= max) throw new ToolError("CONFLICT", `rig ${tx.config.rigName} has ${unfinished} unfinished beads; at most ${max}`);
  const from = fields.movedFrom?.rig;
  const bead: Bead = {
    ...fields,
    status: "open",
    createdAt: tx.now,
    updatedAt: tx.now,
    history: [{ at: tx.now, status: "open", note: say.createdNote(from) }],
    historyCount: 1,
  };
  tx.setBead(bead);
  tx.feed("bead", say.createdLine(bead.id, bead.title, from));
  tx.then = "dispatch";
  return bead;
}

/**
 * W18: an operator's edit. `in_progress` and `in_review` are dispatch's and gt_done's to set (the
 * same status again changes nothing); a bead in progress or in review is assigned to the polecat
 * that runs it; the other fields change freely.
 */
export function edit(tx: Overlay, event: EventOf<"bead_edit">): Bead {
  const bead = requireBead(tx, event.beadId);
  if (event.status !== undefined && event.status !== bead.status)
    throw new ToolError("INVALID_ARGS", "status: in_progress and in_review are set by dispatch and gt_done; use open, closed or failed");
  if (event.assignee !== undefined && (bead.status === "in_progress" || bead.status === "in_review")) {
    // Its run owns it (the work lifecycle); set it open first to take it back.
    throw new ToolError("CONFLICT", `bead ${bead.id} is ${bead.status}: its assignee is the polecat that runs it`);
  }
  const edits = Object.fromEntries(Object.entries(event.edits).filter(([, v]) => v !== undefined));
  if (!Object.keys(edits).length && event.assignee === undefined) return bead;
  const next: Bead = { ...bead, ...edits, updatedAt: tx.now };
  if (event.assignee === null) delete next.assignee;
  else if (event.assignee !== undefined) next.assignee = event.assignee;
  tx.setBead(next);
  return next;
}

/** W10: the polecat hands its bead in: in review, a merge owed; a repeat after a lost reply answers as the first did. */
export function done(tx: Overlay, event: EventOf<"done">): { bead_id: string; status: BeadStatus } {
  const agent = requireAgent(tx, event.identity);
  const run = agent.run;
  const live = run && run.state !== "stopping" ? run : undefined;
  // Not the agent's live run: a retried gt_done after a lost reply gets the answer it got the first
  // time, also once the bead was merged or the agent went on to its next run.
  if (!live || (event.run !== undefined && event.run !== live.id) || (event.run === undefined && agent.branch !== undefined && event.branch !== agent.branch)) {
    const handed = handedIn(tx, agent.identity, event.branch, event.run);
    if (handed) return { bead_id: handed.id, status: "in_review" };
  }
  if (!run || run.state === "stopping") {
    throw new ToolError(
      "CONFLICT",
      run ? `${agent.identity}'s run of bead ${run.bead} was stopped (${run.reason ?? "stopped"})` : `${agent.identity} has no hooked bead`,
    );
  }
  if (event.run !== undefined && event.run !== run.id)
    throw new ToolError("CONFLICT", `this run of ${agent.identity} is over; bead ${run.bead} belongs to run ${run.id}`);
  const bead = tx.bead(run.bead);
  if (!bead || bead.status !== "in_progress") throw new ToolError("CONFLICT", `bead ${run.bead} is ${bead?.status ?? "gone"}, not in_progress`);
  if (agent.branch && event.branch !== agent.branch) throw new ToolError("CONFLICT", `${agent.identity} works on branch ${agent.branch}, not ${event.branch}`);
  // Its last run is this one now; how it exits is reported after (runs.ts `exited` fills it in).
  const next: Agent = { ...agent, status: "idle", lastExit: runsSay.handedIn, lastRun: run.id };
  clearRun(next);
  tx.setAgent(next);
  tx.setLive(agent.identity, null);
  const review: Bead = {
    ...withStatus(bead, "in_review", tx.now, say.doneNote(event.summary)),
    branch: event.branch,
    mergeTries: 1,
    until: tx.now + tx.config.mergeTimeoutMs,
  };
  tx.setBead(review);
  tx.effect({ kind: "command", command: mergeCommand(review) });
  tx.feed("bead", say.doneLine(agent.identity, bead.id, event.branch), { bead: bead.id, agent: agent.identity });
  return { bead_id: bead.id, status: "in_review" };
}

/**
 * The bead `identity` handed in on `branch` (by `run`, when the call names one) that is still in
 * review or was merged since: what a repeated gt_done refers to. A bead reopened since (its merge
 * failed) or moved was not handed in for good: a repeat for it is refused.
 */
function handedIn(tx: Overlay, identity: string, branch: string, run: string | undefined): Bead | undefined {
  const handed = (b: Bead | undefined) =>
    b && b.assignee === identity && b.branch === branch && (b.status === "in_review" || (b.status === "closed" && !b.movedTo));
  if (run === undefined) return [...tx.allBeads()].find(handed);
  const [beadId, n] = run.split(".");
  const bead = tx.bead(beadId ?? "");
  return handed(bead) && bead!.runs === Number(n) ? bead : undefined;
}

/** W14: an operator sets a bead open, closed or failed; `open` on a failed bead is a retry. */
export function setStatus(tx: Overlay, beadId: string, status: "open" | "closed" | "failed"): Bead {
  const bead = requireBead(tx, beadId);
  if (status === bead.status) return bead;
  if (bead.movedTo) throw new ToolError("CONFLICT", `bead ${bead.id} was moved to rig ${bead.movedTo.rig} (as bead ${bead.movedTo.beadId}); act on that one`);
  if (status === "open" && bead.status === "failed") return retry(tx, beadId);
  let next = withStatus(bead, status, tx.now, say.setNote);
  delete next.until;
  if (status === "failed") next.failure = say.setFailure;
  else delete next.failure;
  const running = owner(tx, bead.id);
  if (running) stopRun(tx, running, say.setStopReason(bead.id, status));
  if (status === "open") {
    delete next.assignee;
    delete next.branch;
    next = { ...next };
  }
  tx.setBead(next);
  tx.feed(status === "failed" ? "failed" : "bead", say.setLine(bead.id, bead.status, status), { bead: bead.id });
  if (status === "closed") resolveFailure(tx, bead.id, "closed by the operator");
  return next;
}

/** W14: a failed bead open again, its attempts reset and its failure, assignee, branch and merge state cleared. */
export function retry(tx: Overlay, beadId: string, note?: string): Bead {
  const bead = requireBead(tx, beadId);
  if (bead.status !== "failed") throw new ToolError("CONFLICT", `bead ${bead.id} is ${bead.status}; only a failed bead is retried`);
  const next: Bead = { ...withStatus(bead, "open", tx.now, say.retriedNote(bead.attempts ?? 0, note)), attempts: 0 };
  delete next.failure;
  delete next.assignee;
  delete next.branch;
  delete next.until;
  delete next.mergeTries;
  tx.setBead(next);
  tx.feed("bead", say.retriedLine(bead.id), { bead: bead.id });
  resolveFailure(tx, bead.id, "retried by the operator");
  return next;
}

/**
 * W16: the bead leaves this rig for another: closed with `movedTo` and a history note, its run
 * stopped (no attempt counted). A bead closed (done, or moved already) or in review (its merge is
 * under way) is not moved; a bead moved already answers as it is, wherever it went, so the town
 * can tell a retry from a second move. A bead retention took out of the document is closed.
 */
export function moveOut(tx: Overlay, event: EventOf<"operator_move">): Bead {
  const bead = tx.bead(event.beadId) ?? event.archived ?? requireBead(tx, event.beadId);
  if (bead.movedTo) return bead;
  if (bead.status === "closed") throw new ToolError("CONFLICT", `bead ${bead.id} is closed (done); only unfinished work is moved`);
  if (bead.status === "in_review") throw new ToolError("CONFLICT", `bead ${bead.id} is in review: its merge is under way`);
  const running = owner(tx, bead.id);
  if (running) stopRun(tx, running, say.moveStopReason(bead.id, event.toRig));
  const next: Bead = { ...withStatus(bead, "closed", tx.now, say.movedNote(event.toRig)), movedTo: { rig: event.toRig, beadId: event.newBeadId } };
  delete next.until;
  delete next.mergeTries;
  delete next.failure;
  tx.setBead(next);
  tx.effect({ kind: "moved", beadId: bead.id, toRig: event.toRig, toRigId: event.toRigId, newBeadId: event.newBeadId });
  tx.feed("bead", say.movedLine(bead.id, event.toRig, running?.identity), { bead: bead.id });
  resolveFailure(tx, bead.id, `moved to rig ${event.toRig}`);
  return next;
}
