/**
 * The rig room (party `rig`, room id `<townId>.<rigId>`): one rig's beads, agents and mail, as a
 * live document, and the tools its agents and its container call. It decides nothing itself: its
 * PartyKit hooks, sockets and alarm become events of the work machine (party/work/), which run one
 * at a time as step → store → effects (steps.ts). Around it: the tools (tools.ts), the store, the
 * one writer (store/), the effects (effects.ts), room-to-room operations (ops.ts), the agents'
 * output relay (relay.ts), the summary push (summary-push.ts) and the configuration (config.ts).
 */
import type * as Party from "partykit/server";
import { principalOf, type RoomRef } from "../access.ts";
import { hourlyWake } from "../hours.ts";
import { rigIdsReply } from "../internal.ts";
import { LiveRoom, callRoomThrough, gate, type Caller, type OutputWatch, type ToolSpec } from "../live-room.ts";
import type { PostOffice } from "../post-office.ts";
import { RIG_DOC, parseAddress, type TokenPayload } from "../protocol.ts";
import type { DocLayout } from "../records.ts";
import { RigDirectory, rigRoomIdParts } from "../rig-directory.ts";
import { checkRunToken, nextWake } from "../work/index.ts";
import { rigEnv, type RigEnv } from "./config.ts";
import { Effects } from "./effects.ts";
import { RigOps } from "./ops.ts";
import { Relay } from "./relay.ts";
import { Steps, type RigParts } from "./steps.ts";
import { RigStore } from "./store/index.ts";
import { SummaryPush } from "./summary-push.ts";
import { rigTools } from "./tools.ts";

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

  protected readonly party = "rig";
  private readonly store = new RigStore(this.room.storage, () => this.records, () => this.roomId, () => this.env, () => this.secret);
  private readonly summary = new SummaryPush(this.store, (town, body) => this.callRoom("main", town, "summary", body), () => this.roomId);
  private readonly relay = new Relay({
    output: this.store.output,
    roomRef: () => this.roomRef(),
    roomId: () => this.roomId,
    rigName: () => this.store.meta()?.name ?? null,
    currentRun: (identity) => {
      const agent = this.store.agent(identity);
      return agent ? agent.run?.id : null;
    },
    outputWatchers: (identity) => this.outputWatchers(identity),
    sendOutput: (connectionId, frame) => this.sendOutput(connectionId, frame),
    closeConnection: (connectionId, code, reason) => this.closeConnection(connectionId, code, reason),
    takeRead: (token) => this.limiter.take(principalOf(token), "log", 1, Date.now()) === null,
  });
  /** Mail for this room's recipients and the hops to the town (see PostOffice). */
  private readonly post: PostOffice = this.store.postOffice({
    isLocal: (address) => parseAddress(address)?.kind === "rig" && address.startsWith(`${this.store.meta()?.name ?? ""}/`),
    feedLine: (mail) => `${mail.from} → ${mail.to}: ${mail.subject}`,
    write: async (changes, events, extra) => this.effects.written(await this.store.write(changes, events, extra)),
    feedEvent: (kind, text, about) => this.feedEvent(kind, text, about),
    pushEvent: (identity, frame) => this.pushEvent(identity, frame),
    hop: (mail) => this.ops.hopMail(mail),
  });
  private readonly effects: Effects = new Effects({
    store: this.store,
    post: () => this.post,
    relay: this.relay,
    summary: this.summary,
    env: () => this.env,
    secret: () => this.secret,
    sendTo: (connectionId, frame) => this.sendTo(connectionId, frame),
    closeConnection: (connectionId, code, reason) => this.closeConnection(connectionId, code, reason),
    retireSoon: () => this.retireSoon(),
  });
  private readonly steps = new Steps(this.store, this.effects);
  /** What every part of the wiring is handed. */
  private readonly parts: RigParts = { store: this.store, steps: this.steps, post: () => this.post, roomId: () => this.roomId };
  private readonly ops: RigOps = new RigOps({
    ...this.parts,
    effects: this.effects,
    summary: this.summary,
    townId: () => this.townId,
    callRoom: (party, roomId, op, body) => this.callRoom(party, roomId, op, body),
    revokeToken: (jti, exp) => this.revokeToken(jti, exp),
    closeAll: (code, reason) => this.closeAll(code, reason),
  });
  /** Who each container socket is: its lasting container id and its process's session. */
  private readonly containers = new Map<string, { container: string; session: string }>();
  private retireTimer: ReturnType<typeof setTimeout> | null = null;

  get townId(): string {
    return this.roomId.split(".")[0] ?? "";
  }

  private get env(): RigEnv {
    return rigEnv(this.room.env);
  }

  protected override async started(): Promise<void> {
    await this.store.load();
    const settle = this.post.settle.bind(this.post);
    await this.store.openOutbox(
      (entry) => this.ops.attemptHop(entry),
      (entry, outcome) => (entry.kind === "mail" ? settle(entry, outcome) : Promise.resolve()),
      () => (this.store.meta() && !this.store.removed ? earliest(nextWake(this.store.workState(), Date.now()), hourlyWake(this.store.closedHours, Date.now())) : null),
    );
    if (!this.store.meta()) return;
    // A restarted room gives every run and the lease holder a full deadline from now.
    await this.steps.work({ type: "room_started" });
    // After a restart the town may hold an older summary: push a fresh one. Waking the town also
    // wakes the town's other rigs, whose outboxes may hold mail (see TownRoom.wakeRigs).
    this.summary.schedule();
    void this.callRoom("main", this.store.requireMeta().town, "wake", {}).catch(() => {});
  }

  async onAlarm(): Promise<void> {
    await this.store.outbox.flush();
    if (!this.store.meta() || this.store.removed) return;
    await this.steps.work({ type: "tick" });
    this.summary.scheduleIfHourRolled(Date.now());
  }

  /** This rig for the admission rule (party/access.ts), once its town has created it. */
  protected roomRef(): RoomRef | null {
    const meta = this.store.meta();
    return meta && !this.store.removed ? { party: "rig", town: meta.town, rigId: meta.rigId, rigName: meta.name } : null;
  }

  protected docLayout(): DocLayout {
    return { docs: { rig: [RIG_DOC.meta, RIG_DOC.beads, RIG_DOC.agents, RIG_DOC.mail, RIG_DOC.escalations] }, events: "rig" };
  }

  protected tools(): Record<string, ToolSpec<any>> {
    return rigTools({
      ...this.parts,
      ops: this.ops,
      relay: this.relay,
      env: () => this.env,
      roomRef: () => this.roomRef(),
      rateLimit: (caller, kind) => this.rateLimit(caller, kind),
      tokenRefreshTool: (stillEntitled) => this.tokenRefreshTool(stillEntitled),
    });
  }

  protected internal(op: string, body: unknown): Promise<Response> {
    return this.ops.internal(op, body);
  }

  /** W21: a process of a run that is over must not act for the agent's next run. */
  protected override checkCaller(name: string, caller: Caller): void {
    const { role, agent, run } = caller.token;
    if (role !== "agent" || run === undefined || !agent) return;
    checkRunToken(this.store.agent(agent), run, name);
  }

  /** An agent's own tool call is progress; its run's liveness is the machine's to track (W4). */
  protected override noteCall(name: string, caller: Caller): void {
    if (caller.token.role !== "agent" || name === "gt_heartbeat" || !caller.token.agent) return;
    if (!this.store.agent(caller.token.agent)?.run) return;
    void this.steps.work({ type: "agent_activity", identity: caller.token.agent, run: caller.token.run }).catch(() => {});
  }

  protected override outputSocketReady(connection: Party.Connection, watch: OutputWatch, token: TokenPayload): Promise<void> {
    return this.relay.socketReady(connection, watch, token);
  }

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
    await this.steps.work({ type: "container_connected", connection: connection.id, ...who });
  }

  protected override socketGone(connectionId: string): void {
    if (!this.containers.delete(connectionId) || !this.store.meta() || this.store.removed) return;
    void this.steps.work({ type: "container_disconnected", connection: connectionId }).catch((error) => console.error(`[rig/${this.roomId}] disconnect`, error));
  }

  /**
   * Retention scans every bead, so it runs at most once a second, not after every close (a room
   * of 100k beads closing hundreds a second would spend its time scanning).
   */
  private retireSoon(): void {
    if (this.retireTimer || !this.store.retireDue()) return;
    this.retireTimer = setTimeout(() => {
      this.retireTimer = null;
      if (this.store.removed) return;
      void this.steps
        .serially(async () => {
          if (await this.store.retire()) this.retireSoon();
        })
        .catch((error) => console.error(`[rig/${this.roomId}] retention failed`, error));
    }, 1000);
  }
}

function earliest(a: number | null, b: number | null): number | null {
  return a === null ? b : b === null ? a : Math.min(a, b);
}
