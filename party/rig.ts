/**
 * The rig room (party `rig`, room id `<townId>.<rigId>`): one rig's beads, agents and mail, as a
 * live document, and the tools its agents call. Mail to other rigs leaves through the durable
 * outbox via the town, which resolves rig names.
 */
import type * as Party from "partykit/server";
import type * as Y from "yjs";
import { z } from "zod";
import { signToken } from "./auth.ts";
import { CommandQueue, type PendingCommand } from "./command-queue.ts";
import { branchName, planDispatch, withStatus } from "./dispatch.ts";
import { DurableOutbox } from "./durable-outbox.ts";
import { newId } from "./ids.ts";
import { LiveRoom, errorResponse, jsonResponse, tool, type Admission, type Caller, type ToolSpec } from "./live-room.ts";
import { routeFromRig, unread } from "./mail.ts";
import { PostOffice } from "./post-office.ts";
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
  type BeadStatus,
  type CommandFrame,
  type DoneResult,
  type Escalation,
  type FeedEvent,
  type Mail,
  type RigStatus,
  type MailSendResult,
  type PrimeResult,
  type RigSummary,
  type TokenPayload,
} from "./protocol.ts";
import type { Change } from "./records.ts";
import { computeSummary } from "./summary.ts";
import { judge } from "./witness.ts";
import { beadCreate, beadStates, mailEnvelope, rigInit, rigUpdate, testFault, type BeadState } from "./internal.ts";

type RigMeta = {
  town: string;
  rigId: string;
  name: string;
  createdAt: number;
  gitUrl: string;
  defaultBranch: string;
  maxPolecats: number;
  /** `cloning` until the container reports the clone (gt_rig_ready). */
  status: RigStatus;
  diskBytes?: number;
  error?: string;
  /** Closed beads moved out of the document by retention (still counted as closed). */
  archivedClosed?: number;
};

/** Everything one step changes, persisted in one write and then announced. */
type Batch = {
  changes: Change[];
  events: FeedEvent[];
  commands: Parameters<CommandQueue["prepare"]>[0];
  settled: PendingCommand[];
};

const SUMMARY_DEBOUNCE_MS = 250;
const AGENT_TOKEN_TTL_S = 24 * 3600;
/** Closed beads kept in the live document (GT_RETAIN_CLOSED); older ones move to storage. */
const RETAIN_CLOSED = 1_000;
/** Runs of one bead that may end before gt_done before the bead is failed. */
const MAX_RUNS = 3;

export default class RigRoom extends LiveRoom {
  private outbox!: DurableOutbox;
  /** Last heartbeat per identity: in memory only, never in document history (DESIGN §4). */
  private readonly heartbeats = new Map<string, number>();
  private lastActivity: number | null = null;
  private summaryTimer: ReturnType<typeof setTimeout> | null = null;
  private retireTimer: ReturnType<typeof setTimeout> | null = null;
  private summaryFailures = 0;
  /** Test hook (GT_TEST_HOOKS=1): the next N hops fail as if the town were unreachable. */
  private failHops = 0;
  /** Test hook: the next N convoy notifications are dropped (reported delivered, never sent). */
  private dropNotices = 0;
  private commands!: CommandQueue;
  /** The one container socket that serves this rig (DESIGN §9), or null. */
  private lease: string | null = null;
  private nextWitnessAt: number | null = null;
  /** Set once the room is wiped: a tool call still in flight must not write into the empty room. */
  private removed = false;
  /** When the witness started watching: a restarted room gives every agent a full timeout. */
  private readonly watchingSince = Date.now();

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
    return [RIG_DOC.meta, RIG_DOC.beads, RIG_DOC.agents, RIG_DOC.mail, RIG_DOC.escalations] as const;
  }

  protected override async started(): Promise<void> {
    this.commands = new CommandQueue(this.room.storage);
    await this.commands.load();
    this.outbox = new DurableOutbox(
      this.room.storage,
      (entry) => this.attemptHop(entry),
      (entry, outcome) => (entry.kind === "mail" ? this.post.settle(entry, outcome) : Promise.resolve()),
      () => this.witnessWake(),
    );
    await this.outbox.load();
    this.lastActivity = this.records.events.length ? this.records.events.get(this.records.events.length - 1).at : null;
    // After a restart the town may hold an older summary: push a fresh one. Waking the town also
    // wakes the town's other rigs, whose outboxes may hold mail (see TownRoom.wakeRigs).
    if (this.meta) this.scheduleSummary();
    if (this.meta) void this.callRoom("main", this.meta.town, "wake", {}).catch(() => {});
  }

  async onAlarm(): Promise<void> {
    await this.outbox.flush();
    await this.witness();
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
        const checkpoint = (await this.room.storage.get<string>(checkpointKey(agent))) ?? null;
        return { agent, hook, mail: unread(this.records.values<Mail>(RIG_DOC.mail), agent.identity), checkpoint };
      }),
      gt_mail_send: tool(rigToolArgs.gt_mail_send, everyone, (args, caller) => this.sendMail(args, caller)),
      gt_mail_check: tool(rigToolArgs.gt_mail_check, everyone, async (args, caller) =>
        this.post.check(this.requireAgent(this.actingIdentity(caller, args.as)).identity),
      ),
      gt_bead_create: tool(rigToolArgs.gt_bead_create, ["operator"], (args) =>
        this.createBead({ id: args.id ?? newId(), title: args.title, body: args.body ?? "", priority: args.priority ?? "medium", requires: args.requires ?? [] }),
      ),
      gt_bead_status: tool(rigToolArgs.gt_bead_status, everyone, async (args) => this.records.get<Bead>(RIG_DOC.beads, args.bead_id) ?? (await this.archived(args.bead_id)) ?? this.requireBead(args.bead_id)),
      gt_bead_update: tool(rigToolArgs.gt_bead_update, ["operator"], async (args) => {
        const bead = this.requireBead(args.bead_id);
        const now = Date.now();
        const { bead_id: _id, assignee, status, ...fields } = args;
        if ((status === "in_progress" || status === "in_review") && status !== bead.status) {
          throw new ToolError("INVALID_ARGS", "status: in_progress and in_review are set by dispatch and gt_done; use open, closed or failed");
        }
        let next: Bead = { ...bead, ...definedOnly(fields), updatedAt: now };
        if (status && status !== bead.status) next = withStatus(next, status, now, "set by operator");
        if (assignee === null) delete next.assignee;
        else if (assignee !== undefined) next.assignee = assignee;
        const batch: Batch = { changes: [this.beadChange(next)], events: [], commands: [], settled: [] };
        if (next.status !== bead.status) batch.events.push(this.feedEvent("bead", `bead ${bead.id.slice(-8)} ${bead.status} → ${next.status} (operator)`));
        // Taken from a working polecat: unhook it and stop its run, so the bead has one owner.
        const owner = this.records.values<Agent>(RIG_DOC.agents).find((a) => a.hook === bead.id);
        if (owner && next.status !== "in_progress") {
          const idle: Agent = { ...owner, status: owner.status === "dead" ? "dead" : "idle" };
          delete idle.hook;
          delete idle.branch;
          batch.changes.push(this.agentChange(idle));
          batch.commands.push({ kind: "stop_agent", identity: owner.identity, beadId: bead.id, reason: `bead ${bead.id} set ${next.status} by the operator` });
          if (next.status === "open") {
            delete next.assignee;
            delete next.branch;
          }
        }
        await this.commit(batch);
        await this.dispatch();
        return this.records.get<Bead>(RIG_DOC.beads, bead.id);
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
        const agent = this.requireAgent(this.actingIdentity(caller, args.as));
        const now = Date.now();
        this.heartbeats.set(agent.identity, now);
        if (agent.status === "stalled") await this.commit({ changes: [this.agentChange({ ...agent, status: "working" })] });
        return { at: now };
      }),
      gt_checkpoint: tool(rigToolArgs.gt_checkpoint, everyone, async (args, caller) => {
        const agent = this.requireAgent(this.actingIdentity(caller, args.as));
        await this.room.storage.put({ [checkpointKey(agent)]: args.data });
        return { saved: args.data.length };
      }),
      gt_escalate: tool(rigToolArgs.gt_escalate, everyone, async (args, caller) => {
        const from = this.requireAgent(this.actingIdentity(caller, args.as)).identity;
        if (args.bead_id) this.requireBead(args.bead_id);
        const existing = args.id ? this.records.get<Escalation>(RIG_DOC.escalations, args.id) : undefined;
        if (existing) return existing; // a retried escalation
        const escalation = { ...this.escalation({ from, title: args.title, body: args.body ?? "", severity: args.severity, beadId: args.bead_id }), ...(args.id ? { id: args.id } : {}) };
        await this.commit({ changes: [{ collection: RIG_DOC.escalations, key: escalation.id, value: escalation }], events: [this.feedEvent("escalation", `${from}: ${args.title}`)] });
        return escalation;
      }),
      gt_escalation_resolve: tool(rigToolArgs.gt_escalation_resolve, ["operator"], async (args) => {
        const escalation = this.records.get<Escalation>(RIG_DOC.escalations, args.id);
        if (!escalation) throw new ToolError("INVALID_ARGS", `no escalation ${args.id}`);
        const resolved: Escalation = { ...escalation, status: "resolved" };
        await this.commit({ changes: [{ collection: RIG_DOC.escalations, key: args.id, value: resolved }] });
        return resolved;
      }),
      gt_done: tool(rigToolArgs.gt_done, everyone, (args, caller) => this.done(this.actingIdentity(caller, args.as), args.branch, args.summary)),
      gt_rig_ready: tool(rigToolArgs.gt_rig_ready, ["container"], async (args) => {
        const meta = this.requireMeta();
        const status: RigStatus = args.error ? "error" : "ready";
        const next: RigMeta = { ...meta, status, ...(args.disk_bytes !== undefined ? { diskBytes: args.disk_bytes } : {}) };
        if (args.error) next.error = args.error;
        else delete next.error;
        const events = status !== meta.status ? [this.feedEvent("rig", args.error ? `clone failed: ${args.error}` : `rig ${meta.name} ready`)] : [];
        await this.commit({ changes: [{ collection: RIG_DOC.meta, key: "rig", value: next }], events });
        await this.dispatch();
        return { status, diskBytes: next.diskBytes ?? null };
      }),
      gt_agent_started: tool(rigToolArgs.gt_agent_started, ["container"], (args) => this.agentStarted(args.as, args.bead_id, args.pid)),
      gt_agent_exited: tool(rigToolArgs.gt_agent_exited, ["container"], (args) => this.agentExited(args)),
      gt_merge_result: tool(rigToolArgs.gt_merge_result, ["container"], (args) => this.mergeResult(args)),
      ...(this.room.env.GT_TEST_HOOKS === "1"
        ? {
            gt_test_fault: tool(testFault, ["operator"], async (args) => {
              this.failHops = args.fail_hops ?? this.failHops;
              this.dropNotices = args.drop_notices ?? this.dropNotices;
              return { fail_hops: this.failHops, drop_notices: this.dropNotices, outbox: this.outbox.size };
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
    const fields = { id: args.id ?? newId(), from, to: args.to, subject: args.subject, body: args.body };
    // Another rig or the town goes through the town, which resolves rig names.
    return this.post.send(fields, () => routeFromRig(args.to, meta.name, this.agentMap()).kind === "local");
  }

  /** Mail for this room's recipients and the hops to the town (see PostOffice). */
  private readonly post = new PostOffice({
    collection: RIG_DOC.mail,
    get: (id) => this.records.get<Mail>(RIG_DOC.mail, id),
    all: () => this.records.values<Mail>(RIG_DOC.mail),
    write: (changes, events, extra) => this.write(changes, events, extra),
    outbox: () => this.outbox,
    feedEvent: (kind, text) => this.feedEvent(kind, text),
    pushEvent: (identity, frame) => this.pushEvent(identity, frame),
    hop: (mail) => this.hopMail(mail),
  });

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
    if (entry.kind === "convoy") {
      if (this.dropNotices > 0) {
        this.dropNotices -= 1;
        return { kind: "delivered" }; // lost on the way, as far as anyone can tell
      }
      const reply = await this.callRoom("main", this.townId, "convoy_bead", entry.payload);
      return classifyReply(reply.status, reply.body);
    }
    return this.post.attempt(entry);
  }

  private get retainClosed(): number {
    const configured = Number(this.room.env.GT_RETAIN_CLOSED);
    return Number.isInteger(configured) && configured > 0 ? configured : RETAIN_CLOSED;
  }

  /** A bead moved out of the document by retention, still readable (gt_bead_status, reconciliation). */
  private archived(id: string): Promise<Bead | undefined> {
    return this.room.storage.get<Bead>(`archive:${id}`);
  }

  /**
   * Retention scans every bead, so it runs at most once a second, not after every close (a room
   * of 100k beads closing hundreds a second would spend its time scanning).
   */
  private scheduleRetire(): void {
    if (this.retireTimer || beadCountUpperBound(this.records.map(RIG_DOC.beads)) <= this.retainClosed) return;
    this.retireTimer = setTimeout(() => {
      this.retireTimer = null;
      if (!this.removed) void this.retire().catch((error) => console.error(`[rig/${this.roomId}] retention failed`, error));
    }, 1000);
  }

  /**
   * Keeps the document bounded (DESIGN §4): past the retention count, the longest-closed beads move
   * from the document to room storage (`archive:<id>`), one write per batch.
   */
  private async retire(): Promise<void> {
    const closed = this.records.values<Bead>(RIG_DOC.beads).filter((b) => b.status === "closed");
    const excess = closed.length - this.retainClosed;
    if (excess <= 0) return;
    const oldest = closed.sort((a, b) => (a.closedAt ?? 0) - (b.closedAt ?? 0)).slice(0, Math.min(excess, 2_000));
    const meta = this.requireMeta();
    await this.records.write(
      [
        ...oldest.map((b) => ({ collection: RIG_DOC.beads, key: b.id, value: null })),
        { collection: RIG_DOC.meta, key: "rig", value: { ...meta, archivedClosed: (meta.archivedClosed ?? 0) + oldest.length } },
      ],
      [],
      { put: Object.fromEntries(oldest.map((b) => [`archive:${b.id}`, b])) },
    );
    if (excess > oldest.length) this.scheduleRetire();
  }

  /** Creates a bead (idempotent by id) and dispatches it. */
  private async createBead(fields: Pick<Bead, "id" | "title" | "body" | "priority" | "requires"> & { convoyId?: string; reason?: string }): Promise<Bead> {
    const existing = this.records.get<Bead>(RIG_DOC.beads, fields.id) ?? (await this.archived(fields.id));
    if (existing) return existing; // a retried create
    const now = Date.now();
    const bead: Bead = { ...fields, status: "open", createdAt: now, updatedAt: now, history: [{ at: now, status: "open", note: "created" }] };
    await this.write([this.beadChange(bead)], [this.feedEvent("bead", `bead ${bead.id.slice(-8)} created: ${bead.title}`)]);
    await this.dispatch();
    return this.records.get<Bead>(RIG_DOC.beads, bead.id)!;
  }

  // ------------------------------------------------------------------ room-to-room

  protected async internal(op: string, body: unknown): Promise<Response> {
    switch (op) {
      case "init": {
        const args = rigInit.parse(body);
        if (this.meta) return jsonResponse({ ok: true, value: this.meta }); // a retried init
        const meta: RigMeta = {
          town: args.town,
          rigId: args.rig_id,
          name: args.name,
          createdAt: args.created_at,
          gitUrl: args.git_url,
          defaultBranch: args.default_branch,
          maxPolecats: args.max_polecats,
          status: "cloning",
        };
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
        await this.post.receive(mail);
        return jsonResponse({ ok: true, value: { id: mail.id, state: "delivered" } });
      }
      case "wake":
        return jsonResponse({ ok: true, value: "awake" });
      case "bead_create": {
        const args = beadCreate.parse(body);
        if (!this.meta) return errorResponse("UNKNOWN_RIG", `rig room ${this.roomId} does not exist`);
        const bead = await this.createBead({
          id: args.id,
          title: args.title,
          body: args.body,
          priority: args.priority,
          requires: args.requires,
          reason: args.reason,
          ...(args.convoy_id ? { convoyId: args.convoy_id } : {}),
        });
        return jsonResponse({ ok: true, value: { id: bead.id, status: bead.status, rev: bead.rev ?? 0 } });
      }
      case "bead_states": {
        const { ids } = beadStates.parse(body);
        if (!this.meta) return errorResponse("UNKNOWN_RIG", `rig room ${this.roomId} does not exist`);
        const states: BeadState[] = [];
        for (const id of ids) {
          const bead = this.records.get<Bead>(RIG_DOC.beads, id) ?? (await this.archived(id));
          if (bead) states.push({ id, status: bead.status, title: bead.title, rev: bead.rev ?? 0, ...(bead.assignee ? { assignee: bead.assignee } : {}) });
        }
        return jsonResponse({ ok: true, value: states });
      }
      case "update": {
        const args = rigUpdate.parse(body);
        const meta = this.meta;
        if (!meta) return errorResponse("UNKNOWN_RIG", `rig room ${this.roomId} does not exist`);
        if (meta.maxPolecats !== args.max_polecats) {
          await this.commit({ changes: [{ collection: RIG_DOC.meta, key: "rig", value: { ...meta, maxPolecats: args.max_polecats } }], events: [this.feedEvent("rig", `max polecats ${meta.maxPolecats} → ${args.max_polecats}`)] });
          await this.dispatch();
        }
        return jsonResponse({ ok: true, value: null });
      }
      case "wipe": {
        if (this.summaryTimer) clearTimeout(this.summaryTimer);
        this.removed = true;
        await this.records.wipe();
        await this.room.storage.put({ "room-id": this.roomId }); // a later alarm must still know where it is
        this.commands = new CommandQueue(this.room.storage);
        this.heartbeats.clear();
        this.lease = null;
        this.closeAll(CLOSE.GONE, "rig removed");
        return jsonResponse({ ok: true, value: null });
      }
      default:
        return errorResponse("BAD_FRAME", `no internal operation ${op}`);
    }
  }

  // ------------------------------------------------------------------ work: dispatch, done, merge, witness

  /** Hooks open beads to polecats and owes the container a start_agent for each (DESIGN §7). */
  private async dispatch(): Promise<void> {
    const meta = this.meta;
    // Nothing to work in before the clone exists, and nobody to work while no container serves
    // the rig: the beads wait `open`, which is the truth, rather than `in_progress` for no one.
    if (!meta || meta.status !== "ready" || !this.lease) return;
    const plan = planDispatch({ rigName: meta.name, beads: this.records.values<Bead>(RIG_DOC.beads), agents: this.records.values<Agent>(RIG_DOC.agents), maxPolecats: meta.maxPolecats });
    if (plan.length === 0) return;
    const now = Date.now();
    const batch: Batch = { changes: [], events: [], commands: [], settled: [] };
    for (const { beadId, identity, name } of plan) {
      const bead = this.records.get<Bead>(RIG_DOC.beads, beadId)!;
      const existing = this.records.get<Agent>(RIG_DOC.agents, identity);
      const branch = branchName(name, beadId);
      const agent: Agent = {
        ...(existing ?? { identity, role: "polecat", name }),
        status: "working",
        hook: beadId,
        branch,
        worktree: `rigs/${meta.rigId}/worktrees/${name}`,
        startedAt: now,
      };
      delete agent.pid;
      batch.changes.push(this.agentChange(agent), this.beadChange({ ...withStatus(bead, "in_progress", now, `hooked to ${identity}`), assignee: identity, branch }));
      batch.events.push(this.feedEvent("bead", `${identity} hooked bead ${beadId.slice(-8)}: ${bead.title}`));
      batch.commands.push({ kind: "start_agent", identity, beadId });
      this.heartbeats.set(identity, now); // the witness's clock starts at dispatch
    }
    await this.commit(batch);
    await this.outbox.scheduleAlarm();
  }

  private async done(identity: string, branch: string, summary: string | undefined): Promise<DoneResult> {
    const agent = this.requireAgent(identity);
    if (!agent.hook) {
      // A retried gt_done after a lost reply: the same answer again.
      const handedIn = this.records.values<Bead>(RIG_DOC.beads).find((b) => b.status === "in_review" && b.assignee === identity && b.branch === branch);
      if (handedIn) return { bead_id: handedIn.id, status: "in_review" };
      throw new ToolError("CONFLICT", `${identity} has no hooked bead`);
    }
    const bead = this.requireBead(agent.hook);
    if (bead.status !== "in_progress") throw new ToolError("CONFLICT", `bead ${bead.id} is ${bead.status}, not in_progress`);
    if (agent.branch && branch !== agent.branch) throw new ToolError("CONFLICT", `${identity} works on branch ${agent.branch}, not ${branch}`);
    const now = Date.now();
    const idle: Agent = { ...agent, status: "idle" };
    delete idle.hook;
    delete idle.branch;
    await this.commit({
      changes: [this.agentChange(idle), this.beadChange({ ...withStatus(bead, "in_review", now, summary ? `done: ${summary.slice(0, 200)}` : "done"), branch })],
      events: [this.feedEvent("bead", `${identity} finished bead ${bead.id.slice(-8)}; merging ${branch}`)],
      commands: [{ kind: "merge", identity, beadId: bead.id, branch }],
    });
    await this.dispatch();
    return { bead_id: bead.id, status: "in_review" };
  }

  private async mergeResult(args: z.infer<typeof rigToolArgs.gt_merge_result>): Promise<Bead> {
    const bead = this.requireBead(args.bead_id);
    const settled = this.commands.matching((c) => c.kind === "merge" && c.beadId === bead.id);
    if (bead.status !== "in_review") {
      await this.commit({ settled }); // a repeated report: already applied
      return bead;
    }
    const now = Date.now();
    const meta = this.requireMeta();
    if (args.ok) {
      await this.commit({
        changes: [this.beadChange({ ...withStatus(bead, "closed", now, `merged ${args.merge_commit?.slice(0, 8) ?? ""}`.trim()), ...(args.merge_commit ? { mergeCommit: args.merge_commit } : {}) })],
        events: [this.feedEvent("bead", `bead ${bead.id.slice(-8)} merged into ${meta.defaultBranch}`)],
        settled,
      });
    } else {
      const reopened = withStatus(bead, "open", now, `merge failed: ${(args.error ?? "conflict").slice(0, 200)}`);
      delete reopened.assignee;
      delete reopened.branch;
      const files = args.conflict_files?.length ? `\n\nConflicting files:\n${args.conflict_files.map((f) => `- ${f}`).join("\n")}` : "";
      const escalation = this.escalation({
        from: `${meta.name}/refinery`,
        title: `Merge conflict: ${bead.title}`.slice(0, 200),
        body: `${args.error ?? "The branch does not merge cleanly."}${files}\n\nThe bead is open again and will be redone from the current ${meta.defaultBranch}.`,
        severity: "high",
        beadId: bead.id,
      });
      await this.commit({
        changes: [this.beadChange(reopened), { collection: RIG_DOC.escalations, key: escalation.id, value: escalation }],
        events: [this.feedEvent("escalation", `merge of bead ${bead.id.slice(-8)} failed; bead reopened`)],
        settled,
      });
    }
    await this.dispatch();
    return this.records.get<Bead>(RIG_DOC.beads, bead.id)!;
  }

  private async agentStarted(identity: string, beadId: string, pid: number | undefined): Promise<{ stale: boolean }> {
    const agent = this.requireAgent(identity);
    const settled = this.commands.matching((c) => c.kind === "start_agent" && c.identity === identity && c.beadId === beadId);
    if (agent.hook !== beadId) {
      // The bead was taken back (witness, operator) while the process started: stop that run.
      await this.commit({ settled, commands: [{ kind: "stop_agent", identity, beadId, reason: `bead ${beadId} is no longer hooked to ${identity}` }] });
      return { stale: true };
    }
    this.heartbeats.set(identity, Date.now());
    await this.commit({ changes: [this.agentChange({ ...agent, status: "working", ...(pid ? { pid } : {}) })], settled });
    return { stale: false };
  }

  /** Returns the agent, and the status of the bead of the run that ended (the container keeps its branch only for review). */
  private async agentExited(args: z.infer<typeof rigToolArgs.gt_agent_exited>): Promise<{ agent: Agent; bead_status: BeadStatus | null }> {
    const agent = this.requireAgent(args.as);
    const settled = this.commands.matching(
      (c) => c.identity === agent.identity && (c.kind === "stop_agent" || (c.kind === "start_agent" && (args.bead_id === undefined || c.beadId === args.bead_id))),
    );
    const lastExit = args.reason ?? (args.signal ? `signal ${args.signal}` : `exit ${args.code ?? "?"}`);
    const next: Agent = { ...agent, lastExit };
    delete next.pid;
    const batch: Batch = { changes: [], events: [], commands: [], settled };
    const unfinished = agent.hook && (args.bead_id === undefined || args.bead_id === agent.hook) ? this.records.get<Bead>(RIG_DOC.beads, agent.hook) : undefined;
    if (unfinished) {
      // The run ended before gt_done: the bead goes back to the queue, to be done again.
      delete next.hook;
      delete next.branch;
      if (next.status !== "dead") next.status = "idle";
      if (unfinished.status === "in_progress" && unfinished.assignee === agent.identity) batch.changes.push(...this.returned(unfinished, `${agent.identity} exited (${lastExit}) before done`));
      batch.events.push(this.feedEvent("agent", `${agent.identity} exited (${lastExit}) before finishing bead ${unfinished.id.slice(-8)}`));
    }
    batch.changes.push(this.agentChange(next));
    await this.commit(batch);
    this.heartbeats.delete(agent.identity);
    await this.dispatch();
    const bead = args.bead_id ? this.records.get<Bead>(RIG_DOC.beads, args.bead_id) : undefined;
    return { agent: this.records.get<Agent>(RIG_DOC.agents, agent.identity)!, bead_status: bead?.status ?? null };
  }

  /**
   * Unfinished work back to the queue: `open` again, or `failed` with an escalation once its runs
   * have ended early MAX_RUNS times (a bead that always crashes its agent must not loop forever).
   */
  private returned(bead: Bead, note: string): Change[] {
    const attempts = (bead.attempts ?? 0) + 1;
    const giveUp = attempts >= MAX_RUNS;
    const next = { ...withStatus(bead, giveUp ? "failed" : "open", Date.now(), giveUp ? `${note}; gave up after ${attempts} runs` : note), attempts };
    delete next.assignee;
    delete next.branch;
    if (!giveUp) return [this.beadChange(next)];
    const escalation = this.escalation({
      from: `${this.requireMeta().name}/witness`,
      title: `Bead failed: ${bead.title}`.slice(0, 200),
      body: `Its agents stopped before finishing it ${attempts} times; the last time: ${note}.`,
      severity: "high",
      beadId: bead.id,
    });
    return [this.beadChange(next), { collection: RIG_DOC.escalations, key: escalation.id, value: escalation }];
  }

  private get witnessTimeoutMs(): number {
    const configured = Number(this.room.env.GT_WITNESS_TIMEOUT_MS);
    return Number.isFinite(configured) && configured > 0 ? configured : 90_000;
  }

  /**
   * When the witness should look again: only while some agent is working. An absolute time that
   * only the witness moves on, so a busy room (every write reschedules the alarm) cannot keep
   * postponing it.
   */
  private witnessWake(): number | null {
    const watching = this.records.values<Agent>(RIG_DOC.agents).some((a) => a.status === "working" || a.status === "stalled");
    if (!watching) {
      this.nextWitnessAt = null;
      return null;
    }
    this.nextWitnessAt ??= Date.now() + Math.max(250, this.witnessTimeoutMs / 4);
    return this.nextWitnessAt;
  }

  /** The witness (DESIGN §7): silent agents are stalled, then dead, and their beads go back to open. */
  private async witness(): Promise<void> {
    if (!this.meta) return;
    const now = Date.now();
    if (this.nextWitnessAt !== null && now < this.nextWitnessAt) return;
    this.nextWitnessAt = null;
    const verdicts = judge(this.records.values<Agent>(RIG_DOC.agents), (id) => this.heartbeats.get(id) ?? this.watchingSince, now, this.witnessTimeoutMs);
    if (verdicts.length) {
      const batch: Batch = { changes: [], events: [], commands: [], settled: [] };
      for (const verdict of verdicts) {
        const agent = this.records.get<Agent>(RIG_DOC.agents, verdict.identity)!;
        const next: Agent = { ...agent, status: verdict.status };
        if (verdict.status === "dead") {
          const silence = `no heartbeat for ${Math.round(verdict.silentMs / 1000)} s`;
          next.lastExit = silence;
          delete next.pid;
          delete next.hook;
          delete next.branch;
          const bead = agent.hook ? this.records.get<Bead>(RIG_DOC.beads, agent.hook) : undefined;
          if (bead?.status === "in_progress" && bead.assignee === agent.identity) batch.changes.push(...this.returned(bead, `witness: ${agent.identity} dead (${silence})`));
          batch.commands.push({ kind: "stop_agent", identity: agent.identity, ...(agent.hook ? { beadId: agent.hook } : {}), reason: silence });
          // Its pending start is void: the bead goes to whoever is dispatched next.
          batch.settled.push(...this.commands.matching((c) => c.kind === "start_agent" && c.identity === agent.identity));
          batch.events.push(this.feedEvent("witness", `${agent.identity} is dead (${silence})${bead ? `; bead ${bead.id.slice(-8)} back to open` : ""}`));
        } else {
          batch.events.push(this.feedEvent("witness", `${agent.identity} is ${verdict.status}`));
        }
        batch.changes.push(this.agentChange(next));
      }
      await this.commit(batch);
      await this.dispatch();
    }
    await this.outbox.scheduleAlarm();
  }

  private escalation(fields: Omit<Escalation, "id" | "createdAt" | "status" | "beadId"> & { beadId?: string | undefined }): Escalation {
    const { beadId, ...rest } = fields;
    return { ...rest, ...(beadId ? { beadId } : {}), id: newId(), createdAt: Date.now(), status: "open" };
  }

  private agentChange(agent: Agent): Change {
    return { collection: RIG_DOC.agents, key: agent.identity, value: agent };
  }

  private beadChange(bead: Bead): Change {
    return { collection: RIG_DOC.beads, key: bead.id, value: bead };
  }

  /** Persists a batch in one write (records, feed, new and settled commands), then sends new commands. */
  private async commit(batch: Partial<Batch>): Promise<void> {
    const prepared = this.commands.prepare(batch.commands ?? [], Date.now());
    const settled = batch.settled ?? [];
    await this.write(batch.changes ?? [], batch.events ?? [], { put: prepared.entries, delete: this.commands.keys(settled) });
    this.commands.settled(settled);
    this.commands.added(prepared.commands);
    for (const command of prepared.commands) await this.sendCommand(command);
  }

  // ------------------------------------------------------------------ the container

  protected override claimSocket(connectionId: string, token: TokenPayload): { code: number; reason: string } | null {
    if (token.role !== "container") return null;
    if (this.lease && this.lease !== connectionId && this.room.getConnection(this.lease)) {
      return { code: CLOSE.RIG_TAKEN, reason: "another container serves this rig" };
    }
    this.lease = connectionId;
    return null;
  }

  protected override async socketReady(connection: Party.Connection): Promise<void> {
    if (connection.id !== this.lease) return;
    for (const command of this.commands.all()) await this.sendCommand(command);
    await this.dispatch();
  }

  protected override socketGone(connectionId: string): void {
    if (this.lease === connectionId) this.lease = null;
  }

  /** Sends a pending command to the serving container, if one is connected; it stays pending until acknowledged. */
  private async sendCommand(command: PendingCommand): Promise<void> {
    if (!this.lease) return;
    const frame = await this.commandFrame(command);
    if (frame) this.sendTo(this.lease, frame);
    else await this.commit({ settled: [command] }); // overtaken (its bead went elsewhere): owed to no one
  }

  private async commandFrame(command: PendingCommand): Promise<CommandFrame | null> {
    const meta = this.requireMeta();
    switch (command.kind) {
      case "start_agent": {
        const agent = this.records.get<Agent>(RIG_DOC.agents, command.identity);
        const bead = this.records.get<Bead>(RIG_DOC.beads, command.beadId);
        if (!agent || !bead || agent.hook !== bead.id || !agent.branch) return null;
        const token = await signToken({ role: "agent", town: meta.town, rig: meta.rigId, agent: agent.identity, exp: Math.floor(Date.now() / 1000) + AGENT_TOKEN_TTL_S }, this.secret);
        return {
          type: "command",
          command: "start_agent",
          id: command.id,
          identity: agent.identity,
          name: agent.name,
          bead,
          branch: agent.branch,
          rig: { id: meta.rigId, name: meta.name, defaultBranch: meta.defaultBranch },
          token,
        };
      }
      case "merge": {
        const bead = this.records.get<Bead>(RIG_DOC.beads, command.beadId);
        return { type: "command", command: "merge", id: command.id, bead_id: command.beadId, branch: command.branch, identity: command.identity, title: bead?.title ?? command.beadId };
      }
      case "stop_agent":
        return { type: "command", command: "stop_agent", id: command.id, identity: command.identity, ...(command.beadId ? { bead_id: command.beadId } : {}), reason: command.reason };
    }
  }

  // ------------------------------------------------------------------ writes and the summary

  /**
   * Every write of the rig room goes through here: beads get their next `rev`, and a change to a
   * convoy bead's status or assignee owes the town a notification, stored in the same write.
   */
  private async write(changes: Change[], events: FeedEvent[] = [], extra: { put?: Record<string, unknown>; delete?: string[] } = {}): Promise<void> {
    if (this.removed) throw new ToolError("UNKNOWN_RIG", `rig room ${this.roomId} was removed`);
    const notices: OutboxEntry[] = [];
    const now = Date.now();
    const meta = this.meta;
    const stamped = changes.map((change) => {
      if (change.collection !== RIG_DOC.beads || change.value === null) return change;
      const before = this.records.get<Bead>(RIG_DOC.beads, change.key);
      const bead: Bead = { ...(change.value as Bead), rev: (before?.rev ?? 0) + 1 };
      if (bead.convoyId && meta && (bead.status !== before?.status || bead.assignee !== before?.assignee)) {
        const payload = { convoy_id: bead.convoyId, bead_id: bead.id, rig_id: meta.rigId, status: bead.status, rev: bead.rev!, ...(bead.assignee ? { assignee: bead.assignee } : {}) };
        // One entry per bead: a newer notice replaces one not yet sent (the town orders by rev anyway).
        notices.push({ key: `convoy-${bead.id}`, kind: "convoy", payload, attempts: 0, createdAt: now, nextAttemptAt: now });
      }
      return { ...change, value: bead };
    });
    const put = { ...extra.put, ...Object.fromEntries(notices.map((n) => [DurableOutbox.storageKey(n.key), n])) };
    await this.records.write(stamped, events, { ...extra, put });
    for (const notice of notices) await this.outbox.added(notice);
    if (notices.length) void this.outbox.flush();
    this.lastActivity = now;
    this.scheduleSummary();
    if (stamped.some((c) => c.collection === RIG_DOC.beads && (c.value as Bead | null)?.status === "closed")) this.scheduleRetire();
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
        status: meta.status,
        beads: this.records.values<Bead>(RIG_DOC.beads),
        agents: this.records.values<Agent>(RIG_DOC.agents),
        mail: this.records.values<Mail>(RIG_DOC.mail),
        escalations: this.records.values<Escalation>(RIG_DOC.escalations),
        archivedClosed: meta.archivedClosed ?? 0,
        lastActivity: this.lastActivity,
        diskBytes: meta.diskBytes ?? null,
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

/**
 * Y.Map's `size` copies every entry to count them (9.6 ms at 50k beads), too slow to ask after every
 * close. Its internal map holds one item per key ever set, deleted or not: a cheap upper bound.
 */
function beadCountUpperBound(map: Y.Map<Bead>): number {
  return (map as unknown as { _map: Map<string, unknown> })._map.size;
}

/** Notes belong to the work: a polecat's next bead starts clean, and a redone bead resumes them. */
function checkpointKey(agent: Agent): string {
  return agent.hook ? `checkpoint:bead:${agent.hook}` : `checkpoint:agent:${agent.identity}`;
}

function definedOnly<T extends object>(fields: T): Partial<T> {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as Partial<T>;
}
