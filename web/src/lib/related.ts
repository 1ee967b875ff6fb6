/**
 * Which mail is about a bead: mail that names it, by its whole id or the short id the dashboard
 * shows (its last 8 characters), as a word of its own. Not mail to or from whoever holds the bead:
 * an agent's mail is about every bead it worked on. Not a substring either: a bead's id inside a
 * longer id (another bead's, a run's `<bead>.<n>` stays a match, it is the bead's) names another thing.
 */
import type { Bead, Mail } from "../../../party/protocol.ts";
import { shortId } from "./time.ts";

// A mention ends where the id's characters (letters, digits, `_`, `-`) end.
const ID_CHAR = /[A-Za-z0-9_-]/;

/** Whether `text` names `id` as a word of its own (ids are compared without case: ULIDs are). */
export function names(text: string, id: string): boolean {
  if (!id) return false;
  const hay = text.toUpperCase();
  const needle = id.toUpperCase();
  for (let at = hay.indexOf(needle); at >= 0; at = hay.indexOf(needle, at + 1)) {
    const before = at > 0 ? hay[at - 1]! : "";
    const after = hay[at + needle.length] ?? "";
    if (!ID_CHAR.test(before) && !ID_CHAR.test(after)) return true;
  }
  return false;
}

/** Whether `mail` is about `bead`: its subject or body names the bead's id or its short id. */
export function aboutBead(mail: Pick<Mail, "subject" | "body">, bead: Pick<Bead, "id">): boolean {
  const short = shortId(bead.id);
  return [mail.subject, mail.body].some((text) => names(text, bead.id) || (short !== bead.id && names(text, short)));
}
