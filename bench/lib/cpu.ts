/**
 * CPU and memory of both sides: this process (process.cpuUsage) and the server's whole process
 * group (utime + stime of every /proc/<pid>/stat whose process group is the server's).
 */
import { readFileSync, readdirSync } from "node:fs";

const TICKS = 100; // USER_HZ on Linux

type Stat = { pid: number; ppid: number; comm: string; pgrp: number; cpuTicks: number; childTicks: number; rssPages: number };

function readStat(pid: number): Stat | null {
  try {
    const raw = readFileSync(`/proc/${pid}/stat`, "utf8");
    const close = raw.lastIndexOf(")");
    const comm = raw.slice(raw.indexOf("(") + 1, close);
    const f = raw.slice(close + 2).split(" "); // f[0] is field 3 (state)
    return {
      pid,
      ppid: Number(f[1]),
      comm,
      pgrp: Number(f[2]),
      cpuTicks: Number(f[11]) + Number(f[12]),
      childTicks: Number(f[13]) + Number(f[14]),
      rssPages: Number(f[21]),
    };
  } catch {
    return null; // exited meanwhile
  }
}

export function groupProcesses(pgid: number): Stat[] {
  const out: Stat[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readStat(Number(name));
    if (stat && stat.pgrp === pgid) out.push(stat);
  }
  return out;
}

/** CPU seconds used so far by every live process of the group. */
export function groupCpuSeconds(pgid: number): number {
  return groupProcesses(pgid).reduce((s, p) => s + p.cpuTicks, 0) / TICKS;
}

/**
 * CPU seconds of a process tree that spawns short-lived children (the container: agents, git):
 * every live process of its group plus what the leader's reaped children used (cutime + cstime).
 */
export function treeCpuSeconds(pgid: number): number {
  const procs = groupProcesses(pgid);
  const leader = procs.find((p) => p.pid === pgid);
  return (procs.reduce((s, p) => s + p.cpuTicks, 0) + (leader?.childTicks ?? 0)) / TICKS;
}

/**
 * A process and all its live descendants (by parent pid, whatever their process groups: the
 * container starts each agent in a group of its own).
 */
export function processTree(root: number): Stat[] {
  const all: Stat[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readStat(Number(name));
    if (stat) all.push(stat);
  }
  const children = new Map<number, Stat[]>();
  for (const s of all) children.set(s.ppid, [...(children.get(s.ppid) ?? []), s]);
  const out: Stat[] = [];
  const top = all.find((s) => s.pid === root);
  const stack = top ? [top] : [];
  while (stack.length) {
    const s = stack.pop()!;
    out.push(s);
    stack.push(...(children.get(s.pid) ?? []));
  }
  return out;
}

/**
 * CPU seconds of a process tree: every live member's own time plus what each has reaped of its
 * children (cutime + cstime), so finished agents and git processes count once they are waited for.
 */
export function processTreeCpuSeconds(root: number): number {
  return processTree(root).reduce((s, p) => s + p.cpuTicks + p.childTicks, 0) / TICKS;
}

/** Resident memory of a process tree in bytes (sum of VmRSS; shared pages count once per process). */
export function processTreeRss(root: number): number {
  return processTree(root).reduce((s, p) => s + (rssBytes(p.pid) ?? 0), 0);
}

export function processCpuSeconds(pid: number): number {
  const stat = readStat(pid);
  return stat ? stat.cpuTicks / TICKS : 0;
}

/** Resident memory of a process in bytes (VmRSS). */
export function rssBytes(pid: number): number | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = /VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1];
    return kb ? Number(kb) * 1024 : null;
  } catch {
    return null;
  }
}

export type CpuReading = { wallS: number; genS: number; serverS: number; genPct: number; serverPct: number; otherS?: number };

/**
 * Measures one phase: CPU of this process, of the server group and optionally of another process
 * (e.g. the floor server), over the wall time between start and stop.
 */
export class CpuMeter {
  private t0 = 0;
  private gen0 = 0;
  private server0 = 0;
  private other0 = 0;
  constructor(
    private readonly serverPgid: () => number | null,
    private readonly otherPid: () => number | null = () => null,
  ) {
    this.start();
  }
  start(): this {
    this.t0 = performance.now();
    const u = process.cpuUsage();
    this.gen0 = (u.user + u.system) / 1e6;
    const pgid = this.serverPgid();
    this.server0 = pgid ? groupCpuSeconds(pgid) : 0;
    const other = this.otherPid();
    this.other0 = other ? processCpuSeconds(other) : 0;
    return this;
  }
  stop(): CpuReading {
    const wallS = (performance.now() - this.t0) / 1000;
    const u = process.cpuUsage();
    const genS = (u.user + u.system) / 1e6 - this.gen0;
    const pgid = this.serverPgid();
    const serverS = pgid ? Math.max(0, groupCpuSeconds(pgid) - this.server0) : 0;
    const other = this.otherPid();
    const reading: CpuReading = { wallS, genS, serverS, genPct: (100 * genS) / wallS, serverPct: (100 * serverS) / wallS };
    if (other) reading.otherS = Math.max(0, processCpuSeconds(other) - this.other0);
    return reading;
  }
}
