/**
 * The rig room's side of room-to-room calls: the town's operations on it (`/internal/<op>`: create
 * the rig, deliver mail, create and move beads, report bead states, resize, set its budget and tell
 * it of the town's, wipe) and its hops to the town (mail, the feed's failures, convoy notices, moves,
 * the day's usage), each through the durable outbox.
 */
import type { z } from "zod";
import { errorResponse, jsonResponse, type LiveServices } from "../live/index.ts";
import {
  beadCreate,
  beadMoveOut,
  beadStates,
  budgetSet,
  mailEnvelope,
  revokeToken,
  rigInit,
  rigUpdate,
  townBudgetNotice,
  type BeadState,
} from "../internal.ts";
import { classifyReply, type Attempt, type OutboxEntry } from "../outbox.ts";
import { CLOSE, parseAddress, type Bead, type Mail } from "../protocol.ts";
import { createRig, type NewBead } from "../work/index.ts";
import type { Effects } from "./effects.ts";
import type { RigParts } from "./steps.ts";
import type { AuditOf, RigMeta } from "./store/index.ts";
import type { SummaryPush } from "./summary-push.ts";

export type OpsHost = RigParts &
  Pick<LiveServices, "callRoom" | "revokeToken" | "closeAll"> & {
    effects: Effects;
    summary: SummaryPush;
    townId(): string;
  };

export class RigOps {
  /** Test hook (GT_TEST_HOOKS=1): the next N hops fail as if the town were unreachable. */
  failHops = 0;
  /** Test hook: the next N convoy notifications are dropped (reported delivered, never sent). */
  dropNotices = 0;

  constructor(private readonly host: OpsHost) {}

  /** Creates a bead (W17, idempotent by id) and dispatches it; answers it as stored (live or archived). */
  async createBead(bead: NewBead, audit?: () => AuditOf | undefined): Promise<Bead> {
    const { store, steps } = this.host;
    await steps.work(async () => ({ type: "bead_create" as const, bead, archived: store.bead(bead.id) ? undefined : await store.archived(bead.id) }), audit);
    return (await store.anyBead(bead.id))!;
  }

  async internal(op: string, body: unknown): Promise<Response> {
    const { store, steps } = this.host;
    const missing = () => errorResponse("UNKNOWN_RIG", `rig room ${this.host.roomId()} does not exist`);
    switch (op) {
      case "init": {
        const args = rigInit.parse(body);
        const existing = store.meta();
        if (existing) return jsonResponse({ ok: true, value: existing }); // a retried init
        const made = createRig(args.name, args.max_polecats);
        const meta: RigMeta = {
          town: args.town,
          rigId: args.rig_id,
          name: args.name,
          createdAt: args.created_at,
          gitUrl: args.git_url,
          defaultBranch: args.default_branch,
          ...made.rig,
        };
        if (`${meta.town}.${meta.rigId}` !== this.host.roomId()) return errorResponse("INVALID_ARGS", "room id does not match town and rig");
        await this.host.effects.written(await store.createRig(meta, made.agents, made.feed.text));
        return jsonResponse({ ok: true, value: meta });
      }
      case "mail": {
        const { mail } = mailEnvelope.parse(body);
        const meta = store.meta();
        const address = parseAddress(mail.to);
        if (!meta || address?.kind !== "rig" || address.rig !== meta.name || !store.agent(address.identity))
          return errorResponse("UNKNOWN_RECIPIENT", `unknown recipient ${mail.to}`);
        await this.host.post().receive(mail);
        return jsonResponse({ ok: true, value: { id: mail.id, state: "delivered" } });
      }
      case "wake":
        return jsonResponse({ ok: true, value: "awake" });
      case "revoke": {
        const { jti, exp } = revokeToken.parse(body);
        await this.host.revokeToken(jti, exp);
        return jsonResponse({ ok: true, value: null });
      }
      case "bead_create": {
        const args = beadCreate.parse(body);
        if (!store.meta()) return missing();
        const bead = await this.createBead({
          id: args.id,
          title: args.title,
          body: args.body,
          priority: args.priority,
          requires: args.requires,
          reason: args.reason,
          ...(args.convoy_id ? { convoyId: args.convoy_id } : {}),
          ...(args.moved_from ? { movedFrom: { rig: args.moved_from.rig, beadId: args.moved_from.bead_id } } : {}),
          ...(args.model ? { model: args.model } : {}),
        });
        return jsonResponse({ ok: true, value: { id: bead.id, status: bead.status, rev: bead.rev ?? 0 } });
      }
      case "bead_states": {
        const { ids } = beadStates.parse(body);
        if (!store.meta()) return missing();
        const states: BeadState[] = [];
        for (const id of ids) {
          const bead = await store.anyBead(id);
          if (!bead) continue;
          states.push({
            id,
            status: bead.status,
            title: bead.title,
            rev: bead.rev ?? 0,
            ...(bead.assignee ? { assignee: bead.assignee } : {}),
            ...(bead.failure ? { failure: bead.failure.slice(0, 300) } : {}),
            ...(bead.movedTo ? { movedTo: bead.movedTo } : {}),
            ...(bead.usage ? { usage: bead.usage } : {}),
          });
        }
        return jsonResponse({ ok: true, value: states });
      }
      case "bead_move_out": {
        // W16: one step of the work machine, its notice to the town stored with the bead's close.
        const args = beadMoveOut.parse(body);
        const meta = store.meta();
        if (!meta || store.removed) return missing();
        if (args.to_rig_id === meta.rigId) return errorResponse("INVALID_ARGS", `bead ${args.bead_id} is in rig ${meta.name} already`);
        const event = { type: "operator_move", beadId: args.bead_id, toRig: args.to_rig, toRigId: args.to_rig_id, newBeadId: args.new_bead_id } as const;
        // Only closed beads leave the document (retention): one of those was moved already, or is done.
        // The operator who asked the town for it is in the rig's audit trail, in the same write as the close.
        const audit = (): AuditOf | undefined => {
          const live = store.bead(args.bead_id);
          if (!args.by || !live || live.movedTo) return undefined;
          return {
            who: args.by,
            drafts: [{ action: "bead_move", text: `moved bead "${live.title}" to rig ${args.to_rig}`, rig: meta.name, bead: args.bead_id }],
          };
        };
        const bead = await steps.work(async () => ({ ...event, archived: store.bead(args.bead_id) ? undefined : await store.archived(args.bead_id) }), audit);
        // A bead moved already answers where it went; the town tells a retry (same rig) from a second move.
        const where = bead.movedTo!;
        const notice = await store.moveNotice(bead, { toRig: where.rig, toRigId: args.to_rig_id, newBeadId: where.beadId }, meta);
        return jsonResponse({ ok: true, value: notice.payload });
      }
      case "update": {
        const args = rigUpdate.parse(body);
        if (!store.meta()) return missing();
        await steps.work({ type: "rig_resize", maxPolecats: args.max_polecats });
        return jsonResponse({ ok: true, value: null });
      }
      case "budget": {
        // W22: an operator's budget for this rig, through the town; dispatch judges it in the same step.
        const { budget } = budgetSet.parse(body);
        if (!store.meta() || store.removed) return missing();
        await steps.work({ type: "budget_set", budget });
        return jsonResponse({ ok: true, value: store.requireMeta().budget ?? null });
      }
      case "town_budget": {
        const notice = townBudgetNotice.parse(body);
        if (!store.meta() || store.removed) return missing();
        await steps.work({ type: "town_budget", ...notice });
        return jsonResponse({ ok: true, value: null });
      }
      case "wipe": {
        this.host.summary.cancel();
        await store.wipe();
        this.host.closeAll(CLOSE.GONE, "rig removed");
        return jsonResponse({ ok: true, value: null });
      }
      default:
        return errorResponse("BAD_FRAME", `no internal operation ${op}`);
    }
  }

  /** One hop to the town, which stores town mail or relays to the recipient's rig. */
  async hopMail(mail: Mail): Promise<Attempt> {
    if (this.failHops > 0) {
      this.failHops -= 1;
      return { kind: "retry", error: "test fault: hop dropped" };
    }
    const reply = await this.host.callRoom("main", this.host.townId(), "mail", { mail } satisfies z.infer<typeof mailEnvelope>);
    return classifyReply(reply.status, reply.body);
  }

  /** The outbox's delivery of one entry to the town. */
  async attemptHop(entry: OutboxEntry): Promise<Attempt> {
    const ops = { feed: "feed", convoy: "convoy_bead", move: "bead_moved", usage: "usage" } as const;
    if (entry.kind === "convoy" && this.dropNotices > 0) {
      this.dropNotices -= 1;
      return { kind: "delivered" }; // lost on the way, as far as anyone can tell
    }
    if (entry.kind === "feed" || entry.kind === "convoy" || entry.kind === "move" || entry.kind === "usage") {
      const reply = await this.host.callRoom("main", this.host.townId(), ops[entry.kind], entry.payload);
      return classifyReply(reply.status, reply.body);
    }
    return this.host.post().attempt(entry);
  }
}
