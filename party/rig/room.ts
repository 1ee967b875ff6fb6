/**
 * The rig room (party `rig`, room id `<townId>.<rigId>`): one rig's beads, agents and mail, as a
 * live document, and the tools its agents and its container call. It decides nothing itself: it
 * is wiring around the LiveRoom it has (party/live/; PartyKit's class is made by liveParty), whose
 * hooks, sockets and alarm become events of the work machine (party/work/), which run one at a
 * time as step → store → effects (steps.ts). Around it: the tools (tools.ts), the store, the one
 * writer (store/), the effects (effects.ts), room-to-room operations (ops.ts), the agents' output
 * relay (relay.ts), the summary push (summary-push.ts) and the configuration (config.ts).
 */
import type * as Party from "partykit/server";
import type { RoomRef } from "../access.ts";
import { hourlyWake } from "../hours.ts";
import { rigIdsReply } from "../internal.ts";
import { LiveRoom, liveParty, callRoomThrough, type Caller, type Refusal, type ToolTable } from "../live/index.ts";
import type { PostOffice } from "../post-office.ts";
import { RIG_DOC, parseAddress, type TokenPayload } from "../protocol.ts";
import { RigDirectory, rigRoomIdParts } from "../rig-directory.ts";
import { budgetWake, checkRunToken, nextWake } from "../work/index.ts";
import { rigEnv, type RigEnv } from "./config.ts";
import { Effects } from "./effects.ts";
import { RigOps } from "./ops.ts";
import { Relay } from "./relay.ts";
import { Steps, type RigParts } from "./steps.ts";
import { RigStore } from "./store/index.ts";
import { usageWake } from "./store/usage.ts";
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

class RigRoom {
  readonly live: LiveRoom;
  private readonly store: RigStore;
  private readonly summary: SummaryPush;
  private readonly relay: Relay;
  /** Mail for this room's recipients and the hops to the town (see PostOffice). */
  private readonly post: PostOffice;
  private readonly effects: Effects;
  private readonly steps: Steps;
  /** What every part of the wiring is handed. */
  private readonly parts: RigParts;
  private readonly ops: RigOps;
  /** Who each container socket is: its lasting container id and its process's session. */
  private readonly containers = new Map<string, { container: string; session: string }>();
  private retireTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly room: Party.Room) {
    this.live = new LiveRoom(room, {
      party: "rig",
      layout: { docs: { rig: [RIG_DOC.meta, RIG_DOC.beads, RIG_DOC.agents, RIG_DOC.mail, RIG_DOC.escalations] }, events: "rig" },
      ref: () => this.ref(),
      tools: () => this.tools(),
      internal: (op, body) => this.ops.internal(op, body),
      started: () => this.started(),
      alarm: () => this.alarm(),
      checkCaller: (name, caller) => this.checkCaller(name, caller),
      noteCall: (name, caller) => this.noteCall(name, caller),
      claimSocket: (connectionId, token, request) => this.claimSocket(connectionId, token, request),
      socketReady: (connection, token) => this.socketReady(connection, token),
      socketGone: (connectionId) => this.socketGone(connectionId),
      outputSocketReady: (connection, watch, token) => this.relay.socketReady(connection, watch, token),
    });
    const live = this.live.services;
    // The store is handed the room's storage and records here, once: the one writer of both.
    this.store = new RigStore(room.storage, live.records, live.roomId, () => this.env, live.secret);
    const store = this.store;
    this.summary = new SummaryPush(store, (town, body) => live.callRoom("main", town, "summary", body), live.roomId);
    this.relay = new Relay({
      output: store.output,
      roomRef: () => this.ref(),
      roomId: live.roomId,
      rigName: () => store.meta()?.name ?? null,
      currentRun: (identity) => {
        const agent = store.agent(identity);
        return agent ? agent.run?.id : null;
      },
      outputWatchers: live.outputWatchers,
      sendOutput: live.sendOutput,
      closeConnection: live.closeConnection,
      takeRead: (token) => live.takeRate(token, "log"),
    });
    this.post = store.postOffice({
      isLocal: (address) => parseAddress(address)?.kind === "rig" && address.startsWith(`${store.meta()?.name ?? ""}/`),
      feedLine: (mail) => `${mail.from} → ${mail.to}: ${mail.subject}`,
      write: async (changes, events, extra) => this.effects.written(await store.write(changes, events, extra)),
      feedEvent: live.feedEvent,
      pushEvent: live.pushEvent,
      hop: (mail) => this.ops.hopMail(mail),
    });
    this.effects = new Effects({
      store,
      post: () => this.post,
      relay: this.relay,
      summary: this.summary,
      env: () => this.env,
      secret: live.secret,
      sendTo: live.sendTo,
      closeConnection: live.closeConnection,
      retireSoon: () => this.retireSoon(),
    });
    this.steps = new Steps(store, this.effects);
    this.parts = { store, steps: this.steps, post: () => this.post, roomId: live.roomId };
    this.ops = new RigOps({
      ...this.parts,
      effects: this.effects,
      summary: this.summary,
      townId: () => this.townId,
      callRoom: live.callRoom,
      revokeToken: live.revokeToken,
      closeAll: live.closeAll,
    });
  }

  private get townId(): string {
    return this.live.services.roomId().split(".")[0] ?? "";
  }

  private get env(): RigEnv {
    return rigEnv(this.room.env);
  }

  private async started(): Promise<void> {
    await this.store.load();
    const settle = this.post.settle.bind(this.post);
    await this.store.openOutbox(
      (entry) => this.ops.attemptHop(entry),
      (entry, outcome) => (entry.kind === "mail" ? settle(entry, outcome) : Promise.resolve()),
      () =>
        this.store.meta() && !this.store.removed
          ? [
              nextWake(this.store.workState(), Date.now()),
              hourlyWake(this.store.closedHours, Date.now()),
              // The usage chart shifts each hour; a held rig looks again when the UTC day turns (W22).
              usageWake(this.store.usage, Date.now()),
              budgetWake(this.store.workState(), Date.now()),
            ].reduce(earliest, null)
          : null,
    );
    if (!this.store.meta()) return;
    // A restarted room gives every run and the lease holder a full deadline from now.
    await this.steps.work({ type: "room_started" });
    // After a restart the town may hold an older summary: push a fresh one. Waking the town also
    // wakes the town's other rigs, whose outboxes may hold mail (see RigTools.wakeAll).
    this.summary.schedule();
    void this.live.services.callRoom("main", this.store.requireMeta().town, "wake", {}).catch(() => {});
  }

  private async alarm(): Promise<void> {
    await this.store.outbox.flush();
    if (!this.store.meta() || this.store.removed) return;
    await this.steps.work({ type: "tick" });
    this.summary.scheduleIfHourRolled(Date.now());
  }

  private tools(): ToolTable {
    const { rateLimit, tokenRefreshTool } = this.live.services;
    return rigTools({ ...this.parts, ops: this.ops, relay: this.relay, env: () => this.env, roomRef: () => this.ref(), rateLimit, tokenRefreshTool });
  }

  /** This rig for the admission rule (party/access.ts), once its town has created it. */
  private ref(): RoomRef | null {
    const meta = this.store.meta();
    return meta && !this.store.removed ? { party: "rig", town: meta.town, rigId: meta.rigId, rigName: meta.name } : null;
  }

  /** W21: a process of a run that is over must not act for the agent's next run. */
  private checkCaller(name: string, caller: Caller): void {
    const { role, agent, run } = caller.token;
    if (role !== "agent" || run === undefined || !agent) return;
    checkRunToken(this.store.agent(agent), run, name);
  }

  /** An agent's own tool call is progress; its run's liveness is the machine's to track (W4). */
  private noteCall(name: string, caller: Caller): void {
    if (caller.token.role !== "agent" || name === "gt_heartbeat" || !caller.token.agent) return;
    if (!this.store.agent(caller.token.agent)?.run) return;
    void this.steps.work({ type: "agent_activity", identity: caller.token.agent, run: caller.token.run }).catch(() => {});
  }

  /** A container socket names its container (lasting, per workspace) and session (per process). */
  private claimSocket(connectionId: string, token: TokenPayload, request: Request): Refusal | null {
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

  private async socketReady(connection: Party.Connection, token: TokenPayload): Promise<void> {
    const who = this.containers.get(connection.id);
    if (token.role !== "container" || !who) return;
    await this.steps.work({ type: "container_connected", connection: connection.id, ...who });
  }

  private socketGone(connectionId: string): void {
    if (!this.containers.delete(connectionId) || !this.store.meta() || this.store.removed) return;
    void this.steps
      .work({ type: "container_disconnected", connection: connectionId })
      .catch((error) => console.error(`[rig/${this.live.services.roomId()}] disconnect`, error));
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
        .catch((error) => console.error(`[rig/${this.live.services.roomId()}] retention failed`, error));
    }, 1000);
  }
}

function earliest(a: number | null, b: number | null): number | null {
  return a === null ? b : b === null ? a : Math.min(a, b);
}

export default liveParty((room) => new RigRoom(room).live, rigRoomExists);
