/**
 * The town room (the main party, room id = town id): the rig registry, the rigs' summaries, mail
 * for `mayor` and `operator`, and the relay that resolves rig names for cross-rig mail.
 */
import type * as Party from "partykit/server";
import { z } from "zod";
import { DurableOutbox } from "./durable-outbox.ts";
import { newId } from "./ids.ts";
import { mailEnvelope, rigInit, summaryPush } from "./internal.ts";
import { LiveRoom, errorResponse, jsonResponse, tool, type Admission, type ToolSpec } from "./live-room.ts";
import { acceptIncoming, markDelivered, markFailed, markRead, newMail, routeFromTown, unknownRecipient, unread } from "./mail.ts";
import { classifyReply, type Attempt, type OutboxEntry } from "./outbox.ts";
import { TOWN_DOC, ToolError, parseAddress, townToolArgs, type Mail, type MailSendResult, type Rig, type TokenPayload } from "./protocol.ts";
import { emptySummary } from "./summary.ts";

type WipePayload = { rig_id: string; name: string };

export default class TownRoom extends LiveRoom {
  private outbox!: DurableOutbox;

  constructor(room: Party.Room) {
    super(room);
  }

  protected readonly party = "main";

  get townId(): string {
    return this.roomId;
  }

  protected collections() {
    return [TOWN_DOC.rigs, TOWN_DOC.convoys, TOWN_DOC.mail] as const;
  }

  protected override async started(): Promise<void> {
    this.outbox = new DurableOutbox(this.room.storage, (entry) => this.attempt(entry), (entry, outcome) => this.settle(entry, outcome));
    await this.outbox.load();
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
  }

  protected admit(token: TokenPayload): Admission {
    if (token.town !== this.roomId) return { ok: false, code: "FORBIDDEN", message: `token is for town ${token.town}` };
    switch (token.role) {
      case "operator":
        return { ok: true, identity: "operator" };
      case "viewer":
      case "container":
        return { ok: true, identity: null };
      case "agent":
        // Rig agents work in their rig room; only the Mayor acts in the town.
        return token.agent === "mayor" ? { ok: true, identity: "mayor" } : { ok: false, code: "FORBIDDEN", message: "agent tokens act in their rig room" };
    }
  }

  private rigs(): Rig[] {
    return this.records.values<Rig>(TOWN_DOC.rigs).sort((a, b) => a.name.localeCompare(b.name));
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
    const townStaff = ["operator", "agent", "container"] as const; // agent = the Mayor (see admit)
    const mailers = ["operator", "agent"] as const; // the town's inboxes are the operator's and the Mayor's
    return {
      gt_rig_add: tool(townToolArgs.gt_rig_add, operator, async (args) => {
        if (this.rigByName(args.name)) throw new ToolError("CONFLICT", `a rig named ${args.name} already exists`);
        const now = Date.now();
        const rig: Rig = {
          id: newId(),
          name: args.name,
          gitUrl: args.git_url,
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
        await this.records.write([{ collection: TOWN_DOC.rigs, key: rig.id, value: rig }], [this.feedEvent("rig", `rig ${rig.name} added`)]);
        return rig;
      }),
      gt_rig_remove: tool(townToolArgs.gt_rig_remove, operator, async (args) => {
        const rig = this.requireRig(args.name);
        const payload: WipePayload = { rig_id: rig.id, name: rig.name };
        const entry: OutboxEntry = { key: `wipe-${rig.id}`, kind: "wipe", payload, attempts: 0, createdAt: Date.now(), nextAttemptAt: Date.now() };
        // Registry entry gone and the wipe queued in one write: from here on mail to the rig is refused.
        await this.records.write([{ collection: TOWN_DOC.rigs, key: rig.id, value: null }], [this.feedEvent("rig", `rig ${rig.name} removed`)], {
          put: { [DurableOutbox.storageKey(entry.key)]: entry },
        });
        await this.outbox.added(entry);
        await this.outbox.flush();
        return { removed: rig.name, id: rig.id };
      }),
      gt_list_rigs: tool(townToolArgs.gt_list_rigs, townStaff, async () => this.rigs()),
      gt_rig_status: tool(townToolArgs.gt_rig_status, townStaff, async (args) => this.requireRig(args.name)),
      gt_mail_send: tool(townToolArgs.gt_mail_send, mailers, async (args, caller) => {
        const from = caller.token.role === "agent" ? "mayor" : (args.from ?? "operator");
        if (caller.token.role === "agent" && args.from && args.from !== "mayor") throw new ToolError("FORBIDDEN", "the Mayor sends as mayor");
        return this.sendMail({ ...args, from });
      }),
      gt_mail_check: tool(townToolArgs.gt_mail_check, mailers, async (args, caller) => {
        const identity = caller.token.role === "agent" ? "mayor" : (args.as ?? "operator");
        const now = Date.now();
        const read = unread(this.records.values<Mail>(TOWN_DOC.mail), identity).map((m) => markRead(m, now));
        if (read.length) await this.records.write(read.map((m) => ({ collection: TOWN_DOC.mail, key: m.id, value: m })));
        return read;
      }),
    };
  }

  // ------------------------------------------------------------------ mail

  private async sendMail(args: { to: string; subject: string; body: string; from: string; id?: string | undefined }): Promise<MailSendResult> {
    const id = args.id ?? newId();
    const existing = this.records.get<Mail>(TOWN_DOC.mail, id);
    if (existing) return { id, state: existing.state === "queued" ? "queued" : "delivered" };
    const now = Date.now();
    const mail = newMail({ id, from: args.from, to: args.to, subject: args.subject, body: args.body }, now);
    const route = routeFromTown(args.to);
    const event = this.feedEvent("mail", `${args.from} → ${args.to}: ${args.subject}`);
    if (route.kind === "local") {
      const { record } = acceptIncoming(undefined, mail, now);
      await this.records.write([{ collection: TOWN_DOC.mail, key: id, value: record }], [event]);
      this.pushEvent(record.to, { type: "event", event: "mail", mail: record });
      return { id, state: "delivered" };
    }
    if (!this.rigByName(route.kind === "rig" ? route.rigName : "")) throw unknownRecipient(args.to, "no such rig");
    const attempt = await this.deliverToRig(mail).catch((error): Attempt => ({ kind: "retry", error: String(error) }));
    if (attempt.kind === "rejected") throw new ToolError("UNKNOWN_RECIPIENT", attempt.error.replace(/^UNKNOWN_RECIPIENT: /, ""));
    if (attempt.kind === "delivered") {
      await this.records.write([{ collection: TOWN_DOC.mail, key: id, value: markDelivered(mail, Date.now()) }], [event]);
      return { id, state: "delivered" };
    }
    const entry: OutboxEntry = { key: id, kind: "mail", payload: null, attempts: 1, createdAt: now, nextAttemptAt: now + 250, lastError: attempt.error };
    await this.records.write([{ collection: TOWN_DOC.mail, key: id, value: mail }], [event], { put: { [DurableOutbox.storageKey(id)]: entry } });
    await this.outbox.added(entry);
    return { id, state: "queued" };
  }

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
      case "mail": {
        const mail = this.records.get<Mail>(TOWN_DOC.mail, entry.key);
        return mail ? this.deliverToRig(mail) : { kind: "rejected", error: "mail record missing" };
      }
      case "wipe": {
        const payload = entry.payload as WipePayload;
        const reply = await this.callRoom("rig", this.rigRoomId(payload.rig_id), "wipe", {});
        return classifyReply(reply.status, reply.body);
      }
    }
  }

  private async settle(entry: OutboxEntry, outcome: Exclude<Attempt, { kind: "retry" }>): Promise<void> {
    if (entry.kind !== "mail") return;
    const mail = this.records.get<Mail>(TOWN_DOC.mail, entry.key);
    if (!mail) return;
    const next = outcome.kind === "delivered" ? markDelivered(mail, Date.now()) : markFailed(mail, outcome.error);
    await this.records.write([{ collection: TOWN_DOC.mail, key: mail.id, value: next }]);
    if (next.state === "failed") this.pushEvent(mail.from, { type: "event", event: "mail", mail: next });
  }

  // ------------------------------------------------------------------ room-to-room

  protected async internal(op: string, body: unknown): Promise<Response> {
    switch (op) {
      case "mail": {
        // From a rig's outbox: store town mail here, or relay to the recipient's rig.
        const { mail } = mailEnvelope.parse(body);
        const route = routeFromTown(mail.to);
        if (route.kind === "local") {
          const { record, isNew } = acceptIncoming(this.records.get<Mail>(TOWN_DOC.mail, mail.id), mail, Date.now());
          if (isNew) {
            await this.records.write([{ collection: TOWN_DOC.mail, key: mail.id, value: record }], [this.feedEvent("mail", `${mail.from} → ${mail.to}: ${mail.subject}`)]);
            this.pushEvent(record.to, { type: "event", event: "mail", mail: record });
          }
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
