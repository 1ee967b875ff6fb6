/**
 * The town's durable outbox, carried out: one attempt of each kind of entry (entries.ts) at its rig
 * room, and what a final outcome changes here. Mail goes through the post office.
 */
import type { z } from "zod";
import type { budgetSet, revokeToken, rigUpdate, townBudgetNotice } from "../internal.ts";
import { classifyReply, type Attempt, type OutboxEntry } from "../outbox.ts";
import { TOWN_DOC, type Convoy } from "../protocol.ts";
import { rigById, type Town } from "./context.ts";
import type { ConvoyBook } from "./convoy-tools.ts";
import { failBead } from "./convoys.ts";
import type { BeadPayload, BudgetPayload, RevokePayload, RigUpdatePayload, TownBudgetPayload, WipePayload } from "./entries.ts";
import type { TownMail } from "./mail-tools.ts";
import type { Webhooks } from "./webhook-tools.ts";

export class Deliveries {
  constructor(
    private readonly town: Town,
    private readonly mail: TownMail,
    private readonly convoys: ConvoyBook,
    private readonly webhooks: Webhooks,
  ) {}

  async attempt(entry: OutboxEntry): Promise<Attempt> {
    switch (entry.kind) {
      case "mail":
        return this.mail.post.attempt(entry);
      case "wipe": {
        const payload = entry.payload as WipePayload;
        return this.call(payload.rig_id, "wipe", {});
      }
      case "bead": {
        const { rig_id, bead } = entry.payload as BeadPayload;
        if (!rigById(this.town, rig_id)) return { kind: "rejected", error: "its rig was removed" };
        return this.call(rig_id, "bead_create", bead);
      }
      case "rig_update": {
        const { rig_id, max_polecats } = entry.payload as RigUpdatePayload;
        if (!rigById(this.town, rig_id)) return { kind: "rejected", error: "its rig was removed" };
        return this.call(rig_id, "update", { max_polecats } satisfies z.infer<typeof rigUpdate>);
      }
      case "revoke": {
        const { rig_id, jti, exp } = entry.payload as RevokePayload;
        if (!rigById(this.town, rig_id)) return { kind: "delivered" }; // the rig is gone, and its sockets with it
        return this.call(rig_id, "revoke", { jti, exp } satisfies z.infer<typeof revokeToken>);
      }
      case "budget": {
        const { rig_id, budget } = entry.payload as BudgetPayload;
        if (!rigById(this.town, rig_id)) return { kind: "rejected", error: "its rig was removed" };
        return this.call(rig_id, "budget", { budget } satisfies z.infer<typeof budgetSet>);
      }
      case "town_budget": {
        const { rig_id, ...notice } = entry.payload as TownBudgetPayload;
        if (!rigById(this.town, rig_id)) return { kind: "delivered" }; // the rig is gone: nothing to hold
        return this.call(rig_id, "town_budget", notice satisfies z.infer<typeof townBudgetNotice>);
      }
      case "webhook":
        return this.webhooks.attempt(entry);
      case "convoy":
      case "feed":
      case "move":
      case "usage":
        return { kind: "rejected", error: "not a town outbox kind" };
    }
  }

  async settle(entry: OutboxEntry, outcome: Exclude<Attempt, { kind: "retry" }>): Promise<void> {
    if (entry.kind === "bead" && outcome.kind === "rejected") {
      // The bead could not be created (its rig is gone, or full): a convoy tracking it must still resolve.
      const { bead } = entry.payload as BeadPayload;
      const convoy = bead.convoy_id ? this.town.records.get<Convoy>(TOWN_DOC.convoys, bead.convoy_id) : undefined;
      const failed = convoy ? failBead(convoy, bead.id, outcome.error) : null;
      if (failed) await this.convoys.update(failed);
      await this.town.records.write(
        [],
        [this.town.feedEvent("failed", `bead ${bead.id.slice(-8)} "${bead.title}" could not be created in its rig: ${outcome.error.slice(0, 300)}`)],
      );
      return;
    }
    if (entry.kind === "mail") await this.mail.post.settle(entry, outcome);
    if (entry.kind === "webhook") await this.webhooks.settle(entry, outcome);
  }

  private async call(rigId: string, op: string, body: unknown): Promise<Attempt> {
    const reply = await this.town.callRig(rigId, op, body);
    return classifyReply(reply.status, reply.body);
  }
}
