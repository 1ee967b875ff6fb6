/**
 * The town container's supervisor: one process serving every rig of a town (or the rigs named by
 * `--rigs`, for container-per-rig sharding). It follows the town's rig registry live (the town
 * document, read-only) and keeps one RigWorker per served rig: each holds its rig's lease or stands
 * by for it. With `mayorCommand` it also runs the Mayor as an agent (container/mayor.ts).
 *
 * A document is never taken as a deletion: a rig missing from the replica (a rebuild, a reconnect,
 * a restarted room) is only deleted from the workspace once the registry, read through a tool
 * (gt_list_rigs), no longer has it.
 */
import { randomBytes } from "node:crypto";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, unlinkSync, writeFileSync, writeSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import type { Rig, TokenRefreshResult } from "../party/protocol.ts";
import { DocReplica } from "../client/doc-sync.ts";
import { callHttp } from "../client/tools.ts";
import { TokenKeeper } from "../client/token-keeper.ts";
import { AgentSlots, defaultMaxAgents } from "./agent-slots.ts";
import { MayorRunner } from "./mayor.ts";
import { killStray, processesUnder } from "./processes.ts";
import { RigWorker, type RigWorkerOptions } from "./rig-worker.ts";
import { deleteRigUser, isolating, mayorUserName, prepareWorkspace, removeRigDir, rigUserName } from "./rig-user.ts";
import { agentFilesFor, inPlace, type AgentFiles } from "./agent-files.ts";
import { AgentSandbox } from "./sandbox.ts";
import { PresetBinaries } from "./presets/binary.ts";
import type { PresetName } from "./presets/types.ts";

export type SupervisorOptions = Omit<RigWorkerOptions, "containerId" | "session" | "onGone" | "sandbox" | "binaries"> & {
  /** `--agent-bin`: a preset's CLI by runtime name, used as given (else looked for: presets/binary.ts). */
  agentBin?: Partial<Record<PresetName, string>>;
  /** `host:port` on this machine that agents may reach besides the rooms (--agent-allow). */
  agentAllow?: readonly string[];
  /** Networks beyond this machine agents may reach (--agent-egress); all when absent. */
  agentEgress?: readonly string[];
  /** Serve only these rig names; every rig when absent. */
  rigNames?: ReadonlySet<string>;
  /** Run the Mayor as an agent with this shell command. */
  mayorCommand?: string;
  /** Agent processes this container runs at once over all its rigs (default: defaultMaxAgents()). */
  maxAgents?: number;
};

export class Supervisor {
  private readonly replica: DocReplica;
  private readonly workers = new Map<string, RigWorker>();
  private reconciling: Promise<void> = Promise.resolve();
  private swept = false;
  /** Rigs whose room said they are gone (4404): checked against the registry on the next pass. */
  private readonly gone = new Set<string>();
  /** Rigs whose registry entry this container cannot work with (reported as the rig's error). */
  private readonly refused = new Set<string>();
  private mayor: MayorRunner | null = null;
  /** What agents run from the project (reachable by rig users), and the launcher that applies their boundary. */
  private readonly files: AgentFiles;
  private sandbox: AgentSandbox | null = null;
  private readonly workspace: Workspace;
  private readonly session = randomBytes(9).toString("base64url");
  /** The container token, renewed before it expires; every socket reconnects with the new one. */
  private readonly token: TokenKeeper;
  private readonly options: SupervisorOptions;
  /** One count of agent processes for all the rigs this container serves. */
  private readonly slots: AgentSlots;
  /** Where presets' CLIs are: found once, for every rig. */
  private readonly binaries: PresetBinaries;

  constructor(options: SupervisorOptions) {
    this.slots = new AgentSlots(options.maxAgents ?? defaultMaxAgents());
    this.binaries = new PresetBinaries({ overrides: options.agentBin ?? {} });
    const given = options.containerToken;
    this.token = new TokenKeeper(
      typeof given === "function" ? given() : given,
      (current) => callHttp<TokenRefreshResult>({ ...this.address("main", options.town), token: current }, "gt_token_refresh").then((r) => r.token),
      (line) => options.log(line),
    );
    this.options = { ...options, containerToken: this.token.current };
    this.workspace = claimWorkspace(options.workspace);
    try {
      if (isolating()) prepareWorkspace(options.workspace);
      this.files = isolating() ? agentFilesFor(options.workspace) : inPlace();
    } catch (error) {
      this.workspace.release();
      throw error;
    }
    this.replica = new DocReplica({
      host: options.host,
      ...(options.secure !== undefined ? { secure: options.secure } : {}),
      party: "main",
      room: options.town,
      doc: "town",
      token: this.token.current,
      WebSocket: options.WebSocket,
    });
    this.token.onRenewed(() => {
      this.replica.socket.reconnect();
      for (const worker of this.workers.values()) worker.reconnect();
    });
  }

  /** This container's lasting id (kept in its workspace: a restart is the same container). */
  get containerId(): string {
    return this.workspace.containerId;
  }

  /** Resolves once the registry was read and every served rig has begun starting. */
  async start(): Promise<void> {
    if (this.files.copied)
      this.options.log(
        `the project is out of rig users' reach: agents run node, gt and the scripted agent copied to ${join(this.options.workspace, "runtime")}`,
      );
    const sandbox = await AgentSandbox.prepare({
      containerId: this.containerId,
      host: this.options.host,
      allow: this.options.agentAllow ?? [],
      egress: this.options.agentEgress ?? null,
      files: this.files,
      log: this.options.log,
    });
    this.sandbox = sandbox;
    // As root, the Mayor is a user of its own, as each rig is (mayor.ts).
    if (this.options.mayorCommand) {
      this.mayor = new MayorRunner({
        ...this.options,
        command: this.options.mayorCommand,
        sandbox,
        ...(isolating() ? { user: mayorUserName(this.workspace.containerId) } : {}),
      });
    }
    if (!isolating()) {
      this.options.log(
        "not running as root: no per-rig users, so agents run as this process's user and can read every rig's files, each other's, and this supervisor's environment (the container token)",
      );
    }
    // This workspace is ours alone (the lock): an agent still running in one of its worktrees was
    // left by a supervisor that died, whatever rig it was on, and whoever holds that rig now.
    for (const pid of processesUnder(join(this.options.workspace, "rigs"), /\/worktrees\//)) {
      // With its process group, when it leads one (an agent does).
      if (killStray(pid)) this.options.log(`killed agent process ${pid} left by an earlier supervisor`);
    }
    this.mayor?.start();
    this.token.start();
    await this.replica.whenSynced();
    let observed: unknown = null;
    const observe = () => {
      if (observed === this.replica.doc) return;
      observed = this.replica.doc;
      this.replica.doc.getMap<Rig>("rigs").observe(() => this.reconcile());
    };
    observe();
    // A newly synced document (after a reconnect or a rebuild) replaces the last one whole.
    this.replica.onChange((r) => {
      if (!r.synced) return;
      observe();
      this.reconcile();
    });
    this.reconcile();
    await this.reconciling;
  }

  /** Rigs this supervisor serves right now. */
  get rigs(): RigWorker[] {
    return [...this.workers.values()];
  }

  private wants(rig: Rig): boolean {
    return rig.status !== "removing" && (!this.options.rigNames || this.options.rigNames.has(rig.name));
  }

  private reconcile(): void {
    this.reconciling = this.reconciling.then(() => this.reconcileNow()).catch((error) => this.options.log(`reconcile failed: ${error}`));
  }

  private async reconcileNow(): Promise<void> {
    if (!this.replica.synced) return;
    const wanted = new Map([...this.replica.doc.getMap<Rig>("rigs").values()].filter((r) => this.wants(r)).map((r) => [r.id, r]));
    const missing = [...this.workers.keys()].filter((id) => !wanted.has(id) || this.gone.has(id));
    const added = [...wanted.keys()].filter((id) => !this.workers.has(id) && !this.refused.has(id));
    // A rig's runtime and model as the registry has them now: they apply to its next run.
    for (const [id, rig] of wanted) this.workers.get(id)?.update(rig);
    this.gone.clear();
    // The registry read through a tool: it alone says a rig is gone, and it alone holds the git URLs
    // with their credentials (the document shows them redacted). If it cannot be read, nothing changes.
    const registry = missing.length || added.length || !this.swept ? await this.registry() : null;
    if (registry) {
      for (const id of missing) {
        const worker = this.workers.get(id)!;
        if (registry.has(id)) continue; // the replica or the room is behind; the rig is still there
        this.workers.delete(id);
        this.options.log(`[${worker.rig.name}] removed from the town: stopping its agents and deleting ${worker.rigDir}`);
        await worker
          .stop({ remove: true })
          .catch((error) => this.options.log(`[${worker.rig.name}] removing it: ${error instanceof Error ? error.message : error}`));
      }
      if (!this.swept) {
        this.swept = true;
        await this.sweepRemovedRigs(registry);
      }
    }
    for (const id of added) {
      const rig = registry?.get(id);
      if (!rig || this.workers.has(id)) continue; // not readable now: the next change tries again
      let worker: RigWorker;
      try {
        worker = new RigWorker(rig, {
          ...this.options,
          containerId: this.containerId,
          session: this.session,
          slots: this.slots,
          sandbox: this.sandbox!,
          binaries: this.binaries,
          onGone: () => this.reconcileRemoval(rig.id),
        });
      } catch (error) {
        // One bad registry entry must not stop the others from being served.
        this.refused.add(rig.id);
        const message = `cannot serve this rig: ${error instanceof Error ? error.message : error}`;
        this.options.log(`[${rig.name}] ${message}`);
        await callHttp({ ...this.address("rig", `${this.options.town}.${rig.id}`) }, "gt_rig_ready", { error: message.slice(0, 2000) }).catch(() => {});
        continue;
      }
      this.workers.set(rig.id, worker);
      this.options.log(`[${rig.name}] serving rig ${rig.id}`);
      void worker.start().catch((error) => this.options.log(`[${rig.name}] start failed: ${error}`));
    }
  }

  /** A rig room said the rig is gone (4404): confirm with the registry, then delete. */
  private reconcileRemoval(rigId: string): void {
    if (!this.workers.has(rigId)) return;
    this.gone.add(rigId);
    this.reconcile();
  }

  private address(party: "main" | "rig", room: string) {
    return {
      host: this.options.host,
      ...(this.options.secure !== undefined ? { secure: this.options.secure } : {}),
      party,
      room,
      token: this.options.containerToken,
    };
  }

  /** The rigs the town's registry holds now, read through gt_list_rigs; null if it cannot be read. */
  private async registry(): Promise<Map<string, Rig> | null> {
    try {
      const rigs = await callHttp<Rig[]>(this.address("main", this.options.town), "gt_list_rigs");
      return new Map(rigs.filter((r) => r.status !== "removing").map((r) => [r.id, r]));
    } catch (error) {
      this.options.log(`could not read the rig registry (${error instanceof Error ? error.message : error}); deleting nothing for now`);
      return null;
    }
  }

  /** Deletes directories of rigs the registry no longer has (removed while this supervisor was down). */
  private async sweepRemovedRigs(registry: Map<string, Rig>): Promise<void> {
    const dir = join(this.options.workspace, "rigs");
    const entries = await readdir(dir).catch(() => [] as string[]);
    for (const id of entries) {
      if (registry.has(id) || this.workers.has(id) || !/^[0-9A-HJKMNP-TV-Z]{26}$/.test(id)) continue;
      this.options.log(`deleting ${join(dir, id)}: its rig was removed`);
      await removeRigDir(join(dir, id), isolating() ? rigUserName(id) : undefined);
      if (isolating())
        await deleteRigUser(rigUserName(id)).catch((error) =>
          this.options.log(`deleting the user of rig ${id}: ${error instanceof Error ? error.message : error}`),
        );
    }
  }

  async stop(): Promise<void> {
    this.token.stop();
    await Promise.all([...this.rigs.map((w) => w.stop({ remove: false })), this.mayor?.stop()]);
    await this.sandbox?.close();
    this.replica.close();
    this.workspace.release();
  }
}

type Workspace = { containerId: string; release: () => void };

/**
 * One container per workspace: two processes on one workspace would clobber each other's clones
 * and look like one container to the rooms. The lock file holds the owner's pid; a lock whose
 * process is gone (a SIGKILLed supervisor) is taken over.
 */
export function claimWorkspace(dir: string): Workspace {
  mkdirSync(dir, { recursive: true });
  const lock = join(dir, "container.lock");
  for (let tries = 0; ; tries++) {
    try {
      const fd = openSync(lock, "wx");
      writeSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST" || tries > 2) throw error;
      const owner = Number(readFileSync(lock, "utf8").trim());
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && alive(owner)) {
        throw new Error(`workspace ${dir} is in use by another container (pid ${owner}); give each container its own --workspace`);
      }
      rmSync(lock, { force: true }); // its owner is gone
    }
  }
  const idFile = join(dir, "container-id");
  if (!existsSync(idFile)) writeFileSync(idFile, randomBytes(12).toString("base64url"));
  const containerId = readFileSync(idFile, "utf8").trim();
  return {
    containerId,
    release: () => {
      try {
        if (readFileSync(lock, "utf8").trim() === String(process.pid)) unlinkSync(lock);
      } catch {
        // already gone
      }
    },
  };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}
