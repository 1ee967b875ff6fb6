/**
 * W19 — escalations: open → acknowledged (someone is on it) → resolved. Agents raise them (once per
 * id), the machine raises its own (W10, W11), and an operator acknowledges or resolves them, live or
 * moved to storage by retention. A repeat answers the same; acknowledging a resolved one is CONFLICT.
 */
import { LIMITS, ToolError, type Escalation } from "../protocol.ts";
import type { EventOf } from "./events.ts";
import type { Overlay } from "./overlay.ts";
import type { EscalationSpec } from "./types.ts";
import { escalations as say, escalationTone } from "./words.ts";

/** The record of a new escalation: the store stamps the machine's own the same way, with an id of its making. */
export function escalationRecord(spec: EscalationSpec & { id: string }, now: number): Escalation {
  const { beadId, id, ...rest } = spec;
  return { ...rest, ...(beadId ? { beadId } : {}), id, createdAt: now, status: "open" };
}

/** An escalation raised through gt_escalate: recorded once per id. */
export function raise(tx: Overlay, event: EventOf<"escalate">): Escalation {
  const spec = event.escalation;
  const existing = tx.escalation(spec.id);
  if (existing) return existing;
  tx.escalate(spec);
  tx.feed("escalation", say.raisedLine(spec.from, spec.title), { tone: escalationTone(spec.severity), agent: spec.from, bead: spec.beadId });
  return escalationRecord(spec, tx.now);
}

/**
 * W23: the escalations the machine raised when `beadId` failed (`cause` bead_failed: never an
 * agent's) and that are still open or acknowledged, resolved by the machine in the same step as the
 * bead's change, with a note that says why: the failure they report is over.
 */
export function resolveFailure(tx: Overlay, beadId: string, why: string): void {
  for (const e of [...tx.allEscalations()]) {
    if (e.cause !== "bead_failed" || e.beadId !== beadId || e.status === "resolved") continue;
    const note = say.systemNote(why);
    // Kept with the operators' notes, so the escalation's whole story reads in order.
    const notes = [...(e.notes ?? []), { at: tx.now, status: "resolved" as const, note }].slice(-LIMITS.escalationNotesKept);
    tx.setEscalation(e, { ...e, status: "resolved", resolvedAt: tx.now, note, notes });
    tx.feed("escalation_resolved", say.systemResolvedLine(e.title, why), { bead: beadId });
  }
}

/** An operator acknowledges or resolves an escalation, with an optional note (the last one is kept). */
export function update(tx: Overlay, event: EventOf<"escalation_update">): Escalation {
  const { id, to, note } = event;
  const escalation = tx.escalation(id) ?? event.stored;
  if (!escalation) throw new ToolError("INVALID_ARGS", `no escalation ${id}`);
  if (escalation.status === "resolved" && to === "acknowledged") throw new ToolError("CONFLICT", `escalation ${id} is resolved already`);
  const repeat = escalation.status === to;
  if (repeat && (note === undefined || note === escalation.note)) return escalation;
  const next: Escalation = { ...escalation, status: to, ...(note !== undefined ? { note } : {}) };
  // Each note is kept, not only the last: the acknowledgement's still reads beside the resolution's.
  if (note !== undefined) next.notes = [...(escalation.notes ?? []), { at: tx.now, status: to, note }].slice(-LIMITS.escalationNotesKept);
  if (!repeat) {
    if (to === "acknowledged") next.acknowledgedAt = tx.now;
    else next.resolvedAt = tx.now;
  }
  tx.setEscalation(escalation, next);
  if (!repeat) tx.feed(`escalation_${to}`, say.updatedLine(escalation.title, to, note));
  return next;
}
