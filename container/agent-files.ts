/**
 * What agent processes run from the project: node, `gt` (its bundle, container/dist) and the
 * scripted agent's bundle. Agents run as rig users, who must be able to reach those files. A clone
 * in a directory closed to other users (root's home is 0700; many home directories are 0750) is
 * out of their reach, so then the files are copied to `<workspace>/runtime` (root's, readable by
 * all) and run from there; where they are reachable they run in place, as before (and a bundle
 * older than its sources then gives way to the sources through tsx: container/bundle.ts).
 *
 * A copy is refreshed when its source changed (size or modification time). Copies are of the
 * bundles, never of the sources: what is copied must run without the project beside it.
 */
import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { BUNDLE_DIR, freshBundle } from "./bundle.ts";
import { GT_BIN_DIR, TS_LOADER, USER_PATH } from "./runtimes.ts";

export type AgentFiles = {
  /** node, as agents and the container's probe run it. */
  node: string;
  /** The directory whose `gt` agents find on their PATH. */
  gtBinDir: string;
  /** The scripted agent: how to run it with `node`. */
  scripted: string[];
  /** Agents' PATH: gt's directory, node's, then the system's. */
  path: string;
  /** Whether these are copies (the project is out of rig users' reach). */
  copied: boolean;
};

/** The first of `path` and the directories above it that other users cannot pass (or read, for a file); null when none. */
export function closedToOthers(path: string): string | null {
  const st = statSync(path);
  if ((st.mode & (st.isDirectory() ? 0o001 : 0o004)) === 0) return path;
  return path === dirname(path) ? null : closedToOthers(dirname(path));
}

function pathOf(gtBinDir: string, node: string): string {
  return [...new Set([gtBinDir, dirname(node), ...USER_PATH.split(":")])].join(":");
}

/** The files in place, for agents that run as this process's user or can reach the project. */
export function inPlace(): AgentFiles {
  const bundle = freshBundle("scripted");
  return {
    node: process.execPath,
    gtBinDir: GT_BIN_DIR,
    scripted: bundle ? [bundle] : ["--import", TS_LOADER, join(dirname(GT_BIN_DIR), "agents/scripted.ts")],
    path: pathOf(GT_BIN_DIR, process.execPath),
    copied: false,
  };
}

/**
 * The files as rig users can run them: in place when every one is reachable, else copied into
 * `<workspace>/runtime`. Throws, saying what to do, when a copy is needed but the bundles are
 * missing or older than the sources (`npm run build:gt`; npm start and npm test build them).
 */
export function agentFilesFor(workspace: string): AgentFiles {
  const here = inPlace();
  const needed = [process.execPath, join(GT_BIN_DIR, "gt"), ...here.scripted.filter((arg) => arg.startsWith("/"))];
  if (needed.every((file) => !closedToOthers(file))) return here;
  if (!freshBundle("gt") || !freshBundle("scripted")) {
    throw new Error(
      `rig users cannot reach ${closedToOthers(GT_BIN_DIR)}, and container/dist is missing or older than the sources: build it with npm run build:gt, so it can be copied to ${join(workspace, "runtime")}`,
    );
  }
  const runtime = join(workspace, "runtime");
  mkdirSync(runtime, { recursive: true });
  chmodSync(runtime, 0o755);
  const dist = join(runtime, "dist");
  if (changed(BUNDLE_DIR, dist)) {
    // Into a fresh directory, then swapped in whole: a running agent never sees half a copy.
    const next = `${dist}.${process.pid}`;
    rmSync(next, { recursive: true, force: true });
    cpSync(BUNDLE_DIR, next, { recursive: true, preserveTimestamps: true });
    rmSync(dist, { recursive: true, force: true });
    renameSync(next, dist);
  }
  let node = process.execPath;
  if (closedToOthers(node)) {
    node = join(runtime, "node");
    if (changed(process.execPath, node)) {
      cpSync(process.execPath, `${node}.${process.pid}`, { preserveTimestamps: true });
      chmodSync(`${node}.${process.pid}`, 0o755);
      renameSync(`${node}.${process.pid}`, node);
    }
  }
  const bin = join(runtime, "bin");
  mkdirSync(bin, { recursive: true, mode: 0o755 });
  writeFileSync(
    join(bin, "gt"),
    `#!/bin/sh\n# gt for agents (copied by the container: its project is out of their reach)\nexec ${quote(node)} ${quote(join(dist, "gt.js"))} "$@"\n`,
    { mode: 0o755 },
  );
  chmodSync(join(bin, "gt"), 0o755);
  for (const dir of [runtime, bin, dist, join(dist, "chunks")]) if (existsSync(dir)) chmodSync(dir, 0o755);
  for (const file of readdirSync(dist, { recursive: true, encoding: "utf8" }))
    chmodSync(join(dist, file), statSync(join(dist, file)).isDirectory() ? 0o755 : 0o644);
  return { node, gtBinDir: bin, scripted: [join(dist, "scripted.js")], path: pathOf(bin, node), copied: true };
}

/** Whether `copy` differs from `source` (a file by size and time; a directory by its entries' names, sizes and times). */
function changed(source: string, copy: string): boolean {
  if (!existsSync(copy)) return true;
  const stamp = (path: string): string => {
    const st = statSync(path);
    if (!st.isDirectory()) return `${st.size}:${Math.floor(st.mtimeMs)}`;
    return readdirSync(path, { recursive: true, encoding: "utf8" })
      .sort()
      .map((name) => `${name}=${statSync(join(path, name)).isDirectory() ? "d" : stamp(join(path, name))}`)
      .join(",");
  };
  return stamp(source) !== stamp(copy);
}

function quote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}
