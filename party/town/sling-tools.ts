/**
 * Placing work, carried out (the decisions are in placement.ts): gt_sling and gt_convoy_create
 * place their beads, store the placements with the outbox entries that create the beads in their
 * rigs in one write, and send them. The beads placed in the last minute are remembered here, so
 * a rig's load counts them until its summary does.
 */
import { townWide } from "../access.ts";
import { newId } from "../ids.ts";
import { tool, type Caller, type ToolSpec } from "../live/index.ts";
import type { OutboxEntry } from "../outbox.ts";
import { TOWN_DOC, ToolError, townToolArgs, type Convoy, type ConvoyProgress, type SlingResult } from "../protocol.ts";
import type { z } from "zod";
import type { BeadIndex } from "./bead-index.ts";
import { ROLES, audited, outboxPuts, requireCovers, requireRig, requireTownWide, rigsOf, sendNow, type Town } from "./context.ts";
import type { ConvoyBook } from "./convoy-tools.ts";
import { newConvoy, progress, requireRoomForBeads, withProgress } from "./convoys.ts";
import { beadEntries, candidates, place, remember, type BeadSpec, type Placement, type RecentPlacement } from "./placement.ts";

export class Placer {
  private recent: RecentPlacement[] = [];

  constructor(
    private readonly town: Town,
    private readonly index: BeadIndex,
    private readonly convoys: ConvoyBook,
  ) {}

  tools(): Record<string, ToolSpec<any>> {
    return {
      gt_sling: tool(townToolArgs.gt_sling, ROLES.placers, async (args, caller) => {
        if (!townWide(caller.token)) {
          // A rig-scoped operator places work in its own rig only, and says which.
          if (!args.rig) throw new ToolError("FORBIDDEN", "a token scoped to a rig slings only into its rig: pass rig");
          requireCovers(caller, requireRig(this.town, args.rig));
        }
        return this.sling(args, caller);
      }),
      gt_convoy_create: tool(townToolArgs.gt_convoy_create, ROLES.placers, async (args, caller) => {
        requireTownWide(caller, "create convoys");
        return this.createConvoy(args, caller);
      }),
    };
  }

  /** Places a batch against the registry as it is now, with the recent placements counted. */
  private place(specs: readonly BeadSpec[]): Placement[] {
    return place(specs, candidates(rigsOf(this.town), this.recent), this.town.id);
  }

  private async sling(args: z.infer<typeof townToolArgs.gt_sling>, caller: Caller): Promise<SlingResult> {
    const known = args.id ? await this.town.storage.get<SlingResult>(`slings:${args.id}`) : undefined;
    if (known) return known; // a retried sling: the same bead, in the same rig
    this.town.rateLimit(caller, "bead");
    const [placement] = this.place([args]);
    const { beadId, rigName, reason } = placement!;
    const entries = beadEntries([placement!], Date.now());
    const result: SlingResult = { bead_id: beadId, rig: rigName, reason };
    const audit = audited(this.town, caller, { action: "sling", text: `slung bead "${args.title}" to rig ${rigName}`, rig: rigName, bead: beadId });
    // The answer is kept with the placement, so a retry after a crash finds it (one key per sling,
    // like a record; beads themselves live in their rigs).
    await this.town.records.write([], [this.town.feedEvent("sling", `bead ${beadId.slice(-8)} "${args.title}" → ${reason}`, { rig: rigName, bead: beadId })], {
      put: {
        ...outboxPuts(entries),
        ...(args.id ? { [`slings:${args.id}`]: result } : {}),
        ...this.index.puts([[beadId, { rigId: placement!.rigId }]], 1),
        ...audit.put,
      },
    });
    await audit.commit();
    await this.enqueued(entries, [placement!.rigId]);
    await this.index.trim();
    return result;
  }

  private async createConvoy(args: z.infer<typeof townToolArgs.gt_convoy_create>, caller: Caller): Promise<ConvoyProgress> {
    const id = args.id ?? newId();
    const existing = await this.convoys.find(id);
    if (existing) return withProgress(existing); // a retried create
    requireRoomForBeads(this.convoys.live(), args.beads.length);
    this.town.rateLimit(caller, "bead", args.beads.length);
    const placed = this.place(args.beads);
    const convoy = newConvoy(id, args.title, placed, Date.now());
    const entries = beadEntries(placed, Date.now(), id);
    const perRig = Object.entries(progress(convoy).byRig)
      .map(([rig, n]) => `${rig} ${n.total}`)
      .join(", ");
    const audit = audited(this.town, caller, {
      action: "convoy_create",
      text: `created convoy "${convoy.title}": ${convoy.beads.length} beads (${perRig})`,
      convoy: id,
    });
    await this.town.records.write(
      [{ collection: TOWN_DOC.convoys, key: id, value: convoy }],
      [this.town.feedEvent("convoy", `convoy "${convoy.title}" created: ${convoy.beads.length} beads (${perRig})`)],
      {
        put: {
          ...outboxPuts(entries),
          ...this.index.puts(
            placed.map((p) => [p.beadId, { rigId: p.rigId }]),
            placed.length,
          ),
          ...audit.put,
        },
      },
    );
    await audit.commit();
    await this.enqueued(
      entries,
      placed.map((p) => p.rigId),
    );
    await this.index.trim();
    await this.town.outbox.scheduleAlarm(); // the reconciliation watches open convoys
    return withProgress(this.town.records.get<Convoy>(TOWN_DOC.convoys, id)!);
  }

  /** Sends the entries that create placed beads (stored already), counting them in their rigs' load. */
  async enqueued(entries: readonly OutboxEntry[], rigIds: readonly string[]): Promise<void> {
    this.recent = remember(this.recent, rigIds, Date.now());
    await sendNow(this.town, entries);
  }
}
