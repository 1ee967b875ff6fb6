/**
 * The one launcher of agent processes: every runtime (the scripted agent, a command, the Mayor)
 * starts through `AgentSandbox.command`, which applies the rig's boundary:
 *
 * - its rig's user (container/rig-user.ts), with no supplementary groups and no way to gain
 *   privileges (no_new_privs: a setuid program runs without them);
 * - a PID namespace of its own, with its own /proc: it sees only its run's processes, so no other
 *   command line or environment of the machine (util-linux `unshare`; its first process is a
 *   shell that waits for the agent, so the agent gets the container's SIGTERM, and when that shell
 *   ends the kernel ends every process left in the namespace);
 * - the network rule (container/agent-network.ts): the process is moved into its rig's cgroup
 *   before it runs anything, and the container's nftables table matches sockets by that cgroup.
 *
 * All of it needs root (the per-rig users need it anyway). What cannot be applied (not root, no
 * nftables, no cgroup v2 hierarchy, no unshare) is said once at start and reported with each rig
 * (the dashboard marks such rigs "boundary not enforced"); agents then start without it. The rule
 * is checked at start with a probe run exactly as an agent is: it must be refused by a listener on
 * loopback, reach the rooms, and see no process but its own.
 *
 * The PID namespace hides one thing from the container: how its first process ended. The shell
 * reports the agent's status as shells do (a signal n as exit 128+n), so a run that ended with such
 * a status after the container sent it that very signal is reported as the signal (exitOf).
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { constants } from "node:os";
import { join, relative } from "node:path";
import type { AgentFiles } from "./agent-files.ts";
import {
  addressesOf,
  applyNft,
  cgroup2Mount,
  deleteTable,
  firstLine,
  nftUsable,
  parseHostPort,
  remoteHostPort,
  resolverEndpoints,
  rulesetFor,
  tablesWithPrefix,
  tcpEndpoints,
  type Endpoint,
} from "./agent-network.ts";

/** What of the boundary holds for the agents of this container. */
export type BoundaryStatus = {
  /** Agents see only their own run's processes. */
  processes: boolean;
  /** The network rule is installed and was seen to refuse a loopback listener. */
  network: boolean;
  /** What is not enforced, and why (empty when everything is). */
  missing: string[];
};

export type SandboxOptions = {
  /** This container's lasting id: its cgroup and nftables table are named after it. */
  containerId: string;
  /** The rooms, `host:port` as agents reach them. */
  host: string;
  /** `host:port` on the machine agents may also reach (--agent-allow). */
  allow: readonly string[];
  /** Networks beyond the machine agents may reach; null: all of them. */
  egress: readonly string[] | null;
  /** What agents run from the project, where rig users reach it (container/agent-files.ts). */
  files: AgentFiles;
  log: (line: string) => void;
};

const UNSHARE = "/usr/bin/unshare";
const SETPRIV = "/usr/bin/setpriv";
/**
 * The namespace's first process: runs the agent in the foreground and ends with its status. The
 * agent runs in a subshell that takes back the real stderr, so the shell's own note on a child
 * killed by a signal ("Terminated") goes to /dev/null rather than into the agent's output.
 */
const INIT = 'exec 3>&2 2>/dev/null; (exec "$@" 2>&3 3>&-); exit $?';
/** Table and cgroup names start so; the sweep looks for left-over ones by it. */
const PREFIX = "townhall_";
/** The uid of the start-up probe: nobody, which owns nothing. */
const PROBE_UID = 65534;

type Group = { key: string; dir: string; allowed: Endpoint[] };

/**
 * How a run that went through the namespace's shell ended: a status 128+n after the container sent
 * signal n is that signal (the shell reports a signal's end so); any other status is what it says.
 */
export function exitThroughInit(
  code: number | null,
  signal: NodeJS.Signals | null,
  sent: ReadonlySet<NodeJS.Signals>,
): { code: number | null; signal: NodeJS.Signals | null } {
  if (signal || code === null || code <= 128) return { code, signal };
  const name = (Object.keys(constants.signals) as NodeJS.Signals[]).find((s) => constants.signals[s] === code - 128);
  return name && sent.has(name) ? { code: null, signal: name } : { code, signal };
}

/** The name of a container's nftables table and cgroup: from its lasting id (two containers on one machine never share one). */
export function sandboxTable(containerId: string): string {
  return `${PREFIX}${createHash("sha256").update(containerId).digest("hex").slice(0, 10)}`;
}

export class AgentSandbox {
  private readonly groups = new Map<string, Group>();
  private closed = false;
  /** The start-up probe is running: agents' groups apply before the rule is known to hold. */
  private probing = false;
  private applying: Promise<void> = Promise.resolve();

  private constructor(
    private readonly options: SandboxOptions,
    readonly status: BoundaryStatus,
    /** unshare and setpriv are there to use (as root). */
    private readonly tools: boolean,
    private readonly base: { dir: string; nftPath: string; level: number; table: string } | null,
    private readonly allowed: Endpoint[],
  ) {}

  /** What agents run, and their PATH. */
  get files(): AgentFiles {
    return this.options.files;
  }

  /** Sets up what can be set up here, checks it, and says once what is not enforced. */
  static async prepare(options: SandboxOptions): Promise<AgentSandbox> {
    const missing: string[] = [];
    const root = process.getuid?.() === 0;
    const processes = root && existsSync(UNSHARE) && existsSync(SETPRIV);
    if (!root) missing.push("processes: not root, so agents can list every process of this user and read their command lines");
    else if (!processes) missing.push("processes: util-linux unshare/setpriv not found");
    let base: { dir: string; nftPath: string; level: number; table: string } | null = null;
    const allowed: Endpoint[] = [];
    if (!root) {
      missing.push("network: not root, so agents can connect to every service on this machine");
    } else if (!processes) {
      missing.push("network: needs util-linux's unshare and setpriv to start agents in its cgroup");
    } else {
      const problem = await nftUsable();
      const mount = cgroup2Mount();
      const name = sandboxTable(options.containerId);
      if (problem) missing.push(`network: ${problem}`);
      else if (!mount) missing.push("network: no cgroup v2 hierarchy is mounted");
      else if (!(join(mount, name) + "/").startsWith("/sys/fs/cgroup/"))
        missing.push(`network: the cgroup v2 hierarchy is at ${mount}, outside /sys/fs/cgroup where nft looks`);
      else {
        const dir = join(mount, name);
        base = { dir, nftPath: relative("/sys/fs/cgroup", dir), level: 1, table: name };
        const rooms = parseHostPort(options.host);
        if (rooms) allowed.push(...(await tcpEndpoints(rooms.host, rooms.port)));
        allowed.push(...resolverEndpoints());
        for (const entry of options.allow) {
          const target = parseHostPort(entry)!;
          const endpoints = await tcpEndpoints(target.host, target.port);
          if (!endpoints.length) options.log(`--agent-allow ${entry}: ${target.host} does not resolve; nothing allowed for it`);
          allowed.push(...endpoints);
        }
      }
    }
    const sandbox = new AgentSandbox(options, { processes, network: false, missing }, processes, base, allowed);
    if (base) {
      try {
        await sweepLeftOvers(base.table);
        mkdirSync(base.dir, { recursive: true });
        sandbox.group("probe");
        await sandbox.apply();
        sandbox.probing = true;
        const verdict = await sandbox.probe().finally(() => (sandbox.probing = false));
        if (verdict) missing.push(`network: ${verdict}`);
        else sandbox.status.network = true;
      } catch (error) {
        missing.push(`network: ${firstLine(error)}`);
      }
      if (!sandbox.status.network) await sandbox.uninstall();
    }
    if (missing.length) options.log(`the agents' boundary is not enforced here: ${missing.join("; ")} (docs/security.md says what then holds)`);
    else
      options.log(
        `agents run in their own PID namespaces, and reach on this machine only the rooms${options.allow.length ? `, ${options.allow.join(", ")}` : ""} and their rig's remote`,
      );
    return sandbox;
  }

  /**
   * The command that starts `file args` as an agent of `group` (a rig's key, or `mayor`), as
   * `user` (null: as this process), inside the boundary. Spawn it detached: it leads its process
   * group, and a signal to the group reaches the agent.
   */
  command(
    groupKey: string,
    user: { uid: number; gid: number } | null,
    file: string,
    args: readonly string[],
  ): { file: string; args: string[]; uid?: number; gid?: number } {
    if (!user || !this.tools) return { file, args: [...args], ...(user ? { uid: user.uid, gid: user.gid } : {}) };
    const drop = [SETPRIV, `--reuid=${user.uid}`, `--regid=${user.gid}`, "--clear-groups", "--no-new-privs", "--"];
    const inner = this.status.processes
      ? [UNSHARE, "--pid", "--fork", "--kill-child", "--mount-proc", "--", ...drop, "/bin/sh", "-c", INIT, "sh", file, ...args]
      : [...drop, file, ...args];
    const group = this.status.network || this.probing ? this.groups.get(groupKey) : undefined;
    if (!group) return { file: inner[0]!, args: inner.slice(1) };
    // The shell writes its own pid into the cgroup, then becomes what follows: nothing runs before the move.
    return { file: "/bin/sh", args: ["-c", 'echo $$ > "$0" && exec "$@"', join(group.dir, "cgroup.procs"), ...inner] };
  }

  /** A rig (or the Mayor) whose agents start: its cgroup, and its git remote if that is on this machine. */
  async addGroup(key: string, gitUrl?: string): Promise<void> {
    if (!this.status.network || this.groups.has(key)) return;
    const group = this.group(key);
    const remote = gitUrl ? remoteHostPort(gitUrl) : null;
    if (remote) group.allowed = await tcpEndpoints(remote.host, remote.port);
    await this.apply();
  }

  /** A rig that is gone: its rule and its cgroup go too. */
  async removeGroup(key: string): Promise<void> {
    const group = this.groups.get(key);
    if (!group) return;
    this.groups.delete(key);
    await this.apply();
    rmdirQuietly(group.dir);
  }

  /** How a run ended, as the container reports it (see the module's note on the PID namespace). */
  exitOf(code: number | null, signal: NodeJS.Signals | null, sent: ReadonlySet<NodeJS.Signals>): { code: number | null; signal: NodeJS.Signals | null } {
    return this.status.processes ? exitThroughInit(code, signal, sent) : { code, signal };
  }

  /** Removes the table and the cgroups (at the container's stop). */
  async close(): Promise<void> {
    this.closed = true;
    await this.applying.catch(() => {});
    if (this.status.network) await this.uninstall();
  }

  private group(key: string): Group {
    const dir = join(this.base!.dir, key);
    mkdirSync(dir, { recursive: true });
    const group = { key, dir, allowed: [] };
    this.groups.set(key, group);
    return group;
  }

  /** Installs the table as it now stands (one change at a time, each replacing the whole table). */
  private apply(): Promise<void> {
    const base = this.base!;
    this.applying = this.applying
      .catch(() => {})
      .then(() => {
        if (this.closed) return;
        return applyNft(
          rulesetFor({
            table: base.table,
            cgroup: { path: base.nftPath, level: base.level },
            allowed: this.allowed,
            rigs: [...this.groups.values()].map((g) => ({ cgroup: g.key, allowed: g.allowed })),
            egress: this.options.egress,
            owner: `townhall container pid ${process.pid}`,
          }),
        );
      });
    return this.applying;
  }

  private async uninstall(): Promise<void> {
    if (!this.base) return;
    await deleteTable(this.base.table).catch(() => {});
    for (const group of this.groups.values()) rmdirQuietly(group.dir);
    rmdirQuietly(this.base.dir);
  }

  /**
   * Runs a probe exactly as an agent runs (as nobody, in the probe's cgroup and its own PID
   * namespace): a loopback listener must refuse it, the rooms must answer it (when they answer
   * the container), and it must see no process but its own. Null when all held; else what did not.
   */
  private async probe(): Promise<string | null> {
    const server = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    const rooms = parseHostPort(this.options.host);
    const roomsUp = rooms ? await canConnect(rooms.host, rooms.port) : false;
    const script = `
      const net = require("node:net"), fs = require("node:fs");
      const tryConnect = (host, port) => new Promise((done) => {
        const s = net.connect({ host, port, timeout: 3000 });
        s.once("connect", () => (s.destroy(), done("connected")));
        s.once("timeout", () => (s.destroy(), done("timeout")));
        s.once("error", (e) => done(e.code || "error"));
      });
      (async () => {
        const processes = fs.readdirSync("/proc").filter((n) => /^\\d+$/.test(n)).length;
        const listener = await tryConnect("127.0.0.1", ${port});
        const rooms = ${roomsUp && rooms ? `await tryConnect(${JSON.stringify(rooms.host)}, ${rooms.port})` : '"skipped"'};
        process.stdout.write(JSON.stringify({ processes, listener, rooms }));
      })();`;
    try {
      const { file, args } = this.command("probe", { uid: PROBE_UID, gid: PROBE_UID }, this.files.node, ["-e", script]);
      const out = await new Promise<string>((resolve, reject) => {
        execFile(file, args, { cwd: "/", env: { PATH: "/usr/bin:/bin" }, timeout: 15_000 }, (error, stdout, stderr) =>
          error ? reject(new Error(stderr.trim() || error.message)) : resolve(stdout),
        );
      });
      const seen = JSON.parse(out) as { processes: number; listener: string; rooms: string };
      if (seen.listener === "connected") return "a probe run as an agent still reached a loopback listener (the cgroup rule did not match)";
      if (seen.rooms !== "connected" && seen.rooms !== "skipped")
        return `a probe run as an agent could not reach the rooms at ${this.options.host} (${seen.rooms})`;
      if (seen.processes > 4) {
        // Not in a PID namespace of its own after all: say so, and start agents without the wrapper's promise.
        this.status.processes = false;
        this.status.missing.push(`processes: a probe run as an agent saw ${seen.processes} processes`);
      }
      return null;
    } finally {
      server.close();
    }
  }
}

/** Whether this process can open a TCP connection to host:port (within 2 s). */
async function canConnect(host: string, port: number): Promise<boolean> {
  const { connect } = await import("node:net");
  const [address] = await addressesOf(host);
  if (!address) return false;
  return new Promise((resolve) => {
    const socket = connect({ host: address, port, timeout: 2_000 });
    socket.once("connect", () => (socket.destroy(), resolve(true)));
    socket.once("timeout", () => (socket.destroy(), resolve(false)));
    socket.once("error", () => resolve(false));
  });
}

/**
 * Tables and cgroups of containers that are gone (SIGKILLed: nobody removed them): only those whose
 * owner's pid (in the table's comment) is not running and whose cgroups hold no process, so a table
 * is never taken from a running container or from agents that still run (a SIGKILLed container's
 * strays keep their rule until its next start kills them).
 */
async function sweepLeftOvers(own: string): Promise<void> {
  const mount = cgroup2Mount();
  if (!mount) return;
  for (const { name, comment } of await tablesWithPrefix(PREFIX)) {
    if (name === own) continue;
    const owner = Number(/pid (\d+)/.exec(comment)?.[1]);
    if (Number.isInteger(owner) && owner > 0 && processAlive(owner)) continue; // another container's, running
    const dir = join(mount, name);
    if (existsSync(dir) && !cgroupEmpty(dir)) continue;
    await deleteTable(name).catch(() => {});
    removeCgroupTree(dir);
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Whether no process is in the cgroup `dir` or any cgroup below it. */
function cgroupEmpty(dir: string): boolean {
  try {
    if (readFileSync(join(dir, "cgroup.procs"), "utf8").trim()) return false;
    return readdirSync(dir, { withFileTypes: true }).every((entry) => !entry.isDirectory() || cgroupEmpty(join(dir, entry.name)));
  } catch {
    return true; // gone
  }
}

function removeCgroupTree(dir: string): void {
  try {
    for (const entry of readdirSync(dir, { withFileTypes: true })) if (entry.isDirectory()) removeCgroupTree(join(dir, entry.name));
  } catch {
    return;
  }
  rmdirQuietly(dir);
}

/** A cgroup directory goes with rmdir (its files are the kernel's); busy or gone is fine. */
function rmdirQuietly(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    // still has processes (they keep their rule), or gone already
  }
}
