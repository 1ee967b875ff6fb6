/**
 * What the parsers of codex.ts, gemini.ts and opencode.ts share: reading one line as a JSON object,
 * a tool's input shortened to what its output line shows, token counts read defensively (a CLI's
 * event may lack a field or carry a bad one: it counts as none, and the parser never throws).
 */

/** A line as a JSON object, or null when it is not one (the container then shows the line as it is). */
export function jsonObject(line: string): Record<string, unknown> | null {
  try {
    const parsed: unknown = JSON.parse(line);
    return parsed && typeof parsed === "object" && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

export function record(value: unknown): Record<string, unknown> {
  return value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

export function text(value: unknown): string | null {
  return typeof value === "string" && value.trim() ? value : null;
}

/** A whole, non-negative token count; anything else is 0. */
export const count = (value: unknown): number => (typeof value === "number" && Number.isFinite(value) && value > 0 ? Math.floor(value) : 0);

const SHORT_INPUT = 200;
/** The fields of a tool's input that say most about it, in order. */
const INPUT_KEYS = ["command", "cmd", "file_path", "filePath", "path", "absolute_path", "pattern", "url", "query", "prompt", "description"];

/** One line of at most `max` characters: newlines shown as ⏎, the end cut with …. */
export function short(value: string, max = SHORT_INPUT): string {
  const one = value.replace(/\s*\n\s*/g, " ⏎ ").trim();
  return one.length > max ? `${one.slice(0, max - 1)}…` : one;
}

/** A tool's input in a line: the field that says most, else its JSON, cut short. */
export function shortInput(input: unknown): string {
  if (input === null || input === undefined) return "";
  if (typeof input !== "object") return short(String(input));
  const fields = input as Record<string, unknown>;
  const key = INPUT_KEYS.find((k) => typeof fields[k] === "string" && fields[k]);
  if (key) return short(fields[key] as string);
  const json = JSON.stringify(fields);
  return json === "{}" ? "" : short(json);
}
