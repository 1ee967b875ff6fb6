/** How gt writes: everything made plain on its way out, and the small formatting its printers share. */
import { plain } from "../../party/plain-text.ts";

export const indent = (text: string, by = "  ") => text.replace(/^(?=.)/gm, by);
export const when = (at: number | undefined) => (at ? new Date(at).toISOString() : "");

/** Everything gt prints goes through here, made plain: most of it came from the rooms (party/plain-text.ts). */
export function write(stream: NodeJS.WriteStream, raw: string | undefined): Promise<void> {
  if (!raw) return Promise.resolve();
  const text = plain(raw);
  return new Promise((resolve) => stream.write(text.endsWith("\n") ? text : `${text}\n`, () => resolve()));
}
