/**
 * LiveRoom: what the town and rig rooms share, as a part each room *has* (see ./contract.ts for
 * what passes between them). Made with the room's RoomSpec, it lends the room `services`; PartyKit's
 * class (./party.ts) hands it every handler (onStart, onConnect, onMessage, onClose, onError,
 * onRequest, onAlarm). It authorises sockets and HTTP calls with one admission rule
 * (party/access.ts), parses every frame at the boundary, dispatches tools, serves the read-only live
 * documents and makes room-to-room calls; the room's decisions live in pure modules.
 */
import type * as Party from "partykit/server";
import { admit, type Admission, type DocName, type Purpose } from "../access.ts";
import { tokenFromRequest, verifyToken } from "../auth.ts";
import { makeEvent } from "../feed.ts";
import { newId } from "../ids.ts";
import { CLOSE, PROTOCOL_VERSION, ToolError, type TokenPayload } from "../protocol.ts";
import { socketCapProblem, socketCaps, type SocketCaps } from "../socket-caps.ts";
import { RoomCalls } from "./calls.ts";
import type { LiveServices, RoomSpec } from "./contract.ts";
import { LiveDocs } from "./docs.ts";
import { ToolFrames } from "./frames.ts";
import { roomPath } from "./http.ts";
import { Requests } from "./requests.ts";
import { Revocations } from "./revocations.ts";
import { Sockets } from "./sockets.ts";
import { Tools } from "./tools.ts";

/** PartyKit's options for every live room: hibernation breaks live Yjs fan-out. */
export const LIVE_OPTIONS = { hibernate: false } as const;

export class LiveRoom {
  /** What the room may use of this one (see LiveServices). */
  readonly services: LiveServices;
  private readonly sockets: Sockets;
  private readonly revocations: Revocations;
  private readonly docs: LiveDocs;
  private readonly tools: Tools;
  private readonly frames: ToolFrames;
  private readonly calls: RoomCalls;
  private readonly requests: Requests;
  /**
   * This room's id. PartyKit refuses `room.id` inside an alarm that woke the room, so the id is
   * kept in storage (with the room's first write) and read back from there.
   */
  private roomId!: string;

  constructor(
    private readonly room: Party.Room,
    private readonly spec: RoomSpec,
  ) {
    const roomId = () => this.roomId;
    const secret = () => this.secret;
    this.sockets = new Sockets(room);
    this.tools = new Tools(spec, secret, roomId);
    this.revocations = new Revocations(room.storage, this.sockets);
    this.docs = new LiveDocs(room, spec.layout, this.sockets, this.tools.limiter, spec.derived);
    this.frames = new ToolFrames(this.sockets, (name, args, caller) => this.tools.call(name, args, caller));
    this.calls = new RoomCalls(room, secret);
    this.requests = new Requests({
      spec,
      roomId,
      secret,
      isRevoked: (jti) => this.revocations.has(jti),
      admit: (token, purpose) => this.admit(token, purpose),
      learnOrigin: (url, token) => this.calls.learnOrigin(url, token),
      callTool: (name, args, caller) => this.tools.call(name, args, caller),
    });
    const { sockets, tools } = this;
    this.services = {
      roomId,
      records: () => this.docs.records,
      secret,
      callRoom: (party, id, op, body) => this.calls.call(party, id, op, body),
      feedEvent: (kind, text, about) => makeEvent(newId(), Date.now(), kind, text, about),
      rateLimit: (caller, kind, cost) => tools.rateLimit(caller, kind, cost),
      takeRate: (token, kind) => tools.takeRate(token, kind),
      tokenRefreshTool: (stillEntitled) => tools.tokenRefreshTool(stillEntitled),
      sendTo: (connectionId, frame) => sockets.sendTo(connectionId, frame),
      pushEvent: (identity, frame) => sockets.pushEvent(identity, frame),
      outputWatchers: (identity) => sockets.outputWatchers(identity),
      sendOutput: (connectionId, frame) => sockets.sendOutput(connectionId, frame),
      closeConnection: (connectionId, code, reason) => sockets.closeConnection(connectionId, code, reason),
      closeAll: (code, reason) => sockets.closeAll(code, reason),
      revokeToken: (jti, exp) => this.revocations.revoke(jti, exp),
    };
  }

  private get secret(): string {
    const secret = this.room.env.GT_SECRET;
    if (typeof secret !== "string" || secret.length < 16) throw new ToolError("INTERNAL", "GT_SECRET is not configured");
    return secret;
  }

  async onStart(): Promise<void> {
    let id: string | undefined;
    try {
      id = this.room.id;
    } catch {
      id = await this.room.storage.get<string>("room-id");
    }
    if (!id) throw new Error("room woke without a known id");
    this.roomId = id;
    await this.calls.start();
    const { records } = this.docs;
    // A room stores nothing until something is written to it (its town creates it, an authenticated call).
    if ((await this.room.storage.get<string>("room-id")) !== id) records.withFirstWrite({ "room-id": id });
    await records.load();
    await this.revocations.load();
    this.docs.started();
    await this.spec.started?.();
  }

  async onAlarm(): Promise<void> {
    await this.spec.alarm?.();
  }

  onRequest(request: Party.Request): Promise<Response> {
    return this.requests.handle(request);
  }

  // ------------------------------------------------------------------ sockets

  onConnect(connection: Party.Connection, ctx: Party.ConnectionContext): Promise<void> {
    // Frames may arrive while the token is checked; onMessage waits for this.
    return this.sockets.admit(connection.id, this.admitSocket(connection, ctx.request as unknown as Request));
  }

  /** The room's socket caps (party/socket-caps.ts), from its environment. */
  private get caps(): SocketCaps {
    return socketCaps(this.room.env);
  }

  /** What a socket's path asks for: the room's tool socket, one of its documents, or an agent's output. */
  private purposeOf(url: string): Purpose | null {
    const rest = roomPath(url);
    if (rest === "" || rest === "/") return { kind: "tools" };
    const doc = rest.match(/^\/docs\/([a-z]+)\/?$/)?.[1];
    if (doc) return this.docs.has(doc) ? { kind: "doc", doc: doc as DocName } : null;
    // An identity holds slashes: `/output/alpha/polecats/toast`, or encoded as one segment.
    const output = rest.match(/^\/output\/(.{1,360})$/)?.[1];
    if (output === undefined || !this.spec.outputSocketReady) return null;
    try {
      return { kind: "output", identity: decodeURIComponent(output) };
    } catch {
      return null;
    }
  }

  private async admitSocket(connection: Party.Connection, request: Request): Promise<void> {
    // Bounded before any work: a flood of sockets must not cost a token check each.
    if (this.sockets.count >= this.caps.room) return connection.close(CLOSE.ROOM_FULL, "room full");
    const purpose = this.purposeOf(request.url);
    if (!purpose) return connection.close(CLOSE.GONE, "no such document in this room");
    const token = tokenFromRequest(request, "socket");
    const check = token ? await verifyToken(token, this.secret) : { ok: false as const, reason: "no token" };
    if (!check.ok) return connection.close(CLOSE.UNAUTHORIZED, check.reason);
    if (this.revocations.has(check.payload.jti)) return connection.close(CLOSE.UNAUTHORIZED, "token revoked");
    const admission = this.admit(check.payload, purpose);
    if (!admission.ok) return connection.close(admission.code === "UNKNOWN_RIG" ? CLOSE.GONE : CLOSE.FORBIDDEN, admission.message);
    await this.calls.learnOrigin(request.url, check.payload);
    if (purpose.kind === "doc") await this.docs.prepare(purpose.doc, check.payload);
    // No await from here until the socket is counted: concurrent admissions cannot all pass the caps.
    const full = socketCapProblem(this.sockets.tokens(), check.payload, this.caps);
    if (full) return connection.close(CLOSE.ROOM_FULL, full);
    const refusal = purpose.kind === "tools" ? (this.spec.claimSocket?.(connection.id, check.payload, request) ?? null) : null;
    if (refusal) return connection.close(refusal.code, refusal.reason);
    const watch = purpose.kind === "output" ? { identity: purpose.identity, ready: false, run: null, seq: 0 } : undefined;
    this.sockets.add(connection.id, {
      token: check.payload,
      purpose,
      identity: admission.identity,
      syncing: false,
      strikes: [],
      syncs: [],
      ...(watch ? { watch } : {}),
    });
    if (watch) return this.spec.outputSocketReady?.(connection, watch, check.payload);
    if (purpose.kind === "tools") {
      this.sockets.send(connection, {
        type: "hello",
        protocol: PROTOCOL_VERSION,
        room: { party: this.spec.party, id: this.roomId },
        role: check.payload.role,
        ...(admission.identity ? { identity: admission.identity } : {}),
      });
      await this.spec.socketReady?.(connection, check.payload);
    }
  }

  /** The admission rule for this room, or UNKNOWN_RIG while the room does not exist. */
  private admit(token: TokenPayload, purpose: Purpose): Admission {
    const ref = this.spec.ref();
    if (!ref) return { ok: false, code: "UNKNOWN_RIG", message: `room ${this.roomId} does not exist` };
    return admit(token, ref, purpose);
  }

  async onMessage(message: string | ArrayBuffer | ArrayBufferView, connection: Party.Connection): Promise<void> {
    await this.sockets.pending(connection.id);
    const info = this.sockets.get(connection.id);
    if (!info) return; // refused or closed while admitting
    try {
      if (info.purpose.kind === "output") {
        return this.sockets.close(connection, CLOSE.ABUSE, "an output socket carries nothing from the client");
      } else if (info.purpose.kind === "doc") {
        if (typeof message === "string") return this.sockets.close(connection, CLOSE.ABUSE, "document sockets carry y-protocols frames only");
        this.docs.frame(message, connection, info, info.purpose.doc);
      } else if (typeof message === "string") {
        await this.frames.text(message, connection, info);
      } else {
        this.frames.refuse(connection, info, null, "BAD_FRAME", "a tool socket carries JSON text frames; documents are at /docs/<name>");
      }
    } catch (error) {
      console.error(`[${this.spec.party}/${this.roomId}] frame from ${connection.id} failed`, error);
      if (info.purpose.kind === "tools")
        this.sockets.send(connection, { type: "result", id: null, ok: false, error: { code: "INTERNAL", message: "internal error" } });
    }
  }

  onClose(connection: Party.Connection): void {
    this.gone(connection);
  }

  onError(connection: Party.Connection): void {
    this.gone(connection);
  }

  private gone(connection: Party.Connection): void {
    const info = this.sockets.get(connection.id);
    this.sockets.forget(connection.id);
    if (info) this.docs.gone(info);
    this.spec.socketGone?.(connection.id);
  }
}
