/**
 * Moving a bead between rigs, carried out (the plan and its steps are in move.ts): gt_bead_move
 * asks the source rig to close the bead as moved, and `bead_moved` brings the same move from the
 * source rig's outbox; either applies it, once, one move at a time.
 */
import { auditWho } from "../audit.ts";
import { beadMoved } from "../internal.ts";
import { jsonResponse, tool, type Caller, type ToolSpec } from "../live/index.ts";
import { ToolError, townToolArgs, type BeadMoveResult } from "../protocol.ts";
import type { BeadIndex } from "./bead-index.ts";
import { ROLES, outboxPuts, requireCovers, requireRig, rigById, type Town } from "./context.ts";
import type { ConvoyBook } from "./convoy-tools.ts";
import { movedNotice, moveSteps, planMove, type MoveArgs, type MovedNotice } from "./move.ts";
import type { Placer } from "./sling-tools.ts";

export class Mover {
  /** Moves are applied one at a time (the tool and a rig's notice may bring the same one at once). */
  private lane: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly town: Town,
    private readonly index: BeadIndex,
    private readonly placer: Placer,
    private readonly convoys: ConvoyBook,
  ) {}

  tools(): Record<string, ToolSpec<any>> {
    return { gt_bead_move: tool(townToolArgs.gt_bead_move, ROLES.operator, (args, caller) => this.move(args, caller)) };
  }

  /** `bead_moved`, from a rig's outbox (W16): its bead closed as moved; create its successor, once. */
  async moved(body: unknown): Promise<Response> {
    const notice = beadMoved.parse(body);
    return jsonResponse({ ok: true, value: await this.apply(notice) });
  }

  /** gt_bead_move: step 1 in the source rig, then step 2 here (move.ts). */
  private async move(args: MoveArgs, caller: Caller): Promise<BeadMoveResult> {
    const target = requireRig(this.town, args.rig);
    requireCovers(caller, target);
    const place = await this.index.get(args.bead_id);
    const plan = planMove(args, target, place, { byId: (id) => rigById(this.town, id), byName: (name) => requireRig(this.town, name) });
    if (plan.kind === "answered") return plan.result;
    requireCovers(caller, plan.source);
    this.town.rateLimit(caller, "bead");
    let reply: { status: number; body: any };
    try {
      reply = await this.town.callRig(plan.source.id, "bead_move_out", { ...plan.request, by: auditWho(caller.token) });
    } catch (error) {
      throw new ToolError(
        "INTERNAL",
        `rig ${plan.source.name} could not be reached (${(error as Error).message}); call again: the move resumes where it stopped`,
      );
    }
    return this.apply(movedNotice(reply, plan.source, target, args.bead_id));
  }

  /** Applies a move once (W16), whether the tool or the source rig's notice brings it first. */
  private apply(notice: MovedNotice): Promise<BeadMoveResult> {
    const run = this.lane.then(() => this.applyNow(notice));
    this.lane = run.catch(() => {});
    return run;
  }

  private async applyNow(notice: MovedNotice): Promise<BeadMoveResult> {
    const indexed = await this.index.get(notice.bead_id);
    const target = rigById(this.town, notice.to_rig_id);
    const steps = moveSteps(notice, target, indexed, Date.now());
    if (steps.kind === "applied") return steps.result;
    const convoy = notice.convoy_id ? await this.convoys.withMove(notice.convoy_id, notice.bead_id, steps.successor, target !== undefined) : null;
    const events = [this.town.feedEvent(steps.feed.kind, steps.feed.text), ...(convoy?.events ?? [])];
    await this.town.records.write(convoy?.changes ?? [], events, {
      put: { ...outboxPuts(steps.entries), ...convoy?.put, ...this.index.puts(steps.index, steps.added) },
      delete: convoy?.delete ?? [],
    });
    await this.convoys.landedSent(convoy?.hooks);
    if (steps.entries.length) await this.placer.enqueued(steps.entries, target ? [target.id] : []);
    await this.index.trim();
    if (convoy?.reopened) await this.town.outbox.scheduleAlarm(); // the reconciliation watches open convoys
    return steps.result;
  }
}
