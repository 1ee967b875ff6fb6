/**
 * Every line the work machine writes for people: feed lines, history notes, how runs ended, the
 * witness's nudge and the escalations it raises. Kept in one place so a reader (or a translation)
 * finds them all, and so the rules that read a note back (a repeated merge report) read what was
 * written. Rules stay in the modules that decide; these only say.
 */
import type { BeadStatus, Budget, FeedTone, MergeFailure, Severity } from "../protocol.ts";

export function seconds(ms: number): string {
  return `${Math.round(ms / 1000)} s`;
}

/** A container id as people see it: its first 8 characters. */
export function short(id: string): string {
  return id.slice(0, 8);
}

/** A bead id as people see it: its last 8 characters (the random part of a ULID). */
export function short8(id: string): string {
  return id.slice(-8);
}

function said(note: string | undefined): string {
  return note ? `: ${note}` : "";
}

// ---------------------------------------------------------------------------------------------
// The lease and the room's clocks (W1–W5, W12)

export const lease = {
  paused: (gapMs: number) => `the rig room did not run for ${seconds(gapMs)}; every deadline starts again`,
  restarted: (container: string) => `container ${short(container)} restarted; its earlier runs are void`,
  granted: (container: string, epoch: number) => `container ${short(container)} serves the rig (epoch ${epoch})`,
  released: (container: string) => `container ${short(container)} released the rig`,
  expired: (container: string) => `container ${short(container)} missed its lease deadline and lost the rig`,
  closeExpired: "lease expired: no renewal in time",
  closeStandby: "standby missed its deadline",
  /** Why an epoch's runs are void (W5). */
  voidChanged: (epoch: number) => `its container changed (epoch ${epoch})`,
  voidReleased: "its container released the rig",
  voidExpired: "its container missed its lease deadline",
  runLost: (identity: string, why: string) => `${identity}'s run was lost: ${why}`,
  lostExit: (why: string) => `lost: ${why}`,
  beadBack: (beadId: string, identity: string, why: string) => `bead ${short8(beadId)} back to open: ${identity}'s run was lost (${why})`,
};

// ---------------------------------------------------------------------------------------------
// Runs (W7–W9, W11, W15)

export const runs = {
  stopGivenUp: (stopTimeoutMs: number) => `stop not acknowledged in ${seconds(stopTimeoutMs)}`,
  stopGivenUpLine: (identity: string) => `${identity}: stop not acknowledged; given up`,
  silent: (silentMs: number) => `no heartbeat for ${seconds(silentMs)}`,
  deadNote: (identity: string, why: string) => `witness: ${identity} dead (${why})`,
  deadLine: (identity: string, why: string) => `${identity} is dead (${why})`,
  stalledLine: (identity: string, silentMs: number) => `${identity} is stalled (no heartbeat for ${seconds(silentMs)})`,
  idle: (idleMs: number) => `no progress for ${seconds(idleMs)}`,
  unanswered: (idleMs: number, sinceDeliveredMs: number) => `no progress for ${seconds(idleMs)}, none since its nudge ${seconds(sinceDeliveredMs)} ago`,
  hung: (why: string) => `hung: ${why}`,
  hungLine: (identity: string, why: string) => `${identity} hung (${why}); stopped`,
  nudgedLine: (identity: string, idleMs: number) => `${identity} made no progress for ${seconds(idleMs)}; nudged`,
  nudgeDeliveredLine: (identity: string, idleMs: number) => `${identity} got its nudge (no progress for ${seconds(idleMs)})`,
  /** The nudge's sender, as an address. */
  witness: (rigName: string) => `${rigName}/witness`,
  nudgeSubject: (idleMs: number) => `nudge: no progress for ${seconds(idleMs)}`,
  nudgeBody: (beadId: string, title: string | undefined, idleMs: number, stopInMs: number) =>
    `You hold bead ${beadId}${title !== undefined ? ` (${title})` : ""} and have made no progress (no output, no tool call) for ${seconds(idleMs)}. ` +
    `Carry on, call gt done, or gt escalate; without progress your run is stopped in ${seconds(stopInMs)}.`,
  stoppedExit: (exit: string, reason: string | undefined) => `${exit} (stopped: ${reason ?? "stop"})`,
  handedIn: "handed its bead in; its exit is not reported yet",
  exitedNote: (identity: string, exit: string) => `${identity} exited (${exit}) before done`,
  exitedLine: (identity: string, exit: string, beadId: string) => `${identity} exited (${exit}) before finishing bead ${short8(beadId)}`,
  /** W15: why an operator ended a run. */
  byOperator: (how: "stop" | "restart", reason: string | undefined) => `${how === "stop" ? "stopped" : "restarted"} by the operator${said(reason)}`,
  operatorFailedLine: (beadId: string, identity: string, why: string) => `bead ${short8(beadId)} failed: ${identity} ${why}`,
  operatorNote: (identity: string, why: string) => `${identity} ${why}`,
};

// ---------------------------------------------------------------------------------------------
// Beads: creation, dispatch, hand-in, the operator's actions (W0, W10, W14, W16, W17)

export const beads = {
  createdNote: (from: string | undefined) => (from !== undefined ? `created: moved from ${from}` : "created"),
  createdLine: (beadId: string, title: string, from: string | undefined) =>
    `bead ${short8(beadId)} ${from !== undefined ? `moved here from rig ${from}` : "created"}: ${title}`,
  hookedNote: (identity: string) => `hooked to ${identity}`,
  hookedLine: (identity: string, beadId: string, title: string) => `${identity} hooked bead ${short8(beadId)}: ${title}`,
  doneNote: (summary: string | undefined) => (summary ? `done: ${summary.slice(0, 200)}` : "done"),
  doneLine: (identity: string, beadId: string, branch: string) => `${identity} finished bead ${short8(beadId)}; merging ${branch}`,
  setNote: "set by operator",
  setFailure: "set failed by the operator",
  setStopReason: (beadId: string, status: BeadStatus) => `bead ${beadId} set ${status} by the operator`,
  setLine: (beadId: string, from: BeadStatus, to: BeadStatus) => `bead ${short8(beadId)} ${from} → ${to} (operator)`,
  retriedNote: (attempts: number, note: string | undefined) => `retried by the operator (attempts ${attempts} → 0)${said(note)}`,
  retriedLine: (beadId: string) => `bead ${short8(beadId)} retried by the operator`,
  moveStopReason: (beadId: string, toRig: string) => `bead ${beadId} moved to rig ${toRig} by the operator`,
  movedNote: (toRig: string) => `moved to ${toRig}`,
  movedLine: (beadId: string, toRig: string, stopped: string | undefined) =>
    `bead ${short8(beadId)} moved to rig ${toRig}${stopped ? `; ${stopped} stopped` : ""}`,
  gaveUp: (note: string, attempts: number) => `${note}; gave up after ${attempts} runs`,
  failedAfterLine: (beadId: string, attempts: number, note: string) => `bead ${short8(beadId)} failed after ${attempts} runs: ${note}`,
  failedLine: (beadId: string, why: string) => `bead ${short8(beadId)} failed: ${why}`,
};

// ---------------------------------------------------------------------------------------------
// Merges (W10): what a report writes, and how a repeated report is recognised by it

export const merges = {
  merged: (commit: string | undefined, late: boolean) => `merged ${commit?.slice(0, 8) ?? ""}${late ? " (reported late)" : ""}`.trim(),
  mergedLine: (beadId: string) => `bead ${short8(beadId)} merged into the default branch`,
  lateLine: (beadId: string) => `bead ${short8(beadId)} merged after all (reported late)`,
  askedAgainLine: (beadId: string, timeoutMs: number, attempt: number, tries: number) =>
    `merge of bead ${short8(beadId)} not reported in ${seconds(timeoutMs)}; asked again (try ${attempt} of ${tries})`,
  neverReported: (tries: number) => `merge not reported after ${tries} tries`,
  branchMissingNote: (branch: string | undefined, error: string) => `merge: branch ${branch ?? ""} is not in the serving container's clone (${error}); redone`,
  branchMissingLine: (beadId: string) => `bead ${short8(beadId)}: its branch was lost with its container; redone`,
  nothingNote: "merge: nothing to merge: the branch has no commits of its own",
  nothingLine: (beadId: string) => `bead ${short8(beadId)}: nothing to merge; back to open`,
  failedNote: (error: string) => `merge failed: ${error}`,
  failedLine: (beadId: string, failure: MergeFailure) => `merge of bead ${short8(beadId)} failed (${failure}); bead reopened`,
  /** Whether a history note is the one a failure report of this kind and error wrote (directly, or as the last attempt's). */
  wrote(note: string, failure: MergeFailure, error: string): boolean {
    if (failure === "branch_missing") return note.startsWith("merge: branch ") && note.includes(` (${error}); redone`);
    if (failure === "nothing_to_merge") return note.startsWith("merge: nothing to merge");
    return note === merges.failedNote(error) || note.startsWith(`${merges.failedNote(error)}; gave up after `);
  },
};

// ---------------------------------------------------------------------------------------------
// Escalations the machine raises (W10, W11) and the operator's (W19)

export const escalations = {
  neverReportedTitle: (title: string) => `Merge never reported: ${title}`,
  neverReportedBody: (branch: string | undefined, tries: number) =>
    `The refinery was asked to merge ${branch ?? "the bead's branch"} ${tries} times and never answered. The bead failed; retry it once the container is healthy.`,
  mergeTitle: (failure: "conflict" | "push_failed", title: string) => `${failure === "conflict" ? "Merge conflict" : "Merge failed"}: ${title}`.slice(0, 200),
  mergeBody: (error: string | undefined, files: readonly string[] | undefined) =>
    `${error ?? "The branch does not merge cleanly."}${files?.length ? `\n\nConflicting files:\n${files.map((f) => `- ${f}`).join("\n")}` : ""}` +
    "\n\nThe bead is open again and will be redone from the current default branch.",
  failedTitle: (title: string) => `Bead failed: ${title}`.slice(0, 200),
  failedBody: (attempts: number, note: string) => `Its runs failed ${attempts} times; the last time: ${note}.`,
  raisedLine: (from: string, title: string) => `${from}: ${title}`,
  /** W23: the note on an escalation the machine resolved itself. */
  systemNote: (why: string) => `resolved by the system: bead ${why}`,
  systemResolvedLine: (title: string, why: string) => `escalation "${title}" resolved by the system: bead ${why}`,
  updatedLine: (title: string, to: "acknowledged" | "resolved", note: string | undefined) =>
    `escalation "${title}" ${to} by the operator${note ? `: ${note.length > 200 ? `${note.slice(0, 199)}…` : note}` : ""}`,
};

/** An escalation's tone in a feed: critical and high ones are failures, the others a warning. */
export function escalationTone(severity: Severity): FeedTone {
  return severity === "critical" || severity === "high" ? "bad" : "warn";
}

// ---------------------------------------------------------------------------------------------
// The rig (W20) and its polecats

export const rig = {
  created: (name: string) => `rig ${name} created`,
  ready: (name: string) => `rig ${name} ready`,
  /** The container words the rig's error itself ("clone failed: …", "agents of this rig cannot run …"). */
  unusable: (error: string) => error,
  resized: (from: number, to: number) => `max polecats ${from} → ${to}`,
  registered: (identity: string) => `${identity} registered`,
};

// ---------------------------------------------------------------------------------------------
// Budgets (W22)

/** A number of tokens as people read it: 1,234,567. */
export function tokenCount(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

/** An amount in USD as people read it: $5.02, or $0.0042 under a cent. */
export function usdText(n: number): string {
  if (n === 0) return "$0";
  return n < 0.01 ? `$${n.toFixed(4)}` : `$${n.toFixed(2)}`;
}

export const budgets = {
  /** A budget in words: "$5.00 a day", "2,000,000 tokens a day". */
  describe: (budget: Budget) => (budget.unit === "usd" ? `${usdText(budget.daily)} a day` : `${tokenCount(budget.daily)} tokens a day`),
  /** Spend against a budget: "$5.02 of $5.00", "1,200,000 of 1,000,000 tokens". */
  figures: (budget: Budget, spent: number) =>
    budget.unit === "usd" ? `${usdText(spent)} of ${usdText(budget.daily)}` : `${tokenCount(spent)} of ${tokenCount(budget.daily)} tokens`,
  rigReached: (figures: string) => `the rig's daily budget is reached (${figures} today, UTC)`,
  /** The town's reason is the town's words (it says its figures). */
  heldLine: (reason: string) => `no new run starts: ${reason}`,
  releasedLine: (why: string) => `runs start again: ${why}`,
  newDay: "a new day began (UTC)",
  rigRaised: (budget: Budget | undefined) => (budget ? `the rig's budget is ${budgets.describe(budget)}` : "the rig's budget was cleared"),
  townCleared: "the town's budget is no longer reached",
  setLine: (budget: Budget | null) => (budget ? `daily budget set: ${budgets.describe(budget)} (UTC days)` : "daily budget cleared"),
};
