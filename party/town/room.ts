/**
 * The town room (the main party, room id = town id): the rig registry, the rigs' summaries, mail
 * for `mayor` and `operator`, and the relay that resolves rig names for cross-rig mail.
 */
import type * as Party from "partykit/server";
import { z } from "zod";
import { DurableOutbox } from "../durable-outbox.ts";
import { newId } from "../ids.ts";
import { beadCreate, beadMoved, convoyBeadNotice, feedNotice, mailEnvelope, revokeToken, rigIdsReply, rigInit, rigUpdate, summaryPush, type BeadState, type beadMoveOut } from "../internal.ts";
import { forTown } from "../feed.ts";
import { choose, type Candidate } from "./placement.ts";
import { TERMINAL, applyNotice, failBead, failRigBeads, landIfDone, progress, replaceBead, type BeadNotice } from "./convoys.ts";
import { signToken } from "../auth.ts";
import { coversRig, townWide, type RoomRef } from "../access.ts";
import { LiveRoom, errorResponse, jsonResponse, tool, type Caller, type ToolSpec } from "../live-room.ts";
import type { DocLayout } from "../records.ts";
import { parseSharePath } from "./share.ts";
import { routeFromTown, unknownRecipient } from "../mail.ts";
import { PostOffice } from "../post-office.ts";
import { classifyReply, type Attempt, type OutboxEntry } from "../outbox.ts";
import {
  ERROR_STATUS,
  LIMITS,
  TOWN_DOC,
  ToolError,
  parseAddress,
  redactGitUrl,
  townToolArgs,
  type BeadMoveResult,
  type Convoy,
  type ConvoyBead,
  type ConvoyProgress,
  type Mail,
  type MailSendResult,
  type Rig,
  type ShareLink,
  type ShareResult,
  type ShareView,
  type SlingResult,
  type TokenPayload,
} from "../protocol.ts";
import { emptySummary } from "../summary.ts";

type WipePayload = { rig_id: string; name: string };
type SlingSpec = z.infer<typeof townToolArgs.gt_sling>;
type Placement = { spec: SlingSpec; rigId: string; rigName: string; reason: string; beadId: string };
type BeadMovedNotice = z.infer<typeof beadMoved>;

/**
 * The town's index of the beads it placed (`beadrig:<bead id>`): the rig it is in, and once moved,
 * where it went (gt_bead_move finds the source rig here, and answers a retried move from it).
 * Bounded by LIMITS.beadIndexKept: past it the lowest bead ids (ULIDs: the oldest) are forgotten,
 * and moving one of those needs its rig named (`from`).
 */
type BeadPlace = { rigId: string; movedTo?: { rigId: string; rig: string; beadId: string } };
const INDEX_PREFIX = "beadrig:";
const INDEX_COUNT = "beadrig-count";

function outboxPuts(entries: OutboxEntry[]): Record<string, OutboxEntry> {
  return Object.fromEntries(entries.map((e) => [DurableOutbox.storageKey(e.key), e]));
}

function withProgress(convoy: Convoy): ConvoyProgress {
  return { ...convoy, progress: progress(convoy) };
}

export default class TownRoom extends LiveRoom {
  private outbox!: DurableOutbox;
  /** Beads placed recently, counted in a rig's load until its summary includes them. */
  private placements: { rigId: string; at: number }[] = [];
  private lastReconcile = Date.now();
  /** Keys in the bead index (also in storage, `beadrig-count`), counted as they are added. */
  private indexCount = 0;
  /** Moves are applied one at a time (the tool and a rig's notice may bring the same one at once). */
  private moveLane: Promise<unknown> = Promise.resolve();

  constructor(room: Party.Room) {
    super(room);
  }

  protected readonly party = "main";

  get townId(): string {
    return this.roomId;
  }

  /** The town document (registry, convoys, feed) and the town's mail, each its own document. */
  protected docLayout(): DocLayout {
    return { docs: { town: [TOWN_DOC.rigs, TOWN_DOC.convoys], mail: [TOWN_DOC.mail] }, events: "town" };
  }

  protected roomRef(): RoomRef {
    return { party: "main", town: this.roomId };
  }

  protected override async started(): Promise<void> {
    this.outbox = new DurableOutbox(
      this.room.storage,
      (entry) => this.attempt(entry),
      (entry, outcome) => this.settle(entry, outcome),
      () => this.reconcileWake(),
    );
    await this.outbox.load();
    this.indexCount = (await this.room.storage.get<number>(INDEX_COUNT)) ?? 0;
    void this.wakeRigs();
  }

  /**
   * Starts every rig room of the town once when the town starts, so rig outboxes resume after a
   * restart even where the runtime lost their alarms (`partykit dev` keeps alarms in memory only).
   */
  private async wakeRigs(): Promise<void> {
    await Promise.all(
      this.rigs().map((rig) =>
        this.callRoom("rig", this.rigRoomId(rig.id), "wake", {}).catch((error) => console.warn(`[main/${this.roomId}] could not wake rig ${rig.name}`, error)),
      ),
    );
  }

  async onAlarm(): Promise<void> {
    await this.outbox.flush();
    if (Date.now() >= this.lastReconcile + this.reconcileEveryMs) await this.reconcile();
    await this.outbox.scheduleAlarm();
  }

  /** Town-wide tools (adding rigs, town mail, links) refuse tokens scoped to a rig. */
  private requireTownWide(caller: Caller, what: string): void {
    if (!townWide(caller.token)) throw new ToolError("FORBIDDEN", `a token scoped to a rig may not ${what}`);
  }

  /** A rig-scoped token acts only on its rig(s). */
  private requireCovers(caller: Caller, rig: Rig): void {
    if (!coversRig(caller.token, rig.id)) throw new ToolError("FORBIDDEN", `this token is scoped to another rig than ${rig.name}`);
  }

  /** The registry as a caller may see it: git URLs with credentials only for a container that serves the rig (it clones). */
  private async shown(rig: Rig, caller: Caller): Promise<Rig> {
    return caller.token.role === "container" && coversRig(caller.token, rig.id) ? this.withRealUrl(rig) : { ...rig, gitUrl: redactGitUrl(rig.gitUrl) };
  }

  private rigs(): Rig[] {
    return this.records.values<Rig>(TOWN_DOC.rigs).sort((a, b) => a.name.localeCompare(b.name));
  }

  /** A rig with its real git URL (the document holds it redacted; storage holds it whole). */
  private async withRealUrl(rig: Rig): Promise<Rig> {
    const url = await this.room.storage.get<string>(`giturl:${rig.id}`);
    return url ? { ...rig, gitUrl: url } : rig;
  }

  private rigByName(name: string): Rig | undefined {
    return this.rigs().find((r) => r.name === name);
  }

  private requireRig(name: string): Rig {
    const rig = this.rigByName(name);
    if (!rig) throw new ToolError("UNKNOWN_RIG", `no rig named ${name} in town ${this.roomId}`);
    return rig;
  }

  private rigRoomId(rigId: string): string {
    return `${this.roomId}.${rigId}`;
  }

  // ------------------------------------------------------------------ tools

  protected tools(): Record<string, ToolSpec<any>> {
    const operator = ["operator"] as const;
    const townStaff = ["operator", "agent", "container"] as const; // agent = the Mayor (see access.ts)
    const mailers = ["operator", "agent"] as const; // the town's inboxes are the operator's and the Mayor's
    const townStaffNoContainer = ["operator", "agent"] as const; // placing work: people and the Mayor
    return {
      gt_rig_add: tool(townToolArgs.gt_rig_add, operator, async (args, caller) => {
        this.requireTownWide(caller, "add rigs");
        if (this.rigByName(args.name)) throw new ToolError("CONFLICT", `a rig named ${args.name} already exists`);
        if (this.rigs().length >= LIMITS.rigsPerTown) throw new ToolError("CONFLICT", `a town holds at most ${LIMITS.rigsPerTown} rigs`);
        const now = Date.now();
        const rig: Rig = {
          id: newId(),
          name: args.name,
          // People see the URL without its credentials; the container reads it whole (gt_list_rigs).
          gitUrl: redactGitUrl(args.git_url),
          defaultBranch: args.default_branch ?? "main",
          capabilities: [...new Set(args.capabilities ?? [])].sort(),
          maxPolecats: args.max_polecats ?? 3,
          status: "cloning",
          createdAt: now,
          summary: emptySummary(now),
        };
        // The rig room exists before the registry names it, so mail to the new rig never finds an
        // uninitialised room. A failed init leaves only an unreferenced room behind.
        const reply = await this.callRoom("rig", this.rigRoomId(rig.id), "init", {
          town: this.roomId,
          rig_id: rig.id,
          name: rig.name,
          created_at: now,
          git_url: rig.gitUrl,
          default_branch: rig.defaultBranch,
          max_polecats: rig.maxPolecats,
        } satisfies z.infer<typeof rigInit>);
        if (reply.status !== 200) throw new ToolError("INTERNAL", `rig room init failed: HTTP ${reply.status}`);
        if (this.rigByName(args.name)) throw new ToolError("CONFLICT", `a rig named ${args.name} already exists`); // added meanwhile
        await this.records.write([{ collection: TOWN_DOC.rigs, key: rig.id, value: rig }], [this.feedEvent("rig", `rig ${rig.name} added`, { rig: rig.name })], { put: { [`giturl:${rig.id}`]: args.git_url } });
        return rig;
      }),
      gt_rig_remove: tool(townToolArgs.gt_rig_remove, operator, async (args, caller) => {
        this.requireTownWide(caller, "remove rigs");
        const rig = this.requireRig(args.name);
        const payload: WipePayload = { rig_id: rig.id, name: rig.name };
        const entry: OutboxEntry = { key: `wipe-${rig.id}`, kind: "wipe", payload, attempts: 0, createdAt: Date.now(), nextAttemptAt: Date.now() };
        // Registry entry gone, its convoy beads failed and the wipe queued in one write: from here on
        // mail to the rig is refused and every convoy can still land.
        const convoys = this.records.values<Convoy>(TOWN_DOC.convoys).flatMap((c) => {
          const failed = c.status === "open" ? failRigBeads(c, rig.id, `rig ${rig.name} was removed`) : null;
          return failed ? [landIfDone(failed, Date.now())] : [];
        });
        await this.records.write(
          [{ collection: TOWN_DOC.rigs, key: rig.id, value: null }, ...convoys.map(({ convoy }) => ({ collection: TOWN_DOC.convoys, key: convoy.id, value: convoy }))],
          [
            this.feedEvent("rig", `rig ${rig.name} removed`, { tone: "warn", rig: rig.name }),
            ...convoys.map(({ convoy, landed }) => this.feedEvent(landed ? "landed" : "convoy", `convoy "${convoy.title}": beads of ${rig.name} failed (rig removed)${landed ? "; landed" : ""}`, { tone: "bad", rig: rig.name })),
          ],
          { put: { [DurableOutbox.storageKey(entry.key)]: entry }, delete: [`giturl:${rig.id}`] },
        );
        await this.outbox.added(entry);
        await this.outbox.flush();
        await this.retireLanded();
        return { removed: rig.name, id: rig.id };
      }),
      gt_list_rigs: tool(townToolArgs.gt_list_rigs, townStaff, async (_args, caller) => Promise.all(this.rigs().map((r) => this.shown(r, caller)))),
      gt_rig_status: tool(townToolArgs.gt_rig_status, townStaff, async (args, caller) => this.shown(this.requireRig(args.name), caller)),
      gt_mail_send: tool(townToolArgs.gt_mail_send, mailers, async (args, caller) => {
        if (caller.token.role === "operator") this.requireTownWide(caller, "send town mail");
        const from = caller.token.role === "agent" ? "mayor" : (args.from ?? "operator");
        if (caller.token.role === "agent" && args.from && args.from !== "mayor") throw new ToolError("FORBIDDEN", "the Mayor sends as mayor");
        this.rateLimit(caller, "mail");
        return this.sendMail({ ...args, from });
      }),
      gt_rig_update: tool(townToolArgs.gt_rig_update, operator, async (args, caller) => {
        const rig = this.requireRig(args.name);
        this.requireCovers(caller, rig);
        const next: Rig = {
          ...rig,
          ...(args.capabilities ? { capabilities: [...new Set(args.capabilities)].sort() } : {}),
          ...(args.max_polecats ? { maxPolecats: args.max_polecats } : {}),
        };
        const entry: OutboxEntry = { key: `update-${rig.id}`, kind: "rig_update", payload: { rig_id: rig.id, max_polecats: next.maxPolecats }, attempts: 0, createdAt: Date.now(), nextAttemptAt: Date.now() };
        const what = [args.capabilities ? `capabilities ${next.capabilities.join(", ") || "none"}` : "", args.max_polecats ? `max polecats ${next.maxPolecats}` : ""].filter(Boolean).join(", ");
        await this.records.write([{ collection: TOWN_DOC.rigs, key: rig.id, value: next }], [this.feedEvent("rig", `rig ${rig.name} updated: ${what || "no change"}`, { rig: rig.name })], {
          put: outboxPuts([entry]),
        });
        await this.outbox.added(entry);
        await this.outbox.flush();
        return next;
      }),
      gt_sling: tool(townToolArgs.gt_sling, townStaffNoContainer, async (args, caller) => {
        if (!townWide(caller.token)) {
          // A rig-scoped operator places work in its own rig only, and says which.
          if (!args.rig) throw new ToolError("FORBIDDEN", "a token scoped to a rig slings only into its rig: pass rig");
          this.requireCovers(caller, this.requireRig(args.rig));
        }
        return this.sling(args, caller);
      }),
      gt_convoy_create: tool(townToolArgs.gt_convoy_create, townStaffNoContainer, async (args, caller) => {
        this.requireTownWide(caller, "create convoys");
        return this.createConvoy(args, caller);
      }),
      gt_convoy_status: tool(townToolArgs.gt_convoy_status, townStaff, async (args) => {
        const convoy = this.records.get<Convoy>(TOWN_DOC.convoys, args.id) ?? (await this.room.storage.get<Convoy>(`convoy-archive:${args.id}`));
        if (!convoy) throw new ToolError("UNKNOWN_CONVOY", `no convoy ${args.id} in town ${this.roomId}`);
        return withProgress(convoy);
      }),
      gt_list_convoys: tool(townToolArgs.gt_list_convoys, townStaff, async (args) =>
        this.records
          .values<Convoy>(TOWN_DOC.convoys)
          .filter((c) => !args.status || c.status === args.status)
          .sort((a, b) => b.createdAt - a.createdAt)
          .map(withProgress),
      ),
      gt_share: tool(townToolArgs.gt_share, operator, async (args, caller): Promise<ShareResult> => {
        this.requireTownWide(caller, "make share links");
        this.rateLimit(caller, "share");
        const parsed = parseSharePath(args.path, this.roomId);
        if (!parsed.ok) throw new ToolError("INVALID_ARGS", `path: ${parsed.reason}`);
        const named = parsed.view;
        const rigOf = (name: string) => this.requireRig(name).id;
        const view: ShareView =
          named.kind === "rig" ? { kind: "rig", rig: rigOf(named.rig) } : named.kind === "bead" ? { ...named, rig: rigOf(named.rig) } : named.kind === "agent" ? { ...named, rig: rigOf(named.rig) } : named;
        const now = Date.now();
        const iat = Math.floor(now / 1000);
        const exp = iat + args.ttl_s;
        const id = newId();
        const token = await signToken({ role: "viewer", town: this.roomId, view, iat, exp, jti: id }, this.secret);
        const link: ShareLink = { id, path: parsed.path, view, createdAt: now, expiresAt: exp * 1000 };
        await this.records.write([], [this.feedEvent("share", `read-only link made for ${parsed.path}`)], { put: { [`shares:${id}`]: link } });
        return { id, path: `${parsed.path}?token=${token}`, token, expiresAt: link.expiresAt, view };
      }),
      gt_share_list: tool(townToolArgs.gt_share_list, operator, async (_args, caller) => {
        this.requireTownWide(caller, "list share links");
        const now = Date.now();
        const links = [...(await this.room.storage.list<ShareLink>({ prefix: "shares:" })).values()];
        const expired = links.filter((l) => l.expiresAt <= now);
        if (expired.length) await this.room.storage.delete(expired.map((l) => `shares:${l.id}`));
        return links.filter((l) => l.expiresAt > now).sort((a, b) => b.createdAt - a.createdAt);
      }),
      gt_share_revoke: tool(townToolArgs.gt_share_revoke, operator, async (args, caller) => {
        this.requireTownWide(caller, "revoke share links");
        const link = await this.room.storage.get<ShareLink>(`shares:${args.id}`);
        if (!link) throw new ToolError("INVALID_ARGS", `no share link ${args.id} (it may have expired)`);
        if (link.revokedAt) return link;
        const revoked: ShareLink = { ...link, revokedAt: Date.now() };
        // Every rig room hears of it through the outbox, so a link's open pages close everywhere.
        const entries = this.rigs().map((rig): OutboxEntry => ({ key: `revoke-${link.id}-${rig.id}`, kind: "revoke", payload: { rig_id: rig.id, jti: link.id, exp: Math.ceil(link.expiresAt / 1000) }, attempts: 0, createdAt: Date.now(), nextAttemptAt: Date.now() }));
        await this.records.write([], [this.feedEvent("share", `read-only link for ${link.path} revoked`)], { put: { [`shares:${link.id}`]: revoked, ...outboxPuts(entries) } });
        await this.revokeToken(link.id, Math.ceil(link.expiresAt / 1000));
        for (const entry of entries) await this.outbox.added(entry);
        await this.outbox.flush();
        return revoked;
      }),
      gt_bead_move: tool(townToolArgs.gt_bead_move, operator, (args, caller) => this.moveBead(args, caller)),
      gt_mayor_token: tool(townToolArgs.gt_mayor_token, ["container"], async (_args, caller) => {
        this.requireTownWide(caller, "run the Mayor (it needs a town-wide container token)");
        return { token: await signToken({ role: "agent", town: this.roomId, agent: "mayor", exp: Math.floor(Date.now() / 1000) + this.mayorTokenLifetimeS }, this.secret) };
      }),
      gt_token_refresh: this.tokenRefreshTool(),
      gt_mail_check: tool(townToolArgs.gt_mail_check, mailers, async (args, caller) => this.post.check(this.inboxOf(caller, args.as))),
      gt_mail_ack: tool(townToolArgs.gt_mail_ack, mailers, async (args, caller) => this.post.ack(this.inboxOf(caller, args.as), args.ids)),
      gt_mail_read: tool(townToolArgs.gt_mail_read, mailers, async (args, caller) => this.post.read(this.inboxOf(caller, args.as), args.id)),
    };
  }

  // ------------------------------------------------------------------ mail

  /** The town inbox a caller reads: the Mayor only its own; town-wide operators either (default: operator). */
  private inboxOf(caller: Caller, as: "mayor" | "operator" | undefined): "mayor" | "operator" {
    const token = caller.token;
    if (token.role !== "agent") {
      this.requireTownWide(caller, "read the town's mail");
      return as ?? "operator";
    }
    if (as !== undefined && as !== "mayor") throw new ToolError("FORBIDDEN", "the Mayor reads only the mayor inbox");
    return "mayor";
  }

  private sendMail(args: { to: string; subject: string; body: string; from: string; id?: string | undefined }): Promise<MailSendResult> {
    const fields = { id: args.id ?? newId(), from: args.from, to: args.to, subject: args.subject, body: args.body };
    return this.post.send(fields, () => {
      const route = routeFromTown(args.to);
      if (route.kind === "rig" && !this.rigByName(route.rigName)) throw unknownRecipient(args.to, "no such rig");
      return route.kind === "local";
    });
  }

  /** Mail of `mayor` and `operator`, and the hops to rigs (see PostOffice). */
  private readonly post = new PostOffice({
    collection: TOWN_DOC.mail,
    storage: this.room.storage,
    get: (id) => this.records.get<Mail>(TOWN_DOC.mail, id),
    all: () => this.records.values<Mail>(TOWN_DOC.mail),
    write: (changes, events, extra) => this.records.write(changes, events, extra),
    outbox: () => this.outbox,
    feedEvent: (kind, text, about) => this.feedEvent(kind, text, about),
    pushEvent: (identity, frame) => this.pushEvent(identity, frame),
    hop: (mail) => this.deliverToRig(mail),
    isLocal: (address) => address === "mayor" || address === "operator",
    // The town's feed is in the town document, which more people read than its mail: no subjects.
    feedLine: (mail) => `mail from ${mail.from} to ${mail.to}`,
  });

  /** Delivers to the recipient's rig room, resolving the rig name now (it may have been removed). */
  private async deliverToRig(mail: Mail): Promise<Attempt> {
    const address = parseAddress(mail.to);
    const rig = address?.kind === "rig" ? this.rigByName(address.rig) : undefined;
    if (!rig) return { kind: "rejected", error: `UNKNOWN_RECIPIENT: unknown recipient ${mail.to}: no such rig` };
    const reply = await this.callRoom("rig", this.rigRoomId(rig.id), "mail", { mail });
    return classifyReply(reply.status, reply.body);
  }

  private async attempt(entry: OutboxEntry): Promise<Attempt> {
    switch (entry.kind) {
      case "mail":
        return this.post.attempt(entry);
      case "wipe": {
        const payload = entry.payload as WipePayload;
        const reply = await this.callRoom("rig", this.rigRoomId(payload.rig_id), "wipe", {});
        return classifyReply(reply.status, reply.body);
      }
      case "bead": {
        const { rig_id, bead } = entry.payload as { rig_id: string; bead: z.infer<typeof beadCreate> };
        if (!this.records.get<Rig>(TOWN_DOC.rigs, rig_id)) return { kind: "rejected", error: "its rig was removed" };
        const reply = await this.callRoom("rig", this.rigRoomId(rig_id), "bead_create", bead);
        return classifyReply(reply.status, reply.body);
      }
      case "rig_update": {
        const { rig_id, max_polecats } = entry.payload as { rig_id: string; max_polecats: number };
        if (!this.records.get<Rig>(TOWN_DOC.rigs, rig_id)) return { kind: "rejected", error: "its rig was removed" };
        const reply = await this.callRoom("rig", this.rigRoomId(rig_id), "update", { max_polecats } satisfies z.infer<typeof rigUpdate>);
        return classifyReply(reply.status, reply.body);
      }
      case "revoke": {
        const { rig_id, jti, exp } = entry.payload as { rig_id: string; jti: string; exp: number };
        if (!this.records.get<Rig>(TOWN_DOC.rigs, rig_id)) return { kind: "delivered" }; // the rig is gone, and its sockets with it
        const reply = await this.callRoom("rig", this.rigRoomId(rig_id), "revoke", { jti, exp } satisfies z.infer<typeof revokeToken>);
        return classifyReply(reply.status, reply.body);
      }
      case "convoy":
      case "feed":
      case "move":
        return { kind: "rejected", error: "not a town outbox kind" };
    }
  }

  private async settle(entry: OutboxEntry, outcome: Exclude<Attempt, { kind: "retry" }>): Promise<void> {
    if (entry.kind === "bead" && outcome.kind === "rejected") {
      // The bead could not be created (its rig is gone, or full): a convoy tracking it must still resolve.
      const { bead } = entry.payload as { bead: z.infer<typeof beadCreate> };
      const convoy = bead.convoy_id ? this.records.get<Convoy>(TOWN_DOC.convoys, bead.convoy_id) : undefined;
      const failed = convoy ? failBead(convoy, bead.id, outcome.error) : null;
      if (failed) await this.updateConvoy(failed);
      await this.records.write([], [this.feedEvent("failed", `bead ${bead.id.slice(-8)} "${bead.title}" could not be created in its rig: ${outcome.error.slice(0, 300)}`)]);
      return;
    }
    if (entry.kind === "mail") await this.post.settle(entry, outcome);
  }

  // ------------------------------------------------------------------ slinging and convoys

  /** The rigs as the Mayor sees them: summaries, plus beads placed since each rig's last summary. */
  /**
   * Every rig as a placement candidate. Placements since each rig's last summary are counted in one
   * pass over the recent placements (one pass per rig made a convoy of B beads in a town of N rigs
   * cost B × N × placements).
   */
  private candidates(): Candidate[] {
    const rigs = this.rigs();
    const summarizedAt = new Map(rigs.map((rig) => [rig.id, rig.summary.updatedAt]));
    const since = new Map<string, number>();
    for (const p of this.placements) if (p.at > (summarizedAt.get(p.rigId) ?? Infinity)) since.set(p.rigId, (since.get(p.rigId) ?? 0) + 1);
    return rigs.map((rig) => {
      const extra = since.get(rig.id) ?? 0;
      const { open, in_progress, in_review } = rig.summary.beads;
      const total = Object.values(rig.summary.beads).reduce((a, b) => a + b, 0);
      return { id: rig.id, name: rig.name, status: rig.status, capabilities: rig.capabilities, maxPolecats: rig.maxPolecats, active: open + in_progress + in_review + extra, total: total + extra };
    });
  }

  /**
   * Places beads one after another (each placement counts for the next), or refuses them all. The
   * candidates are read once per call; a bead for a named rig is a lookup, an unnamed one a choice
   * among all rigs with the call's earlier placements counted.
   */
  private place(specs: SlingSpec[]): Placement[] {
    const placed: Placement[] = [];
    const base = this.candidates();
    const byName = new Map(base.map((c) => [c.name, c]));
    const pending = new Map<string, number>();
    const withPending = (c: Candidate): Candidate => {
      const extra = pending.get(c.id) ?? 0;
      return extra ? { ...c, active: c.active + extra, total: c.total + extra } : c;
    };
    for (const spec of specs) {
      let rig: Candidate;
      let reason: string;
      if (spec.rig) {
        const named = byName.get(spec.rig);
        if (!named) throw new ToolError("UNKNOWN_RIG", `no rig named ${spec.rig} in town ${this.roomId}`);
        rig = named;
        reason = `${named.name}: chosen by the caller`;
      } else {
        const decision = choose(base.map(withPending), spec.requires ?? []);
        if (!decision.ok) throw new ToolError("NO_ELIGIBLE_RIG", decision.message);
        rig = decision.rig;
        reason = decision.reason;
      }
      pending.set(rig.id, (pending.get(rig.id) ?? 0) + 1);
      placed.push({ spec, rigId: rig.id, rigName: rig.name, reason, beadId: spec.id ?? newId() });
    }
    return placed;
  }

  /** The outbox entries that create placed beads in their rigs (sent at once, retried on failure). */
  private beadEntries(placed: Placement[], convoyId?: string): OutboxEntry[] {
    const now = Date.now();
    return placed.map((p) => ({
      key: `bead-${p.beadId}`,
      kind: "bead" as const,
      attempts: 0,
      createdAt: now,
      nextAttemptAt: now,
      payload: {
        rig_id: p.rigId,
        bead: {
          id: p.beadId,
          title: p.spec.title,
          body: p.spec.body ?? "",
          priority: p.spec.priority ?? "medium",
          requires: p.spec.requires ?? [],
          reason: p.reason,
          ...(convoyId ? { convoy_id: convoyId } : {}),
        } satisfies z.infer<typeof beadCreate>,
      },
    }));
  }

  /** Refuses new convoys past the town's bound on beads in open convoys (a sling is held by its rig's bound on unfinished beads). */
  private requireRoomForBeads(n: number): void {
    let open = 0;
    for (const c of this.records.values<Convoy>(TOWN_DOC.convoys)) if (c.status === "open") open += c.beads.length;
    if (open + n > LIMITS.openConvoyBeads) throw new ToolError("CONFLICT", `the town has ${open} beads in open convoys; at most ${LIMITS.openConvoyBeads} at once`);
  }

  private async sling(args: z.infer<typeof townToolArgs.gt_sling>, caller: Caller): Promise<SlingResult> {
    const known = args.id ? await this.room.storage.get<SlingResult>(`slings:${args.id}`) : undefined;
    if (known) return known; // a retried sling: the same bead, in the same rig
    this.rateLimit(caller, "bead");
    const [placement] = this.place([args]);
    const { beadId, rigName, reason } = placement!;
    const entries = this.beadEntries([placement!]);
    const result: SlingResult = { bead_id: beadId, rig: rigName, reason };
    // The answer is kept with the placement, so a retry after a crash finds it (one key per sling,
    // like a record; beads themselves live in their rigs).
    await this.records.write([], [this.feedEvent("sling", `bead ${beadId.slice(-8)} "${args.title}" → ${reason}`, { rig: rigName, bead: beadId })], {
      put: { ...outboxPuts(entries), ...(args.id ? { [`slings:${args.id}`]: result } : {}), ...this.indexPuts([[beadId, { rigId: placement!.rigId }]], 1) },
    });
    await this.enqueued(entries, [placement!]);
    await this.trimIndex();
    return result;
  }

  private async createConvoy(args: z.infer<typeof townToolArgs.gt_convoy_create>, caller: Caller): Promise<ConvoyProgress> {
    const id = args.id ?? newId();
    const existing = this.records.get<Convoy>(TOWN_DOC.convoys, id) ?? (await this.room.storage.get<Convoy>(`convoy-archive:${id}`));
    if (existing) return withProgress(existing); // a retried create
    this.requireRoomForBeads(args.beads.length);
    this.rateLimit(caller, "bead", args.beads.length);
    const placed = this.place(args.beads);
    const convoy: Convoy = {
      id,
      title: args.title,
      status: "open",
      createdAt: Date.now(),
      // The reason is kept short in the document (it names every rig's load in a big town).
      beads: placed.map((p) => ({ rigId: p.rigId, rigName: p.rigName, beadId: p.beadId, title: p.spec.title, status: "open", reason: p.reason.slice(0, 300), rev: 0 })),
    };
    const entries = this.beadEntries(placed, id);
    const perRig = Object.entries(progress(convoy).byRig).map(([rig, n]) => `${rig} ${n.total}`).join(", ");
    await this.records.write([{ collection: TOWN_DOC.convoys, key: id, value: convoy }], [this.feedEvent("convoy", `convoy "${convoy.title}" created: ${convoy.beads.length} beads (${perRig})`)], {
      put: { ...outboxPuts(entries), ...this.indexPuts(placed.map((p) => [p.beadId, { rigId: p.rigId }]), placed.length) },
    });
    await this.enqueued(entries, placed);
    await this.trimIndex();
    await this.outbox.scheduleAlarm(); // the reconciliation watches open convoys
    return withProgress(this.records.get<Convoy>(TOWN_DOC.convoys, id)!);
  }

  private async enqueued(entries: OutboxEntry[], placed: Placement[]): Promise<void> {
    const now = Date.now();
    this.placements.push(...placed.map((p) => ({ rigId: p.rigId, at: now })));
    this.placements = this.placements.filter((p) => now - p.at < 60_000); // summaries arrive within a second
    for (const entry of entries) await this.outbox.added(entry);
    await this.outbox.flush();
  }

  /** Applies a change to one convoy and lands it when it is done. */
  private async updateConvoy(next: Convoy): Promise<void> {
    const { convoy, landed } = landIfDone(next, Date.now());
    const { done, total } = progress(convoy);
    const failed = convoy.beads.filter((b) => b.status === "failed").length;
    // A landing with failures still needs someone: it is a warning, not a success.
    const events = landed ? [this.feedEvent("landed", `convoy "${convoy.title}" landed: ${done}/${total}, ${failed} failed`, { tone: failed ? "warn" : "good" })] : [];
    await this.records.write([{ collection: TOWN_DOC.convoys, key: convoy.id, value: convoy }], events);
    if (landed) await this.retireLanded();
  }

  /**
   * Keeps the town document bounded: past LIMITS.landedConvoysKept landed convoys, the longest-landed
   * move to storage (`convoy-archive:<id>`), where gt_convoy_status still finds them. Open convoys stay.
   */
  private async retireLanded(): Promise<void> {
    const landed = this.records.values<Convoy>(TOWN_DOC.convoys).filter((c) => c.status !== "open");
    const excess = landed.length - LIMITS.landedConvoysKept;
    if (excess <= 0) return;
    const oldest = landed.sort((a, b) => (a.landedAt ?? a.createdAt) - (b.landedAt ?? b.createdAt)).slice(0, excess);
    await this.records.write(
      oldest.map((c) => ({ collection: TOWN_DOC.convoys, key: c.id, value: null })),
      [],
      { put: Object.fromEntries(oldest.map((c) => [`convoy-archive:${c.id}`, c])) },
    );
  }

  /** The Mayor's token lifetime (GT_MAYOR_TOKEN_TTL_S, default 24 h; tests shorten it): the container renews it at two thirds. */
  private get mayorTokenLifetimeS(): number {
    const configured = Math.floor(Number(this.room.env.GT_MAYOR_TOKEN_TTL_S));
    return Number.isFinite(configured) && configured > 0 ? Math.min(configured, 24 * 3600) : 24 * 3600;
  }

  private get reconcileEveryMs(): number {
    const configured = Number(this.room.env.GT_RECONCILE_MS);
    return Number.isFinite(configured) && configured > 0 ? configured : 30_000;
  }

  private reconcileWake(): number | null {
    const open = this.records.values<Convoy>(TOWN_DOC.convoys).some((c) => c.status === "open");
    return open ? this.lastReconcile + this.reconcileEveryMs : null;
  }

  /**
   * Asks each rig for the status of its open convoy beads: a lost or out-of-order notification can
   * delay a landing by one period but never block it.
   */
  private async reconcile(): Promise<void> {
    this.lastReconcile = Date.now();
    for (const convoy of this.records.values<Convoy>(TOWN_DOC.convoys).filter((c) => c.status === "open")) {
      const byRig = new Map<string, string[]>();
      for (const b of convoy.beads) if (!TERMINAL.has(b.status) && !this.outbox.has(`bead-${b.beadId}`)) byRig.set(b.rigId, [...(byRig.get(b.rigId) ?? []), b.beadId]);
      const removedRigs: string[] = [];
      const notices: BeadNotice[] = [];
      const missing: string[] = [];
      for (const [rigId, ids] of byRig) {
        if (!this.records.get<Rig>(TOWN_DOC.rigs, rigId)) {
          removedRigs.push(rigId);
          continue;
        }
        const reply = await this.callRoom("rig", this.rigRoomId(rigId), "bead_states", { ids }).catch(() => null);
        if (reply?.status !== 200) continue; // try again next period
        const states = reply.body.value as BeadState[];
        // A moved bead's convoy entry is replaced by its rig's move notice (in its outbox), never closed by it.
        for (const state of states) if (!state.movedTo) notices.push({ beadId: state.id, status: state.status, assignee: state.assignee, rev: state.rev, title: state.title, failure: state.failure });
        for (const id of ids) if (!states.some((s) => s.id === id)) missing.push(id);
      }
      // Applied to the convoy as it is now: notices may have landed while the rigs were asked.
      const latest = this.records.get<Convoy>(TOWN_DOC.convoys, convoy.id);
      if (!latest) continue;
      let next = latest;
      for (const rigId of removedRigs) next = failRigBeads(next, rigId, "its rig was removed") ?? next;
      for (const notice of notices) next = applyNotice(next, notice, Date.now()) ?? next;
      for (const beadId of missing) next = failBead(next, beadId, "missing from its rig") ?? next;
      if (next !== latest) await this.updateConvoy(next);
    }
  }

  // ------------------------------------------------------------------ moving beads

  /**
   * gt_bead_move: the source rig closes the bead as moved (and stops its run) in one step, which
   * also stores its notice to the town; the town then creates the successor in the target rig and
   * puts it in the old bead's place in its convoy (applyMove). Every step is idempotent: the source
   * rig answers a bead moved already with where it went, and the town applies a move once. So a
   * retried call, or a town that crashed between the two rooms, still makes exactly one new bead.
   */
  private async moveBead(args: z.infer<typeof townToolArgs.gt_bead_move>, caller: Caller): Promise<BeadMoveResult> {
    const target = this.requireRig(args.rig);
    this.requireCovers(caller, target);
    const place = await this.room.storage.get<BeadPlace>(`${INDEX_PREFIX}${args.bead_id}`);
    if (place?.movedTo) {
      if (place.movedTo.rigId !== target.id) throw new ToolError("CONFLICT", `bead ${args.bead_id} was moved to rig ${place.movedTo.rig} already (as bead ${place.movedTo.beadId})`);
      const from = this.records.get<Rig>(TOWN_DOC.rigs, place.rigId)?.name ?? args.from ?? "";
      return { bead_id: place.movedTo.beadId, rig: place.movedTo.rig, moved_from: { rig: from, bead_id: args.bead_id } };
    }
    let source: Rig;
    if (place) {
      const known = this.records.get<Rig>(TOWN_DOC.rigs, place.rigId);
      if (!known) throw new ToolError("UNKNOWN_RIG", `the rig bead ${args.bead_id} was placed in was removed`);
      if (args.from !== undefined && args.from !== known.name) throw new ToolError("INVALID_ARGS", `from: bead ${args.bead_id} is in rig ${known.name} (the town placed it there), not ${args.from}`);
      source = known;
    } else {
      if (args.from === undefined) throw new ToolError("INVALID_ARGS", `from: required: the town did not place bead ${args.bead_id} (or no longer remembers it); name the rig it is in`);
      source = this.requireRig(args.from);
    }
    this.requireCovers(caller, source);
    if (source.id === target.id) throw new ToolError("INVALID_ARGS", `rig: bead ${args.bead_id} is in rig ${target.name} already`);
    this.rateLimit(caller, "bead");
    const request: z.infer<typeof beadMoveOut> = { bead_id: args.bead_id, to_rig: target.name, to_rig_id: target.id, new_bead_id: newId() };
    let reply: { status: number; body: any };
    try {
      reply = await this.callRoom("rig", this.rigRoomId(source.id), "bead_move_out", request);
    } catch (error) {
      throw new ToolError("INTERNAL", `rig ${source.name} could not be reached (${(error as Error).message}); call again: the move resumes where it stopped`);
    }
    if (reply.status !== 200) {
      const error = reply.body?.error as { code?: string; message?: string } | undefined;
      const code = error?.code && Object.hasOwn(ERROR_STATUS, error.code) && reply.status < 500 ? (error.code as keyof typeof ERROR_STATUS) : "INTERNAL";
      throw new ToolError(code, error?.message ?? `rig ${source.name} answered HTTP ${reply.status}; call again: the move resumes where it stopped`);
    }
    const moved = beadMoved.parse(reply.body.value);
    if (moved.to_rig !== target.name) throw new ToolError("CONFLICT", `bead ${args.bead_id} was moved to rig ${moved.to_rig} already (as bead ${moved.new_bead_id})`);
    return this.applyMove({ ...moved, to_rig_id: target.id });
  }

  /** Applies a move once (W16), whether the tool or the source rig's notice brings it first. */
  private applyMove(notice: BeadMovedNotice): Promise<BeadMoveResult> {
    const run = this.moveLane.then(() => this.applyMoveNow(notice));
    this.moveLane = run.catch(() => {});
    return run;
  }

  private async applyMoveNow(notice: BeadMovedNotice): Promise<BeadMoveResult> {
    const result: BeadMoveResult = { bead_id: notice.new_bead_id, rig: notice.to_rig, moved_from: { rig: notice.from_rig, bead_id: notice.bead_id } };
    const indexed = await this.room.storage.get<BeadPlace>(`${INDEX_PREFIX}${notice.bead_id}`);
    if (indexed?.movedTo) return { ...result, bead_id: indexed.movedTo.beadId, rig: indexed.movedTo.rig };
    const target = this.records.get<Rig>(TOWN_DOC.rigs, notice.to_rig_id);
    const now = Date.now();
    const successor: ConvoyBead = { rigId: notice.to_rig_id, rigName: notice.to_rig, beadId: notice.new_bead_id, title: notice.title, status: "open", reason: `moved from ${notice.from_rig}`, rev: 0 };
    const convoy = notice.convoy_id ? await this.convoyWithMove(notice.convoy_id, notice.bead_id, successor, target !== undefined) : null;
    const entries: OutboxEntry[] = target
      ? [
          {
            key: `bead-${notice.new_bead_id}`,
            kind: "bead",
            attempts: 0,
            createdAt: now,
            nextAttemptAt: now,
            payload: {
              rig_id: target.id,
              bead: {
                id: notice.new_bead_id,
                title: notice.title,
                body: notice.body,
                priority: notice.priority,
                requires: notice.requires,
                reason: `moved from ${notice.from_rig} by the operator`,
                moved_from: { rig: notice.from_rig, bead_id: notice.bead_id },
                ...(notice.convoy_id ? { convoy_id: notice.convoy_id } : {}),
              } satisfies z.infer<typeof beadCreate>,
            },
          },
        ]
      : [];
    const index: [string, BeadPlace][] = [[notice.bead_id, { rigId: notice.from_rig_id, movedTo: { rigId: notice.to_rig_id, rig: notice.to_rig, beadId: notice.new_bead_id } }]];
    if (target) index.push([notice.new_bead_id, { rigId: target.id }]);
    const text = target
      ? `bead ${notice.bead_id.slice(-8)} "${notice.title}" moved from ${notice.from_rig} to ${notice.to_rig} as ${notice.new_bead_id.slice(-8)}`
      : `bead ${notice.bead_id.slice(-8)} "${notice.title}" was moved to rig ${notice.to_rig}, which was removed meanwhile`;
    const events = [this.feedEvent(target ? "moved" : "failed", text), ...(convoy?.events ?? [])];
    await this.records.write(convoy?.changes ?? [], events, {
      put: { ...outboxPuts(entries), ...convoy?.put, ...this.indexPuts(index, indexed ? index.length - 1 : index.length) },
      delete: convoy?.delete ?? [],
    });
    if (entries.length) await this.enqueued(entries, target ? [{ spec: { title: notice.title }, rigId: target.id, rigName: target.name, reason: "", beadId: notice.new_bead_id }] : []);
    await this.trimIndex();
    if (convoy?.reopened) await this.outbox.scheduleAlarm(); // the reconciliation watches open convoys
    return result;
  }

  /**
   * The convoy's change for a move: the successor in the old bead's place (a landed convoy open
   * again, if the town's bound on beads in open convoys leaves room, and brought back from storage);
   * with the target rig gone, the old bead's entry fails instead. Null when nothing changes.
   */
  private async convoyWithMove(
    convoyId: string,
    oldBeadId: string,
    successor: ConvoyBead,
    targetExists: boolean,
  ): Promise<{ changes: { collection: string; key: string; value: Convoy }[]; put: Record<string, Convoy>; delete: string[]; events: ReturnType<TownRoom["feedEvent"]>[]; reopened: boolean } | null> {
    const live = this.records.get<Convoy>(TOWN_DOC.convoys, convoyId);
    const convoy = live ?? (await this.room.storage.get<Convoy>(`convoy-archive:${convoyId}`));
    if (!convoy) return null;
    let open = 0;
    for (const c of this.records.values<Convoy>(TOWN_DOC.convoys)) if (c.status === "open") open += c.beads.length;
    const next = targetExists ? replaceBead(convoy, oldBeadId, successor, open + convoy.beads.length <= LIMITS.openConvoyBeads) : failBead(convoy, oldBeadId, `moved to rig ${successor.rigName}, which was removed`);
    if (!next) return null;
    const reopened = convoy.status !== "open" && next.status === "open";
    const { convoy: settled, landed } = landIfDone(next, Date.now());
    const events = reopened ? [this.feedEvent("convoy", `convoy "${convoy.title}" open again: bead ${oldBeadId.slice(-8)} moved to ${successor.rigName}`)] : landed ? [this.feedEvent("landed", `convoy "${convoy.title}" landed`)] : [];
    // Open convoys always live in the document; a landed one stays where it is.
    if (live || settled.status === "open") {
      return { changes: [{ collection: TOWN_DOC.convoys, key: convoyId, value: settled }], put: {}, delete: live ? [] : [`convoy-archive:${convoyId}`], events, reopened };
    }
    return { changes: [], put: { [`convoy-archive:${convoyId}`]: settled }, delete: [], events, reopened };
  }

  /** Index entries to store, and the count with `added` new keys (counted now, before any await). */
  private indexPuts(entries: [string, BeadPlace][], added: number): Record<string, unknown> {
    this.indexCount += added;
    return { ...Object.fromEntries(entries.map(([id, place]) => [`${INDEX_PREFIX}${id}`, place])), [INDEX_COUNT]: this.indexCount };
  }

  /** Keeps the bead index within LIMITS.beadIndexKept: the lowest ids (the oldest ULIDs) go first. */
  private async trimIndex(): Promise<void> {
    const excess = this.indexCount - LIMITS.beadIndexKept;
    if (excess <= 0) return;
    this.indexCount -= excess;
    const oldest = await this.room.storage.list({ prefix: INDEX_PREFIX, limit: excess });
    await this.room.storage.delete([...oldest.keys()]);
    await this.room.storage.put(INDEX_COUNT, this.indexCount);
  }

  // ------------------------------------------------------------------ room-to-room

  protected async internal(op: string, body: unknown): Promise<Response> {
    switch (op) {
      case "mail": {
        // From a rig's outbox: store town mail here, or relay to the recipient's rig.
        const { mail } = mailEnvelope.parse(body);
        const route = routeFromTown(mail.to);
        if (route.kind === "local") {
          await this.post.receive(mail);
          return jsonResponse({ ok: true, value: { id: mail.id, state: "delivered" } });
        }
        const attempt = await this.deliverToRig(mail);
        switch (attempt.kind) {
          case "delivered":
            return jsonResponse({ ok: true, value: { id: mail.id, state: "delivered" } });
          case "rejected":
            return errorResponse("UNKNOWN_RECIPIENT", attempt.error.replace(/^UNKNOWN_RECIPIENT: /, ""));
          case "retry":
            return errorResponse("INTERNAL", `relay failed: ${attempt.error}`);
        }
      }
      case "wake":
        return jsonResponse({ ok: true, value: "awake" });
      case "rig_ids":
        // For the gate of rig rooms (party/rig-directory.ts): which rig rooms exist.
        return jsonResponse({ ok: true, value: this.records.values<Rig>(TOWN_DOC.rigs).map((rig) => rig.id) } satisfies z.infer<typeof rigIdsReply>);
      case "convoy_bead": {
        const notice = convoyBeadNotice.parse(body);
        const convoy = this.records.get<Convoy>(TOWN_DOC.convoys, notice.convoy_id);
        if (!convoy) return errorResponse("UNKNOWN_CONVOY", `no convoy ${notice.convoy_id}`);
        const next = applyNotice(convoy, { beadId: notice.bead_id, status: notice.status, assignee: notice.assignee, rev: notice.rev, failure: notice.failure }, Date.now());
        if (next) await this.updateConvoy(next);
        return jsonResponse({ ok: true, value: next ? "applied" : "stale" });
      }
      case "feed": {
        // A rig's failure for the town's feed, through its outbox: stored once per event id.
        const { rig_id, event } = feedNotice.parse(body);
        const rig = this.records.get<Rig>(TOWN_DOC.rigs, rig_id);
        if (!rig) return errorResponse("UNKNOWN_RIG", `no rig ${rig_id}`);
        if (this.records.events.toArray().some((e) => e.id === event.id)) return jsonResponse({ ok: true, value: "known" });
        await this.records.write([], [forTown(event, rig.name)]);
        return jsonResponse({ ok: true, value: "stored" });
      }
      case "bead_moved": {
        // From a rig's outbox (W16): its bead closed as moved; create its successor, once.
        const notice = beadMoved.parse(body);
        return jsonResponse({ ok: true, value: await this.applyMove(notice) });
      }
      case "summary": {
        const { rig_id, summary } = summaryPush.parse(body);
        const rig = this.records.get<Rig>(TOWN_DOC.rigs, rig_id);
        if (!rig) return errorResponse("UNKNOWN_RIG", `no rig ${rig_id}`);
        if (rig.summary.updatedAt > summary.updatedAt) return jsonResponse({ ok: true, value: "stale" }); // out of order
        // The rig room owns readiness (the container reports clones to it); the registry mirrors it.
        await this.records.write([{ collection: TOWN_DOC.rigs, key: rig_id, value: { ...rig, status: summary.status ?? rig.status, summary } }]);
        return jsonResponse({ ok: true, value: "stored" });
      }
      default:
        return errorResponse("BAD_FRAME", `no internal operation ${op}`);
    }
  }
}
