/** Finding agent processes by where they run or whose they are (Linux /proc), and ending them with their process groups. */
import { readFileSync, readdirSync, readlinkSync } from "node:fs";

/** Pids of processes (not this one) whose working directory is under `dir` and matches `pattern`. */
export function processesUnder(dir: string, pattern: RegExp | ((cwd: string) => boolean)): number[] {
  const matches = typeof pattern === "function" ? pattern : (cwd: string) => pattern.test(cwd);
  const pids: number[] = [];
  for (const name of readdirSync("/proc")) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      const cwd = readlinkSync(`/proc/${pid}/cwd`);
      if (cwd.startsWith(dir + "/") && matches(cwd)) pids.push(pid);
    } catch {
      // gone, or not ours to look at
    }
  }
  return pids;
}

/**
 * Pids of live processes whose real user is `uid` (a rig user's: what its agents left running).
 * Zombies are left out: they run nothing, cannot be killed, and go when their parent reaps them.
 */
export function processesOwnedBy(uid: number): number[] {
  const pids: number[] = [];
  for (const name of readdirSync("/proc")) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    try {
      const status = readFileSync(`/proc/${pid}/status`, "utf8");
      const real = /^Uid:\s+(\d+)/m.exec(status)?.[1];
      if (Number(real) === uid && !/^State:\s+Z/m.test(status)) pids.push(pid);
    } catch {
      // gone
    }
  }
  return pids;
}

/** Signals the process group led by `pid` (an agent spawned detached: it and all it started). */
export function killGroup(pid: number, signal: NodeJS.Signals): void {
  if (!Number.isInteger(pid) || pid <= 1) return; // -1 would be every process, -0 our own group
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is gone already
  }
}

/**
 * SIGKILLs a process left by an earlier supervisor and, if it leads a process group (agents are
 * spawned as group leaders), that whole group: what a `sh -c` agent started goes with it. A group
 * it merely belongs to is not killed: that may be a shell's job with other work in it. Says whether
 * it was there to kill.
 */
export function killStray(pid: number): boolean {
  let leader = false;
  try {
    // The fields after the command (which may hold spaces and parentheses): state, ppid, pgrp, …
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    leader = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2]) === pid;
  } catch {
    return false; // gone
  }
  if (leader) killGroup(pid, "SIGKILL");
  try {
    process.kill(pid, "SIGKILL");
    return true;
  } catch {
    return leader; // gone meanwhile (with its group, if it led one)
  }
}

/**
 * Agents' process groups this process started and has not ended yet. Agents run detached (their own
 * groups, so a stop reaches all they started), which also takes them out of this process's group:
 * a signal to the supervisor's group no longer reaches them. So when this process exits (a stop, an
 * uncaught error), whatever groups are still tracked are killed on the way out. A SIGKILLed
 * supervisor cannot do that: the next one on the workspace kills them as strays.
 */
const groups = new Set<number>();
let exitHook = false;

export function trackGroup(pid: number): void {
  groups.add(pid);
  if (exitHook) return;
  exitHook = true;
  process.on("exit", () => {
    for (const group of groups) killGroup(group, "SIGKILL");
  });
}

/** SIGKILLs what is left of a group (its leader has exited: the rest is nobody's work) and stops tracking it. */
export function endGroup(pid: number): void {
  killGroup(pid, "SIGKILL");
  groups.delete(pid);
}
