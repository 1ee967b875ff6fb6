/**
 * Reading what a command was given, shared by the group files: stdin, one value given under one of
 * several names, comma-separated lists, numbers. Each throws GtUsageError (exit 2) saying what is wrong.
 */
import type { Values } from "./command.ts";
import { GtUsageError } from "./errors.ts";

/** All of stdin as text; GtUsageError (`ifTerminal`) when stdin is a terminal, which would wait for a person. */
export async function readStdin(ifTerminal = "this reads stdin, which is a terminal: pipe the text in"): Promise<string> {
  if (process.stdin.isTTY) throw new GtUsageError(ifTerminal);
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** The one value given of several names for it (e.g. `<description>` or `--title`); `missing` when none is. */
export function one(v: Values, names: string[], missing: string): string {
  const given = names.filter((n) => v[n] !== undefined);
  if (given.length > 1) throw new GtUsageError(`give it once: ${given.map((n) => (n === names[0] ? `<${n}>` : `--${n}`)).join(" or ")}`);
  if (!given.length) throw new GtUsageError(missing);
  return v[given[0]!];
}

/** `a, b,,c` → `["a", "b", "c"]`. */
export const splitList = (text: string): string[] =>
  text
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);

/** A number option as the tool's schema reads it (a word is NaN, which the schema refuses by name). */
export const numberOption = (text: string | undefined): number | undefined => (text === undefined ? undefined : text.trim() === "" ? Number.NaN : Number(text));
