/** The local state file that `npm start` writes (secret, town), read by `npm run token`. */
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { z } from "zod";

export const STATE_DIR = resolve(process.env.GT_STATE_DIR ?? join(import.meta.dirname, "..", ".townhall"));
const STATE_FILE = join(STATE_DIR, "state.json");

const localState = z.object({ secret: z.string().min(16), town: z.string() });
export type LocalState = z.infer<typeof localState>;

export function readLocalState(): LocalState | null {
  if (!existsSync(STATE_FILE)) return null;
  const parsed = localState.safeParse(JSON.parse(readFileSync(STATE_FILE, "utf8")));
  if (!parsed.success) throw new Error(`${STATE_FILE} is not a Townhall state file; delete it to start over`);
  return parsed.data;
}

/** Reads the state file, or creates it with a fresh secret. */
export function ensureLocalState(defaults: { town: string }): LocalState {
  const existing = readLocalState();
  if (existing) return existing;
  const state: LocalState = { secret: randomBytes(32).toString("base64url"), ...defaults };
  mkdirSync(dirname(STATE_FILE), { recursive: true });
  writeFileSync(STATE_FILE, JSON.stringify(state, null, 2), { mode: 0o600 });
  return state;
}
