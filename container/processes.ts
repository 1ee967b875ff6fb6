/** Finding agent processes by where they run (Linux /proc). */
import { readFileSync, readdirSync, readlinkSync } from "node:fs";

/** Pids of processes (not this one) whose working directory is under `dir` and matches `pattern`. */
export function processesUnder(dir: string, pattern: RegExp): number[] {
  const pids: number[] = [];
  for (const name of readdirSync("/proc")) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      const cwd = readlinkSync(`/proc/${pid}/cwd`);
      if (cwd.startsWith(dir + "/") && pattern.test(cwd)) pids.push(pid);
    } catch {
      // gone, or not ours to look at
    }
  }
  return pids;
}


/** Pids of processes whose real user is `uid` (a rig user's: what its agents left running). */
export function processesOwnedBy(uid: number): number[] {
  const pids: number[] = [];
  for (const name of readdirSync("/proc")) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    try {
      const real = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
      if (Number(real) === uid) pids.push(pid);
    } catch {
      // gone
    }
  }
  return pids;
}
