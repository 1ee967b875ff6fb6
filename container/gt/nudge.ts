/**
 * The witness's nudge as gt shows it. A nudge is not mail: the rig room hands it, once, on the reply
 * to the agent's next tool call (the `nudge` field of a reply: party/protocol/frames.ts Nudge),
 * whatever that call was. gt notes it when a reply carries one (http.ts) and shows it where the
 * agent reads: on stderr after any command, inside the block of `gt mail check --inject` (what a
 * coding CLI's hook puts in front of the model), and as a text of the tool result under `gt mcp`.
 */
import type { Nudge } from "../../party/protocol.ts";

const received: Nudge[] = [];

/** A reply carried a nudge (anything else in the field is ignored: it is the room's, but never trusted blindly). */
export function noteNudge(value: unknown): void {
  const n = value as Partial<Nudge> | null;
  if (!n || typeof n !== "object" || typeof n.subject !== "string" || typeof n.body !== "string") return;
  const nudge: Nudge = { from: typeof n.from === "string" ? n.from : "witness", at: typeof n.at === "number" ? n.at : 0, subject: n.subject, body: n.body };
  if (!received.some((r) => r.at === nudge.at && r.from === nudge.from && r.subject === nudge.subject)) received.push(nudge);
}

/** The nudges noted since last asked (each is shown once). */
export function takeNudges(): Nudge[] {
  return received.splice(0);
}

/** A nudge in words, for the agent (a model or a person). */
export function nudgeText(nudge: Nudge): string {
  return `Nudge from ${nudge.from}: ${nudge.subject}${nudge.body.trim() ? `\n${nudge.body.trimEnd()}` : ""}`;
}
