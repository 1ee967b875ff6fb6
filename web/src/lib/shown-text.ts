/**
 * What the dashboard shows of the rooms' documents: every string with its invisible and reordering
 * characters written out (`⟨U+202E⟩`, party/invisible.ts). Bead titles and bodies, mail,
 * escalations, feed lines, agent names: agents write them, and a bidi override or a zero-width space
 * would make what is shown differ from what is there. Only the copy shown is marked; the room keeps,
 * and API clients get, the text as it was sent.
 */
import { showInvisible } from "../../../party/invisible.ts";

/** `value` with every string in it (deeply) marked; the very same value where nothing needed marking. */
export function shown<T>(value: T): T {
  if (typeof value === "string") return showInvisible(value) as T;
  if (Array.isArray(value)) {
    const items = value.map(shown);
    return (items.some((item, i) => item !== value[i]) ? items : value) as T;
  }
  if (typeof value === "object" && value !== null && Object.getPrototypeOf(value) === Object.prototype) {
    const entries = Object.entries(value).map(([key, item]) => [key, shown(item)] as const);
    return (entries.some(([key, item]) => item !== (value as Record<string, unknown>)[key]) ? Object.fromEntries(entries) : value) as T;
  }
  return value;
}
