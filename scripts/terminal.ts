/**
 * What `npm start` says on its terminal about the town, as pure functions: a line a person reads
 * once and understands without the dashboard. Text from the rooms is made plain by the caller.
 */
import type { Bead, Convoy, Rig } from "../party/protocol.ts";

/**
 * Why a bead failed, short: the room's reason ("backend/polecats/toast exited (exit 4) before done;
 * gave up after 3 runs") becomes "exit 4 (3 attempts)"; a reason it does not recognise stays whole.
 */
export function failureReason(failure: string | undefined, attempts?: number): string {
  if (!failure) return attempts ? `no reason given (${plural(attempts, "attempt")})` : "no reason given";
  let reason = failure.trim();
  let tries = attempts;
  const gaveUp = reason.match(/;\s*gave up after (\d+) runs?$/);
  if (gaveUp) {
    tries = Number(gaveUp[1]);
    reason = reason.slice(0, gaveUp.index).trim();
  }
  const exited = reason.match(/^\S+ exited \((.+)\) before done$/);
  if (exited) reason = exited[1]!;
  return tries ? `${reason} (${plural(tries, "attempt")})` : reason;
}

/** `bead "Add login" failed in backend: exit 4 (3 attempts)` */
export function failedBeadLine(bead: Pick<Bead, "title" | "failure" | "attempts">, rigName: string): string {
  return `bead "${bead.title}" failed in ${rigName}: ${failureReason(bead.failure, bead.attempts)}`;
}

/**
 * `convoy "Launch sign-in": 4/6 done`, `2 done, 1 failed of 3` once something failed (a failed bead
 * is never done), and `— landed` or `— stuck` when the convoy says so; null while nothing is done
 * or failed (the line that slung it said so).
 */
export function convoyLine(convoy: Pick<Convoy, "title" | "status" | "beads">): string | null {
  const done = convoy.beads.filter((b) => b.status === "closed").length;
  const failed = convoy.beads.filter((b) => b.status === "failed").length;
  const total = convoy.beads.length;
  const state = convoy.status === "landed" || convoy.status === "stuck" ? ` — ${convoy.status}` : "";
  if (done === 0 && failed === 0 && !state) return null;
  return `convoy "${convoy.title}": ${failed ? `${done} done, ${failed} failed of ${total}` : `${done}/${total} done`}${state}`;
}

/** A rig's state when it changes: `backend cloning`, `backend ready`. */
export function rigLine(rig: Pick<Rig, "name" | "status">): string {
  return `${rig.name} ${rig.status}`;
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/** The last `n` lines of a child's output, for when it stops unexpectedly. */
export function tail(text: string, n = 20): string {
  return text.trimEnd().split("\n").slice(-n).join("\n");
}

/** A child `npm start` ran, as its Ctrl-C message names it. */
export type Stopped = { name: string; pid: number; detail?: string; exited: boolean };

/**
 * What `npm start` says when it stops: each thing it had started and whether it ended (the town
 * container stops its agents with it), where the town is kept, and how to start again or over.
 */
export function stoppedMessage(stopped: readonly Stopped[], kept: { stateDir: string; sharedDir?: string }): string {
  const what = stopped.length
    ? stopped.map((s) => `  ${s.exited ? "stopped" : "still stopping (sent SIGTERM)"}: ${s.name}${s.detail ? ` ${s.detail}` : ""} (pid ${s.pid})`).join("\n")
    : "  nothing was running yet";
  const also = kept.sharedDir ? ` (and ${kept.sharedDir}: the rigs' workspace and demo repositories)` : "";
  return [
    "npm start stopped:",
    what,
    `The town is kept in ${kept.stateDir}${also}: its rooms' storage (partykit-state/), logs (logs/) and the links it printed (links.json).`,
    `npm start resumes it with the same links while they are good; delete ${kept.stateDir}${kept.sharedDir ? ` and ${kept.sharedDir}` : ""} to start over.`,
  ].join("\n");
}
