/**
 * The rig registry, carried out (the rules are in registry.ts): gt_rig_add, gt_rig_remove,
 * gt_rig_update, gt_list_rigs and gt_rig_status; the rigs' summaries and feed lines as they arrive
 * from their rooms; the registry's ids for the gate; and waking every rig room when the town starts.
 */
import type { z } from "zod";
import { errorResponse, jsonResponse, tool, type Caller, type ToolSpec } from "../live/index.ts";
import { forTown } from "../feed.ts";
import { newId } from "../ids.ts";
import { feedNotice, summaryPush, type rigIdsReply } from "../internal.ts";
import { TOWN_DOC, ToolError, redactGitUrl, townToolArgs, type Rig } from "../protocol.ts";
import { ROLES, audited, outboxPuts, requireCovers, requireRig, requireTownWide, rigById, rigsOf, sendNow, type Town } from "./context.ts";
import type { ConvoyBook } from "./convoy-tools.ts";
import { rigUpdateEntry, wipeEntry } from "./entries.ts";
import type { Webhooks } from "./webhook-tools.ts";
import { convoysWithoutRig, newRig, refuseNewRig, refuseTakenName, rigInitOf, seesRealUrl, updatedRig, withSummary } from "./registry.ts";

const gitUrlKey = (rigId: string) => `giturl:${rigId}`;

export class RigTools {
  constructor(
    private readonly town: Town,
    private readonly convoys: ConvoyBook,
    /** A new rig hears of the town's budget if it is reached today (W22). */
    private readonly added: (rig: Rig) => Promise<void> = async () => {},
    /** The webhooks of the summary's new attention items, recorded in the summary's own write. */
    private readonly webhooks?: Webhooks,
  ) {}

  tools(): Record<string, ToolSpec<any>> {
    const town = this.town;
    return {
      gt_rig_add: tool(townToolArgs.gt_rig_add, ROLES.operator, async (args, caller) => {
        requireTownWide(caller, "add rigs");
        refuseNewRig(rigsOf(town), args.name);
        const now = Date.now();
        const rig = newRig(args, newId(), now);
        // The rig room exists before the registry names it, so mail to the new rig never finds an
        // uninitialised room. A failed init leaves only an unreferenced room behind.
        const reply = await town.callRig(rig.id, "init", rigInitOf(town.id, rig, now));
        if (reply.status !== 200) throw new ToolError("INTERNAL", `rig room init failed: HTTP ${reply.status}`);
        refuseTakenName(rigsOf(town), args.name); // added meanwhile
        const audit = audited(town, caller, { action: "rig_add", text: `added rig ${rig.name}`, rig: rig.name });
        await town.records.write(
          [{ collection: TOWN_DOC.rigs, key: rig.id, value: rig }],
          [town.feedEvent("rig", `rig ${rig.name} added`, { rig: rig.name })],
          { put: { [gitUrlKey(rig.id)]: args.git_url, ...audit.put } },
        );
        await audit.commit();
        await this.added(rig);
        return rig;
      }),
      gt_rig_remove: tool(townToolArgs.gt_rig_remove, ROLES.operator, async (args, caller) => {
        requireTownWide(caller, "remove rigs");
        const rig = requireRig(town, args.name);
        const entry = wipeEntry(rig, Date.now());
        // Registry entry gone, its convoy beads failed and the wipe queued in one write: from here on
        // mail to the rig is refused and every convoy can still land.
        const convoys = convoysWithoutRig(this.convoys.live(), rig, Date.now());
        const audit = audited(town, caller, { action: "rig_remove", text: `removed rig ${rig.name}`, rig: rig.name });
        const landings = convoys.filter((c) => c.landed).map(({ convoy }) => this.convoys.landedHooks(convoy));
        await town.records.write(
          [
            { collection: TOWN_DOC.rigs, key: rig.id, value: null },
            ...convoys.map(({ convoy }) => ({ collection: TOWN_DOC.convoys, key: convoy.id, value: convoy })),
          ],
          [
            town.feedEvent("rig", `rig ${rig.name} removed`, { tone: "warn", rig: rig.name }),
            // Its beads failed, so such a convoy is stuck (never landed) once nothing else is unfinished.
            ...convoys.map(({ convoy, stuck }) =>
              town.feedEvent("convoy", `convoy "${convoy.title}": beads of ${rig.name} failed (rig removed)${stuck ? "; stuck" : ""}`, {
                tone: "bad",
                rig: rig.name,
              }),
            ),
            ...landings.flatMap((hooks) => hooks?.events ?? []),
          ],
          { put: Object.assign(outboxPuts([entry]), audit.put, ...landings.map((hooks) => hooks?.put ?? {})), delete: [gitUrlKey(rig.id)] },
        );
        await audit.commit();
        for (const hooks of landings) await this.convoys.landedSent(hooks);
        await sendNow(town, [entry]);
        await this.convoys.retireLanded();
        return { removed: rig.name, id: rig.id };
      }),
      gt_list_rigs: tool(townToolArgs.gt_list_rigs, ROLES.staff, async (_args, caller) => Promise.all(rigsOf(town).map((r) => this.shown(r, caller)))),
      gt_rig_status: tool(townToolArgs.gt_rig_status, ROLES.staff, async (args, caller) => this.shown(requireRig(town, args.name), caller)),
      gt_rig_update: tool(townToolArgs.gt_rig_update, ROLES.operator, async (args, caller) => {
        const rig = requireRig(town, args.name);
        requireCovers(caller, rig);
        const { rig: next, what } = updatedRig(rig, args);
        const entry = rigUpdateEntry(rig.id, next.maxPolecats, Date.now());
        const audit = audited(town, caller, { action: "rig_update", text: `updated rig ${rig.name}: ${what}`, rig: rig.name });
        await town.records.write(
          [{ collection: TOWN_DOC.rigs, key: rig.id, value: next }],
          [town.feedEvent("rig", `rig ${rig.name} updated: ${what}`, { rig: rig.name })],
          {
            put: { ...outboxPuts([entry]), ...audit.put },
          },
        );
        await audit.commit();
        await sendNow(town, [entry]);
        return next;
      }),
    };
  }

  /** The registry as a caller may see it (registry.ts seesRealUrl). */
  private async shown(rig: Rig, caller: Caller): Promise<Rig> {
    return seesRealUrl(caller.token, rig) ? this.withRealUrl(rig) : { ...rig, gitUrl: redactGitUrl(rig.gitUrl) };
  }

  /** A rig with its real git URL (the document holds it redacted; storage holds it whole). */
  private async withRealUrl(rig: Rig): Promise<Rig> {
    const url = await this.town.storage.get<string>(gitUrlKey(rig.id));
    return url ? { ...rig, gitUrl: url } : rig;
  }

  /**
   * Starts every rig room of the town once when the town starts, so rig outboxes resume after a
   * restart even where the runtime lost their alarms (`partykit dev` keeps alarms in memory only).
   */
  async wakeAll(): Promise<void> {
    await Promise.all(
      rigsOf(this.town).map((rig) =>
        this.town.callRig(rig.id, "wake", {}).catch((error) => console.warn(`[main/${this.town.id}] could not wake rig ${rig.name}`, error)),
      ),
    );
  }

  /** `rig_ids`, for the gate of rig rooms (party/rig-directory.ts): which rig rooms exist. */
  ids(): Response {
    return jsonResponse({ ok: true, value: this.town.records.values<Rig>(TOWN_DOC.rigs).map((rig) => rig.id) } satisfies z.infer<typeof rigIdsReply>);
  }

  /** `summary`, pushed by a rig room. */
  async summary(body: unknown): Promise<Response> {
    const { rig_id, summary } = summaryPush.parse(body);
    const rig = rigById(this.town, rig_id);
    if (!rig) return errorResponse("UNKNOWN_RIG", `no rig ${rig_id}`);
    const next = withSummary(rig, summary);
    if (!next) return jsonResponse({ ok: true, value: "stale" }); // out of order
    // The webhooks of the items new since the stored summary, in the summary's own write.
    const hooks = this.webhooks?.forSummary(rig, rig.summary, next.summary);
    await this.town.records.write([{ collection: TOWN_DOC.rigs, key: rig_id, value: next }], hooks?.events ?? [], { put: hooks?.put ?? {} });
    if (hooks) await this.webhooks!.queued(hooks);
    return jsonResponse({ ok: true, value: "stored" });
  }

  /** `feed`: a rig's failure for the town's feed, through its outbox; stored once per event id. */
  async feed(body: unknown): Promise<Response> {
    const { rig_id, event } = feedNotice.parse(body);
    const rig = rigById(this.town, rig_id);
    if (!rig) return errorResponse("UNKNOWN_RIG", `no rig ${rig_id}`);
    if (this.town.records.events.toArray().some((e) => e.id === event.id)) return jsonResponse({ ok: true, value: "known" });
    await this.town.records.write([], [forTown(event, rig.name)]);
    return jsonResponse({ ok: true, value: "stored" });
  }
}
