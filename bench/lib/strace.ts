/**
 * Counts the storage commits (fsync/fdatasync) workerd makes while `work` runs, by attaching
 * `strace -c` to it. A diagnostic for where latency goes: every durable write of a room is a
 * SQLite commit, and on this disk a commit waits for an fsync. Returns null if strace is missing.
 */
import { spawn, spawnSync } from "node:child_process";

export async function countFsyncs(pid: number, work: () => Promise<unknown>): Promise<{ fsyncs: number; usPerFsync: number } | null> {
  if (spawnSync("strace", ["-V"]).status !== 0) return null;
  const st = spawn("strace", ["-f", "-c", "-e", "trace=fsync,fdatasync", "-p", String(pid)], { stdio: ["ignore", "ignore", "pipe"] });
  let out = "";
  st.stderr!.on("data", (c: Buffer) => (out += c.toString()));
  const attached = await new Promise<boolean>((resolve) => {
    const check = () => /attached/.test(out) && resolve(true);
    st.stderr!.on("data", check);
    st.once("exit", () => resolve(false));
    setTimeout(() => resolve(/attached/.test(out)), 3000);
  });
  if (!attached) return null;
  await new Promise((r) => setTimeout(r, 200)); // every thread attached
  await work();
  st.kill("SIGINT");
  await new Promise((r) => st.once("exit", r));
  let fsyncs = 0;
  let seconds = 0;
  for (const line of out.split("\n")) {
    const m = /^\s*[\d.]+\s+([\d.]+)\s+\d+\s+(\d+)\s+(?:\d+\s+)?(fsync|fdatasync)\s*$/.exec(line);
    if (m) {
      fsyncs += Number(m[2]);
      seconds += Number(m[1]);
    }
  }
  return { fsyncs, usPerFsync: fsyncs ? (seconds * 1e6) / fsyncs : 0 };
}
