/**
 * The rig room (party `rig`, room id `<townId>.<rigId>`): one rig's beads, agents and mail, as a
 * live document, and the tools its agents call. Mail to other rigs leaves through the durable
 * outbox via the town, which resolves rig names.
 */
import type * as Party from "partykit/server";
import { z } from "zod";
import { DurableOutbox } from "./durable-outbox.ts";
import { newId } from "./ids.ts";
import { LiveRoom, errorResponse, jsonResponse, tool, type Admission, type Caller, type ToolSpec } from "./live-room.ts";
import { acceptIncoming, markDelivered, markFailed, markRead, newMail, routeFromRig, unread } from "./mail.ts";
import { classifyReply, type Attempt, type OutboxEntry } from "./outbox.ts";
import {
  CLOSE,
  RIG_DOC,
  ToolError,
  parseAddress,
  polecatIdentity,
  rigToolArgs,
  type Agent,
  type Bead,
  type Mail,
  type MailSendResult,
  type PrimeResult,
  type RigSummary,
  type TokenPayload,
} from "./protocol.ts";
import { computeSummary } from "./summary.ts";
import { rigInit, mailEnvelope, testFault } from "./internal.ts";

type RigMeta = { town: string; rigId: string; name: string; createdAt: number };

const SUMMARY_DEBOUNCE_MS = 250;

export default class RigRoom extends LiveRoom {
  private outbox!: DurableOutbox;
  /** Last heartbeat per identity: in memory only, never in document history (DESIGN §4). */
  private readonly heartbeats = new Map<string, number>();
  private lastActivity: number | null = null;
  private summaryTimer: ReturnType<typeof setTimeout> | null = null;
  private summaryFailures = 0;
  /** Test hook (GT_TEST_HOOKS=1): the next N hops fail as if the town were unreachable. */
  private failHops = 0;

  constructor(room: Party.Room) {
    super(room);
  }

  protected readonly party = "rig";

  get townId(): string {
    return this.roomId.split(".")[0] ?? "";
  }

  private get meta(): RigMeta | undefined {
    return this.records.get<RigMeta>(RIG_DOC.meta, "rig");
  }

  private requireMeta(): RigMeta {
    const meta = this.meta;
    if (!meta) throw new ToolError("UNKNOWN_RIG", `rig room ${this.roomId} does not exist (never added, or removed)`);
    return meta;
  }

  protected collections() {
    return [RIG_DOC.meta, RIG_DOC.beads, RIG_DOC.agents, RIG_DOC.mail] as const;
  }

  protected override async started(): Promise<void> {
    this.outbox = new DurableOutbox(this.room.storage, (entry) => this.attemptHop(entry), (entry, outcome) => this.settleMail(entry, outcome));
    await this.outbox.load();
    this.lastActivity = this.records.events.length ? this.records.events.get(this.records.events.length - 1).at : null;
    // After a restart the town may hold an older summary: push a fresh one. Waking the town also
    // wakes the town's other rigs, whose outboxes may hold mail (see TownRoom.wakeRigs).
    if (this.meta) this.scheduleSummary();
    if (this.meta) void this.callRoom("main", this.meta.town, "wake", {}).catch(() => {});
  }

  async onAlarm(): Promise<void> {
    await this.outbox.flush();
  }

  protected admit(token: TokenPayload): Admission {
    const meta = this.meta;
    if (!meta) return { ok: false, code: "UNKNOWN_RIG", message: `rig room ${this.roomId} does not exist` };
    if (token.town !== meta.town) return { ok: false, code: "FORBIDDEN", message: `token is for town ${token.town}` };
    if (token.rig !== undefined && token.rig !== meta.rigId) return { ok: false, code: "FORBIDDEN", message: "token is for another rig" };
    if (token.role !== "agent") return { ok: true, identity: null };
    const address = token.agent ? parseAddress(token.agent) : null;
    if (token.rig !== meta.rigId || !address || address.kind !== "rig" || address.rig !== meta.name) {
      return { ok: false, code: "FORBIDDEN", message: `agent tokens act only in their own rig (${meta.name})` };
    }
    return { ok: true, identity: address.identity };
  }

  // ------------------------------------------------------------------ tools

  protected tools(): Record<string, ToolSpec<any>> {
    const everyone = ["operator", "agent", "container"] as const;
    const staff = ["operator", "container"] as const;
    return {
      gt_prime: tool(rigToolArgs.gt_prime, everyone, async (args, caller): Promise<PrimeResult> => {
        const agent = this.requireAgent(this.actingIdentity(caller, args.as));
        const hook = agent.hook ? (this.records.get<Bead>(RIG_DOC.beads, agent.hook) ?? null) : null;
        return { agent, hook, mail: unread(this.records.values<Mail>(RIG_DOC.mail), agent.identity) };
      }),
      gt_mail_send: tool(rigToolArgs.gt_mail_send, everyone, (args, caller) => this.sendMail(args, caller)),
      gt_mail_check: tool(rigToolArgs.gt_mail_check, everyone, async (args, caller) => {
        const identity = this.requireAgent(this.actingIdentity(caller, args.as)).identity;
        const inbox = unread(this.records.values<Mail>(RIG_DOC.mail), identity);
        const now = Date.now();
        const read = inbox.map((m) => markRead(m, now));
        if (read.length) await this.write(read.map((m) => ({ collection: RIG_DOC.mail, key: m.id, value: m })));
        return read;
      }),
      gt_bead_create: tool(rigToolArgs.gt_bead_create, ["operator"], async (args) => {
        const id = args.id ?? newId();
        const existing = this.records.get<Bead>(RIG_DOC.beads, id);
        if (existing) return existing; // a retried create
        const now = Date.now();
        const bead: Bead = {
          id,
          title: args.title,
          body: args.body ?? "",
          status: "open",
          priority: args.priority ?? "medium",
          requires: args.requires ?? [],
          createdAt: now,
          updatedAt: now,
        };
        await this.write([{ collection: RIG_DOC.beads, key: id, value: bead }], [this.feedEvent("bead", `bead ${id.slice(-8)} created: ${bead.title}`)]);
        return bead;
      }),
      gt_bead_status: tool(rigToolArgs.gt_bead_status, everyone, async (args) => this.requireBead(args.bead_id)),
      gt_bead_update: tool(rigToolArgs.gt_bead_update, ["operator"], async (args) => {
        const bead = this.requireBead(args.bead_id);
        const now = Date.now();
        const { bead_id: _id, assignee, ...fields } = args;
        const next: Bead = { ...bead, ...definedOnly(fields), updatedAt: now };
        if (assignee === null) delete next.assignee;
        else if (assignee !== undefined) next.assignee = assignee;
        if (next.status === "closed" && bead.status !== "closed") next.closedAt = now;
        if (next.status !== "closed") delete next.closedAt;
        const events = next.status !== bead.status ? [this.feedEvent("bead", `bead ${bead.id.slice(-8)} ${bead.status} → ${next.status}`)] : [];
        await this.write([{ collection: RIG_DOC.beads, key: bead.id, value: next }], events);
        return next;
      }),
      gt_list_beads: tool(rigToolArgs.gt_list_beads, staff, async (args) =>
        this.records.values<Bead>(RIG_DOC.beads).filter((b) => !args.status || b.status === args.status),
      ),
      gt_list_agents: tool(rigToolArgs.gt_list_agents, staff, async () => this.records.values<Agent>(RIG_DOC.agents)),
      gt_agent_register: tool(rigToolArgs.gt_agent_register, staff, async (args) => {
        const identity = polecatIdentity(this.requireMeta().name, args.name);
        const existing = this.records.get<Agent>(RIG_DOC.agents, identity);
        if (existing) return existing;
        const agent: Agent = { identity, role: "polecat", name: args.name, status: "idle" };
        await this.write([{ collection: RIG_DOC.agents, key: identity, value: agent }], [this.feedEvent("agent", `${identity} registered`)]);
        return agent;
      }),
      gt_heartbeat: tool(rigToolArgs.gt_heartbeat, everyone, async (args, caller) => {
        const identity = this.requireAgent(this.actingIdentity(caller, args.as)).identity;
        this.heartbeats.set(identity, Date.now());
        return { at: this.heartbeats.get(identity) };
      }),
      ...(this.room.env.GT_TEST_HOOKS === "1"
        ? {
            gt_test_fault: tool(testFault, ["operator"], async (args) => {
              this.failHops = args.fail_hops;
              return { fail_hops: this.failHops, outbox: this.outbox.size };
            }),
            gt_test_storage: tool(z.strictObject({}), ["operator"], async () => ({ keys: (await this.room.storage.list()).size })),
          }
        : {}),
    };
  }

  /** Who a call acts as: an agent only as itself; operators and the container as any local agent. */
  private actingIdentity(caller: Caller, as: string | undefined): string {
    const { token } = caller;
    if (token.role === "agent") {
      if (as !== undefined && as !== token.agent) throw new ToolError("FORBIDDEN", `an agent acts only as itself (${token.agent})`);
      return token.agent!;
    }
    if (as === undefined) throw new ToolError("INVALID_ARGS", "as: required for operator and container calls (the identity to act as)");
    return as;
  }

  private requireAgent(identity: string): Agent {
    const agent = this.records.get<Agent>(RIG_DOC.agents, identity);
    if (!agent) throw new ToolError("UNKNOWN_AGENT", `no agent ${identity} in rig ${this.requireMeta().name}`);
    return agent;
  }

  private requireBead(id: string): Bead {
    const bead = this.records.get<Bead>(RIG_DOC.beads, id);
    if (!bead) throw new ToolError("UNKNOWN_BEAD", `no bead ${id} in rig ${this.requireMeta().name}`);
    return bead;
  }

  // ------------------------------------------------------------------ mail

  private async sendMail(args: z.infer<typeof rigToolArgs.gt_mail_send>, caller: Caller): Promise<MailSendResult> {
    const meta = this.requireMeta();
    const from =
      caller.token.role === "operator" && args.as === undefined ? "operator" : this.requireAgent(this.actingIdentity(caller, args.as)).identity;
    const id = args.id ?? newId();
    const existing = this.records.get<Mail>(RIG_DOC.mail, id);
    if (existing) return { id, state: existing.state === "queued" ? "queued" : "delivered" }; // a retried send
    const route = routeFromRig(args.to, meta.name, this.agentMap());
    const now = Date.now();
    const mail = newMail({ id, from, to: args.to, subject: args.subject, body: args.body }, now);

    if (route.kind === "local") {
      const { record } = acceptIncoming(undefined, mail, now);
      await this.write([{ collection: RIG_DOC.mail, key: id, value: record }], [this.feedEvent("mail", `${from} → ${args.to}: ${args.subject}`)]);
      this.pushEvent(record.to, { type: "event", event: "mail", mail: record });
      return { id, state: "delivered" };
    }

    // Another rig, or the town: try the hop now, so the sender learns at once whether the
    // recipient exists; if the hop fails, the durable outbox takes over.
    const attempt = await this.hopMail(mail).catch((error): Attempt => ({ kind: "retry", error: String(error) }));
    if (attempt.kind === "rejected") throw new ToolError("UNKNOWN_RECIPIENT", attempt.error.replace(/^UNKNOWN_RECIPIENT: /, ""));
    const event = this.feedEvent("mail", `${from} → ${args.to}: ${args.subject}${attempt.kind === "retry" ? " (queued)" : ""}`);
    if (attempt.kind === "delivered") {
      await this.write([{ collection: RIG_DOC.mail, key: id, value: markDelivered(mail, Date.now()) }], [event]);
      return { id, state: "delivered" };
    }
    const entry: OutboxEntry = { key: id, kind: "mail", payload: null, attempts: 1, createdAt: now, nextAttemptAt: 0, lastError: attempt.error };
    const scheduled = { ...entry, nextAttemptAt: now + 250 };
    await this.write([{ collection: RIG_DOC.mail, key: id, value: mail }], [event], { put: { [DurableOutbox.storageKey(id)]: scheduled } });
    await this.outbox.added(scheduled);
    return { id, state: "queued" };
  }

  private agentMap(): Map<string, Agent> {
    return new Map(this.records.map<Agent>(RIG_DOC.agents).entries());
  }

  /** One hop to the town, which stores town mail or relays to the recipient's rig. */
  private async hopMail(mail: Mail): Promise<Attempt> {
    if (this.failHops > 0) {
      this.failHops -= 1;
      return { kind: "retry", error: "test fault: hop dropped" };
    }
    const reply = await this.callRoom("main", this.townId, "mail", { mail } satisfies z.infer<typeof mailEnvelope>);
    return classifyReply(reply.status, reply.body);
  }

  private async attemptHop(entry: OutboxEntry): Promise<Attempt> {
    const mail = this.records.get<Mail>(RIG_DOC.mail, entry.key);
    if (!mail) return { kind: "rejected", error: "mail record missing" };
    return this.hopMail(mail);
  }

  private async settleMail(entry: OutboxEntry, outcome: Exclude<Attempt, { kind: "retry" }>): Promise<void> {
    const mail = this.records.get<Mail>(RIG_DOC.mail, entry.key);
    if (!mail) return;
    const next = outcome.kind === "delivered" ? markDelivered(mail, Date.now()) : markFailed(mail, outcome.error);
    const event = this.feedEvent("mail", outcome.kind === "delivered" ? `queued mail ${mail.id.slice(-8)} delivered to ${mail.to}` : `mail to ${mail.to} failed: ${outcome.error}`);
    await this.write([{ collection: RIG_DOC.mail, key: mail.id, value: next }], [event]);
    // A bounce reaches the sender like any mail event, so an agent learns its mail was not delivered.
    if (next.state === "failed") this.pushEvent(mail.from, { type: "event", event: "mail", mail: next });
  }

  // ------------------------------------------------------------------ room-to-room

  protected async internal(op: string, body: unknown): Promise<Response> {
    switch (op) {
      case "init": {
        const args = rigInit.parse(body);
        if (this.meta) return jsonResponse({ ok: true, value: this.meta }); // a retried init
        const meta: RigMeta = { town: args.town, rigId: args.rig_id, name: args.name, createdAt: args.created_at };
        if (`${meta.town}.${meta.rigId}` !== this.roomId) return errorResponse("INVALID_ARGS", "room id does not match town and rig");
        const agents: Agent[] = (["witness", "refinery"] as const).map((role) => ({ identity: `${meta.name}/${role}`, role, name: role, status: "idle" }));
        await this.write(
          [{ collection: RIG_DOC.meta, key: "rig", value: meta }, ...agents.map((a) => ({ collection: RIG_DOC.agents, key: a.identity, value: a }))],
          [this.feedEvent("rig", `rig ${meta.name} created`)],
        );
        return jsonResponse({ ok: true, value: meta });
      }
      case "mail": {
        const { mail } = mailEnvelope.parse(body);
        const meta = this.meta;
        const address = parseAddress(mail.to);
        if (!meta || address?.kind !== "rig" || address.rig !== meta.name || !this.records.get<Agent>(RIG_DOC.agents, address.identity)) {
          return errorResponse("UNKNOWN_RECIPIENT", `unknown recipient ${mail.to}`);
        }
        const { record, isNew } = acceptIncoming(this.records.get<Mail>(RIG_DOC.mail, mail.id), mail, Date.now());
        if (isNew) {
          await this.write([{ collection: RIG_DOC.mail, key: mail.id, value: record }], [this.feedEvent("mail", `${mail.from} → ${mail.to}: ${mail.subject}`)]);
          this.pushEvent(record.to, { type: "event", event: "mail", mail: record });
        }
        return jsonResponse({ ok: true, value: { id: mail.id, state: "delivered" } });
      }
      case "wake":
        return jsonResponse({ ok: true, value: "awake" });
      case "wipe": {
        if (this.summaryTimer) clearTimeout(this.summaryTimer);
        await this.records.wipe();
        this.closeAll(CLOSE.GONE, "rig removed");
        return jsonResponse({ ok: true, value: null });
      }
      default:
        return errorResponse("BAD_FRAME", `no internal operation ${op}`);
    }
  }

  // ------------------------------------------------------------------ writes and the summary

  private async write(...args: Parameters<typeof this.records.write>): Promise<void> {
    await this.records.write(...args);
    this.lastActivity = Date.now();
    this.scheduleSummary();
  }

  /** Debounced push of the rig summary to the town, retried with backoff while the town fails. */
  private scheduleSummary(delay = SUMMARY_DEBOUNCE_MS): void {
    if (this.summaryTimer) return;
    this.summaryTimer = setTimeout(() => {
      this.summaryTimer = null;
      void this.pushSummary();
    }, delay);
  }

  private async pushSummary(): Promise<void> {
    const meta = this.meta;
    if (!meta) return;
    const summary: RigSummary = computeSummary(
      {
        rigName: meta.name,
        beads: this.records.values<Bead>(RIG_DOC.beads),
        agents: this.records.values<Agent>(RIG_DOC.agents),
        mail: this.records.values<Mail>(RIG_DOC.mail),
        lastActivity: this.lastActivity,
        diskBytes: null,
      },
      Date.now(),
    );
    try {
      const reply = await this.callRoom("main", meta.town, "summary", { rig_id: meta.rigId, summary });
      if (reply.status >= 500) throw new Error(`town answered ${reply.status}`);
      this.summaryFailures = 0;
    } catch (error) {
      this.summaryFailures += 1;
      console.warn(`[rig/${this.roomId}] summary push failed (${this.summaryFailures})`, error);
      this.scheduleSummary(Math.min(30_000, SUMMARY_DEBOUNCE_MS * 2 ** this.summaryFailures));
    }
  }
}

function definedOnly<T extends object>(fields: T): Partial<T> {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as Partial<T>;
}
