/**
 * One rig served by the town container: its clone and worktrees (RigRepo), its agent processes,
 * and the socket to its rig room over which commands arrive (start_agent, merge, stop_agent) and
 * acknowledgements go back as tool calls.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import type { Agent, Bead, CommandFrame, MergeCommand, Rig, StartAgentCommand, StopAgentCommand } from "../party/protocol.ts";
import { ToolSocket } from "../client/tools.ts";
import { RigRepo } from "./git-ops.ts";
import type { RuntimeConfig } from "./runtimes.ts";
import { GT_BIN_DIR, agentCommand } from "./runtimes.ts";

export type RigWorkerOptions = {
  host: string;
  secure?: boolean;
  town: string;
  containerToken: string;
  workspace: string;
  heartbeatMs: number;
  runtime: RuntimeConfig;
  WebSocket?: unknown;
  log: (line: string) => void;
};

type Run = { command: StartAgentCommand; child: ChildProcess; exited: Promise<void> };

const STOP_GRACE_MS = 5_000;
/** Merge attempts when the remote fails (not a conflict) before the bead goes back to open. */
const MERGE_TRIES = 5;

export class RigWorker {
  readonly repo: RigRepo;
  private readonly socket: ToolSocket;
  private readonly runs = new Map<string, Run>();
  /** Starts taken on but not yet begun, per polecat: it heartbeats for these as for running ones. */
  private readonly queuedStarts = new Map<string, number>();
  /** Per identity, the tail of its start/stop work, so one polecat's runs never overlap. */
  private readonly lanes = new Map<string, Promise<void>>();
  /** Command ids already taken on: a reconnect re-sends every pending command. */
  private readonly seen = new Set<string>();
  private queue: CommandFrame[] = [];
  private ready = false;
  private stopped = false;
  private readonly heartbeat: ReturnType<typeof setInterval>;

  constructor(
    readonly rig: Rig,
    private readonly options: RigWorkerOptions,
  ) {
    this.repo = new RigRepo({ rigDir: this.rigDir, gitUrl: rig.gitUrl, defaultBranch: rig.defaultBranch });
    this.socket = new ToolSocket({
      host: options.host,
      ...(options.secure !== undefined ? { secure: options.secure } : {}),
      party: "rig",
      room: `${options.town}.${rig.id}`,
      token: options.containerToken,
      WebSocket: options.WebSocket,
    });
    this.socket.onCommand((command) => {
      if (this.seen.has(command.id)) return;
      this.seen.add(command.id);
      if (this.ready) this.handle(command);
      else this.queue.push(command);
    });
    this.heartbeat = setInterval(() => this.beat(), options.heartbeatMs);
  }

  get rigDir(): string {
    return join(this.options.workspace, "rigs", this.rig.id);
  }

  private log(line: string): void {
    this.options.log(`[${this.rig.name}] ${line}`);
  }

  /**
   * Clones (or refreshes) the rig, clears what a previous supervisor left behind, reports agents
   * whose processes died with it, then takes on the commands that arrived meanwhile.
   */
  async start(): Promise<void> {
    await this.socket.ready;
    try {
      await this.repo.ensureClone();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.log(`clone failed: ${message}`);
      await this.socket.call("gt_rig_ready", { error: message.slice(0, 2000) });
      return;
    }
    // Every pending command was sent right after the hello, so by the time these replies arrive
    // the queue holds all of them.
    const [agents, inReview] = await Promise.all([
      this.socket.call<Agent[]>("gt_list_agents"),
      this.socket.call<Bead[]>("gt_list_beads", { status: "in_review" }),
    ]);
    for (const agent of agents) if (agent.pid) this.killStray(agent.pid);
    await this.repo.cleanupExcept(new Set(), new Set(inReview.flatMap((b) => (b.branch ? [b.branch] : []))));
    const restarting = new Set(this.queue.flatMap((c) => (c.command === "start_agent" ? [c.identity] : [])));
    for (const agent of agents) {
      if ((agent.status === "working" || agent.status === "stalled") && !restarting.has(agent.identity) && !this.runs.has(agent.identity)) {
        await this.socket.call("gt_agent_exited", { as: agent.identity, reason: "its supervisor restarted" });
      }
    }
    await this.reportDisk();
    this.ready = true;
    this.log(`ready (${this.queue.length} pending commands)`);
    for (const command of this.queue.splice(0)) this.handle(command);
  }

  /**
   * Kills an agent process a previous supervisor of this rig left running. Only a process whose
   * working directory is one of this rig's worktrees: a recycled pid is someone else's.
   */
  private killStray(pid: number): void {
    try {
      if (!readlinkSync(`/proc/${pid}/cwd`).startsWith(join(this.rigDir, "worktrees") + "/")) return;
      process.kill(pid, "SIGKILL");
      this.log(`killed stray agent process ${pid}`);
    } catch {
      // gone already, or not ours to look at
    }
  }

  /**
   * Takes a command on. If handling it fails (the room unreachable for the acknowledgement, a
   * fetch that failed), it is forgotten, so the room's next resend of it is taken on again.
   */
  private handle(command: CommandFrame): void {
    const forget = (error: unknown) => {
      this.seen.delete(command.id);
      this.log(`${command.command} for ${command.identity} failed: ${error instanceof Error ? error.message : error}`);
    };
    switch (command.command) {
      case "start_agent":
        this.queuedStarts.set(command.identity, (this.queuedStarts.get(command.identity) ?? 0) + 1);
        return this.inLane(command.identity, () => this.startAgent(command), { afterExit: true, onError: forget });
      case "stop_agent":
        return this.inLane(command.identity, () => this.stopAgent(command), { afterExit: false, onError: forget });
      case "merge":
        void this.merge(command).catch(forget);
        return;
    }
  }

  /**
   * Runs one polecat's work in order: a stop after the start before it has spawned (so it finds the
   * run to stop), a start after the previous run has also exited (its worktree is the same path).
   */
  private inLane(identity: string, work: () => Promise<void>, options: { afterExit: boolean; onError: (error: unknown) => void }): void {
    const previous = this.lanes.get(identity) ?? Promise.resolve();
    const ready = options.afterExit ? previous.then(() => this.runs.get(identity)?.exited) : previous;
    const next = ready.then(work).catch(options.onError);
    this.lanes.set(identity, next);
  }

  private async startAgent(command: StartAgentCommand): Promise<void> {
    if (this.stopped) return;
    let worktree: string;
    try {
      worktree = await this.repo.createWorktree(command.name, command.branch);
    } catch (error) {
      this.startBegun(command.identity);
      await this.socket.call("gt_agent_exited", { as: command.identity, bead_id: command.bead.id, reason: `no worktree: ${String(error).slice(0, 400)}` });
      return;
    }
    const home = join(this.rigDir, "home");
    mkdirSync(home, { recursive: true });
    const env: Record<string, string> = {
      PATH: `${GT_BIN_DIR}:${process.env.PATH ?? "/usr/bin:/bin"}`,
      HOME: home, // inside this rig's directory: an agent never points into another rig
      LANG: process.env.LANG ?? "C.UTF-8",
      GT_HOST: this.options.host,
      GT_SECURE: this.options.secure ? "1" : "0",
      GT_TOWN: this.options.town,
      GT_RIG: this.rig.id,
      GT_AGENT: command.identity,
      GT_TOKEN: command.token,
      GT_BEAD: command.bead.id,
      GT_SUPERVISOR_PID: String(process.pid),
      GIT_AUTHOR_NAME: command.identity,
      GIT_AUTHOR_EMAIL: `${command.name}@${this.rig.name}.townhall.local`,
      GIT_COMMITTER_NAME: command.identity,
      GIT_COMMITTER_EMAIL: `${command.name}@${this.rig.name}.townhall.local`,
    };
    const { file, args } = agentCommand(this.options.runtime, this.rig.name);
    const child = spawn(file, args, { cwd: worktree, env, stdio: ["ignore", "pipe", "pipe"] });
    const exited = new Promise<void>((resolve) => {
      child.once("exit", (code, signal) => {
        if (this.runs.get(command.identity)?.child === child) this.runs.delete(command.identity);
        void this.afterExit(command, code, signal).finally(resolve);
      });
      child.once("error", (error) => this.log(`${command.identity} could not start: ${error.message}`));
    });
    child.stdout?.on("data", (chunk: Buffer) => this.log(`${command.name}: ${chunk.toString().trimEnd()}`));
    child.stderr?.on("data", (chunk: Buffer) => this.log(`${command.name}! ${chunk.toString().trimEnd()}`));
    this.runs.set(command.identity, { command, child, exited });
    this.startBegun(command.identity);
    this.log(`${command.identity} started on ${command.branch} (pid ${child.pid})`);
    await this.socket.call("gt_agent_started", { as: command.identity, bead_id: command.bead.id, ...(child.pid ? { pid: child.pid } : {}) });
  }

  private async afterExit(command: StartAgentCommand, code: number | null, signal: NodeJS.Signals | null): Promise<void> {
    this.log(`${command.identity} exited (${signal ?? code})`);
    await this.repo.removeWorktree(command.name).catch((error) => this.log(`worktree cleanup: ${error}`));
    if (this.stopped) return;
    const reply = await this.socket.call<{ bead_status: string | null }>("gt_agent_exited", { as: command.identity, bead_id: command.bead.id, code, signal });
    // Work that did not reach review is redone from a fresh branch: this one is nobody's now.
    if (reply.bead_status !== "in_review") await this.repo.deleteBranch(command.branch).catch(() => {});
  }

  private async stopAgent(command: StopAgentCommand): Promise<void> {
    const run = this.runs.get(command.identity);
    if (!run) {
      // Acknowledge with the bead it was about, so a newer hook of this polecat is left alone.
      await this.socket.call("gt_agent_exited", { as: command.identity, ...(command.bead_id ? { bead_id: command.bead_id } : {}), reason: `stopped: ${command.reason}` });
      return;
    }
    this.log(`stopping ${command.identity}: ${command.reason}`);
    run.child.kill("SIGTERM");
    const timer = setTimeout(() => run.child.kill("SIGKILL"), STOP_GRACE_MS);
    await run.exited;
    clearTimeout(timer);
  }

  /**
   * The refinery step (DESIGN §7): merge --no-ff into the default branch and push. A conflict is
   * reported (the bead is redone from a fresh branch); a fetch or push that failed is retried with
   * backoff first, keeping the polecat's finished branch, since the remote may just be away.
   */
  private async merge(command: MergeCommand, attempt = 1): Promise<void> {
    // The polecat called gt_done and is exiting: let its worktree go first, since git will not
    // delete a branch that a worktree still has checked out.
    const run = this.runs.get(command.identity);
    if (run?.command.bead.id === command.bead_id) await run.exited;
    const result = await this.repo.merge(command.branch, `Merge ${command.branch}: ${command.title} (bead ${command.bead_id})`);
    if (result.ok) {
      this.log(`merged ${command.branch} as ${result.mergeCommit.slice(0, 8)}`);
      await this.socket.call("gt_merge_result", { bead_id: command.bead_id, ok: true, merge_commit: result.mergeCommit });
    } else if (result.conflictFiles.length === 0 && attempt < MERGE_TRIES && !this.stopped) {
      const delay = Math.min(30_000, 1000 * 2 ** (attempt - 1));
      this.log(`merge of ${command.branch} failed (${result.error.split("\n")[0]}); trying again in ${delay / 1000} s`);
      await new Promise((resolve) => setTimeout(resolve, delay));
      return this.merge(command, attempt + 1);
    } else {
      this.log(`merge of ${command.branch} failed: ${result.error}`);
      await this.repo.deleteBranch(command.branch).catch(() => {}); // the bead is redone from a fresh branch
      await this.socket.call("gt_merge_result", { bead_id: command.bead_id, ok: false, error: result.error.slice(0, 4000), conflict_files: result.conflictFiles.slice(0, 100) });
    }
    await this.reportDisk();
  }

  private async reportDisk(): Promise<void> {
    await this.socket.call("gt_rig_ready", { disk_bytes: await this.repo.diskBytes() });
  }

  private startBegun(identity: string): void {
    const left = (this.queuedStarts.get(identity) ?? 1) - 1;
    if (left > 0) this.queuedStarts.set(identity, left);
    else this.queuedStarts.delete(identity);
  }

  private beat(): void {
    for (const identity of new Set([...this.runs.keys(), ...this.queuedStarts.keys()])) {
      this.socket.call("gt_heartbeat", { as: identity }).catch(() => {}); // a missed beat is what the witness watches for
    }
  }

  /** Stops every agent (SIGKILL when `kill`), closes the socket; with `remove`, deletes the rig's directory. */
  async stop({ remove }: { remove: boolean }): Promise<void> {
    this.stopped = true;
    clearInterval(this.heartbeat);
    const exits = [...this.runs.values()].map((run) => {
      run.child.kill("SIGKILL");
      return run.exited;
    });
    await Promise.all(exits);
    this.socket.close();
    if (remove) await this.repo.remove();
  }
}
