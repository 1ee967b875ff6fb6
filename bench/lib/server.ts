/**
 * The server under test: real `partykit dev` in its own process group,
 * restartable on the same port and storage, with CPU, RSS and isolate-heap readings of its group.
 */
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, writeDevConfig } from "../../tests/helpers/partykit.ts";
import { groupCpuSeconds, groupProcesses, rssBytes } from "./cpu.ts";
import { treeHash } from "./tree-hash.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

type DevServer = { port: number; process: ChildProcess; output: () => string; stop: () => Promise<void>; kill: () => Promise<void> };

let snapshot: { config: string; hash: string; git: string } | null = null;

/**
 * The server code the whole run measures: party/ and partykit.json copied once, at the start of
 * the run, into bench/tmp/. `partykit dev` hot-reloads when its sources change (and drops every
 * socket), and the working tree may be edited while a long run goes on; a snapshot keeps one run
 * on one version of the code. Its hash (every file under party/, subfolders too: tree-hash.ts) and
 * the git state are in the results.
 */
export function serverSnapshot(): { config: string; hash: string; git: string } {
  if (snapshot) return snapshot;
  const dir = join(ROOT, "bench", "tmp", `server-${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  cpSync(join(ROOT, "party"), join(dir, "party"), { recursive: true });
  cpSync(join(ROOT, "partykit.json"), join(dir, "partykit.json"));
  let git = "unknown";
  try {
    const head = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: ROOT, encoding: "utf8" }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--", "party", "partykit.json"], { cwd: ROOT, encoding: "utf8" }).trim();
    git = `${head}${
      dirty
        ? ` + uncommitted changes in ${dirty
            .split("\n")
            .map((l) => l.slice(3))
            .join(", ")}`
        : ""
    }`;
  } catch {}
  snapshot = { config: join(dir, "partykit.json"), hash: treeHash(join(dir, "party")), git };
  process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
  return snapshot;
}

/** The snapshot's partykit.json plus a built dashboard served as a single-page app (as `npm start` does). */
function serveConfig(dist: string): string {
  const base = serverSnapshot().config;
  const config = base.replace(/partykit\.json$/, `partykit.serve-${createHash("sha256").update(dist).digest("hex").slice(0, 8)}.json`);
  const json = JSON.parse(readFileSync(base, "utf8")) as Record<string, unknown>;
  writeFileSync(config, JSON.stringify({ ...json, serve: { path: dist, singlePageApp: true } }));
  return config;
}

/** Like tests/helpers/partykit.ts startPartykit, but on the run's snapshot of the server code. */
async function startDev(options: {
  persistDir: string;
  vars: Record<string, string>;
  port?: number;
  onLine?: (line: string) => void;
  serve?: string;
}): Promise<DevServer> {
  const port = options.port ?? (await freePort());
  // A copy of the snapshot's config with the vars in it (mode 0600): the secret never goes on the
  // command line, where the agents a bench runs could read it.
  const config = writeDevConfig(options.serve ? serveConfig(options.serve) : serverSnapshot().config, options.vars);
  const args = [
    "node_modules/partykit/dist/bin.mjs",
    "dev",
    "-c",
    config.path,
    "--port",
    String(port),
    "--persist",
    options.persistDir,
    "--disable-request-cf-fetch",
    "--no-hotkeys",
  ];
  const child = spawn(process.execPath, args, { cwd: ROOT, detached: true, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1" } });
  let log = "";
  let partial = "";
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  void exited.then(config.remove);
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      const text = chunk.toString();
      log += text;
      const lines = (partial + text).split("\n");
      partial = lines.pop()!;
      if (options.onLine) for (const line of lines) options.onLine(line);
      if (log.length > 2_000_000) log = log.slice(-1_000_000); // the tail, for failure reports
      if (/Ready on/.test(log)) resolve();
      if (/ERROR|Error reloading/.test(log)) reject(new Error(`partykit dev failed:\n${log}`));
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", (code) => reject(new Error(`partykit dev exited (${code}) before it was ready:\n${log}`)));
  });
  const signalGroup = async (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, signal);
    } catch {
      return;
    }
    await exited;
  };
  return { port, process: child, output: () => log, stop: () => signalGroup("SIGTERM"), kill: () => signalGroup("SIGKILL") };
}

export const SECRET = "bench-secret-0123456789abcdef";

/** Every server started, so a failed metric can show the server's log. */
export const STARTED: BenchServer[] = [];

// If this process ends early (an exception, ^C, a timeout's SIGTERM), take the servers' process
// groups down with it: they are detached, and an orphaned partykit dev keeps its port and CPU.
const extra = new Set<number>();
const killAll = () => {
  const targets = [...STARTED.map((s) => (s.pgid ? -s.pgid : 0)), ...extra].filter(Boolean);
  for (const target of targets) {
    try {
      process.kill(target, "SIGKILL");
    } catch {}
  }
};

/** Kills this process (or, negative, process group) if the benchmark exits before it is stopped. */
export function killOnExit(target: number): () => void {
  extra.add(target);
  return () => extra.delete(target);
}
process.once("exit", killAll);
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const)
  process.once(signal, () => (killAll(), process.exit(128 + (signal === "SIGINT" ? 2 : signal === "SIGTERM" ? 15 : 1))));

export class BenchServer {
  /** Output of earlier incarnations (before restarts). */
  private previousOutput = "";
  /** Lines of the server's output matching each watched pattern, counted as they arrive. */
  private readonly watched = new Map<string, { re: RegExp; n: number; first: string[] }>();
  dev: DevServer | null = null;
  readonly persistDir: string;
  port = 0;
  /** Wall time of the last start until "Ready on" (ms). */
  lastStartMs = 0;
  /** performance.now() when the last start printed "Ready on". */
  readyAt = 0;

  private constructor(
    readonly vars: Record<string, string>,
    private readonly root: string,
    /** A built dashboard to serve (its directory), or none. */
    private readonly serve?: string,
  ) {
    this.persistDir = join(root, "state");
  }

  static async start(vars: Record<string, string> = {}, options: { serve?: string } = {}): Promise<BenchServer> {
    const server = new BenchServer({ GT_SECRET: SECRET, ...vars }, mkdtempSync(join(tmpdir(), "townhall-bench-")), options.serve);
    STARTED.push(server);
    await server.boot();
    return server;
  }

  get host(): string {
    return `127.0.0.1:${this.port}`;
  }

  get pgid(): number | null {
    return this.dev?.process.pid ?? null;
  }

  private async boot(): Promise<void> {
    const t0 = performance.now();
    const onLine = (line: string) => {
      for (const w of this.watched.values()) {
        if (!w.re.test(line)) continue;
        w.n++;
        if (w.first.length < 3) w.first.push(line.replace(/\x1b\[[0-9;]*[A-Za-z]/g, "").trim());
      }
    };
    this.dev = await startDev({
      persistDir: this.persistDir,
      vars: this.vars,
      onLine,
      ...(this.serve ? { serve: this.serve } : {}),
      ...(this.port ? { port: this.port } : {}),
    });
    this.readyAt = performance.now();
    this.lastStartMs = this.readyAt - t0;
    this.port = this.dev.port;
  }

  /** SIGKILL of the whole group (a crash), or SIGTERM; then start again on the same port and storage. */
  async restart(how: "kill" | "stop" = "stop"): Promise<void> {
    await this.down(how);
    await this.boot();
  }

  async down(how: "kill" | "stop" = "stop"): Promise<void> {
    if (!this.dev) return;
    await (how === "kill" ? this.dev.kill() : this.dev.stop());
    this.previousOutput += this.dev.output();
    this.dev = null;
  }

  async up(): Promise<void> {
    await this.boot();
  }

  async close(): Promise<void> {
    await this.down("stop");
    rmSync(this.root, { recursive: true, force: true });
  }

  cpuSeconds(): number {
    return this.pgid ? groupCpuSeconds(this.pgid) : 0;
  }

  workerdPid(): number | null {
    if (!this.pgid) return null;
    return groupProcesses(this.pgid).find((p) => p.comm === "workerd")?.pid ?? null;
  }

  /** RSS of workerd (where the rooms live) and of the whole group. */
  memory(): { workerdRss: number | null; groupRss: number } {
    const pid = this.workerdPid();
    const group = this.pgid ? groupProcesses(this.pgid).reduce((s, p) => s + (rssBytes(p.pid) ?? 0), 0) : 0;
    return { workerdRss: pid ? rssBytes(pid) : null, groupRss: group };
  }

  /** Starts counting output lines that match `re` under `name`. */
  watch(name: string, re: RegExp): void {
    this.watched.set(name, { re, n: 0, first: [] });
  }

  /** Lines counted so far for `name`, with up to three examples. */
  matches(name: string): { n: number; first: string[] } {
    const w = this.watched.get(name);
    return { n: w?.n ?? 0, first: w?.first ?? [] };
  }

  output(): string {
    return this.previousOutput + (this.dev?.output() ?? "");
  }
}
