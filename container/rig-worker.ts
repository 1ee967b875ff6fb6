/**
 * One rig served by the town container: its clone and worktrees (RigRepo), its agent processes,
 * and the socket to its rig room. Over that socket the room grants this container the rig's lease
 * (or keeps it standing by), sends commands (start_agent, merge, stop_agent) while it holds the
 * lease, and takes acknowledgements as tool calls that carry the lease's epoch.
 *
 * The lease is kept by renewing it every `renew_ms` (gt_lease_renew); each renewal vouches for the
 * runs this container has (their heartbeat) and when each last printed (their progress). A
 * container that loses the lease (close 4408, or LEASE_LOST on any call) kills its agents at once:
 * the room has given their beads to someone else.
 *
 * Each agent runs in a process group of its own (spawned detached), and every stop or kill is sent
 * to the whole group: a `sh -c` runtime's children (with the agent's token) end with it, and what
 * is left of a group when its agent exits is killed too (processes.ts).
 *
 * What an agent prints goes, line by line and redacted, to the container's log and to the rig room
 * (gt_agent_output, batched: output-shipper.ts), which keeps it per run for the dashboard.
 *
 * A run claims its worktree and branch until its exit is handled; whatever else is in the clone (a
 * killed supervisor's runs above all) is swept away within SWEEP_MS, whatever the lease (sweep()).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import type { Bead, CommandFrame, LeaseFrame, MergeCommand, Rig, StartAgentCommand, StopAgentCommand, Usage } from "../party/protocol.ts";
import { ToolCallError, ToolSocket } from "../client/tools.ts";
import { RigRepo } from "./git-ops.ts";
import type { AgentSlots } from "./agent-slots.ts";
import type { RuntimeConfig } from "./runtimes.ts";
import { runtimeOf } from "./runtimes.ts";
import { keysFor, keyValues, type AgentKeys } from "./agent-keys.ts";
import { removeRunDir, type AgentIdentity } from "./preset-run.ts";
import type { PresetBinaries } from "./presets/binary.ts";
import { PresetStream, usageLine } from "./presets/lines.ts";
import type { Prices } from "./presets/prices.ts";
import type { AgentSandbox } from "./sandbox.ts";
import { endGroup, killGroup, killStray, processesUnder, trackGroup } from "./processes.ts";
import { OutputShipper, type RunOutput, type SendFailure } from "./output-shipper.ts";
import { isolating, rigUserName } from "./rig-user.ts";
import { AgentRuntime, type AgentLaunch } from "./agent-runtime.ts";

export type RigWorkerOptions = {
  host: string;
  secure?: boolean;
  town: string;
  /** The container token, or where to read the current one (it is renewed: see TokenKeeper). */
  containerToken: string | (() => string);
  workspace: string;
  /** Renew the lease at least this often (the room's renew_ms may ask for more often). */
  heartbeatMs: number;
  runtime: RuntimeConfig;
  WebSocket?: unknown;
  log: (line: string) => void;
  /** This container's lasting id (its workspace's) and this process's session. */
  containerId: string;
  session: string;
  /** The room closed the socket for good (4404: the rig was removed, or never existed). */
  onGone?: (worker: RigWorker) => void;
  /** The container's agent processes at once, shared by all its rigs (container/agent-slots.ts). */
  slots?: AgentSlots;
  /** The one launcher of agent processes: the rig's boundary (container/sandbox.ts). */
  sandbox: AgentSandbox;
  /** Agents' keys (--agent-env, --agent-secrets): the town's and each rig's, by rig name. */
  agentKeys?: AgentKeys;
  /** Where each preset's CLI is (--agent-bin, PATH, npm's global prefix), found once for all rigs. */
  binaries?: PresetBinaries;
  /** The operator's prices (--prices): the cost of a run whose CLI reports none. */
  prices?: Prices | null;
};

/** `sent`: the signals the container sent the run (the sandbox reports a signal's end as a status: AgentSandbox.exitOf). */
type Run = {
  command: StartAgentCommand;
  child: ChildProcess;
  exited: Promise<void>;
  outputAt: number;
  output: RunOutput;
  sent: Set<NodeJS.Signals>;
  /** A preset runtime's parsed stdout (its usage at the end), and its per-run directory. */
  stream?: PresetStream;
  runDir?: string;
};

/** Tries of an agent's exit report (backing off from 1 s) before it is left to the lease's renewals. */
const EXIT_REPORT_TRIES = 6;
const STOP_GRACE_MS = 5_000;
/** The container's acknowledgements: each carries the lease's epoch, so a stale container's are refused. */
const FENCED = new Set(["gt_rig_ready", "gt_agent_started", "gt_agent_exited", "gt_merge_result", "gt_heartbeat"]);
/** Merge attempts when the remote fails (not a conflict) before the bead goes back to open. */
const MERGE_TRIES = 5;
/** How long an agent's exit report waits for its last output to reach the room (the socket may be away). */
const OUTPUT_DRAIN_MS = 3_000;
/** How often the clone is swept of worktrees and `gt/` branches that nothing owns (see sweep()). */
const SWEEP_MS = 10_000;

/** What a failed gt_agent_output means for its lines: the room refused them, the epoch is over, or try again. */
function outputFailure(error: unknown): SendFailure {
  if (!(error instanceof ToolCallError)) return "retry";
  if (error.code === "LEASE_LOST") return "lease";
  return error.code === "DISCONNECTED" || error.code === "TIMEOUT" || error.code === "RATE_LIMITED" || error.code === "INTERNAL" ? "retry" : "drop";
}

export class RigWorker {
  readonly repo: RigRepo;
  private readonly socket: ToolSocket;
  private readonly runs = new Map<string, Run>();
  /** Starts taken on but not yet begun, per polecat: renewals vouch for these as for running ones. */
  private readonly queuedStarts = new Map<string, StartAgentCommand>();
  /** Per identity, the tail of its start/stop work, so one polecat's runs never overlap. */
  private readonly lanes = new Map<string, Promise<void>>();
  /**
   * Per identity, its last run's exit handling (its worktree removed, its exit reported). A run
   * leaves `runs` when its process exits, before that handling is done; a next start must wait for
   * it, or the old run's worktree removal deletes the new run's worktree (same path) and its spawn
   * fails with ENOENT (seen under load in the town-scale bench).
   */
  private readonly exits = new Map<string, Promise<void>>();
  /**
   * Per polecat name, the branch of its run in this process: claimed before its worktree is made,
   * given up once its exit is handled (worktree removed, exit reported, branch dropped or left to
   * the refinery). A worktree or `gt/` branch no claim names, and no bead in review, is nobody's.
   */
  private readonly claims = new Map<string, string>();
  /** Per cleanup under way, the branches whose claim was given up since it began (see clean()). */
  private readonly cleanups = new Set<Set<string>>();
  private sweepTimer: ReturnType<typeof setTimeout> | null = null;
  private sweeping: Promise<void> | null = null;
  /** Command ids already taken on: every (re)grant sends every owed command again. */
  private readonly seen = new Set<string>();
  private queue: CommandFrame[] = [];
  /** The lease as this container knows it: the epoch it holds, or standing by, or neither. */
  private lease: { state: "held"; epoch: number } | { state: "standby" } | null = null;
  private renewMs: number;
  private renewTimer: ReturnType<typeof setTimeout> | null = null;
  /** The clone is ready and the runs of earlier epochs are cleaned up: commands are handled. */
  private ready = false;
  private preparing: Promise<void> | null = null;
  private stopped = false;
  /** Agents' output on its way to the room. */
  private readonly output: OutputShipper;
  /** What this rig's agents run, and whether they can (agent-runtime.ts). */
  private readonly agentRuntime: AgentRuntime;

  /** The rig's runtime problem this worker reported as the rig's error (cleared when it is gone). */
  private runtimeError: string | null = null;
  /** Presets whose missing keys were already said. */
  private rechecking: Promise<void> = Promise.resolve();

  constructor(
    /** The registry's entry; its runtime and model follow the registry (update()). */
    public rig: Rig,
    private readonly options: RigWorkerOptions,
  ) {
    // As root, the rig's git work and agents run as the rig's own user (rig-user.ts).
    this.repo = new RigRepo({
      rigDir: this.rigDir,
      gitUrl: rig.gitUrl,
      defaultBranch: rig.defaultBranch,
      ...(isolating() ? { user: rigUserName(rig.id) } : {}),
    });
    this.agentRuntime = new AgentRuntime({
      runtime: options.runtime,
      sandbox: options.sandbox,
      agentKeys: options.agentKeys,
      binaries: options.binaries,
      prices: options.prices,
      rigDir: this.rigDir,
      user: () => this.repo.user,
      homeDir: this.repo.homeDir,
    });
    this.renewMs = options.heartbeatMs;
    this.socket = new ToolSocket({
      host: options.host,
      ...(options.secure !== undefined ? { secure: options.secure } : {}),
      party: "rig",
      room: `${options.town}.${rig.id}`,
      token: options.containerToken,
      WebSocket: options.WebSocket,
      query: { container: options.containerId, session: options.session },
    });
    this.socket.onLease((frame) => this.onLease(frame));
    this.socket.onCommand((command) => this.onCommand(command));
    this.output = new OutputShipper({
      // Not this.call: a batch of a run from an earlier epoch is refused (LEASE_LOST) without the current lease being lost.
      send: (batch) => this.socket.call("gt_agent_output", batch),
      classify: outputFailure,
      connected: () => this.socket.socket.readyState === 1,
      log: (line) => this.log(line),
    });
    this.socket.onHello(() => this.output.resume());
    this.scheduleSweep();
    this.socket.socket.addEventListener("close", (event: CloseEvent) => {
      if (event.code === 4408) this.lost(`closed by the room: ${event.reason || "lease expired"}`);
      if (event.code === 4404 && !this.stopped) this.options.onGone?.(this);
    });
  }

  /**
   * The registry's entry as it is now (the supervisor passes it on every change of the registry):
   * a new runtime or model applies to the next run, and a new runtime is checked at once, so a rig
   * whose binary cannot be run is an error (its beads wait) rather than runs that fail.
   */
  update(rig: Rig): void {
    const changed = rig.runtime !== this.rig.runtime || rig.model !== this.rig.model;
    this.rig = { ...this.rig, runtime: rig.runtime, model: rig.model } as Rig;
    if (!changed) return;
    const runtime = runtimeOf(this.options.runtime, this.rig);
    const named = runtime.kind === "preset" ? runtime.name : runtime.kind;
    this.log(`runtime ${named}${rig.runtime ? "" : " (the container's default)"}${rig.model ? `, model ${rig.model}` : ""}: from the next run`);
    this.rechecking = this.rechecking
      .then(() => this.recheck())
      .catch((error) => this.log(`checking the runtime: ${error instanceof Error ? error.message : error}`));
  }

  /** The runtime changed: tell the room whether the rig can serve now (an error while it cannot; ready once it can). */
  private async recheck(): Promise<void> {
    if (this.lease?.state !== "held" || this.stopped) return;
    const epoch = this.lease.epoch;
    await this.preparing?.catch(() => {});
    if (!this.holds(epoch)) return;
    if (!this.ready) {
      // Its start stopped at an error (a runtime it could not run, a clone): take the rig on again.
      this.preparing = this.prepare(epoch).catch((error) => {
        this.log(`could not take the rig on: ${error instanceof Error ? error.message : error}`);
        this.lost("preparing failed");
      });
      return;
    }
    const problem = await this.agentRuntime.problem(this.rig);
    if (!this.holds(epoch)) return;
    if (problem) {
      this.log(problem);
      this.runtimeError = problem;
      await this.call("gt_rig_ready", { error: problem.slice(0, 2000) });
    } else {
      this.agentRuntime.keyHint(this.rig, (line) => this.log(line));
      if (this.runtimeError) {
        this.runtimeError = null;
        await this.reportDisk();
      }
    }
  }

  /** Reconnects the rig's socket (with the renewed container token): a blip the lease rides out. */
  reconnect(): void {
    this.socket.socket.reconnect();
  }

  get rigDir(): string {
    return join(this.options.workspace, "rigs", this.rig.id);
  }

  /** True while this container holds the rig's lease and has its clone ready. */
  get serving(): boolean {
    return this.lease?.state === "held" && this.ready;
  }

  /** The container's token as it is now (it is renewed). */
  private containerToken(): string {
    const token = this.options.containerToken;
    return typeof token === "function" ? token() : token;
  }

  private log(line: string): void {
    this.options.log(`[${this.rig.name}] ${line}`);
  }

  /** Resolves once the room has answered with a lease frame (held or standby). */
  async start(): Promise<void> {
    await this.socket.ready;
  }

  // ------------------------------------------------------------------ the lease

  private onLease(frame: LeaseFrame): void {
    this.renewMs = Math.max(50, Math.min(this.options.heartbeatMs, frame.renew_ms));
    this.scheduleRenew();
    if (frame.state === "standby") {
      if (this.lease?.state === "held") this.lost("the room handed the rig to another container");
      const was = this.lease?.state;
      this.lease = { state: "standby" };
      if (was !== "standby") {
        this.log("standing by: another container serves this rig");
        // No grant may ever come to clean what an earlier supervisor of this workspace left here.
        void this.sweep();
      }
      return;
    }
    const previous = this.lease?.state === "held" ? this.lease.epoch : null;
    this.lease = { state: "held", epoch: frame.epoch };
    if (previous === frame.epoch) return; // reconnected: the same runs go on
    if (previous !== null || this.runs.size) this.killAll(`epoch ${previous} is over`);
    // A new epoch owes everything afresh (a merge of the same bead keeps its command id).
    this.seen.clear();
    this.queue = [];
    this.ready = false;
    this.log(`serving the rig (epoch ${frame.epoch})`);
    this.preparing = this.prepare(frame.epoch).catch((error) => {
      this.log(`could not take the rig on: ${error instanceof Error ? error.message : error}`);
      this.lost("preparing failed");
    });
  }

  /**
   * Clones (or refreshes) the rig and clears what an earlier holder of this workspace left behind
   * (their runs are void: the room said so with a new epoch), then takes on the queued commands.
   */
  private async prepare(epoch: number): Promise<void> {
    try {
      await this.repo.ensureClone();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      // The container words the rig's error (a clone that failed, a program agents cannot run, …): the room shows it as it is.
      this.log(`clone failed: ${message}`);
      await this.call("gt_rig_ready", { error: `clone failed: ${message}`.slice(0, 2000) });
      return;
    }
    if (!this.holds(epoch)) return;
    await this.options.sandbox.addGroup(this.groupKey, this.rig.gitUrl);
    const unusable = await this.agentRuntime.problem(this.rig);
    if (unusable) {
      this.log(unusable);
      this.runtimeError = unusable;
      await this.call("gt_rig_ready", { error: unusable.slice(0, 2000) });
      return;
    }
    this.runtimeError = null;
    if (!this.holds(epoch)) return;
    this.agentRuntime.keyHint(this.rig, (line) => this.log(line));
    await this.clean({ keepInReview: true });
    await this.reportDisk();
    if (!this.holds(epoch)) return;
    this.ready = true;
    this.log(`ready (${this.queue.length} pending commands)`);
    for (const command of this.queue.splice(0)) this.handle(command);
  }

  /** This rig's group in the agents' boundary (its cgroup): named as its user is. */
  private get groupKey(): string {
    return rigUserName(this.rig.id);
  }

  private holds(epoch: number): boolean {
    return !this.stopped && this.lease?.state === "held" && this.lease.epoch === epoch;
  }

  private get epoch(): number {
    return this.lease?.state === "held" ? this.lease.epoch : 0;
  }

  /**
   * The rig is someone else's now: its agents go at once, and so do their worktrees and branches
   * (the new holder redoes that work in its own clone); whatever comes next is a new grant.
   */
  private lost(why: string): void {
    if (this.lease === null && !this.runs.size) return;
    const was = this.lease?.state === "held";
    this.lease = null;
    this.ready = false;
    this.queue = [];
    this.seen.clear();
    this.queuedStarts.clear();
    if (was || this.runs.size) this.log(`lease lost (${why}): stopping its agents`);
    const exits = [...this.runs.values()].map((r) => r.exited);
    this.killAll(why);
    void Promise.all(exits)
      .then(() => (this.lease?.state !== "held" && !this.stopped ? this.clean({ keepInReview: false }) : undefined))
      .catch((error) => this.log(`cleanup after losing the lease: ${error instanceof Error ? error.message : error}`));
  }

  private scheduleRenew(): void {
    if (this.renewTimer || this.stopped) return;
    this.renewTimer = setTimeout(() => {
      this.renewTimer = null;
      void this.renew().finally(() => this.scheduleRenew());
    }, this.renewMs);
  }

  /** The lease's ping: vouches for every run (and every start taken on), with how long since each last printed. */
  private async renew(): Promise<void> {
    const lease = this.lease;
    if (!lease) return;
    const now = Date.now();
    const agents = [
      ...[...this.runs.values()].map((r) => ({ identity: r.command.identity, run: r.command.run, quiet_ms: Math.max(0, now - r.outputAt) })),
      ...[...this.queuedStarts.values()].filter((c) => !this.runs.has(c.identity)).map((c) => ({ identity: c.identity, run: c.run })),
    ];
    try {
      await this.socket.call("gt_lease_renew", lease.state === "held" ? { epoch: lease.epoch, agents } : {}, this.renewMs * 3);
    } catch (error) {
      if (error instanceof ToolCallError && error.code === "LEASE_LOST") this.lost(error.message);
      // Otherwise the socket is away or slow: the room keeps the lease until its deadline.
    }
  }

  /** A container tool call, with the current epoch where the tool takes one; LEASE_LOST means this container lost the rig. */
  private async call<T = unknown>(tool: string, args: Record<string, unknown>): Promise<T> {
    try {
      return await this.socket.call<T>(tool, this.epoch && FENCED.has(tool) ? { ...args, epoch: this.epoch } : args);
    } catch (error) {
      if (error instanceof ToolCallError && error.code === "LEASE_LOST") this.lost(error.message);
      throw error;
    }
  }

  // ------------------------------------------------------------------ commands

  private onCommand(command: CommandFrame): void {
    if (this.lease?.state !== "held" || command.epoch !== this.lease.epoch) return; // not ours to act on
    if (this.seen.has(command.id)) return;
    this.seen.add(command.id);
    if (command.command === "start_agent") this.queuedStarts.set(command.identity, command);
    if (this.ready) this.handle(command);
    else this.queue.push(command);
  }

  /**
   * Takes a command on. If handling it fails (the room unreachable for the acknowledgement, a
   * fetch that failed), it is forgotten, so the room's next send of it is taken on again.
   */
  private handle(command: CommandFrame): void {
    const forget = (error: unknown) => {
      this.seen.delete(command.id);
      this.log(`${command.command} for ${command.identity} failed: ${error instanceof Error ? error.message : error}`);
    };
    switch (command.command) {
      case "start_agent":
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
    const ready = options.afterExit ? previous.then(() => this.runs.get(identity)?.exited ?? this.exits.get(identity)) : previous;
    const next = ready.then(work).catch(options.onError);
    this.lanes.set(identity, next);
  }

  private async startAgent(command: StartAgentCommand): Promise<void> {
    if (this.stopped || !this.holds(command.epoch)) return;
    // A slot of the container's before anything is made: past the limit the start waits its turn
    // (still vouched for by the renewals, as a queued start), then looks again at the lease.
    const slot = (await this.options.slots?.acquire()) ?? (() => {});
    if (this.stopped || !this.holds(command.epoch)) return slot();
    // From here until its exit is handled, the run owns its worktree and branch (a sweep keeps them).
    this.claims.set(command.name, command.branch);
    const release = () => {
      this.unclaim(command.name, command.branch);
      slot();
    };
    let worktree: string;
    try {
      worktree = await this.repo.createWorktree(command.name, command.branch);
    } catch (error) {
      release();
      this.queuedStarts.delete(command.identity);
      await this.call("gt_agent_exited", {
        as: command.identity,
        bead_id: command.bead.id,
        run: command.run,
        reason: `no worktree: ${String(error).slice(0, 400)}`,
      });
      return;
    }
    if (this.stopped || !this.holds(command.epoch)) {
      // The lease went while the worktree was made (behind other git work of the rig): the room has
      // voided the run, so nothing may start for it (no renewal would vouch for it, no stop reach it).
      await this.repo
        .removeWorktree(command.name)
        .then(() => this.repo.deleteBranch(command.branch))
        .catch((error) => this.log(`worktree cleanup: ${error}`));
      release();
      this.log(`${command.identity}'s run ${command.run} is void: the lease went while its worktree was made`);
      return;
    }
    // Everything an agent gets: who and where it is (Gas Town's variables), its own token, its git
    // identity, the keys its rig was given; nothing of the supervisor's environment (no other token).
    // As root, it also runs as the rig's user.
    const user = this.repo.user;
    const who: AgentIdentity = {
      host: this.options.host,
      secure: this.options.secure ?? false,
      town: this.options.town,
      rig: { id: this.rig.id, name: this.rig.name, defaultBranch: command.rig.defaultBranch },
      identity: command.identity,
      name: command.name,
      token: command.token,
      beadId: command.bead.id,
    };
    const keys = this.options.agentKeys ? keysFor(this.options.agentKeys, this.rig.name) : {};
    const places = { path: this.options.sandbox.files.path, home: this.repo.homeDir, tmpDir: this.repo.tmpDir };
    let launched: AgentLaunch;
    try {
      launched = await this.agentRuntime.launch(this.rig, command, who, places, keys, worktree, (line) => this.log(line));
    } catch (error) {
      release();
      this.queuedStarts.delete(command.identity);
      const why = error instanceof Error ? error.message : String(error);
      this.log(`${command.identity} cannot start: ${why}`);
      await this.repo.removeWorktree(command.name).catch(() => {});
      await this.call("gt_agent_exited", { as: command.identity, bead_id: command.bead.id, run: command.run, reason: `cannot start: ${why}`.slice(0, 500) });
      return;
    }
    if (this.stopped || !this.holds(command.epoch)) {
      // The lease went while the run was made ready (a preset asks the room for its prompt): as above, nothing starts.
      if (launched.runDir) removeRunDir(launched.runDir);
      await this.repo
        .removeWorktree(command.name)
        .then(() => this.repo.deleteBranch(command.branch))
        .catch((error) => this.log(`worktree cleanup: ${error}`));
      release();
      this.log(`${command.identity}'s run ${command.run} is void: the lease went while it was made ready`);
      return;
    }
    const env = launched.env;
    // Through the one launcher: as the rig's user, in a PID namespace of its own, under the network rule.
    const { file, args, ...ids } = this.options.sandbox.command(this.groupKey, user, launched.file, launched.args);
    // Detached: a process group (and session) of its own, which stops and kills reach whole.
    let child: ChildProcess;
    try {
      child = spawn(file, args, { cwd: worktree, env, stdio: ["ignore", "pipe", "pipe"], detached: true, ...ids });
    } catch (error) {
      release(); // refused outright (no process, no exit to wait for): what it made is the next sweep's
      if (launched.runDir) removeRunDir(launched.runDir);
      throw error;
    }
    if (child.pid) trackGroup(child.pid);
    // The secrets this container knows for the run, redacted by value from its output: an open set
    // (the container's token is renewed during long runs; the old one stays valid until it expires).
    // Its keys too: any form of them it prints is hidden (party/secret-values.ts).
    const stream = launched.stream;
    const output = this.output.open(
      { epoch: command.epoch, run: command.run, identity: command.identity },
      [command.token, this.containerToken(), ...keyValues(keys)],
      stream ? (line) => stream.line(line) : undefined,
    );
    const run: Run = {
      command,
      child,
      exited: Promise.resolve(),
      outputAt: Date.now(),
      output,
      sent: new Set(),
      ...(stream ? { stream } : {}),
      ...(launched.runDir ? { runDir: launched.runDir } : {}),
    };
    // Both streams read to their end (or a moment after the exit, if the group's rest holds them open).
    const streamsEnded = Promise.all(
      [child.stdout, child.stderr].map((stream) => (stream ? new Promise<void>((resolve) => stream.once("close", () => resolve())) : Promise.resolve())),
    );
    run.exited = new Promise<void>((resolve) => {
      let ended = false;
      const exited = (status: number | null, killedBy: NodeJS.Signals | null) => {
        if (ended) return;
        ended = true;
        const { code, signal } = this.options.sandbox.exitOf(status, killedBy, run.sent);
        if (child.pid) endGroup(child.pid); // what the agent left running is nobody's work now
        if (this.runs.get(command.identity)?.child === child) this.runs.delete(command.identity);
        // Never an unhandled rejection (that would end the whole container): a report that could
        // not be made is logged; the room judges the run by the lease's renewals meanwhile.
        void this.afterExit(command, code, signal, run, streamsEnded)
          .catch((error) => this.log(`${command.identity}'s exit not reported: ${error instanceof Error ? error.message : error}`))
          .finally(() => {
            release(); // after its exit is handled (output drained, worktree removed, reported): a run's whole cost and claim
            resolve();
          });
      };
      child.once("exit", exited);
      child.once("error", (error) => {
        this.log(`${command.identity} could not start: ${error.message}`);
        // A process that never started has no exit to wait for: its run ends here (else the
        // container would vouch for it, and its bead stay in progress, for ever).
        if (!child.pid) exited(null, null);
      });
    });
    this.exits.set(command.identity, run.exited);
    // What an agent prints is its progress (the room's witness tells a hung agent by its silence),
    // and its output: to this container's log and to the room, a line at a time, redacted.
    const mark = { out: ":", err: "!" } as const;
    for (const stream of ["out", "err"] as const) {
      (stream === "out" ? child.stdout : child.stderr)?.on("data", (chunk: Buffer) => {
        run.outputAt = Date.now();
        output.secrets.add(this.containerToken());
        for (const line of output.chunk(stream, chunk)) this.log(`${command.name}${mark[stream]} ${line}`);
      });
    }
    this.runs.set(command.identity, run);
    this.queuedStarts.delete(command.identity);
    this.log(`${command.identity} started on ${command.branch} (pid ${child.pid})`);
    const reply = await this.call<{ stale: boolean }>("gt_agent_started", {
      as: command.identity,
      bead_id: command.bead.id,
      run: command.run,
      ...(child.pid ? { pid: child.pid } : {}),
    });
    if (reply.stale) {
      // The room took the bead back while this process started: it is nobody's work.
      this.log(`${command.identity}'s run ${command.run} is over already; stopping it`);
      killRun(run, "SIGKILL");
    }
  }

  private async afterExit(
    command: StartAgentCommand,
    code: number | null,
    signal: NodeJS.Signals | null,
    run: Run,
    streamsEnded: Promise<unknown>,
  ): Promise<void> {
    // Its last lines first: whoever reads why it exited should find what it printed before.
    await Promise.race([streamsEnded, new Promise((resolve) => setTimeout(resolve, 1_000))]);
    for (const line of run.output.end()) this.log(`${command.name}${line.stream === "out" ? ":" : "!"} ${line.text}`);
    await this.output.drain(command.run, OUTPUT_DRAIN_MS);
    this.log(`${command.identity} exited (${signal ?? code})`);
    if (run.runDir) removeRunDir(run.runDir);
    await this.repo.removeWorktree(command.name).catch((error) => this.log(`worktree cleanup: ${error}`));
    // What the run used, as its CLI's final result said (the stream priced it from --prices when it said no cost).
    const usage: Usage | null = run.stream?.usage ?? null;
    if (usage) this.log(`${command.identity} used ${usageLine(usage)}`);
    if (this.stopped || !this.holds(command.epoch)) return; // lost with the lease: nothing to report
    // The server may be down for a moment (a restart): the report is tried again while the lease holds.
    let reply: { bead_status: string | null } | null = null;
    for (let attempt = 1; !reply; attempt++) {
      try {
        reply = await this.call<{ bead_status: string | null }>("gt_agent_exited", {
          as: command.identity,
          bead_id: command.bead.id,
          run: command.run,
          code,
          signal,
          ...(usage ? { usage } : {}),
        });
      } catch (error) {
        if (attempt >= EXIT_REPORT_TRIES || this.stopped || !this.holds(command.epoch)) throw error;
        await new Promise((resolve) => setTimeout(resolve, 500 * 2 ** attempt));
      }
    }
    // Work that did not reach review is redone from a fresh branch: this one is nobody's now.
    if (reply.bead_status !== "in_review") await this.repo.deleteBranch(command.branch).catch(() => {});
  }

  private async stopAgent(command: StopAgentCommand): Promise<void> {
    const run = this.runs.get(command.identity);
    if (!run || run.command.run !== command.run) {
      this.queuedStarts.delete(command.identity);
      // Not running here (never started, or long gone): acknowledge the stop of that run.
      await this.call("gt_agent_exited", { as: command.identity, bead_id: command.bead_id, run: command.run, reason: `stopped: ${command.reason}` });
      return;
    }
    this.log(`stopping ${command.identity}: ${command.reason}`);
    killRun(run, "SIGTERM");
    const timer = setTimeout(() => killRun(run, "SIGKILL"), STOP_GRACE_MS);
    await run.exited; // the group's rest is SIGKILLed as the agent exits, grace or not
    clearTimeout(timer);
  }

  /**
   * The refinery step (idempotent per bead, see RigRepo.merge): merge --no-ff into the default
   * branch and push. A conflict is reported (the bead is redone from a fresh branch); a push the
   * remote refused is retried with backoff first, keeping the branch, since the remote may just be
   * away. A merge that throws (a fetch that failed) is forgotten: the room asks again when its
   * merge deadline passes.
   */
  private async merge(command: MergeCommand, attempt = 1): Promise<void> {
    // The polecat called gt_done and is exiting: let its worktree go first, since git will not
    // delete a branch that a worktree still has checked out.
    const run = this.runs.get(command.identity);
    if (run?.command.bead.id === command.bead_id) await run.exited;
    if (!this.holds(command.epoch)) return;
    const result = await this.repo.merge({ branch: command.branch, beadId: command.bead_id, title: command.title });
    if (!this.holds(command.epoch)) return;
    if (result.ok) {
      this.log(`merged ${command.branch} as ${result.mergeCommit.slice(0, 8)}${result.already ? " (found already merged)" : ""}`);
      await this.call("gt_merge_result", { bead_id: command.bead_id, ok: true, merge_commit: result.mergeCommit });
    } else if (result.failure === "push_failed" && attempt < MERGE_TRIES && !this.stopped) {
      const delay = Math.min(30_000, 1000 * 2 ** (attempt - 1));
      this.log(`merge of ${command.branch} failed (${result.error.split("\n")[0]}); trying again in ${delay / 1000} s`);
      await new Promise((resolve) => setTimeout(resolve, delay));
      return this.merge(command, attempt + 1);
    } else {
      this.log(`merge of ${command.branch} failed (${result.failure}): ${result.error}`);
      if (result.failure !== "branch_missing") await this.repo.deleteBranch(command.branch).catch(() => {}); // redone from a fresh branch
      await this.call("gt_merge_result", {
        bead_id: command.bead_id,
        ok: false,
        failure: result.failure,
        error: result.error.slice(0, 4000),
        conflict_files: result.conflictFiles.slice(0, 100),
      });
    }
    await this.reportDisk();
  }

  /** The rig is ready: its disk use, and what of its agents' boundary this container enforces. */
  private async reportDisk(): Promise<void> {
    const { processes, network, missing } = this.options.sandbox.status;
    await this.call("gt_rig_ready", {
      disk_bytes: await this.repo.diskBytes(),
      boundary: { processes, network, missing: missing.slice(0, 8).map((m) => m.slice(0, 300)) },
    });
  }

  // ------------------------------------------------------------------ processes

  /** SIGKILLs every agent of this worker; their exits are not reported (the room voided their runs). */
  private killAll(why: string): void {
    for (const run of this.runs.values()) {
      this.log(`killing ${run.command.identity} (${why})`);
      killRun(run, "SIGKILL");
    }
    this.runs.clear();
    this.queuedStarts.clear();
  }

  /**
   * Kills processes no run of this process owns (an earlier supervisor's agents, a SIGKILLed
   * supervisor's children live on; whatever left a run's process group): any process whose working
   * directory is in one of this rig's worktrees that no claim names, with its process group when it
   * leads one (an agent does). Found by where they run, not by the pid a run was given.
   */
  private killStrays(): void {
    const unclaimed = (cwd: string) => !this.claims.has(cwd.slice(this.repo.worktreesDir.length + 1).split("/")[0]!);
    for (const pid of processesUnder(this.repo.worktreesDir, unclaimed)) {
      if (killStray(pid)) this.log(`killed stray agent process ${pid}`);
    }
  }

  private unclaim(name: string, branch: string): void {
    if (this.claims.get(name) === branch) this.claims.delete(name);
    for (const late of this.cleanups) late.add(branch);
  }

  /**
   * Removes every worktree and `gt/` branch of the clone that no run of this process claims, with
   * the processes in those worktrees; and every other `gt/` branch, but (with `keepInReview`) those
   * of the rig's beads in review, the refinery's whoever holds the rig. A branch given up while the
   * beads in review are read is kept too (its bead may have gone to review after the read), for the
   * next sweep to judge.
   */
  private async clean({ keepInReview }: { keepInReview: boolean }): Promise<void> {
    const late = new Set<string>();
    this.cleanups.add(late);
    try {
      const inReview = keepInReview ? await this.socket.call<Bead[]>("gt_list_beads", { status: "in_review" }) : [];
      this.killStrays();
      const dropped = await this.repo.cleanupExcept(
        () => new Set(this.claims.keys()),
        () => new Set([...this.claims.values(), ...inReview.flatMap((b) => (b.branch ? [b.branch] : [])), ...late]),
      );
      if (dropped.worktrees.length || dropped.branches.length) {
        this.log(`removed what no run owns: ${[...dropped.worktrees.map((w) => `worktree ${w}`), ...dropped.branches.map((b) => `branch ${b}`)].join(", ")}`);
      }
    } finally {
      this.cleanups.delete(late);
    }
  }

  /**
   * The deadline of a worktree or `gt/` branch that nothing owns: whatever lease this container has
   * (held, standing by, or none), the clone is looked at every SWEEP_MS and on every standby frame.
   * Such leftovers come from a supervisor SIGKILLed mid-run (its restart may stand by for good: the
   * rig went to the other container meanwhile, so no grant's prepare() ever cleans that clone), a
   * git it left running that finished after the restart's cleanup, a run whose exit report never
   * got through, a spawn that failed. Nothing is read from the room while nothing is left over.
   */
  private sweep(): Promise<void> {
    this.sweeping ??= (async () => {
      if (this.stopped) return;
      const found = await this.repo.leftovers();
      const claimed = new Set(this.claims.values());
      if (found.worktrees.every((w) => this.claims.has(w)) && found.branches.every((b) => claimed.has(b))) return;
      await this.clean({ keepInReview: true });
    })()
      // The room away for a moment: the next sweep tries again.
      .catch((error) =>
        error instanceof ToolCallError && (error.code === "DISCONNECTED" || error.code === "TIMEOUT")
          ? undefined
          : this.log(`sweep: ${error instanceof Error ? error.message : error}`),
      )
      .finally(() => (this.sweeping = null));
    return this.sweeping;
  }

  private scheduleSweep(): void {
    if (this.stopped) return;
    this.sweepTimer = setTimeout(() => void this.sweep().finally(() => this.scheduleSweep()), SWEEP_MS);
  }

  /**
   * Stops every agent (SIGKILL), gives the lease back so a standby takes over at once, closes the
   * socket; with `remove`, deletes the rig's directory.
   */
  async stop({ remove }: { remove: boolean }): Promise<void> {
    this.stopped = true;
    if (this.renewTimer) clearTimeout(this.renewTimer);
    if (this.sweepTimer) clearTimeout(this.sweepTimer);
    const exits = [...this.runs.values()].map((run) => {
      killRun(run, "SIGKILL");
      return run.exited;
    });
    await Promise.all(exits);
    if (this.lease?.state === "held" && !remove) await this.socket.call("gt_lease_release", { epoch: this.lease.epoch }, 2_000).catch(() => {});
    await this.preparing?.catch(() => {});
    await this.output.drain(undefined, 1_000);
    this.output.close();
    this.socket.close();
    if (remove) {
      await this.repo.remove();
      await this.options.sandbox.removeGroup(this.groupKey);
    }
  }
}

/** Signals an agent's whole process group (it leads one: spawned detached). */
function killRun(run: Run, signal: NodeJS.Signals): void {
  run.sent.add(signal);
  if (run.child.pid) killGroup(run.child.pid, signal);
  else run.child.kill(signal);
}
