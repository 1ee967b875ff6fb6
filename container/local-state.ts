/**
 * The local state file that `npm start` writes (secret, town), read by `npm run token` and by the
 * container (container/main.ts: its town and secret when none is given). It lives here, not in
 * scripts/, because scripts/ may import container/ but never the other way.
 */
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
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

/**
 * Reads the state file, or creates it with a fresh secret. The state directory is 0711: the
 * container's rig users (when it runs as root) pass through it to their worktrees in
 * `workspace/`, but list nothing; what is secret in it is ours alone (state.json 0600, and
 * npm start's partykit.json, storage and logs).
 */
export function ensureLocalState(defaults: { town: string }): LocalState {
  mkdirSync(STATE_DIR, { recursive: true });
  chmodSync(STATE_DIR, 0o711);
  const existing = readLocalState();
  if (existing) return existing;
  const state: LocalState = { secret: randomBytes(32).toString("base64url"), ...defaults };
  writeFileSync(STATE_FILE, JSON.stringify(state, null, 2), { mode: 0o600 });
  return state;
}
