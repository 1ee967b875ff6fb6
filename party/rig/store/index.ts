/**
 * The rig room's store: the one writer of its storage and documents. It keeps the rig's records
 * (through RecordDoc), the lease and the runs' liveness, and stores a step of the work machine in
 * one write: records stamped (a bead's `rev`, an agent's `statusSince`, each history entry apart),
 * escalations given their ids and kept bounded, feed lines made events, and the notices to the town
 * (convoy changes, moves, failures) stored with what they tell. It returns those notices rather than
 * sending them; the room's effects do.
 */
import { AgentOutput } from "../../agent-output.ts";
import { AuditLog, type AuditDraft, type Staged } from "../../audit.ts";
import { DurableOutbox, type AlarmStorage } from "../../durable-outbox.ts";
import { makeEvent, type NoticeWindow } from "../../feed.ts";
import { countClosed, type HourlyCounts } from "../../hours.ts";
import { newId } from "../../ids.ts";
import type { Attempt, OutboxEntry } from "../../outbox.ts";
import { PostOffice, type PostOfficeHost } from "../../post-office.ts";
import { cut } from "../../attention.ts";
import {
  LIMITS,
  RIG_DOC,
  ToolError,
  type AuditWho,
  type Agent,
  type Bead,
  type BeadHistoryPage,
  type Escalation,
  type FeedEvent,
  type Mail,
} from "../../protocol.ts";
import type { Change, RecordDoc } from "../../records.ts";
import { escalationRecord, type LeaseState, type Liveness, type Transition, type WorkState } from "../../work/index.ts";
import { workConfig, type RigEnv } from "../config.ts";
import { archived, archivedEscalationChange, beadCountUpperBound, escalationChanges, historyPage, retire, wholeBead, withPreview } from "./archive.ts";
import { KEYS, historyWrites } from "./keys.ts";
import { loadedLease, rigState, storedLease, withContainer, withRig, type RigMeta, type StoredLease } from "./meta.ts";
import { convoyNotice, moveNotice, townNotices, usageNotice } from "./notices.ts";
import { countRun, emptyUsage, spentOf, type RunUsage, type StoredUsage } from "./usage.ts";

export type { RigMeta } from "./meta.ts";

/** What a write stored besides records, for the room's effects to act on. */
export type Written = {
  /** Outbox entries stored with it: the outbox must hear of them, and send those due. */
  notices: OutboxEntry[];
  /** A closing was counted: the town's chart moves on at the next hour. */
  counted: boolean;
  /** A bead closed: retention may have work. */
  closed: boolean;
};

type Extra = {
  put?: Record<string, unknown>;
  delete?: string[];
  outbox?: OutboxEntry[];
  convoy?: ReadonlySet<string>;
  closings?: number;
  /** The rig's usage sums with this write's runs counted (W22): stored, and the town told the day's totals. */
  usage?: StoredUsage;
  /** The operator's action this write carries out, in the audit trail (party/audit.ts). */
  audit?: Staged;
  /** Feed lines this write replaces (an agent's earlier nudge line). */
  dropEvents?: string[];
};

/** Who did an operator's action, and what it was: recorded in the same write as the action. */
export type AuditOf = { who: AuditWho; drafts: AuditDraft[] };

export class RigStore {
  /** The container lease (its lasting part also in storage) and the runs' liveness (memory only). */
  lease: LeaseState = loadedLease(undefined);
  readonly liveness = new Map<string, Liveness>();
  /** Beads closed per hour, the last 24 hours, written with each closing bead. */
  closedHours: HourlyCounts = {};
  /** The rig's usage sums (store/usage.ts), written with each run's usage. */
  usage: StoredUsage = emptyUsage(Date.now());
  lastActivity: number | null = null;
  /** Set once the room is wiped: a call still in flight must not write into the empty room. */
  removed = false;
  /** This window's failures told to the town one by one, and those held back to be told as one line. */
  private noticeWindow: NoticeWindow | null = null;
  /** What the agents printed, per run (party/agent-output.ts); redacted again here, and of the town's secret too. */
  readonly output: AgentOutput;
  outbox!: DurableOutbox;
  /** Who did what: operators' actions on this rig, kept in this room's storage (party/audit.ts). */
  readonly audit: AuditLog;

  constructor(
    private readonly storage: AlarmStorage,
    private readonly doc: () => RecordDoc,
    private readonly roomId: () => string,
    private readonly env: () => RigEnv,
    secret: () => string,
  ) {
    this.output = new AgentOutput(storage, () => [secret()]);
    this.audit = new AuditLog(storage);
  }

  // ---------------------------------------------------------------- reads

  meta(): RigMeta | undefined {
    return this.doc().get<RigMeta>(RIG_DOC.meta, "rig");
  }

  requireMeta(): RigMeta {
    const meta = this.meta();
    if (!meta) throw new ToolError("UNKNOWN_RIG", `rig room ${this.roomId()} does not exist (never added, or removed)`);
    return meta;
  }

  bead(id: string): Bead | undefined {
    return this.doc().get<Bead>(RIG_DOC.beads, id);
  }

  agent(identity: string): Agent | undefined {
    return this.doc().get<Agent>(RIG_DOC.agents, identity);
  }

  escalation(id: string): Escalation | undefined {
    return this.doc().get<Escalation>(RIG_DOC.escalations, id);
  }

  beads(): Bead[] {
    return this.doc().values<Bead>(RIG_DOC.beads);
  }

  agents(): Agent[] {
    return this.doc().values<Agent>(RIG_DOC.agents);
  }

  escalations(): Escalation[] {
    return this.doc().values<Escalation>(RIG_DOC.escalations);
  }

  mails(): Mail[] {
    return this.doc().values<Mail>(RIG_DOC.mail);
  }

  /** What the work machine steps from: the records as they are, the lease, the liveness, the rig. */
  workState(meta: RigMeta = this.requireMeta()): WorkState {
    const doc = this.doc();
    return {
      beads: doc.map<Bead>(RIG_DOC.beads),
      agents: doc.map<Agent>(RIG_DOC.agents),
      escalations: doc.map<Escalation>(RIG_DOC.escalations),
      lease: this.lease,
      liveness: this.liveness,
      config: workConfig(meta, this.env()),
      rig: rigState(meta),
      spent: spentOf(this.usage, Date.now()),
    };
  }

  /** Whether a run's usage was counted already (W22: a repeated exit report counts it once). */
  async usageCounted(run: string): Promise<boolean> {
    return (await this.storage.get<RunUsage>(KEYS.runUsage(run))) !== undefined;
  }

  /** A bead live, or moved out by retention. */
  async anyBead(id: string): Promise<Bead | undefined> {
    return this.bead(id) ?? (await archived(this.storage, id));
  }

  archived(id: string): Promise<Bead | undefined> {
    return archived(this.storage, id);
  }

  /** An escalation live, or moved out by retention. */
  async anyEscalation(id: string): Promise<Escalation | undefined> {
    return this.escalation(id) ?? (await this.archivedEscalation(id));
  }

  archivedEscalation(id: string): Promise<Escalation | undefined> {
    return this.storage.get<Escalation>(KEYS.escalationArchive(id));
  }

  wholeBead(bead: Bead): Promise<Bead> {
    return wholeBead(this.storage, bead);
  }

  /** A page of a bead's whole status history (gt_bead_history). */
  beadHistory(bead: Bead, before: number | undefined, limit: number): Promise<BeadHistoryPage> {
    return historyPage(this.storage, bead, before, limit);
  }

  async checkpoint(agent: Agent): Promise<string | null> {
    return (await this.storage.get<string>(KEYS.checkpoint(agent))) ?? null;
  }

  /** The room's storage at a glance (a test hook): its keys, and how many are outbox entries. */
  async keyCounts(): Promise<{ keys: number; outbox: number }> {
    const keys = [...(await this.storage.list()).keys()];
    return { keys: keys.length, outbox: keys.filter((k) => k.startsWith(KEYS.outboxPrefix)).length };
  }

  /** The town's notice of a bead that moved out (W16), with its whole body. */
  async moveNotice(bead: Bead, to: { toRig: string; toRigId: string; newBeadId: string }, meta: RigMeta): Promise<OutboxEntry> {
    return moveNotice(await this.wholeBead(bead), { name: meta.name, rigId: meta.rigId }, to, Date.now());
  }

  // ---------------------------------------------------------------- what else keeps storage

  /** The room's durable outbox, loaded: `attempt` delivers, `settle` records a final outcome, `otherWake` shares the alarm. */
  async openOutbox(
    attempt: (entry: OutboxEntry) => Promise<Attempt>,
    settle: (entry: OutboxEntry, outcome: Exclude<Attempt, { kind: "retry" }>) => Promise<void>,
    otherWake: () => number | null,
  ): Promise<void> {
    this.outbox = new DurableOutbox(this.storage, attempt, settle, otherWake);
    await this.outbox.load();
  }

  /** The room's mail, kept in this store; `write` is the room's (a store write and its effects). */
  postOffice(host: Omit<PostOfficeHost, "collection" | "storage" | "get" | "all" | "outbox">): PostOffice {
    const get = (id: string) => this.doc().get<Mail>(RIG_DOC.mail, id);
    return new PostOffice({ ...host, collection: RIG_DOC.mail, storage: this.storage, get, all: () => this.mails(), outbox: () => this.outbox });
  }

  // ---------------------------------------------------------------- writes

  async load(): Promise<void> {
    this.closedHours = (await this.storage.get<HourlyCounts>(KEYS.closedHours)) ?? {};
    this.usage = (await this.storage.get<StoredUsage>(KEYS.usage)) ?? emptyUsage(Date.now());
    this.lease = loadedLease(await this.storage.get<StoredLease>(KEYS.lease));
    await this.audit.load();
    const events = this.doc().events;
    this.lastActivity = events.length ? events.get(events.length - 1).at : null;
  }

  /** A new rig's records: its meta and first agents, and the feed line that says so. */
  createRig(meta: RigMeta, agents: Agent[], line: string): Promise<Written> {
    const changes: Change[] = [
      { collection: RIG_DOC.meta, key: "rig", value: meta },
      ...agents.map((a) => ({ collection: RIG_DOC.agents, key: a.identity, value: a })),
    ];
    return this.write(changes, [makeEvent(newId(), Date.now(), "rig", line)]);
  }

  async saveCheckpoint(agent: Agent, data: string): Promise<void> {
    await this.storage.put({ [KEYS.checkpoint(agent)]: data });
  }

  /** One step of the work machine, in one write; the lease and liveness it changed kept. */
  async commit(t: Transition, now: number, audit?: AuditOf): Promise<Written> {
    const meta = this.requireMeta();
    const changes: Change[] = [...t.beads.map((b) => change(RIG_DOC.beads, b.id, b)), ...t.agents.map((a) => change(RIG_DOC.agents, a.identity, a))];
    const raised = t.effects.flatMap((e) => (e.kind === "escalate" ? [escalationRecord({ ...e.escalation, id: e.escalation.id ?? newId() }, now)] : []));
    const added = escalationChanges(this.escalations(), raised, meta);
    const put: Record<string, unknown> = { ...added.put };
    changes.push(...added.changes);
    let next = added.meta;
    for (const escalation of t.escalations) {
      if (this.escalation(escalation.id)) changes.push(change(RIG_DOC.escalations, escalation.id, escalation));
      else {
        const stored = await archivedEscalationChange(this.storage, escalation, next);
        Object.assign(put, stored.put);
        next = stored.meta;
      }
    }
    if (t.rig) next = withRig(next, t.rig);
    next = withContainer(next, t.lease);
    if (next !== meta) changes.push(change(RIG_DOC.meta, "rig", next));
    const dropEvents: string[] = [];
    const events = t.effects.flatMap((e) => {
      if (e.kind !== "feed") return [];
      const event = makeEvent(newId(), now, e.feed, e.text, { tone: e.tone, bead: e.bead, agent: e.agent });
      return [e.nudge && e.agent ? this.nudgeLine(event, e.agent, e.nudge, dropEvents) : event];
    });
    if (t.effects.some((e) => e.kind === "persist_lease")) put[KEYS.lease] = storedLease(t.lease);
    // A moved bead's notice to the town is stored with the bead's close (W16): the move completes even if the town crashes.
    const outbox: OutboxEntry[] = [];
    for (const e of t.effects)
      if (e.kind === "moved")
        outbox.push(
          await this.moveNotice(
            t.beads.find((b) => b.id === e.beadId)!,
            e,
            meta,
          ),
        );
    const convoy = new Set(t.effects.flatMap((e) => (e.kind === "convoy" ? [e.beadId] : [])));
    const closings = t.effects.filter((e) => e.kind === "closed").length;
    // Each run's usage under its own key, in the same write as its bead's sum and the rig's sums (W22).
    let usage: StoredUsage | undefined;
    for (const e of t.effects) {
      if (e.kind !== "usage") continue;
      put[KEYS.runUsage(e.run)] = { run: e.run, identity: e.identity, beadId: e.beadId, at: now, usage: e.usage } satisfies RunUsage;
      usage = countRun(usage ?? this.usage, e.usage, now);
    }
    const staged = audit?.drafts.length ? this.audit.stage(audit.who, audit.drafts, now) : undefined;
    const any = changes.length || events.length || Object.keys(put).length || outbox.length || staged;
    const written = any
      ? await this.write(changes, events, { put, outbox, convoy, closings, dropEvents, ...(usage ? { usage } : {}), ...(staged ? { audit: staged } : {}) }, now)
      : { notices: [], counted: false, closed: false };
    this.lease = t.lease;
    for (const [identity, live] of t.liveness) {
      if (live) this.liveness.set(identity, live);
      else this.liveness.delete(identity);
    }
    return written;
  }

  /**
   * A line about the witness's nudge of `agent` (W8): one per agent in the rig's feed. It replaces
   * the agent's last nudge line (its id goes to `drop`), carrying the count on: a new nudge adds
   * one, its delivery does not. The text says the count once there was more than one.
   */
  private nudgeLine(event: FeedEvent, agent: string, nudge: "sent" | "delivered", drop: string[]): FeedEvent {
    const events = this.doc().events;
    let previous: FeedEvent | undefined;
    for (let i = events.length - 1; i >= 0 && !previous; i--) {
      const e = events.get(i);
      if (e.agent === agent && e.nudges !== undefined && !drop.includes(e.id)) previous = e;
    }
    if (previous) drop.push(previous.id);
    const nudges = Math.max(1, (previous?.nudges ?? 0) + (nudge === "sent" ? 1 : 0));
    return { ...event, nudges, text: nudges > 1 ? cut(`${event.text} (${nudges} nudges so far)`, LIMITS.feedText) : event.text };
  }

  /**
   * Every write of the rig room goes through here: records stamped (a bead's next `rev` and its
   * history entries, an agent's `statusSince`, a new bead's long body kept apart), closings counted,
   * and the notices to the town (convoy beads in `extra.convoy`, the feed's failures) stored with it.
   */
  async write(changes: Change[], events: FeedEvent[] = [], extra: Extra = {}, now = Date.now()): Promise<Written> {
    if (this.removed) throw new ToolError("UNKNOWN_RIG", `rig room ${this.roomId()} was removed`);
    const { outbox: owed = [], convoy = new Set<string>(), closings = 0, usage, audit, dropEvents = [], ...stored } = extra;
    const notices: OutboxEntry[] = [...owed];
    const meta = this.meta();
    const put: Record<string, unknown> = {};
    const del: string[] = [];
    let closed = false;
    const stamped = changes.map((c) => {
      if (c.collection === RIG_DOC.agents && c.value !== null) {
        const before = this.agent(c.key);
        return before && before.status === (c.value as Agent).status ? c : { ...c, value: { ...(c.value as Agent), statusSince: now } };
      }
      if (c.collection !== RIG_DOC.beads || c.value === null) return c;
      const before = this.bead(c.key);
      const preview = before ? { record: c.value as Bead, put: {} } : withPreview(c.value as Bead);
      const bead: Bead = { ...preview.record, rev: (before?.rev ?? 0) + 1 };
      const history = historyWrites(before, bead);
      Object.assign(put, preview.put, history.put);
      del.push(...history.delete);
      if (bead.status === "closed") closed = true;
      if (convoy.has(bead.id) && meta) notices.push(convoyNotice(bead, meta.rigId, now));
      return { ...c, value: bead };
    });
    let hours = this.closedHours;
    for (let i = 0; i < closings; i++) hours = countClosed(hours, now);
    // The town's daily totals hear the day's sums (one entry per day, a newer one replacing it: the town keeps the largest).
    if (usage && meta) notices.push(usageNotice(meta.rigId, usage, now));
    if (meta) {
      const told = townNotices(events, this.noticeWindow, meta, now, this.env().townFeedWindowMs);
      this.noticeWindow = told.window;
      notices.push(...told.entries);
    }
    Object.assign(put, stored.put, audit?.put, Object.fromEntries(notices.map((n) => [DurableOutbox.storageKey(n.key), n])));
    if (hours !== this.closedHours) put[KEYS.closedHours] = hours;
    if (usage) put[KEYS.usage] = usage;
    await this.doc().write(stamped, events, { put, delete: [...(stored.delete ?? []), ...del], dropEvents });
    await audit?.commit();
    const counted = hours !== this.closedHours;
    this.closedHours = hours;
    if (usage) this.usage = usage;
    this.lastActivity = now;
    return { notices, counted, closed };
  }

  /** Whether retention may have work: more beads than it keeps (counted cheaply, from above). */
  retireDue(): boolean {
    return beadCountUpperBound(this.doc().map<Bead>(RIG_DOC.beads)) > this.env().retainClosed;
  }

  /**
   * Retention keeps the document bounded: past GT_RETAIN_CLOSED, the longest-closed beads move to
   * storage, one batch per call. Returns whether more are left.
   */
  retire(): Promise<boolean> {
    return retire(this.doc(), () => this.requireMeta(), this.env().retainClosed);
  }

  /** The rig was removed: every record and key goes (the room's id stays), and memory with them. */
  async wipe(): Promise<void> {
    this.removed = true;
    await this.doc().wipe();
    this.output.close();
    await this.storage.put({ [KEYS.roomId]: this.roomId() });
    this.lease = loadedLease(undefined);
    this.liveness.clear();
    this.usage = emptyUsage(Date.now());
  }
}

function change(collection: string, key: string, value: object): Change {
  return { collection, key, value };
}
