/**
 * The town room (the main party, room id = town id), as wiring only around the LiveRoom it has
 * (party/live/): its RoomSpec gives the documents, the tool table, the room-to-room operations, and
 * its start and alarm, each handed to the module that carries it out; PartyKit's class for it is
 * made by liveParty (party/live/party.ts), the same for both rooms.
 * What those modules may use of the room is one `Town` (context.ts); the town's decisions are pure
 * modules beside them (placement, move, registry, convoys, share, entries).
 *
 *   rig-tools     the rig registry and the rigs' summaries     (registry.ts)
 *   sling-tools   gt_sling, gt_convoy_create                   (placement.ts)
 *   move-tools    gt_bead_move and the rigs' move notices       (move.ts)
 *   convoy-tools  convoys: notices, landing, reconciliation    (convoys.ts)
 *   share-tools   share links                                  (share.ts)
 *   scope         what of the town a convoy link or a rig-scoped operator reads
 *   mail-tools    the mail of `mayor` and `operator`, relays to rigs
 *   usage-tools   the town's daily usage, budgets, gt_costs    (usage.ts)
 *   webhook-tools outgoing webhooks from attention and landings (webhooks.ts)
 *   deliveries    the durable outbox's attempts                (entries.ts)
 */
import type * as Party from "partykit/server";
import { signToken } from "../auth.ts";
import { AuditLog } from "../audit.ts";
import { DurableOutbox } from "../durable-outbox.ts";
import { LiveRoom, liveParty, errorResponse, jsonResponse, tool, type LiveServices, type ToolTable } from "../live/index.ts";
import { TOWN_DOC, townToolArgs } from "../protocol.ts";
import { BeadIndex } from "./bead-index.ts";
import { ROLES, requireTownWide, townConfig, type Town } from "./context.ts";
import { ConvoyBook } from "./convoy-tools.ts";
import { Deliveries } from "./deliveries.ts";
import { TownMail } from "./mail-tools.ts";
import { Mover } from "./move-tools.ts";
import { RigTools } from "./rig-tools.ts";
import { shareTools } from "./share-tools.ts";
import { SCOPE_DOC } from "./scope.ts";
import { Placer } from "./sling-tools.ts";
import { TownUsageBook } from "./usage-tools.ts";
import { Webhooks } from "./webhook-tools.ts";

class TownRoom {
  readonly live: LiveRoom;
  private readonly outbox: DurableOutbox;
  private readonly town: Town;
  private readonly index: BeadIndex;
  private readonly convoys: ConvoyBook;
  private readonly mail: TownMail;
  private readonly rigs: RigTools;
  private readonly placer: Placer;
  private readonly mover: Mover;
  private readonly deliveries: Deliveries;
  private readonly usage: TownUsageBook;
  private readonly webhooks: Webhooks;

  constructor(room: Party.Room) {
    this.live = new LiveRoom(room, {
      party: "main",
      // The town document (registry, convoys, feed) and the town's mail, each its own document.
      layout: { docs: { town: [TOWN_DOC.rigs, TOWN_DOC.convoys, TOWN_DOC.usage], mail: [TOWN_DOC.mail] }, events: "town" },
      // What of the town a convoy link or a rig-scoped operator may read, built per token (scope.ts).
      derived: [SCOPE_DOC],
      ref: () => ({ party: "main", town: this.live.services.roomId() }),
      tools: () => this.tools(),
      internal: (op, body) => this.internal(op, body),
      started: () => this.started(),
      alarm: () => this.alarm(),
    });
    this.outbox = new DurableOutbox(
      room.storage,
      (entry) => this.deliveries.attempt(entry),
      (entry, outcome) => this.deliveries.settle(entry, outcome),
      () => earliest(this.convoys.wake(), this.usage.wake()),
    );
    this.town = lend(this.live.services, room, this.outbox);
    this.index = new BeadIndex(room.storage);
    this.webhooks = new Webhooks(this.town);
    this.convoys = new ConvoyBook(this.town, this.webhooks);
    this.mail = new TownMail(this.town);
    this.rigs = new RigTools(this.town, this.convoys, (rig) => this.usage.rigAdded(rig.id), this.webhooks);
    this.placer = new Placer(this.town, this.index, this.convoys);
    this.mover = new Mover(this.town, this.index, this.placer, this.convoys);
    this.deliveries = new Deliveries(this.town, this.mail, this.convoys, this.webhooks);
    this.usage = new TownUsageBook(this.town);
  }

  private async started(): Promise<void> {
    await this.webhooks.load();
    await this.outbox.load();
    await this.index.load();
    await this.town.audit.load();
    void this.rigs.wakeAll();
  }

  private async alarm(): Promise<void> {
    await this.outbox.flush();
    await this.convoys.reconcileIfDue();
    await this.usage.rollIfDue();
    await this.outbox.scheduleAlarm();
  }

  private tools(): ToolTable {
    const { roomId, secret, tokenRefreshTool } = this.live.services;
    return {
      ...this.rigs.tools(),
      ...this.mail.tools(),
      ...this.placer.tools(),
      ...this.convoys.tools(),
      ...shareTools(this.town),
      ...this.mover.tools(),
      ...this.usage.tools(),
      ...this.webhooks.tools(),
      gt_mayor_token: tool(townToolArgs.gt_mayor_token, ["container"], async (_args, caller) => {
        requireTownWide(caller, "run the Mayor (it needs a town-wide container token)");
        return {
          token: await signToken(
            { role: "agent", town: roomId(), agent: "mayor", exp: Math.floor(Date.now() / 1000) + this.town.config.mayorTokenLifetimeS },
            secret(),
          ),
        };
      }),
      gt_token_refresh: tokenRefreshTool(),
      // Who did what in the town: for town-wide operators (rig-scoped ones read their rig room's).
      gt_audit: tool(townToolArgs.gt_audit, ROLES.operator, async (args, caller) => {
        requireTownWide(caller, "read the town's audit trail");
        return this.town.audit.page(args);
      }),
    };
  }

  private async internal(op: string, body: unknown): Promise<Response> {
    switch (op) {
      case "mail":
        return this.mail.relay(body);
      case "wake":
        return jsonResponse({ ok: true, value: "awake" });
      case "rig_ids":
        return this.rigs.ids();
      case "convoy_bead":
        return this.convoys.notice(body);
      case "feed":
        return this.rigs.feed(body);
      case "bead_moved":
        return this.mover.moved(body);
      case "summary":
        return this.rigs.summary(body);
      case "usage":
        return this.usage.notice(body);
      default:
        return errorResponse("BAD_FRAME", `no internal operation ${op}`);
    }
  }
}

function earliest(a: number | null, b: number | null): number | null {
  return a === null ? b : b === null ? a : Math.min(a, b);
}

/** What the town's modules may use of the room. The id and documents exist from onStart on. */
function lend(live: LiveServices, room: Party.Room, outbox: DurableOutbox): Town {
  return {
    get id() {
      return live.roomId();
    },
    get records() {
      return live.records();
    },
    get secret() {
      return live.secret();
    },
    storage: room.storage,
    outbox,
    config: townConfig(room.env),
    audit: new AuditLog(room.storage),
    callRig: (rigId, op, body) => live.callRoom("rig", `${live.roomId()}.${rigId}`, op, body),
    feedEvent: live.feedEvent,
    rateLimit: live.rateLimit,
    pushEvent: live.pushEvent,
    revokeToken: live.revokeToken,
  };
}

export default liveParty((room) => new TownRoom(room).live);
