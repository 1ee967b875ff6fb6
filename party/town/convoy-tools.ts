/**
 * The town's convoys, carried out (the rules are in convoys.ts): the rigs' notices applied, landing
 * and retiring landed convoys to storage (`convoy-archive:<id>`), the reconciliation that asks the
 * rigs while convoys are open, a move's change to its convoy, and gt_convoy_status / gt_list_convoys.
 */
import { convoyBeadNotice, type BeadState } from "../internal.ts";
import { errorResponse, jsonResponse, tool, type ToolSpec } from "../live/index.ts";
import { LIMITS, TOWN_DOC, ToolError, townToolArgs, type Convoy, type ConvoyBead, type FeedEvent } from "../protocol.ts";
import type { Change } from "../records.ts";
import { ROLES, rigById, type Town } from "./context.ts";
import { beadKey } from "./entries.ts";
import type { Queued, Webhooks } from "./webhook-tools.ts";
import { convoyLandedEvent } from "./webhooks.ts";
import {
  answerOf,
  applyNotice,
  moveInConvoy,
  progress,
  progressText,
  reconciled,
  settle,
  toRetire,
  unfinishedByRig,
  withProgress,
  type BeadNotice,
} from "./convoys.ts";

const archiveKey = (id: string) => `convoy-archive:${id}`;

/** A move's change to its convoy, to go in the move's write. */
export type ConvoyMove = {
  changes: Change[];
  put: Record<string, unknown>;
  delete: string[];
  events: FeedEvent[];
  reopened: boolean;
  hooks?: Queued | undefined;
};

export class ConvoyBook {
  private lastReconcile = Date.now();

  constructor(
    private readonly town: Town,
    /** A landing's webhooks, recorded in the landing's own write. */
    private readonly webhooks?: Webhooks,
  ) {}

  tools(): Record<string, ToolSpec<any>> {
    return {
      gt_convoy_status: tool(townToolArgs.gt_convoy_status, ROLES.staff, async (args) => {
        const convoy = await this.find(args.id);
        if (!convoy) throw new ToolError("UNKNOWN_CONVOY", `no convoy ${args.id} in town ${this.town.id}`);
        return withProgress(convoy);
      }),
      gt_list_convoys: tool(townToolArgs.gt_list_convoys, ROLES.staff, async (args) =>
        this.live()
          .filter((c) => !args.status || c.status === args.status)
          .sort((a, b) => b.createdAt - a.createdAt)
          .map(withProgress),
      ),
    };
  }

  /** The convoys in the town document: every open one, and the most recently landed. */
  live(): Convoy[] {
    return this.town.records.values<Convoy>(TOWN_DOC.convoys);
  }

  /** A convoy in the document, or retired to storage. */
  async find(id: string): Promise<Convoy | undefined> {
    return this.town.records.get<Convoy>(TOWN_DOC.convoys, id) ?? (await this.town.storage.get<Convoy>(archiveKey(id)));
  }

  /** `convoy_bead`, from a rig's outbox: one of its convoy beads changed (a retired convoy comes back if it reopens). */
  async notice(body: unknown): Promise<Response> {
    const notice = convoyBeadNotice.parse(body);
    const live = this.town.records.get<Convoy>(TOWN_DOC.convoys, notice.convoy_id);
    const convoy = live ?? (await this.town.storage.get<Convoy>(archiveKey(notice.convoy_id)));
    if (!convoy) return errorResponse("UNKNOWN_CONVOY", `no convoy ${notice.convoy_id}`);
    const next = applyNotice(
      convoy,
      { beadId: notice.bead_id, status: notice.status, assignee: notice.assignee, rev: notice.rev, failure: notice.failure, usage: notice.usage },
      Date.now(),
    );
    if (next) await this.update(next, !live);
    return jsonResponse({ ok: true, value: next ? "applied" : "stale" });
  }

  /**
   * Applies a change to one convoy and settles it (convoys.ts `settle`): landed, stuck, or open
   * again, each with its feed line (a landing also with its webhooks, in the same write).
   * `archived`: the convoy was retired to storage; it comes back to the document when it is open
   * again, and otherwise stays there.
   */
  async update(next: Convoy, archived = false): Promise<void> {
    const settled = settle(next, Date.now());
    const { convoy } = settled;
    const hooks = settled.landed ? this.landedHooks(convoy) : undefined;
    const events = [...this.settledEvents(convoy, settled), ...(hooks?.events ?? [])];
    if (archived && convoy.status !== "open") {
      await this.town.records.write([], events, { put: { [archiveKey(convoy.id)]: convoy, ...hooks?.put } });
      await this.landedSent(hooks);
      return;
    }
    await this.town.records.write([{ collection: TOWN_DOC.convoys, key: convoy.id, value: convoy }], events, {
      put: hooks?.put ?? {},
      ...(archived ? { delete: [archiveKey(convoy.id)] } : {}),
    });
    await this.landedSent(hooks);
    if (settled.landed || settled.stuck) await this.retireLanded();
    if (settled.reopened) await this.town.outbox.scheduleAlarm(); // the reconciliation watches open convoys
  }

  /** The feed's line for a convoy that landed, got stuck or is open again: none for any other change. */
  private settledEvents(convoy: Convoy, settled: { landed: boolean; stuck: boolean; reopened: boolean }, why?: string): FeedEvent[] {
    const counts = progressText(progress(convoy));
    if (settled.landed) return [this.town.feedEvent("landed", `convoy "${convoy.title}" landed: ${counts}`, { tone: "good" })];
    if (settled.stuck) {
      const failed = convoy.beads.filter((b) => b.status === "failed").map((b) => b.beadId.slice(-8));
      return [this.town.feedEvent("convoy", `convoy "${convoy.title}" stuck: ${counts} (failed: ${failed.join(", ")})`, { tone: "bad" })];
    }
    if (settled.reopened) return [this.town.feedEvent("convoy", `convoy "${convoy.title}" open again${why ? `: ${why}` : ""}: ${counts}`)];
    return [];
  }

  /**
   * Keeps the town document bounded: past LIMITS.landedConvoysKept landed convoys, the longest-landed
   * move to storage, where gt_convoy_status still finds them. Open convoys stay.
   */
  async retireLanded(): Promise<void> {
    const oldest = toRetire(this.live(), LIMITS.landedConvoysKept);
    if (!oldest.length) return;
    await this.town.records.write(
      oldest.map((c) => ({ collection: TOWN_DOC.convoys, key: c.id, value: null })),
      [],
      { put: Object.fromEntries(oldest.map((c) => [archiveKey(c.id), c])) },
    );
  }

  /**
   * The change of a move to the old bead's convoy (convoys.ts moveInConvoy), brought back from
   * storage if it was retired; null when nothing changes.
   */
  async withMove(convoyId: string, oldBeadId: string, successor: ConvoyBead, targetExists: boolean): Promise<ConvoyMove | null> {
    const live = this.town.records.get<Convoy>(TOWN_DOC.convoys, convoyId);
    const convoy = live ?? (await this.town.storage.get<Convoy>(archiveKey(convoyId)));
    if (!convoy) return null;
    const moved = moveInConvoy(convoy, { oldBeadId, successor, targetExists }, Date.now());
    if (!moved) return null;
    const { convoy: settled, reopened } = moved;
    const hooks = moved.landed ? this.landedHooks(settled) : undefined;
    const events = [...this.settledEvents(settled, moved, `bead ${oldBeadId.slice(-8)} moved to ${successor.rigName}`), ...(hooks?.events ?? [])];
    // Open convoys always live in the document; a landed one stays where it is.
    if (live || settled.status === "open") {
      return {
        changes: [{ collection: TOWN_DOC.convoys, key: convoyId, value: settled }],
        put: { ...hooks?.put },
        delete: live ? [] : [archiveKey(convoyId)],
        events,
        reopened,
        hooks,
      };
    }
    return { changes: [], put: { [archiveKey(convoyId)]: settled, ...hooks?.put }, delete: [], events, reopened, hooks };
  }

  /** The webhooks of a landing, to go in the landing's write (then `landedSent` once written). */
  landedHooks(convoy: Convoy): Queued | undefined {
    if (!this.webhooks) return undefined;
    const { done, total } = progress(convoy);
    const failed = convoy.beads.filter((b) => b.status === "failed").length;
    return this.webhooks.queue([convoyLandedEvent(convoy, done, total, failed)]);
  }

  /** Hands a landing's written webhook deliveries to the outbox. */
  async landedSent(hooks: Queued | undefined): Promise<void> {
    if (hooks && this.webhooks) await this.webhooks.queued(hooks);
  }

  /** When the reconciliation wants the alarm: while any convoy is open. */
  wake(): number | null {
    const open = this.live().some((c) => c.status === "open");
    return open ? this.lastReconcile + this.town.config.reconcileEveryMs : null;
  }

  /** Reconciles when a period has passed since the last time (the alarm calls it). */
  async reconcileIfDue(): Promise<void> {
    if (Date.now() >= this.lastReconcile + this.town.config.reconcileEveryMs) await this.reconcile();
  }

  /**
   * Asks each rig for the status of its open convoy beads: a lost or out-of-order notification can
   * delay a landing by one period but never block it.
   */
  private async reconcile(): Promise<void> {
    this.lastReconcile = Date.now();
    for (const convoy of this.live().filter((c) => c.status === "open")) {
      const removedRigs: string[] = [];
      const notices: BeadNotice[] = [];
      const missing: string[] = [];
      for (const [rigId, ids] of unfinishedByRig(convoy, (beadId) => this.town.outbox.has(beadKey(beadId)))) {
        if (!rigById(this.town, rigId)) {
          removedRigs.push(rigId);
          continue;
        }
        const reply = await this.town.callRig(rigId, "bead_states", { ids }).catch(() => null);
        if (reply?.status !== 200) continue; // try again next period
        const answer = answerOf(reply.body.value as BeadState[], ids);
        notices.push(...answer.notices);
        missing.push(...answer.missing);
      }
      // Applied to the convoy as it is now: notices may have landed while the rigs were asked.
      const latest = this.town.records.get<Convoy>(TOWN_DOC.convoys, convoy.id);
      if (!latest) continue;
      const next = reconciled(latest, { removedRigs, notices, missing }, Date.now());
      if (next !== latest) await this.update(next);
    }
  }
}
