/**
 * The town container's supervisor (DESIGN §9): one process serving every rig of a town (or the
 * rigs named by `--rigs`, for container-per-rig sharding). It follows the town's rig registry live
 * (the town document, read-only) and keeps one RigWorker per served rig: cloned when the rig is
 * added, stopped and deleted when it is removed. With `mayorCommand` it also runs the Mayor as an
 * agent (container/mayor.ts).
 */
import { readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import type { Rig } from "../party/protocol.ts";
import { DocReplica } from "../client/doc-sync.ts";
import { callHttp } from "../client/tools.ts";
import { MayorRunner } from "./mayor.ts";
import { RigWorker, type RigWorkerOptions } from "./rig-worker.ts";

export type SupervisorOptions = RigWorkerOptions & {
  /** Serve only these rig names; every rig when absent. */
  rigNames?: ReadonlySet<string>;
  /** Run the Mayor as an agent with this shell command. */
  mayorCommand?: string;
};

export class Supervisor {
  private readonly replica: DocReplica;
  private readonly workers = new Map<string, RigWorker>();
  private reconciling: Promise<void> = Promise.resolve();
  private swept = false;
  /** Rigs whose registry entry this container cannot work with (reported as the rig's error). */
  private readonly refused = new Set<string>();
  private readonly mayor: MayorRunner | null;

  constructor(private readonly options: SupervisorOptions) {
    this.replica = new DocReplica({
      host: options.host,
      ...(options.secure !== undefined ? { secure: options.secure } : {}),
      party: "main",
      room: options.town,
      token: options.containerToken,
      WebSocket: options.WebSocket,
    });
    this.mayor = options.mayorCommand ? new MayorRunner({ ...options, command: options.mayorCommand }) : null;
  }

  /** Resolves once the registry was read and every served rig has begun starting. */
  async start(): Promise<void> {
    this.mayor?.start();
    const observe = () => {
      const rigs = this.replica.doc.getMap<Rig>("rigs");
      rigs.observe(() => this.reconcile());
    };
    await this.replica.whenSynced();
    observe();
    this.replica.onChange((r) => {
      if (r.status === "live") {
        observe(); // a reconnect brings a fresh document
        this.reconcile();
      }
    });
    this.reconcile();
    await this.reconciling;
  }

  /** Rigs this supervisor serves right now. */
  get rigs(): RigWorker[] {
    return [...this.workers.values()];
  }

  private served(): Rig[] {
    const rigs = [...this.replica.doc.getMap<Rig>("rigs").values()];
    return rigs.filter((r) => r.status !== "removing" && (!this.options.rigNames || this.options.rigNames.has(r.name)));
  }

  private reconcile(): void {
    this.reconciling = this.reconciling.then(() => this.reconcileNow()).catch((error) => this.options.log(`reconcile failed: ${error}`));
  }

  private async reconcileNow(): Promise<void> {
    if (this.replica.status !== "live") return;
    const wanted = new Map(this.served().map((r) => [r.id, r]));
    for (const [id, worker] of this.workers) {
      if (wanted.has(id)) continue;
      this.workers.delete(id);
      this.options.log(`[${worker.rig.name}] removed from the town: stopping its agents and deleting ${worker.rigDir}`);
      await worker.stop({ remove: true });
    }
    for (const rig of wanted.values()) {
      if (this.workers.has(rig.id) || this.refused.has(rig.id)) continue;
      let worker: RigWorker;
      try {
        worker = new RigWorker(rig, this.options);
      } catch (error) {
        // One bad registry entry must not stop the others from being served.
        this.refused.add(rig.id);
        const message = `cannot serve this rig: ${error instanceof Error ? error.message : error}`;
        this.options.log(`[${rig.name}] ${message}`);
        await callHttp({ host: this.options.host, ...(this.options.secure !== undefined ? { secure: this.options.secure } : {}), party: "rig", room: `${this.options.town}.${rig.id}`, token: this.options.containerToken }, "gt_rig_ready", {
          error: message.slice(0, 2000),
        }).catch(() => {});
        continue;
      }
      this.workers.set(rig.id, worker);
      this.options.log(`[${rig.name}] serving rig ${rig.id}`);
      void worker.start().catch((error) => this.options.log(`[${rig.name}] start failed: ${error}`));
    }
    if (!this.swept) {
      this.swept = true;
      await this.sweepRemovedRigs();
    }
  }

  /** Deletes directories of rigs no longer in the registry (removed while this supervisor was down). */
  private async sweepRemovedRigs(): Promise<void> {
    const known = new Set([...this.replica.doc.getMap<Rig>("rigs").keys()]);
    const dir = join(this.options.workspace, "rigs");
    const entries = await readdir(dir).catch(() => [] as string[]);
    for (const id of entries) {
      if (known.has(id) || !/^[0-9A-HJKMNP-TV-Z]{26}$/.test(id)) continue;
      this.options.log(`deleting ${join(dir, id)}: its rig was removed`);
      await rm(join(dir, id), { recursive: true, force: true });
    }
  }

  async stop(): Promise<void> {
    await Promise.all([...this.rigs.map((w) => w.stop({ remove: false })), this.mayor?.stop()]);
    this.replica.close();
  }
}
