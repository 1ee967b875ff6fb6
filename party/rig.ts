/**
 * The rig room (party `rig`, room id `<townId>.<rigId>`): one rig's beads, agents and mail, as a
 * live document, and the tools its agents and its container call. The work lifecycle (dispatch,
 * runs, merges, the witness, the container's lease) is the pure state machine in work.ts: this
 * class feeds it events, stores what changed and carries its effects out. Mail to other rigs leaves
 * through the durable outbox via the town, which resolves rig names.
 */
import type * as Party from "partykit/server";
import type * as Y from "yjs";
import { z } from "zod";
import { AgentOutput, agentName, runEnded, scopeAllows } from "./agent-output.ts";
import { signToken } from "./auth.ts";
import { DurableOutbox } from "./durable-outbox.ts";
import { newId } from "./ids.ts";
import { LiveRoom, callRoomThrough, errorResponse, gate, jsonResponse, tool, type Admission, type Caller, type OutputWatch, type ToolSpec } from "./live-room.ts";
import { routeFromRig } from "./mail.ts";
import { PostOffice } from "./post-office.ts";
import { classifyReply, type Attempt, type OutboxEntry } from "./outbox.ts";
import {
  CLOSE,
  LIMITS,
  RIG_DOC,
  ToolError,
  parseAddress,
  polecatIdentity,
  rigToolArgs,
  type Agent,
  type Bead,
  type BeadHistoryEntry,
  type CommandFrame,
  type Escalation,
  type FeedEvent,
  type LeaseFrame,
  type Mail,
  type RigStatus,
  type MailSendResult,
  type OutputLine,
  type PrimeResult,
  type RunInfo,
  type RigSummary,
  type TokenPayload,
  type Boundary,
} from "./protocol.ts";
import type { Change } from "./records.ts";
import { computeSummary } from "./summary.ts";
import { countClosed, hourOf, hourlyWake, type HourlyCounts } from "./hours.ts";
import { TOWN_NOTICES, admitNotice, escalationTone, mergedEvent, reachesTown, type NoticeWindow } from "./feed.ts";
import { emptyLease, nextWake, owedCommands, step, type Effect, type EscalationSpec, type LeaseState, type Liveness, type OwedCommand, type WorkConfig, type WorkEvent } from "./work.ts";
import { outputScope, principalOf, type RoomRef } from "./access.ts";
import type { DocLayout } from "./records.ts";
import { beadCreate, beadMoveOut, beadStates, mailEnvelope, revokeToken, rigIdsReply, rigInit, rigUpdate, testFault, type BeadState, type beadMoved } from "./internal.ts";
import { RigDirectory, rigRoomIdParts } from "./rig-directory.ts";
import { historyPrefix, historyWrites } from "./dispatch.ts";

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
  /** Since when the rig is in `error` (the attention lane says since when). */
  errorAt?: number;
  /** Closed beads moved out of the document by retention (still counted as closed). */
  archivedClosed?: number;
  /** Open escalations moved out of the document past LIMITS.escalationsKept (still counted as open). */
  archivedOpenEscalations?: number;
  /** Who serves the rig, for people: the lease holder's container, epoch and standbys. */
  container?: ContainerView | null;
  /** What of the agents' boundary the serving container enforces (its last gt_rig_ready). */
  boundary?: Boundary;
};

type ContainerView = { id: string; epoch: number; since: number; connected: boolean; standbys: number };

/** The lease's lasting part, in storage (`lease`): renewal deadlines restart with the room. */
type StoredLease = { epoch: number; holder: { container: string; session: string; epoch: number; since: number } | null };

const SUMMARY_DEBOUNCE_MS = 250;
const AGENT_TOKEN_TTL_S = 24 * 3600;
/** Closed beads kept in the live document (GT_RETAIN_CLOSED); older ones move to storage. */
const RETAIN_CLOSED = 1_000;

/** Deadlines, each overridable by a GT_* variable (docs/lifecycle.md). */
const DEFAULTS = {
  GT_WITNESS_TIMEOUT_MS: 90_000,
  GT_AGENT_IDLE_MS: 10 * 60_000,
  GT_MERGE_TIMEOUT_MS: 5 * 60_000,
  GT_MERGE_TRIES: 3,
  GT_LEASE_TTL_MS: 30_000,
  GT_STOP_TIMEOUT_MS: 60_000,
  GT_MAX_RUNS: 3,
} as const;

/**
 * Which rig rooms exist, as the gate remembers them (party/rig-directory.ts): in the memory of this
 * worker isolate, since the gate runs before any room and has no storage.
 */
const directory = new RigDirectory();

/** The gate's question before a rig room starts: does the town's registry list this rig? */
async function rigRoomExists(lobby: Party.Lobby, secret: string): Promise<boolean> {
  const parts = rigRoomIdParts(lobby.id);
  if (!parts) return false;
  return directory.exists(parts.town, parts.rigId, async (town) => {
    const reply = await callRoomThrough(lobby.parties, "main", town, "rig_ids", {}, secret);
    const listed = rigIdsReply.safeParse(reply.body);
    if (!listed.success) throw new Error(`town ${town} did not list its rigs: HTTP ${reply.status}`);
    return listed.data.value;
  });
}

export default class RigRoom extends LiveRoom {
  // A rig room the town's registry does not know is refused before it starts (no storage for it).
  static override onBeforeRequest(req: Party.Request, lobby: Party.Lobby): Promise<Request | Response> {
    return gate(req, lobby, "http", rigRoomExists);
  }

  static override onBeforeConnect(req: Party.Request, lobby: Party.Lobby): Promise<Request | Response> {
    return gate(req, lobby, "socket", rigRoomExists);
  }

  private outbox!: DurableOutbox;
  private lastActivity: number | null = null;
  private summaryTimer: ReturnType<typeof setTimeout> | null = null;
  private retireTimer: ReturnType<typeof setTimeout> | null = null;
  private summaryFailures = 0;
  /** Test hook (GT_TEST_HOOKS=1): the next N hops fail as if the town were unreachable. */
  private failHops = 0;
  /** Test hook: the next N convoy notifications are dropped (reported delivered, never sent). */
  private dropNotices = 0;
  /** Set once the room is wiped: a tool call still in flight must not write into the empty room. */
  private removed = false;
  /** The container lease (its lasting part also in storage) and the runs' liveness (memory only). */
  private lease: LeaseState = emptyLease();
  private readonly liveness = new Map<string, Liveness>();
  /** Who each container socket is: its lasting container id and its process's session. */
  private readonly containers = new Map<string, { container: string; session: string }>();
  /** Steps of the work machine (and other bead writes) run one at a time, each on the last one's state. */
  private serial: Promise<unknown> = Promise.resolve();
  /** Beads closed per hour, the last 24 hours (storage `closed-hours`, written with each closing bead). */
  private closedHours: HourlyCounts = {};
  /** The hour of the last summary the town stored: when the hour rolls, the chart must shift. */
  private summaryHour: number | null = null;
  /** This window's failures told to the town one by one, and those held back to be told as one line. */
  private noticeWindow: NoticeWindow | null = null;
  /** What the agents printed, per run, in storage (party/agent-output.ts); redacted again here, and of the town's secret too. */
  private readonly output = new AgentOutput(this.room.storage, () => [this.secret]);

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
    this.closedHours = (await this.room.storage.get<HourlyCounts>("closed-hours")) ?? {};
    const stored = await this.room.storage.get<StoredLease>("lease");
    if (stored) this.lease = { ...emptyLease(), epoch: stored.epoch, holder: stored.holder ? { ...stored.holder, connection: null, renewBy: 0 } : null };
    this.outbox = new DurableOutbox(
      this.room.storage,
      (entry) => this.attemptHop(entry),
      (entry, outcome) => (entry.kind === "mail" ? this.post.settle(entry, outcome) : Promise.resolve()),
      () => (this.meta && !this.removed ? earliest(nextWake(this.workState(), Date.now()), hourlyWake(this.closedHours, Date.now())) : null),
    );
    await this.outbox.load();
    this.lastActivity = this.records.events.length ? this.records.events.get(this.records.events.length - 1).at : null;
    if (!this.meta) return;
    // A restarted room gives every run and the lease holder a full deadline from now.
    await this.work({ type: "room_started" });
    // After a restart the town may hold an older summary: push a fresh one. Waking the town also
    // wakes the town's other rigs, whose outboxes may hold mail (see TownRoom.wakeRigs).
    this.scheduleSummary();
    void this.callRoom("main", this.meta.town, "wake", {}).catch(() => {});
  }

  async onAlarm(): Promise<void> {
    await this.outbox.flush();
    if (!this.meta || this.removed) return;
    await this.work({ type: "tick" });
    // Nothing changed, but the hour did: the town's chart of closings must move on by an hour.
    if (this.summaryHour !== null && this.summaryHour !== hourOf(Date.now())) this.scheduleSummary();
  }

  /** This rig for the admission rule (party/access.ts), once its town has created it. */
  protected roomRef(): RoomRef | null {
    const meta = this.meta;
    return meta && !this.removed ? { party: "rig", town: meta.town, rigId: meta.rigId, rigName: meta.name } : null;
  }

  protected docLayout(): DocLayout {
    return { docs: { rig: [RIG_DOC.meta, RIG_DOC.beads, RIG_DOC.agents, RIG_DOC.mail, RIG_DOC.escalations] }, events: "rig" };
  }

  // ------------------------------------------------------------------ the work machine

  private workConfig(meta: RigMeta): WorkConfig {
    const env = (name: keyof typeof DEFAULTS) => {
      const configured = Math.floor(Number(this.room.env[name]));
      return Number.isFinite(configured) && configured > 0 ? configured : DEFAULTS[name];
    };
    return {
      rigName: meta.name,
      rigId: meta.rigId,
      ready: meta.status === "ready",
      maxPolecats: meta.maxPolecats,
      heartbeatTimeoutMs: env("GT_WITNESS_TIMEOUT_MS"),
      idleMs: env("GT_AGENT_IDLE_MS"),
      mergeTimeoutMs: env("GT_MERGE_TIMEOUT_MS"),
      mergeTries: env("GT_MERGE_TRIES"),
      leaseTtlMs: env("GT_LEASE_TTL_MS"),
      stopTimeoutMs: env("GT_STOP_TIMEOUT_MS"),
      maxRuns: env("GT_MAX_RUNS"),
    };
  }

  private workState() {
    return {
      beads: this.records.map<Bead>(RIG_DOC.beads),
      agents: this.records.map<Agent>(RIG_DOC.agents),
      lease: this.lease,
      liveness: this.liveness,
      config: this.workConfig(this.requireMeta()),
    };
  }

  /** Runs `fn` after every earlier serial step; its failure does not stop the ones after it. */
  private serially<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.serial.then(fn);
    this.serial = run.catch(() => {});
    return run;
  }

  /** One step of the work machine: persisted in one write, then its effects carried out. */
  private work<R = unknown>(event: WorkEvent): Promise<R> {
    return this.serially(async () => {
      const meta = this.requireMeta();
      const t = step(this.workState(), event, Date.now());
      const before = new Map(t.agents.map((a) => [a.identity, this.records.get<Agent>(RIG_DOC.agents, a.identity)]));
      const changes: Change[] = [...t.beads.map((b) => this.beadChange(b)), ...t.agents.map((a) => this.agentChange(a))];
      const escalations = t.effects.flatMap((e) => (e.kind === "escalate" ? [this.escalation(e.escalation)] : []));
      const added = this.escalationChanges(escalations, meta);
      changes.push(...added.changes);
      const view = containerView(t.lease);
      const nextMeta = sameView(view, meta.container ?? null) ? added.meta : { ...added.meta, container: view };
      if (nextMeta !== meta) changes.push({ collection: RIG_DOC.meta, key: "rig", value: nextMeta });
      const events = t.effects.flatMap((e) => (e.kind === "feed" ? [this.feedEvent(e.feed, e.text, { tone: e.tone, bead: e.bead, agent: e.agent })] : []));
      const put: Record<string, unknown> = { ...added.put };
      if (t.effects.some((e) => e.kind === "persist_lease")) put.lease = storedLease(t.lease);
      // A moved bead's notice to the town is stored with the bead's close (W16): the move completes even if the town crashes.
      const outbox: OutboxEntry[] = [];
      for (const effect of t.effects) if (effect.kind === "moved") outbox.push(await this.moveNotice(t.beads.find((b) => b.id === effect.beadId)!, effect, meta));
      if (changes.length || events.length || Object.keys(put).length || outbox.length) await this.write(changes, events, { put, outbox });
      this.lease = t.lease;
      for (const [identity, live] of t.liveness) {
        if (live) this.liveness.set(identity, live);
        else this.liveness.delete(identity);
      }
      await this.carryOut(t.effects);
      for (const agent of t.agents) {
        const ended = runEnded(before.get(agent.identity), agent, t.beads);
        if (ended) void this.noteRunEnded(agent.identity, ended.run, ended.exit, false);
      }
      return t.reply as R;
    });
  }

  /** The effects of a step, in order. A lease granted in this step sends every owed command itself. */
  private async carryOut(effects: ReturnType<typeof step>["effects"]): Promise<void> {
    const granted = effects.some((e) => e.kind === "lease" && e.frame.state === "held");
    for (const effect of effects) {
      switch (effect.kind) {
        case "lease": {
          const { renew_ms, ttl_ms } = this.leaseTiming();
          const frame: LeaseFrame = effect.frame.state === "held" ? { type: "lease", state: "held", epoch: effect.frame.epoch, renew_ms, ttl_ms } : { type: "lease", state: "standby", renew_ms, ttl_ms };
          this.sendTo(effect.connection, frame);
          if (effect.frame.state === "held") for (const command of owedCommands(this.workState())) await this.sendCommand(command);
          break;
        }
        case "command":
          if (!granted) await this.sendCommand(effect.command);
          break;
        case "close":
          this.closeConnection(effect.connection, effect.code, effect.reason);
          break;
        case "nudge":
          await this.nudge(effect.identity, effect.subject, effect.body);
          break;
        case "feed":
        case "escalate":
        case "persist_lease":
        case "moved":
          break; // stored with the step's records
      }
    }
    await this.outbox.scheduleAlarm();
  }

  private leaseTiming(): { renew_ms: number; ttl_ms: number } {
    const ttl = this.workConfig(this.requireMeta()).leaseTtlMs;
    return { renew_ms: Math.max(100, Math.floor(ttl / 3)), ttl_ms: ttl };
  }

  /** The witness's nudge: mail from `<rig>/witness` to the agent, like any mail it gets. */
  private async nudge(identity: string, subject: string, body: string): Promise<void> {
    const from = `${this.requireMeta().name}/witness`;
    await this.post.receive({ id: newId(), from, to: identity, subject, body, sentAt: Date.now(), state: "queued" });
  }

  /** Who a call acts as: an agent only as itself; operators and the container as any local agent. */
  private actingIdentity(caller: Caller, as: string | undefined): string {
    const { token } = caller;
    if (token.role === "agent") {
      if (as !== undefined && as !== token.agent) throw new ToolError("FORBIDDEN", `an agent acts only as itself (${token.agent})`);
      return token.agent!;
    }
    if (as === undefined) throw new ToolError("INVALID_ARGS", "as: required for operator and container calls (the identity to act as)");
    const name = this.requireMeta().name;
    const address = parseAddress(as);
    if (address?.kind !== "rig" || address.rig !== name) throw new ToolError("FORBIDDEN", `as: ${as} is not an identity of rig ${name}; operators and the container act as its agents only`);
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

  /** The container's epoch for tools that need one: a container without the current lease is refused. */
  private requireEpoch(caller: Caller, epoch: number | undefined): void {
    if (caller.token.role !== "container") return;
    const holder = this.lease.holder;
    if (epoch === undefined || !holder || holder.epoch !== epoch) {
      throw new ToolError("LEASE_LOST", `lease epoch ${epoch ?? "(none)"} is not current${holder ? ` (epoch ${holder.epoch} serves the rig)` : " (no container holds this rig)"}`);
    }
  }

  /** An agent's own tool call is progress; its run's liveness is the room's to track (W4). */
  /**
   * A process of a run that is over must not act for the agent's next run: while the agent has
   * another run, its old token may not prime (and read the new hook and mail), checkpoint, or do
   * anything else. gt_done answers such a token itself (a retried done after a lost reply).
   */
  protected override checkCaller(name: string, caller: Caller): void {
    const { role, agent, run } = caller.token;
    if (role !== "agent" || run === undefined || !agent || name === "gt_done") return;
    const current = this.records.get<Agent>(RIG_DOC.agents, agent)?.run;
    if (current && current.id !== run) throw new ToolError("FORBIDDEN", `run ${run} is over; ${agent} works on run ${current.id} now`);
  }

  protected override noteCall(name: string, caller: Caller): void {
    if (caller.token.role !== "agent" || name === "gt_heartbeat" || !caller.token.agent) return;
    if (!this.records.get<Agent>(RIG_DOC.agents, caller.token.agent)?.run) return;
    void this.work({ type: "agent_activity", identity: caller.token.agent, run: caller.token.run }).catch(() => {});
  }

  // ------------------------------------------------------------------ tools

  protected tools(): Record<string, ToolSpec<any>> {
    const everyone = ["operator", "agent", "container"] as const;
    const staff = ["operator", "container"] as const;
    return {
      gt_prime: tool(rigToolArgs.gt_prime, everyone, async (args, caller): Promise<PrimeResult> => {
        const agent = this.requireAgent(this.actingIdentity(caller, args.as));
        const hooked = agent.hook ? this.records.get<Bead>(RIG_DOC.beads, agent.hook) : undefined;
        const checkpoint = (await this.room.storage.get<string>(checkpointKey(agent))) ?? null;
        return { agent, hook: hooked ? await this.wholeBead(hooked) : null, mail: await this.post.check(agent.identity), checkpoint };
      }),
      gt_mail_send: tool(rigToolArgs.gt_mail_send, everyone, (args, caller) => {
        this.rateLimit(caller, "mail");
        return this.sendMail(args, caller);
      }),
      gt_mail_read: tool(rigToolArgs.gt_mail_read, everyone, async (args, caller) => this.post.read(this.requireAgent(this.actingIdentity(caller, args.as)).identity, args.id)),
      gt_mail_check: tool(rigToolArgs.gt_mail_check, everyone, async (args, caller) => this.post.check(this.requireAgent(this.actingIdentity(caller, args.as)).identity)),
      gt_mail_ack: tool(rigToolArgs.gt_mail_ack, everyone, async (args, caller) => this.post.ack(this.requireAgent(this.actingIdentity(caller, args.as)).identity, args.ids)),
      gt_bead_create: tool(rigToolArgs.gt_bead_create, ["operator"], (args) =>
        this.createBead({ id: args.id ?? newId(), title: args.title, body: args.body ?? "", priority: args.priority ?? "medium", requires: args.requires ?? [] }),
      ),
      gt_bead_status: tool(rigToolArgs.gt_bead_status, everyone, async (args) =>
        this.wholeBead(this.records.get<Bead>(RIG_DOC.beads, args.bead_id) ?? (await this.archived(args.bead_id)) ?? this.requireBead(args.bead_id)),
      ),
      gt_bead_update: tool(rigToolArgs.gt_bead_update, ["operator"], async (args) => {
        const { bead_id: id, assignee, status, ...fields } = args;
        if (status === "in_progress" || status === "in_review") {
          if (status !== this.requireBead(id).status) throw new ToolError("INVALID_ARGS", "status: in_progress and in_review are set by dispatch and gt_done; use open, closed or failed");
        } else if (status !== undefined) await this.work({ type: "operator_set_status", beadId: id, status });
        const edits = definedOnly(fields);
        if (assignee !== undefined && (this.requireBead(id).status === "in_progress" || this.requireBead(id).status === "in_review")) {
          // Its run owns it (the work lifecycle); set it open first to take it back.
          throw new ToolError("CONFLICT", `bead ${id} is ${this.requireBead(id).status}: its assignee is the polecat that runs it`);
        }
        if (Object.keys(edits).length || assignee !== undefined) {
          await this.serially(async () => {
            const bead = this.requireBead(id);
            const next: Bead = { ...bead, ...edits, updatedAt: Date.now() };
            if (assignee === null) delete next.assignee;
            else if (assignee !== undefined) next.assignee = assignee;
            await this.write([this.beadChange(next)]);
          });
        }
        return this.wholeBead(this.requireBead(id));
      }),
      gt_list_beads: tool(rigToolArgs.gt_list_beads, staff, async (args) =>
        this.records.values<Bead>(RIG_DOC.beads).filter((b) => !args.status || b.status === args.status),
      ),
      gt_list_agents: tool(rigToolArgs.gt_list_agents, staff, async () => this.records.values<Agent>(RIG_DOC.agents)),
      gt_agent_register: tool(rigToolArgs.gt_agent_register, staff, async (args) =>
        this.serially(async () => {
          const identity = polecatIdentity(this.requireMeta().name, args.name);
          const existing = this.records.get<Agent>(RIG_DOC.agents, identity);
          if (existing) return existing;
          const agent: Agent = { identity, role: "polecat", name: args.name, status: "idle" };
          await this.write([this.agentChange(agent)], [this.feedEvent("agent", `${identity} registered`)]);
          return agent;
        }),
      ),
      gt_heartbeat: tool(rigToolArgs.gt_heartbeat, everyone, async (args, caller) => {
        const identity = this.requireAgent(this.actingIdentity(caller, args.as)).identity;
        if (caller.token.role === "container") this.requireEpoch(caller, args.epoch);
        await this.work({ type: "agent_heartbeat", identity, epoch: caller.token.role === "container" ? args.epoch! : null, run: caller.token.role === "agent" ? caller.token.run : undefined });
        return { at: Date.now() };
      }),
      gt_lease_renew: tool(rigToolArgs.gt_lease_renew, ["container"], (args, caller) =>
        this.work({
          type: "container_renew",
          connection: caller.connectionId ?? null,
          epoch: args.epoch ?? null,
          agents: (args.agents ?? []).map((a) => ({ identity: a.identity, run: a.run, quietMs: a.quiet_ms })),
        }),
      ),
      gt_lease_release: tool(rigToolArgs.gt_lease_release, ["container"], (args, caller) => this.work({ type: "container_release", connection: caller.connectionId ?? null, epoch: args.epoch })),
      gt_checkpoint: tool(rigToolArgs.gt_checkpoint, everyone, async (args, caller) => {
        const agent = this.requireAgent(this.actingIdentity(caller, args.as));
        await this.room.storage.put({ [checkpointKey(agent)]: args.data });
        return { saved: args.data.length };
      }),
      gt_escalate: tool(rigToolArgs.gt_escalate, everyone, async (args, caller) => {
        const from = this.requireAgent(this.actingIdentity(caller, args.as)).identity;
        if (args.bead_id) this.requireBead(args.bead_id);
        const existing = args.id ? (this.records.get<Escalation>(RIG_DOC.escalations, args.id) ?? (await this.room.storage.get<Escalation>(`escalation-archive:${args.id}`))) : undefined;
        if (existing) return existing; // a retried escalation
        this.rateLimit(caller, "escalation");
        const escalation = { ...this.escalation({ from, title: args.title, body: args.body ?? "", severity: args.severity, beadId: args.bead_id }), ...(args.id ? { id: args.id } : {}) };
        await this.serially(async () => {
          const meta = this.requireMeta();
          const added = this.escalationChanges([escalation], meta);
          const metaChange = added.meta !== meta ? [{ collection: RIG_DOC.meta, key: "rig", value: added.meta }] : [];
          await this.write([...added.changes, ...metaChange], [this.feedEvent("escalation", `${from}: ${args.title}`, { tone: escalationTone(args.severity), agent: from, bead: args.bead_id })], { put: added.put });
        });
        return escalation;
      }),
      gt_token_refresh: this.tokenRefreshTool((token) => {
        // An agent's token lives as long as its run: a process whose run is over gets no new one.
        if (token.role !== "agent") return null;
        if (token.run === undefined) return "an agent token made for no run is not renewed";
        const agent = token.agent ? this.records.get<Agent>(RIG_DOC.agents, token.agent) : undefined;
        return agent?.run?.id === token.run && agent.run.state !== "stopping" ? null : `run ${token.run} is over: its token is not renewed`;
      }),
      gt_escalation_ack: tool(rigToolArgs.gt_escalation_ack, ["operator"], (args) => this.updateEscalation(args.id, "acknowledged", args.note || undefined)),
      gt_escalation_resolve: tool(rigToolArgs.gt_escalation_resolve, ["operator"], (args) => this.updateEscalation(args.id, "resolved", args.note || undefined)),
      // The operator's actions on work (W14, W15): each one step of the work machine, refused with CONFLICT when it does not apply.
      gt_bead_retry: tool(rigToolArgs.gt_bead_retry, ["operator"], async (args) => {
        await this.work({ type: "operator_retry", beadId: args.bead_id, note: args.note || undefined });
        return this.wholeBead(this.requireBead(args.bead_id)); // as stored (with its new rev)
      }),
      gt_agent_stop: tool(rigToolArgs.gt_agent_stop, ["operator"], (args) => this.work<Agent>({ type: "operator_stop_agent", identity: args.identity, reason: args.reason || undefined })),
      gt_agent_restart: tool(rigToolArgs.gt_agent_restart, ["operator"], (args) => this.work<Agent>({ type: "operator_restart_agent", identity: args.identity, reason: args.reason || undefined })),
      gt_done: tool(rigToolArgs.gt_done, everyone, (args, caller) =>
        this.work({ type: "done", identity: this.actingIdentity(caller, args.as), branch: args.branch, summary: args.summary, run: caller.token.role === "agent" ? caller.token.run : undefined }),
      ),
      gt_rig_ready: tool(rigToolArgs.gt_rig_ready, ["container"], async (args, caller) => {
        // Without the lease a container may only say that it cannot serve the rig.
        if (args.epoch !== undefined || !args.error) this.requireEpoch(caller, args.epoch);
        const status: RigStatus = args.error ? "error" : "ready";
        const diskBytes = await this.serially(async () => {
          const meta = this.requireMeta();
          const next: RigMeta = { ...meta, status, ...(args.disk_bytes !== undefined ? { diskBytes: args.disk_bytes } : {}), ...(args.boundary ? { boundary: args.boundary } : {}) };
          if (args.error) {
            next.error = args.error;
            next.errorAt = meta.status === "error" ? (meta.errorAt ?? Date.now()) : Date.now();
          } else {
            delete next.error;
            delete next.errorAt;
          }
          const events = status !== meta.status ? [args.error ? this.feedEvent("rig", `clone failed: ${args.error}`, { tone: "bad" }) : this.feedEvent("rig", `rig ${meta.name} ready`, { tone: "good" })] : [];
          await this.write([{ collection: RIG_DOC.meta, key: "rig", value: next }], events);
          return next.diskBytes ?? null;
        });
        await this.work({ type: "dispatch" });
        return { status, diskBytes };
      }),
      gt_agent_started: tool(rigToolArgs.gt_agent_started, ["container"], async (args, caller) => {
        const identity = this.actingIdentity(caller, args.as);
        const reply = await this.work<{ stale: boolean }>({ type: "agent_started", identity, beadId: args.bead_id, run: args.run, epoch: args.epoch, pid: args.pid });
        if (!reply.stale) await this.noteRunStarted(identity, args.run);
        return reply;
      }),
      gt_agent_exited: tool(rigToolArgs.gt_agent_exited, ["container"], async (args, caller) => {
        const identity = this.actingIdentity(caller, args.as);
        const exit = args.reason ?? (args.signal ? `signal ${args.signal}` : `exit ${args.code ?? "?"}`);
        const current = this.records.get<Agent>(RIG_DOC.agents, identity)?.run?.id === args.run;
        const reply = await this.work({ type: "agent_exited", identity, beadId: args.bead_id, run: args.run, epoch: args.epoch, exit, lost: args.lost });
        // The current run's end was noted by the step, with the machine's words; an earlier run's (after gt_done) is noted here.
        await this.noteRunEnded(identity, args.run, exit, current);
        return reply;
      }),
      gt_agent_output: tool(rigToolArgs.gt_agent_output, ["container"], async (args, caller) => {
        this.requireEpoch(caller, args.epoch);
        const agent = this.requireAgent(args.identity);
        const known = await this.output.get(args.run);
        if (known ? known.identity !== args.identity : agent.run?.id !== args.run) {
          throw new ToolError("CONFLICT", `run ${args.run} is not ${args.identity}'s current run, nor a kept run of it`);
        }
        const { run, added, changed } = await this.output.append(args.run, args.identity, args.first, args.lines, Date.now());
        this.relayRuns(changed);
        this.relayLines(run, added);
        return { stored: added.length };
      }),
      gt_agent_log: tool(rigToolArgs.gt_agent_log, ["operator", "viewer"], async (args, caller) => {
        const scope = outputScope(caller.token, this.requireRef());
        if (!scope) throw new ToolError("FORBIDDEN", "agents' output is for operators and links that name the agent or bead");
        if (args.identity !== undefined && (scope.agent === undefined || agentName(args.identity) === scope.agent)) this.requireAgent(args.identity);
        if (args.bead_id !== undefined && (scope.bead === undefined || args.bead_id === scope.bead) && !this.records.get<Bead>(RIG_DOC.beads, args.bead_id) && !(await this.archived(args.bead_id))) {
          throw new ToolError("UNKNOWN_BEAD", `no bead ${args.bead_id} in rig ${this.requireMeta().name}`);
        }
        // A link's reads are metered (each may copy a whole ring); operators are trusted with theirs.
        if (caller.token.role === "viewer") this.rateLimit(caller, "log");
        return this.output.log(args, scope, (identity) => this.records.get<Agent>(RIG_DOC.agents, identity)?.run?.id);
      }),
      // The bead as stored right after the report (a bead reopened is dispatched again in the same step), as gt_bead_retry answers.
      gt_merge_result: tool(rigToolArgs.gt_merge_result, ["container"], async (args) => {
        const reply = await this.work<Bead>({
          type: "merge_result",
          beadId: args.bead_id,
          epoch: args.epoch,
          ok: args.ok,
          mergeCommit: args.merge_commit,
          failure: args.failure,
          error: args.error,
          conflictFiles: args.conflict_files,
        });
        return this.records.get<Bead>(RIG_DOC.beads, args.bead_id) ?? reply; // a closed bead may have left the document already
      }),
      ...(this.room.env.GT_TEST_HOOKS === "1"
        ? {
            gt_test_fault: tool(testFault, ["operator"], async (args) => {
              this.failHops = args.fail_hops ?? this.failHops;
              this.dropNotices = args.drop_notices ?? this.dropNotices;
              return { fail_hops: this.failHops, drop_notices: this.dropNotices, outbox: this.outbox.size };
            }),
            gt_test_storage: tool(z.strictObject({}), ["operator"], async () => {
              const keys = [...(await this.room.storage.list()).keys()];
              // Outbox entries come and go with deliveries (and a window's merged feed line waits for its end).
              return { keys: keys.length, outbox: keys.filter((k) => k.startsWith("outbox:")).length };
            }),
          }
        : {}),
    };
  }

  // ------------------------------------------------------------------ mail

  private async sendMail(args: z.infer<typeof rigToolArgs.gt_mail_send>, caller: Caller): Promise<MailSendResult> {
    const meta = this.requireMeta();
    const from =
      caller.token.role === "operator" && (args.as === undefined || args.as === "operator") ? "operator" : this.requireAgent(this.actingIdentity(caller, args.as)).identity;
    const fields = { id: args.id ?? newId(), from, to: args.to, subject: args.subject, body: args.body };
    // Another rig or the town goes through the town, which resolves rig names.
    return this.post.send(fields, () => routeFromRig(args.to, meta.name, this.agentMap()).kind === "local");
  }

  /** Mail for this room's recipients and the hops to the town (see PostOffice). */
  private readonly post = new PostOffice({
    collection: RIG_DOC.mail,
    storage: this.room.storage,
    isLocal: (address) => parseAddress(address)?.kind === "rig" && address.startsWith(`${this.meta?.name ?? ""}/`),
    feedLine: (mail) => `${mail.from} → ${mail.to}: ${mail.subject}`,
    get: (id) => this.records.get<Mail>(RIG_DOC.mail, id),
    all: () => this.records.values<Mail>(RIG_DOC.mail),
    write: (changes, events, extra) => this.write(changes, events, extra),
    outbox: () => this.outbox,
    feedEvent: (kind, text, about) => this.feedEvent(kind, text, about),
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
    if (entry.kind === "feed") {
      const reply = await this.callRoom("main", this.townId, "feed", entry.payload);
      return classifyReply(reply.status, reply.body);
    }
    if (entry.kind === "convoy") {
      if (this.dropNotices > 0) {
        this.dropNotices -= 1;
        return { kind: "delivered" }; // lost on the way, as far as anyone can tell
      }
      const reply = await this.callRoom("main", this.townId, "convoy_bead", entry.payload);
      return classifyReply(reply.status, reply.body);
    }
    if (entry.kind === "move") {
      const reply = await this.callRoom("main", this.townId, "bead_moved", entry.payload);
      return classifyReply(reply.status, reply.body);
    }
    return this.post.attempt(entry);
  }

  /** Unfinished beads a rig holds at most (GT_MAX_OPEN_BEADS): the rig document's ceiling. */
  private get maxOpenBeads(): number {
    const configured = Number(this.room.env.GT_MAX_OPEN_BEADS);
    return Number.isInteger(configured) && configured > 0 ? configured : LIMITS.openBeadsPerRig;
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
      if (!this.removed) void this.serially(() => this.retire()).catch((error) => console.error(`[rig/${this.roomId}] retention failed`, error));
    }, 1000);
  }

  /**
   * Keeps the document bounded: past the retention count, the longest-closed beads move
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

  /**
   * Creates a bead (idempotent by id) and dispatches it. A long body is kept whole in storage
   * (`beadbody:<id>`), the document holds a preview; past GT_MAX_OPEN_BEADS unfinished beads
   * the rig takes no more.
   */
  private async createBead(fields: Pick<Bead, "id" | "title" | "body" | "priority" | "requires"> & { convoyId?: string; reason?: string; movedFrom?: Bead["movedFrom"] }): Promise<Bead> {
    const created = await this.serially(async () => {
      const existing = this.records.get<Bead>(RIG_DOC.beads, fields.id) ?? (await this.archived(fields.id));
      if (existing) return false; // a retried create
      let unfinished = 0;
      for (const b of this.records.map<Bead>(RIG_DOC.beads).values()) if (b.status !== "closed" && b.status !== "failed") unfinished++;
      if (unfinished >= this.maxOpenBeads) throw new ToolError("CONFLICT", `rig ${this.requireMeta().name} has ${unfinished} unfinished beads; at most ${this.maxOpenBeads}`);
      const now = Date.now();
      const bytes = new TextEncoder().encode(fields.body).byteLength;
      const long = bytes > LIMITS.longTextBytes;
      const bead: Bead = { ...fields, ...(long ? { body: fields.body.slice(0, LIMITS.previewChars), bodyBytes: bytes } : {}), status: "open", createdAt: now, updatedAt: now, history: [{ at: now, status: "open", note: fields.movedFrom ? `created: moved from ${fields.movedFrom.rig}` : "created" }], historyCount: 1 };
      const what = fields.movedFrom ? `moved here from rig ${fields.movedFrom.rig}` : "created";
      await this.write([this.beadChange(bead)], [this.feedEvent("bead", `bead ${bead.id.slice(-8)} ${what}: ${bead.title}`)], long ? { put: { [`beadbody:${bead.id}`]: fields.body } } : {});
      return true;
    });
    if (created) await this.work({ type: "dispatch" });
    return this.records.get<Bead>(RIG_DOC.beads, fields.id) ?? (await this.archived(fields.id))!;
  }

  /** A bead with its whole body (the document may hold a preview of a long one). */
  private async wholeBead(bead: Bead): Promise<Bead> {
    let whole = bead;
    if (bead.bodyBytes !== undefined) {
      const body = await this.room.storage.get<string>(`beadbody:${bead.id}`);
      const { bodyBytes: _size, ...rest } = bead;
      if (body !== undefined) whole = { ...rest, body };
    }
    if ((bead.historyCount ?? 0) > (bead.history?.length ?? 0)) {
      const stored = await this.room.storage.list<BeadHistoryEntry>({ prefix: historyPrefix(bead.id) });
      if (stored.size) whole = { ...whole, history: [...stored.values()].slice(-LIMITS.historyKept) };
    }
    return whole;
  }

  /**
   * What adding escalations writes (the caller holds the serial lane and writes it in one go), the
   * document kept bounded: past LIMITS.escalationsKept, the oldest resolved ones, then the oldest
   * open ones, move to storage (`escalation-archive:<id>`); open ones moved out still count in the
   * summary (`meta.archivedOpenEscalations`, in `meta` when given: the step's own next meta).
   */
  private escalationChanges(escalations: Escalation[], meta: RigMeta = this.requireMeta()): { changes: Change[]; put: Record<string, unknown>; meta: RigMeta } {
    const live = [...this.records.values<Escalation>(RIG_DOC.escalations), ...escalations];
    const excess = live.length - LIMITS.escalationsKept;
    const out = excess > 0 ? live.sort((a, b) => (a.status === b.status ? a.createdAt - b.createdAt : a.status === "resolved" ? -1 : 1)).slice(0, excess) : [];
    const outIds = new Set(out.map((e) => e.id));
    const movedOpen = out.filter((e) => e.status === "open").length;
    const next = movedOpen ? { ...meta, archivedOpenEscalations: (meta.archivedOpenEscalations ?? 0) + movedOpen } : meta;
    const changes: Change[] = [
      ...escalations.filter((e) => !outIds.has(e.id)).map((e) => ({ collection: RIG_DOC.escalations, key: e.id, value: e })),
      ...out.filter((e) => !escalations.includes(e)).map((e) => ({ collection: RIG_DOC.escalations, key: e.id, value: null })),
    ];
    return { changes, put: Object.fromEntries(out.map((e) => [`escalation-archive:${e.id}`, e])), meta: next };
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
      case "revoke": {
        const { jti, exp } = revokeToken.parse(body);
        await this.revokeToken(jti, exp);
        return jsonResponse({ ok: true, value: null });
      }
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
          ...(args.moved_from ? { movedFrom: { rig: args.moved_from.rig, beadId: args.moved_from.bead_id } } : {}),
        });
        return jsonResponse({ ok: true, value: { id: bead.id, status: bead.status, rev: bead.rev ?? 0 } });
      }
      case "bead_states": {
        const { ids } = beadStates.parse(body);
        if (!this.meta) return errorResponse("UNKNOWN_RIG", `rig room ${this.roomId} does not exist`);
        const states: BeadState[] = [];
        for (const id of ids) {
          const bead = this.records.get<Bead>(RIG_DOC.beads, id) ?? (await this.archived(id));
          if (bead) {
            states.push({
              id,
              status: bead.status,
              title: bead.title,
              rev: bead.rev ?? 0,
              ...(bead.assignee ? { assignee: bead.assignee } : {}),
              ...(bead.failure ? { failure: bead.failure.slice(0, 300) } : {}),
              ...(bead.movedTo ? { movedTo: bead.movedTo } : {}),
            });
          }
        }
        return jsonResponse({ ok: true, value: states });
      }
      case "bead_move_out": {
        // W16: close the bead as moved (one step of the work machine, its notice to the town in the same write).
        const args = beadMoveOut.parse(body);
        const meta = this.meta;
        if (!meta || this.removed) return errorResponse("UNKNOWN_RIG", `rig room ${this.roomId} does not exist`);
        if (args.to_rig_id === meta.rigId) return errorResponse("INVALID_ARGS", `bead ${args.bead_id} is in rig ${meta.name} already`);
        // Only closed beads leave the document (retention): one of those was moved already, or is done.
        const archived = this.records.get<Bead>(RIG_DOC.beads, args.bead_id) ? undefined : await this.archived(args.bead_id);
        if (archived && !archived.movedTo) return errorResponse("CONFLICT", `bead ${args.bead_id} is closed (done); only unfinished work is moved`);
        const bead = archived ?? (await this.work<Bead>({ type: "operator_move", beadId: args.bead_id, toRig: args.to_rig, toRigId: args.to_rig_id, newBeadId: args.new_bead_id }));
        // A bead moved already answers where it went; the town tells a retry (same rig) from a second move.
        const where = bead.movedTo!;
        const notice = await this.moveNotice(bead, { toRig: where.rig, toRigId: args.to_rig_id, newBeadId: where.beadId }, meta);
        return jsonResponse({ ok: true, value: notice.payload });
      }
      case "update": {
        const args = rigUpdate.parse(body);
        const meta = this.meta;
        if (!meta) return errorResponse("UNKNOWN_RIG", `rig room ${this.roomId} does not exist`);
        if (meta.maxPolecats !== args.max_polecats) {
          await this.serially(async () => {
            const current = this.requireMeta();
            await this.write([{ collection: RIG_DOC.meta, key: "rig", value: { ...current, maxPolecats: args.max_polecats } }], [this.feedEvent("rig", `max polecats ${current.maxPolecats} → ${args.max_polecats}`)]);
          });
          await this.work({ type: "dispatch" });
        }
        return jsonResponse({ ok: true, value: null });
      }
      case "wipe": {
        if (this.summaryTimer) clearTimeout(this.summaryTimer);
        this.removed = true;
        await this.records.wipe();
        this.output.close();
        await this.room.storage.put({ "room-id": this.roomId }); // a later alarm must still know where it is
        this.lease = emptyLease();
        this.liveness.clear();
        this.closeAll(CLOSE.GONE, "rig removed");
        return jsonResponse({ ok: true, value: null });
      }
      default:
        return errorResponse("BAD_FRAME", `no internal operation ${op}`);
    }
  }

  // ------------------------------------------------------------------ agents' output

  private requireRef(): RoomRef {
    const ref = this.roomRef();
    if (!ref) throw new ToolError("UNKNOWN_RIG", `rig room ${this.roomId} does not exist (never added, or removed)`);
    return ref;
  }

  /** A run began: watchers of its agent hear of it (and of an earlier run it closed). */
  private async noteRunStarted(identity: string, run: string): Promise<void> {
    try {
      this.relayRuns(await this.output.started(run, identity, Date.now()));
    } catch (error) {
      console.error(`[rig/${this.roomId}] noting the start of run ${run} failed`, error);
    }
  }

  /** A run ended (`create`: even one that never printed): watchers of its agent hear how. */
  private async noteRunEnded(identity: string, run: string, exit: string, create: boolean): Promise<void> {
    try {
      this.relayRuns(await this.output.ended(run, identity, exit, Date.now(), create));
    } catch (error) {
      console.error(`[rig/${this.roomId}] noting the end of run ${run} failed`, error);
    }
  }

  /** Whether a watcher's token may see this run (a bead link: its bead's runs only). */
  private mayWatch(token: TokenPayload, run: Pick<RunInfo, "identity" | "beadId">): boolean {
    const ref = this.roomRef();
    const scope = ref ? outputScope(token, ref) : null;
    return scope !== null && scopeAllows(scope, run);
  }

  /** New lines of a run, to the sockets that watch its agent and may see it, each line once. */
  private relayLines(run: RunInfo, lines: OutputLine[]): void {
    if (!lines.length) return;
    for (const { connectionId, token, watch } of this.outputWatchers(run.identity)) {
      if (!watch.ready || !this.mayWatch(token, run)) continue;
      if (watch.run !== run.run) Object.assign(watch, { run: run.run, seq: 0 });
      const fresh = lines.filter((l) => l.seq > watch.seq);
      if (!fresh.length) continue;
      watch.seq = fresh.at(-1)!.seq;
      this.sendOutput(connectionId, { type: "output", run, lines: fresh });
    }
  }

  /** Runs that started or ended, to the sockets that watch their agents and may see them. */
  private relayRuns(runs: RunInfo[]): void {
    for (const run of runs) {
      for (const { connectionId, token, watch } of this.outputWatchers(run.identity)) {
        if (watch.ready && this.mayWatch(token, run)) this.sendOutput(connectionId, { type: "run", run });
      }
    }
  }

  /** An output socket's first frame: the last lines of its agent's current or latest run. */
  protected override async outputSocketReady(connection: Party.Connection, watch: OutputWatch, token: TokenPayload): Promise<void> {
    const agent = this.records.get<Agent>(RIG_DOC.agents, watch.identity);
    if (!agent) return this.closeConnection(connection.id, CLOSE.GONE, `no agent ${watch.identity} in rig ${this.meta?.name ?? this.roomId}`);
    // Its first frame is a read: a link opening sockets again and again pays for each, as gt_agent_log does.
    if (token.role === "viewer" && this.limiter.take(principalOf(token), "log", 1, Date.now()) !== null) {
      return this.closeConnection(connection.id, CLOSE.ROOM_FULL, "too many output reads for this link: try again later");
    }
    const ref = this.roomRef();
    const scope = ref ? outputScope(token, ref) : null;
    if (!scope) return this.closeConnection(connection.id, ref ? CLOSE.FORBIDDEN : CLOSE.GONE, "agents' output is for operators and links that name the agent or bead");
    try {
      const { run, lines } = await this.output.backlog(watch.identity, scope, agent.run?.id);
      Object.assign(watch, { run: run?.run ?? null, seq: lines.at(-1)?.seq ?? 0 });
      if (this.sendOutput(connection.id, { type: "output", run, lines })) watch.ready = true;
    } catch (error) {
      if (!(error instanceof ToolError)) console.error(`[rig/${this.roomId}] output backlog of ${watch.identity} failed`, error);
      this.closeConnection(connection.id, error instanceof ToolError && error.code === "UNKNOWN_RIG" ? CLOSE.GONE : 1011, "could not read the agent's output");
    }
  }

  // ------------------------------------------------------------------ the container

  /** A container socket names its container (lasting, per workspace) and session (per process). */
  protected override claimSocket(connectionId: string, token: TokenPayload, request: Request): { code: number; reason: string } | null {
    if (token.role !== "container") return null;
    const query = new URL(request.url).searchParams;
    const id = (name: string) => {
      const value = query.get(name);
      return value && /^[A-Za-z0-9_-]{1,64}$/.test(value) ? value : null;
    };
    // A client that does not say is a container of its own for this one socket.
    this.containers.set(connectionId, { container: id("container") ?? connectionId, session: id("session") ?? connectionId });
    return null;
  }

  protected override async socketReady(connection: Party.Connection, token: TokenPayload): Promise<void> {
    const who = this.containers.get(connection.id);
    if (token.role !== "container" || !who) return;
    await this.work({ type: "container_connected", connection: connection.id, ...who });
  }

  protected override socketGone(connectionId: string): void {
    if (!this.containers.delete(connectionId) || !this.meta || this.removed) return;
    void this.work({ type: "container_disconnected", connection: connectionId }).catch((error) => console.error(`[rig/${this.roomId}] disconnect`, error));
  }

  /** Sends an owed command to the lease holder, if connected; it stays owed until acknowledged. */
  private async sendCommand(command: OwedCommand): Promise<void> {
    const connection = this.lease.holder?.connection;
    if (!connection) return;
    const frame = await this.commandFrame(command);
    if (frame) this.sendTo(connection, frame);
  }

  private async commandFrame(command: OwedCommand): Promise<CommandFrame | null> {
    const meta = this.requireMeta();
    const epoch = this.lease.holder!.epoch;
    switch (command.kind) {
      case "start_agent": {
        const agent = this.records.get<Agent>(RIG_DOC.agents, command.identity);
        const live = this.records.get<Bead>(RIG_DOC.beads, command.beadId);
        if (!agent?.run || agent.run.id !== command.run || !live || !agent.branch) return null;
        const bead = await this.wholeBead(live);
        const token = await signToken(
          { role: "agent", town: meta.town, rig: meta.rigId, agent: agent.identity, run: command.run, exp: Math.floor(Date.now() / 1000) + AGENT_TOKEN_TTL_S },
          this.secret,
        );
        return {
          type: "command",
          command: "start_agent",
          id: command.id,
          epoch,
          run: command.run,
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
        return { type: "command", command: "merge", id: command.id, epoch, bead_id: command.beadId, branch: command.branch, identity: command.identity, title: bead?.title ?? command.beadId, attempt: command.attempt };
      }
      case "stop_agent":
        return { type: "command", command: "stop_agent", id: command.id, epoch, identity: command.identity, bead_id: command.beadId, run: command.run, reason: command.reason };
    }
  }

  /**
   * The town's notice that a bead left this rig (W16): what its successor needs (the whole body, not
   * the document's preview), where it goes, and its convoy, which counts the successor in its place.
   */
  private async moveNotice(bead: Bead, to: Pick<Extract<Effect, { kind: "moved" }>, "toRig" | "toRigId" | "newBeadId">, meta: RigMeta): Promise<OutboxEntry> {
    const whole = await this.wholeBead(bead);
    const payload: z.infer<typeof beadMoved> = {
      bead_id: bead.id,
      from_rig: meta.name,
      from_rig_id: meta.rigId,
      to_rig: to.toRig,
      to_rig_id: to.toRigId,
      new_bead_id: to.newBeadId,
      title: whole.title,
      body: whole.body,
      priority: whole.priority,
      requires: whole.requires,
      ...(whole.convoyId ? { convoy_id: whole.convoyId } : {}),
    };
    const now = Date.now();
    return { key: `move-${bead.id}`, kind: "move", payload, attempts: 0, createdAt: now, nextAttemptAt: now };
  }

  /**
   * An operator acknowledges (open → acknowledged: someone is on it) or resolves an escalation, live
   * or moved to storage, with an optional note (the last one is kept). A repeat answers the same,
   * with the new note if it brings one; acknowledging a resolved escalation is CONFLICT.
   */
  private updateEscalation(id: string, to: "acknowledged" | "resolved", note: string | undefined): Promise<Escalation> {
    return this.serially(async () => {
      const live = this.records.get<Escalation>(RIG_DOC.escalations, id);
      const escalation = live ?? (await this.room.storage.get<Escalation>(`escalation-archive:${id}`));
      if (!escalation) throw new ToolError("INVALID_ARGS", `no escalation ${id}`);
      if (escalation.status === "resolved" && to === "acknowledged") throw new ToolError("CONFLICT", `escalation ${id} is resolved already`);
      const repeat = escalation.status === to;
      if (repeat && (note === undefined || note === escalation.note)) return escalation;
      const next: Escalation = { ...escalation, status: to, ...(note !== undefined ? { note } : {}) };
      if (!repeat) {
        if (to === "acknowledged") next.acknowledgedAt = Date.now();
        else next.resolvedAt = Date.now();
      }
      const changes: Change[] = [];
      const put: Record<string, unknown> = {};
      if (live) changes.push({ collection: RIG_DOC.escalations, key: id, value: next });
      else {
        put[`escalation-archive:${id}`] = next;
        // The summary counts open escalations moved out of the document; this one no longer is.
        const meta = this.requireMeta();
        if (escalation.status === "open") changes.push({ collection: RIG_DOC.meta, key: "rig", value: { ...meta, archivedOpenEscalations: Math.max(0, (meta.archivedOpenEscalations ?? 0) - 1) } });
      }
      const said = note ? `: ${note.length > 200 ? `${note.slice(0, 199)}…` : note}` : "";
      const events = repeat ? [] : [this.feedEvent(`escalation_${to}`, `escalation "${escalation.title}" ${to} by the operator${said}`)];
      await this.write(changes, events, { put });
      return next;
    });
  }

  private escalation(spec: Omit<EscalationSpec, "beadId"> & { beadId?: string | undefined }): Escalation {
    const { beadId, ...rest } = spec;
    // The room's own escalations quote git and agents' output: keep them within the tool's bound.
    const body = rest.body.length > LIMITS.maxEscalationBody ? `${rest.body.slice(0, LIMITS.maxEscalationBody - 1)}…` : rest.body;
    return { ...rest, body, ...(beadId ? { beadId } : {}), id: newId(), createdAt: Date.now(), status: "open" };
  }

  private agentChange(agent: Agent): Change {
    return { collection: RIG_DOC.agents, key: agent.identity, value: agent };
  }

  private beadChange(bead: Bead): Change {
    return { collection: RIG_DOC.beads, key: bead.id, value: bead };
  }

  // ------------------------------------------------------------------ writes and the summary

  /**
   * Every write of the rig room goes through here: beads get their next `rev`, and a change to a
   * convoy bead's status or assignee owes the town a notification, stored in the same write.
   */
  private async write(changes: Change[], events: FeedEvent[] = [], extra: { put?: Record<string, unknown>; delete?: string[]; outbox?: OutboxEntry[] } = {}): Promise<void> {
    if (this.removed) throw new ToolError("UNKNOWN_RIG", `rig room ${this.roomId} was removed`);
    const { outbox: owed = [], ...stored } = extra;
    const notices: OutboxEntry[] = [...owed];
    const now = Date.now();
    const meta = this.meta;
    // Bead status changes all run on the serial lane (work steps, operator edits, retention), so
    // the hourly counters are never updated by two writes at once.
    let hours = this.closedHours;
    // Each status change's history entry is stored apart; the record keeps the last few (dispatch.ts).
    const historyPut: Record<string, unknown> = {};
    const historyDelete: string[] = [];
    const stamped = changes.map((change) => {
      if (change.collection === RIG_DOC.agents && change.value !== null) {
        const agent = change.value as Agent;
        const before = this.records.get<Agent>(RIG_DOC.agents, change.key);
        return before && before.status === agent.status ? change : { ...change, value: { ...agent, statusSince: now } };
      }
      if (change.collection !== RIG_DOC.beads || change.value === null) return change;
      const before = this.records.get<Bead>(RIG_DOC.beads, change.key);
      const bead: Bead = { ...(change.value as Bead), rev: (before?.rev ?? 0) + 1 };
      const history = historyWrites(before, bead);
      Object.assign(historyPut, history.put);
      historyDelete.push(...history.delete);
      // A moved bead closes as moved: it was not done here, so it is not counted as closed work; and
      // its convoy hears of the move instead (its `move` notice), never that it closed.
      if (bead.status === "closed" && before?.status !== "closed" && !bead.movedTo) hours = countClosed(hours, now);
      if (bead.convoyId && meta && !bead.movedTo && (bead.status !== before?.status || bead.assignee !== before?.assignee)) {
        const payload = { convoy_id: bead.convoyId, bead_id: bead.id, rig_id: meta.rigId, status: bead.status, rev: bead.rev!, ...(bead.assignee ? { assignee: bead.assignee } : {}), ...(bead.status === "failed" && bead.failure ? { failure: bead.failure.slice(0, 300) } : {}) };
        // One entry per bead: a newer notice replaces one not yet sent (the town orders by rev anyway).
        notices.push({ key: `convoy-${bead.id}`, kind: "convoy", payload, attempts: 0, createdAt: now, nextAttemptAt: now });
      }
      return { ...change, value: bead };
    });
    if (meta) notices.push(...this.townNotices(events, meta, now));
    const put = {
      ...historyPut,
      ...extra.put,
      ...Object.fromEntries(notices.map((n) => [DurableOutbox.storageKey(n.key), n])),
      ...(hours !== this.closedHours ? { "closed-hours": hours } : {}),
    };
    await this.records.write(stamped, events, { ...stored, put, delete: [...(stored.delete ?? []), ...historyDelete] });
    const counted = hours !== this.closedHours;
    this.closedHours = hours;
    for (const notice of notices) await this.outbox.added(notice);
    if (counted && !notices.length) await this.outbox.scheduleAlarm(); // wake at the next hour: the chart shifts
    if (notices.some((n) => n.nextAttemptAt <= now)) void this.outbox.flush();
    this.lastActivity = now;
    this.scheduleSummary();
    if (stamped.some((c) => c.collection === RIG_DOC.beads && (c.value as Bead | null)?.status === "closed")) this.scheduleRetire();
  }

  /**
   * The town's feed hears of this rig's failures (party/feed.ts reachesTown) through the durable
   * outbox, stored with the events themselves, so none is lost. A window lets the first few through
   * one by one; the rest become one merged line (one outbox entry, replaced as more come) sent when
   * the window ends, so an agent looping gt_escalate cannot flood the town's feed.
   */
  private townNotices(events: FeedEvent[], meta: RigMeta, now: number): OutboxEntry[] {
    const entries = new Map<string, OutboxEntry>();
    const rule = { perWindow: TOWN_NOTICES.perWindow, windowMs: this.envNumber("GT_TOWN_FEED_WINDOW_MS", TOWN_NOTICES.windowMs) };
    for (const event of events) {
      if (!reachesTown(event)) continue;
      const decision = admitNotice(this.noticeWindow, event, now, newId, rule);
      this.noticeWindow = decision.window;
      if (decision.send) {
        entries.set(`feed-${event.id}`, { key: `feed-${event.id}`, kind: "feed", payload: { rig_id: meta.rigId, event }, attempts: 0, createdAt: now, nextAttemptAt: now });
        continue;
      }
      const merged = mergedEvent(decision.window, now, meta.name);
      if (!merged) continue;
      const key = `feed-held-${merged.id}`;
      entries.set(key, { key, kind: "feed", payload: { rig_id: meta.rigId, event: merged }, attempts: 0, createdAt: now, nextAttemptAt: decision.dueAt });
    }
    return [...entries.values()];
  }

  private envNumber(name: string, fallback: number): number {
    const configured = Math.floor(Number(this.room.env[name]));
    return Number.isFinite(configured) && configured > 0 ? configured : fallback;
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
        rigId: meta.rigId,
        status: meta.status,
        error: meta.error,
        errorAt: meta.errorAt,
        beads: this.records.values<Bead>(RIG_DOC.beads),
        agents: this.records.values<Agent>(RIG_DOC.agents),
        mail: this.records.values<Mail>(RIG_DOC.mail),
        escalations: this.records.values<Escalation>(RIG_DOC.escalations),
        archivedOpenEscalations: meta.archivedOpenEscalations ?? 0,
        archivedClosed: meta.archivedClosed ?? 0,
        closedHours: this.closedHours,
        lastActivity: this.lastActivity,
        diskBytes: meta.diskBytes ?? null,
        boundary: meta.boundary,
      },
      Date.now(),
    );
    try {
      const reply = await this.callRoom("main", meta.town, "summary", { rig_id: meta.rigId, summary });
      if (reply.status >= 500) throw new Error(`town answered ${reply.status}`);
      this.summaryFailures = 0;
      this.summaryHour = hourOf(summary.updatedAt);
    } catch (error) {
      this.summaryFailures += 1;
      console.warn(`[rig/${this.roomId}] summary push failed (${this.summaryFailures})`, error);
      this.scheduleSummary(Math.min(30_000, SUMMARY_DEBOUNCE_MS * 2 ** this.summaryFailures));
    }
  }
}

function earliest(a: number | null, b: number | null): number | null {
  return a === null ? b : b === null ? a : Math.min(a, b);
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

/** What people see of the lease (rig meta), or null when no container serves the rig. */
function containerView(lease: LeaseState): ContainerView | null {
  const h = lease.holder;
  return h ? { id: h.container, epoch: h.epoch, since: h.since, connected: h.connection !== null, standbys: lease.standbys.length } : null;
}

function sameView(a: ContainerView | null, b: ContainerView | null): boolean {
  return a === b || (a !== null && b !== null && a.id === b.id && a.epoch === b.epoch && a.connected === b.connected && a.standbys === b.standbys);
}

function storedLease(lease: LeaseState): StoredLease {
  const h = lease.holder;
  return { epoch: lease.epoch, holder: h ? { container: h.container, session: h.session, epoch: h.epoch, since: h.since } : null };
}
