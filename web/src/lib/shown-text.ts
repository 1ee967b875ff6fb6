/**
 * What the dashboard shows of the rooms' documents: every string with its invisible and reordering
 * characters written out (`⟨U+202E⟩`, party/invisible.ts). Bead titles and bodies, mail,
 * escalations, feed lines, agent names: agents write them, and a bidi override or a zero-width space
 * would make what is shown differ from what is there. Only the copy shown is marked; the room keeps,
 * and API clients get, the text as it was sent.
 */
import { showInvisible } from "../../../party/invisible.ts";

/** `value` with every string in it (deeply) marked; the very same value where nothing needed marking (a copy only where something did). */
export function shown<T>(value: T): T {
  if (typeof value === "string") return showInvisible(value) as T;
  if (typeof value !== "object" || value === null) return value;
  if (!Array.isArray(value) && Object.getPrototypeOf(value) !== Object.prototype) return value;
  const record = value as Record<string, unknown>;
  let copy: Record<string, unknown> | null = null;
  for (const key of Object.keys(record)) {
    const item = record[key];
    const marked = shown(item);
    if (marked !== item) (copy ??= (Array.isArray(record) ? [...record] : { ...record }) as Record<string, unknown>)[key] = marked;
  }
  return (copy ?? value) as T;
}
