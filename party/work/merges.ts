/**
 * W10 — merges: the refinery's report of a bead in review closes it, reopens it (an attempt counted,
 * or not when its branch was lost) or fails it at its last attempt; a merge not reported in time is
 * asked again, and after the last try the bead fails. A repeated report answers as the first did.
 */
import { ToolError, type Bead, type MergeFailure } from "../protocol.ts";
import { returned } from "./attempts.ts";
import { requireBead } from "./beads.ts";
import { resolveFailure } from "./escalations.ts";
import type { EventOf } from "./events.ts";
import type { Overlay } from "./overlay.ts";
import { failed, mergeCommand, withStatus } from "./records.ts";
import { beads as said, escalations, merges as say } from "./words.ts";

type MergeReport = EventOf<"merge_result">;

/** A failure report without its kind: a conflict when it lists conflicting files, else a refused push. */
function failureOf(event: MergeReport): MergeFailure {
  return event.failure ?? (event.conflictFiles?.length ? "conflict" : "push_failed");
}

export function mergeResult(tx: Overlay, event: MergeReport): Bead {
  const bead = requireBead(tx, event.beadId);
  const merged = (b: Bead, late: boolean): Bead => {
    const next: Bead = withStatus(b, "closed", tx.now, say.merged(event.mergeCommit, late));
    delete next.until;
    delete next.failure;
    if (event.mergeCommit) next.mergeCommit = event.mergeCommit;
    return next;
  };
  if (bead.status === "failed" && event.ok && bead.failure?.startsWith("merge not reported")) {
    // The refinery did merge it after all: the remote is the truth.
    tx.setBead(merged(bead, true));
    resolveFailure(tx, bead.id, "merged after all");
    tx.feed("merge", say.lateLine(bead.id), { tone: "good", bead: bead.id });
    return tx.bead(bead.id)!;
  }
  if (bead.status !== "in_review") {
    // A repeated report (a lost reply) answers as the first did; any other report of a bead not in review is refused.
    if (sameReport(bead, event)) return bead;
    throw new ToolError("CONFLICT", `bead ${bead.id} is ${bead.status}, not in review: no merge of it is awaited`);
  }
  if (event.ok) {
    tx.setBead(merged(bead, false));
    tx.feed("bead", say.mergedLine(bead.id), { tone: "good", bead: bead.id, agent: bead.assignee });
    return tx.bead(bead.id)!;
  }
  const failure = failureOf(event);
  const error = (event.error ?? failure).slice(0, 200);
  switch (failure) {
    case "branch_missing":
      // Lost with the container that had it: redone, and not the bead's fault.
      returned(tx, bead, say.branchMissingNote(bead.branch, error), false);
      tx.feed("merge", say.branchMissingLine(bead.id), { bead: bead.id });
      break;
    case "nothing_to_merge":
      returned(tx, bead, say.nothingNote, true);
      tx.feed("merge", say.nothingLine(bead.id), { tone: "warn", bead: bead.id, agent: bead.assignee });
      break;
    case "conflict":
    case "push_failed": {
      // At its last attempt the bead fails, with one escalation that says why (returned()).
      const last = (bead.attempts ?? 0) + 1 >= tx.config.maxRuns;
      if (!last) {
        tx.escalate({
          from: `${tx.config.rigName}/refinery`,
          title: escalations.mergeTitle(failure, bead.title),
          body: escalations.mergeBody(event.error, event.conflictFiles),
          severity: "high",
          beadId: bead.id,
        });
      }
      returned(tx, bead, say.failedNote(error), true);
      tx.feed("merge", say.failedLine(bead.id, failure), { tone: "warn", bead: bead.id, agent: bead.assignee });
      break;
    }
  }
  return tx.bead(bead.id)!;
}

/**
 * Whether a report for a bead no longer in review repeats the one already applied (a lost reply, or
 * the report of an earlier try of the same merge): the same outcome, as the bead's history recorded
 * it. `ok`: the bead closed by that merge commit; a failure: the bead reopened (or failed) with the
 * note that failure wrote, and not handed in since.
 */
function sameReport(bead: Bead, event: MergeReport): boolean {
  const history = bead.history ?? [];
  if (event.ok) return bead.status === "closed" && !bead.movedTo && bead.mergeCommit === event.mergeCommit && (history.at(-1)?.note ?? "").startsWith("merged");
  const failure = failureOf(event);
  const error = (event.error ?? failure).slice(0, 200);
  const reopened = bead.status === "open" || bead.status === "in_progress" || bead.status === "failed";
  return reopened && history.some((h) => (h.status === "open" || h.status === "failed") && say.wrote(h.note ?? "", failure, error));
}

/** W10: a merge not reported by its deadline is asked again, until the last try: then the bead fails. */
export function mergeDeadlines(tx: Overlay): void {
  const { now, config } = tx;
  for (const bead of [...tx.allBeads()]) {
    if (bead.status !== "in_review" || bead.until === undefined || now <= bead.until) continue;
    const tries = bead.mergeTries ?? 1;
    if (tries < config.mergeTries) {
      // The refinery did not report in time: ask again (merges are idempotent per bead).
      const next: Bead = { ...bead, mergeTries: tries + 1, until: now + config.mergeTimeoutMs };
      tx.setBead(next);
      tx.effect({ kind: "command", command: mergeCommand(next) });
      tx.feed("merge", say.askedAgainLine(bead.id, config.mergeTimeoutMs, tries + 1, config.mergeTries), { bead: bead.id });
    } else {
      const why = say.neverReported(tries);
      tx.setBead(failed(bead, now, why));
      const [title, body] = [escalations.neverReportedTitle(bead.title), escalations.neverReportedBody(bead.branch, tries)];
      tx.escalate({ from: `${config.rigName}/refinery`, title, body, severity: "high", beadId: bead.id, cause: "bead_failed" });
      tx.feed("failed", said.failedLine(bead.id, why), { bead: bead.id });
    }
  }
}
