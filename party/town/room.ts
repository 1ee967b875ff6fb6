/**
 * The town room (the main party, room id = town id), as wiring only: PartyKit's hooks and the
 * alarm, the tool table and the room-to-room operations, each handed to the module that carries it
 * out. What those modules may use of the room is one `Town` (context.ts); the town's decisions are
 * pure modules beside them (placement, move, registry, convoys, share, entries).
 *
 *   rig-tools     the rig registry and the rigs' summaries     (registry.ts)
 *   sling-tools   gt_sling, gt_convoy_create                   (placement.ts)
 *   move-tools    gt_bead_move and the rigs' move notices       (move.ts)
 *   convoy-tools  convoys: notices, landing, reconciliation    (convoys.ts)
 *   share-tools   share links                                  (share.ts)
 *   mail-tools    the mail of `mayor` and `operator`, relays to rigs
 *   deliveries    the durable outbox's attempts                (entries.ts)
 */
import type * as Party from "partykit/server";
import type { RoomRef } from "../access.ts";
import { signToken } from "../auth.ts";
import { DurableOutbox } from "../durable-outbox.ts";
import { LiveRoom, errorResponse, jsonResponse, tool, type ToolSpec } from "../live-room.ts";
import { TOWN_DOC, townToolArgs } from "../protocol.ts";
import type { DocLayout } from "../records.ts";
import { BeadIndex } from "./bead-index.ts";
import { requireTownWide, townConfig, type Town } from "./context.ts";
import { ConvoyBook } from "./convoy-tools.ts";
import { Deliveries } from "./deliveries.ts";
import { TownMail } from "./mail-tools.ts";
import { Mover } from "./move-tools.ts";
import { RigTools } from "./rig-tools.ts";
import { shareTools } from "./share-tools.ts";
import { Placer } from "./sling-tools.ts";

export default class TownRoom extends LiveRoom {
  protected readonly party = "main";
  private readonly outbox = new DurableOutbox(
    this.room.storage,
    (entry) => this.deliveries.attempt(entry),
    (entry, outcome) => this.deliveries.settle(entry, outcome),
    () => this.convoys.wake(),
  );
  private readonly town = this.lend();
  private readonly index = new BeadIndex(this.room.storage);
  private readonly convoys = new ConvoyBook(this.town);
  private readonly mail = new TownMail(this.town);
  private readonly rigs = new RigTools(this.town, this.convoys);
  private readonly placer = new Placer(this.town, this.index, this.convoys);
  private readonly mover = new Mover(this.town, this.index, this.placer, this.convoys);
  private readonly deliveries = new Deliveries(this.town, this.mail, this.convoys);

  constructor(room: Party.Room) {
    super(room);
  }

  get townId(): string {
    return this.roomId;
  }

  /** What the town's modules may use of this room. The id and documents exist from onStart on. */
  private lend(): Town {
    const room = this;
    return {
      get id() {
        return room.roomId;
      },
      get records() {
        return room.records;
      },
      get secret() {
        return room.secret;
      },
      storage: this.room.storage,
      outbox: this.outbox,
      config: townConfig(this.room.env),
      callRig: (rigId, op, body) => this.callRoom("rig", `${this.roomId}.${rigId}`, op, body),
      feedEvent: (kind, text, about) => this.feedEvent(kind, text, about),
      rateLimit: (caller, kind, cost) => this.rateLimit(caller, kind, cost),
      pushEvent: (identity, frame) => this.pushEvent(identity, frame),
      revokeToken: (jti, exp) => this.revokeToken(jti, exp),
    };
  }

  /** The town document (registry, convoys, feed) and the town's mail, each its own document. */
  protected docLayout(): DocLayout {
    return { docs: { town: [TOWN_DOC.rigs, TOWN_DOC.convoys], mail: [TOWN_DOC.mail] }, events: "town" };
  }

  protected roomRef(): RoomRef {
    return { party: "main", town: this.roomId };
  }

  protected override async started(): Promise<void> {
    await this.outbox.load();
    await this.index.load();
    void this.rigs.wakeAll();
  }

  async onAlarm(): Promise<void> {
    await this.outbox.flush();
    await this.convoys.reconcileIfDue();
    await this.outbox.scheduleAlarm();
  }

  protected tools(): Record<string, ToolSpec<any>> {
    return {
      ...this.rigs.tools(),
      ...this.mail.tools(),
      ...this.placer.tools(),
      ...this.convoys.tools(),
      ...shareTools(this.town),
      ...this.mover.tools(),
      gt_mayor_token: tool(townToolArgs.gt_mayor_token, ["container"], async (_args, caller) => {
        requireTownWide(caller, "run the Mayor (it needs a town-wide container token)");
        return { token: await signToken({ role: "agent", town: this.roomId, agent: "mayor", exp: Math.floor(Date.now() / 1000) + this.town.config.mayorTokenLifetimeS }, this.secret) };
      }),
      gt_token_refresh: this.tokenRefreshTool(),
    };
  }

  protected async internal(op: string, body: unknown): Promise<Response> {
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
      default:
        return errorResponse("BAD_FRAME", `no internal operation ${op}`);
    }
  }
}
