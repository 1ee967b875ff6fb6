/**
 * What the town and rig rooms share: authorising sockets and HTTP calls, parsing every frame at
 * the boundary, dispatching tools, serving the read-only Yjs document, and room-to-room calls.
 * Subclasses supply the tool table and the room-to-room operations; their decisions live in pure
 * modules (mail.ts, outbox.ts, summary.ts).
 */
import type * as Party from "partykit/server";
import { z } from "zod";
import { internalKey, tokenFromRequest, verifyToken } from "./auth.ts";
import {
  CLOSE,
  ERROR_STATUS,
  LIMITS,
  PROTOCOL_VERSION,
  ToolError,
  callFrame,
  describeIssues,
  type ErrorBody,
  type ErrorCode,
  type EventFrame,
  type FeedEvent,
  type ServerFrame,
  type TokenPayload,
  type TokenRole,
} from "./protocol.ts";
import { RecordDoc, type Origin } from "./records.ts";
import { encodeUpdateMessage, handleClientSyncMessage } from "./sync.ts";
import { newId } from "./ids.ts";

/** Who is calling: the verified token, and for sockets the connection. */
export type Caller = { token: TokenPayload; connectionId?: string };

export type ToolSpec<A> = {
  schema: z.ZodType<A>;
  roles: readonly TokenRole[];
  run: (args: A, caller: Caller) => Promise<unknown>;
};

/** Declares a tool with its argument type inferred from its schema. */
export function tool<A>(schema: z.ZodType<A>, roles: readonly TokenRole[], run: (args: A, caller: Caller) => Promise<unknown>): ToolSpec<A> {
  return { schema, roles, run };
}

type SocketInfo = {
  token: TokenPayload;
  /** The mail identity this socket receives events for (agents; operators acting as one). */
  identity: string | null;
  /** Has sent sync step 1, so it receives document updates. */
  syncing: boolean;
  strikes: number[];
};

/** Authorisation outcome for a token in this room. */
export type Admission = { ok: true; identity: string | null } | { ok: false; code: "UNAUTHORIZED" | "FORBIDDEN" | "UNKNOWN_RIG"; message: string };

const JSON_HEADERS = { "content-type": "application/json" };
const HOP_TIMEOUT_MS = 5_000;

export function jsonResponse(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: JSON_HEADERS });
}

export function errorResponse(code: ErrorCode, message: string): Response {
  return jsonResponse({ ok: false, error: { code, message } satisfies ErrorBody }, ERROR_STATUS[code]);
}

export abstract class LiveRoom implements Party.Server {
  readonly options = { hibernate: false }; // hibernation breaks live Yjs fan-out
  protected records!: RecordDoc;
  private readonly sockets = new Map<string, SocketInfo>();
  private readonly admitting = new Map<string, Promise<void>>();

  constructor(readonly room: Party.Room) {}

  /** The party this class serves (`room.name` is not readable in every handler). */
  protected abstract readonly party: "main" | "rig";
  /** Town id this room belongs to. */
  abstract get townId(): string;
  protected abstract collections(): readonly string[];
  protected abstract tools(): Record<string, ToolSpec<any>>;
  /** Checks a verified token against this room's scope. */
  protected abstract admit(token: TokenPayload): Admission;
  /** Room-to-room operations (`/internal/<op>`), already authenticated. */
  protected abstract internal(op: string, body: unknown): Promise<Response>;
  /** Runs after the document was loaded from storage. */
  protected async started(): Promise<void> {}

  protected get secret(): string {
    const secret = this.room.env.GT_SECRET;
    if (typeof secret !== "string" || secret.length < 16) throw new ToolError("INTERNAL", "GT_SECRET is not configured");
    return secret;
  }

  /** Room-to-room stubs, kept from start-up: PartyKit hides them inside `onAlarm`. */
  private parties: Party.Context["parties"] | null = null;
  /** This server's own origin, learnt from requests, for room-to-room calls when no stub exists. */
  private origin: string | null = null;

  /**
   * This room's id. PartyKit refuses `room.id` inside an alarm that woke the room, so the id is
   * kept in storage the first time it is seen and read back from there.
   */
  protected roomId!: string;

  async onStart(): Promise<void> {
    let id: string | undefined;
    try {
      id = this.room.id;
    } catch {
      id = await this.room.storage.get<string>("room-id");
    }
    if (!id) throw new Error("room woke without a known id");
    this.roomId = id;
    if ((await this.room.storage.get<string>("room-id")) !== id) await this.room.storage.put({ "room-id": id });
    try {
      this.parties = this.room.context.parties;
    } catch {
      this.parties = null; // woken by an alarm: see callRoom
    }
    this.origin = (await this.room.storage.get<string>("origin")) ?? null;
    this.records = new RecordDoc(this.room.storage, this.collections());
    await this.records.load();
    this.watchDoc();
    await this.started();
  }

  // ------------------------------------------------------------------ sockets

  onConnect(connection: Party.Connection, ctx: Party.ConnectionContext): Promise<void> {
    // Frames may arrive while the token is checked; onMessage waits for this.
    const admitted = this.admitSocket(connection, ctx.request as unknown as Request);
    this.admitting.set(connection.id, admitted);
    return admitted.finally(() => this.admitting.delete(connection.id));
  }

  private get maxConnections(): number {
    const configured = Number(this.room.env.GT_MAX_CONNECTIONS);
    return Number.isInteger(configured) && configured > 0 ? configured : LIMITS.maxConnections;
  }

  private async admitSocket(connection: Party.Connection, request: Request): Promise<void> {
    // Bounded before any work: a flood of sockets must not cost a token check each.
    if (this.sockets.size + this.admitting.size >= this.maxConnections) return connection.close(CLOSE.ROOM_FULL, "room full");
    const token = tokenFromRequest(request);
    const check = token ? await verifyToken(token, this.secret) : { ok: false as const, reason: "no token" };
    if (!check.ok) return connection.close(CLOSE.UNAUTHORIZED, check.reason);
    await this.learnOrigin(request.url);
    const admission = this.admit(check.payload);
    if (!admission.ok) {
      return connection.close(admission.code === "UNKNOWN_RIG" ? CLOSE.GONE : admission.code === "UNAUTHORIZED" ? CLOSE.UNAUTHORIZED : CLOSE.FORBIDDEN, admission.message);
    }
    const refusal = this.claimSocket(connection.id, check.payload, request);
    if (refusal) return connection.close(refusal.code, refusal.reason);
    this.sockets.set(connection.id, { token: check.payload, identity: admission.identity, syncing: false, strikes: [] });
    this.send(connection, {
      type: "hello",
      protocol: PROTOCOL_VERSION,
      room: { party: this.party === "main" ? "main" : "rig", id: this.roomId },
      role: check.payload.role,
      ...(admission.identity ? { identity: admission.identity } : {}),
    });
    await this.socketReady(connection, check.payload);
  }

  /** A last say on an authorised socket (e.g. who a container is); returns a close to refuse it. */
  protected claimSocket(_connectionId: string, _token: TokenPayload, _request: Request): { code: number; reason: string } | null {
    return null;
  }

  /** Every authorised tool call with valid arguments, before it runs (e.g. an agent's progress). */
  protected noteCall(_tool: string, _caller: Caller): void {}

  /** After the hello: e.g. send a container its pending commands. */
  protected async socketReady(_connection: Party.Connection, _token: TokenPayload): Promise<void> {}

  /** A socket closed or errored. */
  protected socketGone(_connectionId: string): void {}

  async onMessage(message: string | ArrayBuffer | ArrayBufferView, connection: Party.Connection): Promise<void> {
    await this.admitting.get(connection.id);
    const info = this.sockets.get(connection.id);
    if (!info) return; // refused or closed while admitting
    try {
      if (typeof message === "string") await this.onTextFrame(message, connection, info);
      else this.onBinaryFrame(message, connection, info);
    } catch (error) {
      console.error(`[${this.party}/${this.roomId}] frame from ${connection.id} failed`, error);
      this.send(connection, { type: "result", id: null, ok: false, error: { code: "INTERNAL", message: "internal error" } });
    }
  }

  onClose(connection: Party.Connection): void {
    this.sockets.delete(connection.id);
    this.socketGone(connection.id);
  }

  onError(connection: Party.Connection): void {
    this.sockets.delete(connection.id);
    this.socketGone(connection.id);
  }

  private async onTextFrame(text: string, connection: Party.Connection, info: SocketInfo): Promise<void> {
    const bytes = text.length * 3 <= LIMITS.maxFrameBytes ? text.length : new TextEncoder().encode(text).byteLength;
    if (bytes > LIMITS.hardFrameBytes) return this.closeSocket(connection, CLOSE.TOO_LARGE, "frame too large");
    if (bytes > LIMITS.maxFrameBytes) return this.refuseFrame(connection, info, null, "TOO_LARGE", `frame is ${bytes} bytes; the limit is ${LIMITS.maxFrameBytes}`);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return this.refuseFrame(connection, info, null, "BAD_FRAME", "frame is not JSON");
    }
    const frame = callFrame.safeParse(json);
    if (!frame.success) {
      const id = typeof (json as { id?: unknown })?.id === "string" ? (json as { id: string }).id : null;
      return this.refuseFrame(connection, info, id, "BAD_FRAME", describeIssues(frame.error));
    }
    const { id, tool: name, args } = frame.data;
    const outcome = await this.callTool(name, args ?? {}, { token: info.token, connectionId: connection.id });
    if (!outcome.ok && (outcome.error.code === "UNKNOWN_TOOL" || outcome.error.code === "INVALID_ARGS")) this.strike(connection, info);
    this.send(connection, outcome.ok ? { type: "result", id, ok: true, value: outcome.value } : { type: "result", id, ok: false, error: outcome.error });
  }

  private onBinaryFrame(message: ArrayBuffer | ArrayBufferView, connection: Party.Connection, info: SocketInfo): void {
    if (info.token.role === "agent") {
      this.send(connection, { type: "result", id: null, ok: false, error: { code: "FORBIDDEN", message: "agents use JSON tool frames; binary frames are for dashboards" } });
      return this.closeSocket(connection, CLOSE.FORBIDDEN, "binary frame from an agent");
    }
    const data = message instanceof ArrayBuffer ? new Uint8Array(message) : new Uint8Array(message.buffer, message.byteOffset, message.byteLength);
    const outcome = handleClientSyncMessage(this.records.doc, data);
    switch (outcome.kind) {
      case "reply":
        info.syncing = true;
        connection.send(outcome.message);
        return;
      case "ignored":
        return;
      case "write-refused":
        this.send(connection, { type: "result", id: null, ok: false, error: { code: "FORBIDDEN", message: "live documents are read-only for clients" } });
        return this.closeSocket(connection, CLOSE.FORBIDDEN, "document is read-only");
      case "bad-frame":
        return this.refuseFrame(connection, info, null, "BAD_FRAME", outcome.reason);
    }
  }

  /** Answers a bad frame with its typed error; sustained abuse closes the socket. */
  private refuseFrame(connection: Party.Connection, info: SocketInfo, id: string | null, code: ErrorCode, message: string): void {
    this.send(connection, { type: "result", id, ok: false, error: { code, message } });
    this.strike(connection, info);
  }

  private strike(connection: Party.Connection, info: SocketInfo): void {
    const now = Date.now();
    info.strikes = info.strikes.filter((t) => now - t < LIMITS.abuseWindowMs);
    info.strikes.push(now);
    if (info.strikes.length > LIMITS.abuseStrikes) {
      this.sockets.delete(connection.id);
      connection.close(CLOSE.ABUSE, "too many bad frames");
    }
  }

  private updatesSinceRebuild = 0;

  private get rebuildAfter(): number {
    const configured = Number(this.room.env.GT_REBUILD_AFTER);
    return Number.isInteger(configured) && configured > 0 ? configured : LIMITS.rebuildAfterUpdates;
  }

  private watchDoc(): void {
    this.records.doc.on("update", (update: Uint8Array, origin: Origin | null) => {
      if (origin?.source === "storage") return; // a load or rebuild: no socket has this document yet
      this.broadcastUpdate(update);
      if (++this.updatesSinceRebuild === this.rebuildAfter) queueMicrotask(() => this.rebuildDoc());
    });
  }

  /** Swaps in a compact copy of the document and has every replicating socket sync it afresh. */
  private rebuildDoc(): void {
    this.updatesSinceRebuild = 0;
    this.records.rebuild();
    this.watchDoc();
    for (const [id, info] of this.sockets) {
      if (!info.syncing) continue;
      info.syncing = false; // until its sync step 1 for the new document
      this.sendTo(id, { type: "resync" });
    }
  }

  private broadcastUpdate(update: Uint8Array): void {
    const message = encodeUpdateMessage(update);
    for (const [id, info] of this.sockets) {
      if (info.syncing) this.room.getConnection(id)?.send(message);
    }
  }

  /** Closes a socket the room gives up on; frames it already sent are then ignored, not answered. */
  private closeSocket(connection: Party.Connection, code: number, reason: string): void {
    this.sockets.delete(connection.id);
    connection.close(code, reason);
  }

  protected send(connection: Party.Connection, frame: ServerFrame): void {
    try {
      connection.send(JSON.stringify(frame));
    } catch {
      // closed under us (the client left mid-call): nobody is there to read the reply
    }
  }

  /** Sends a frame to one socket by id; false if it is gone. */
  protected sendTo(connectionId: string, frame: ServerFrame): boolean {
    const connection = this.sockets.has(connectionId) ? this.room.getConnection(connectionId) : undefined;
    if (!connection) return false;
    this.send(connection, frame);
    return true;
  }

  /** Pushes an event to every socket that receives for `identity`. */
  protected pushEvent(identity: string, frame: EventFrame): void {
    const text = JSON.stringify(frame);
    for (const [id, info] of this.sockets) {
      if (info.identity === identity) this.room.getConnection(id)?.send(text);
    }
  }

  /** Closes one socket by id, if it is still open. */
  protected closeConnection(connectionId: string, code: number, reason: string): void {
    this.sockets.delete(connectionId);
    this.room.getConnection(connectionId)?.close(code, reason);
  }

  /** Closes every socket (the room's rig was removed). */
  protected closeAll(code: number, reason: string): void {
    for (const id of [...this.sockets.keys()]) {
      this.sockets.delete(id);
      this.room.getConnection(id)?.close(code, reason);
    }
  }

  // ------------------------------------------------------------------ tools

  async callTool(name: string, rawArgs: unknown, caller: Caller): Promise<{ ok: true; value: unknown } | { ok: false; error: ErrorBody }> {
    try {
      const tools = this.tools();
      const spec = Object.hasOwn(tools, name) ? tools[name] : undefined;
      if (!spec) throw new ToolError("UNKNOWN_TOOL", `no tool ${name} in the ${this.party === "main" ? "town" : "rig"} room`);
      if (!spec.roles.includes(caller.token.role)) throw new ToolError("FORBIDDEN", `role ${caller.token.role} may not call ${name}`);
      const args = spec.schema.safeParse(rawArgs);
      if (!args.success) throw new ToolError("INVALID_ARGS", describeIssues(args.error));
      this.noteCall(name, caller);
      return { ok: true, value: (await spec.run(args.data, caller)) ?? null };
    } catch (error) {
      if (error instanceof ToolError) return { ok: false, error: { code: error.code, message: error.message } };
      console.error(`[${this.party}/${this.roomId}] ${name} failed`, error);
      return { ok: false, error: { code: "INTERNAL", message: "internal error" } };
    }
  }

  // ------------------------------------------------------------------ HTTP

  /**
   * Remembers the server's origin (see callRoom), from authenticated requests only: the room sends
   * its internal key there, so an anonymous request's Host header must not choose it.
   */
  private async learnOrigin(url: string): Promise<void> {
    const origin = new URL(url).origin;
    if (origin === this.origin) return;
    this.origin = origin;
    await this.room.storage.put({ origin });
  }

  async onRequest(request: Party.Request): Promise<Response> {
    const req = request as unknown as Request;
    const path = new URL(req.url).pathname;
    const api = path.match(/\/api\/([A-Za-z0-9_]+)$/);
    const internal = path.match(/\/internal\/([a-z_]+)$/);
    try {
      if (api && req.method === "POST") return await this.onApiRequest(api[1]!, req);
      if (internal && req.method === "POST") return await this.onInternalRequest(internal[1]!, req);
      if (req.method === "GET" && !api && !internal) return jsonResponse({ ok: true, room: { party: this.room.name, id: this.roomId }, protocol: PROTOCOL_VERSION });
      return errorResponse("BAD_FRAME", `no route ${req.method} ${path}`);
    } catch (error) {
      if (error instanceof ToolError) return errorResponse(error.code, error.message);
      if (error instanceof z.ZodError) return errorResponse("BAD_FRAME", describeIssues(error)); // a room-to-room body
      console.error(`[${this.party}/${this.roomId}] ${req.method} ${path} failed`, error);
      return errorResponse("INTERNAL", "internal error");
    }
  }

  private async onApiRequest(name: string, req: Request): Promise<Response> {
    // The body is read before anything can refuse the call: a response sent while the request
    // body is still unread makes the runtime drop the keep-alive connection under the client.
    const body = await readBody(req);
    const token = tokenFromRequest(req);
    if (!token) return errorResponse("UNAUTHORIZED", "no token: send Authorization: Bearer <token>");
    const check = await verifyToken(token, this.secret);
    if (!check.ok) return errorResponse("UNAUTHORIZED", check.reason);
    await this.learnOrigin(req.url);
    const admission = this.admit(check.payload);
    if (!admission.ok) return errorResponse(admission.code, admission.message);
    if (!body.ok) return errorResponse(body.code, body.message);
    const outcome = await this.callTool(name, body.value, { token: check.payload });
    return outcome.ok ? jsonResponse(outcome) : jsonResponse(outcome, ERROR_STATUS[outcome.error.code]);
  }

  private async onInternalRequest(op: string, req: Request): Promise<Response> {
    // First, as in onApiRequest; room-to-room bodies wrap a client's (a mail), so they may be larger.
    const body = await readBody(req, LIMITS.hardFrameBytes);
    if (!sameSecret(req.headers.get("x-townhall-internal") ?? "", await internalKey(this.secret, this.townId))) {
      return errorResponse("UNAUTHORIZED", "room-to-room calls need the internal key");
    }
    await this.learnOrigin(req.url);
    if (!body.ok) return errorResponse(body.code, body.message);
    return this.internal(op, body.value);
  }

  /** Calls another room of this town. Throws on network failure; returns the parsed reply. */
  protected async callRoom(party: "main" | "rig", roomId: string, op: string, body: unknown): Promise<{ status: number; body: any }> {
    const init = {
      // A hung hop must not hang the caller: after this the mail waits in the outbox instead.
      signal: AbortSignal.timeout(HOP_TIMEOUT_MS),
      method: "POST",
      headers: { "content-type": "application/json", "x-townhall-internal": await internalKey(this.secret, this.townId) },
      body: JSON.stringify(body),
    };
    let response: Response;
    if (this.parties) {
      const stub = this.parties[party]?.get(roomId);
      if (!stub) throw new Error(`no party ${party}`);
      response = (await stub.fetch(`/internal/${op}`, init)) as unknown as Response;
    } else if (this.origin) {
      // A room woken by its alarm after a restart has no stubs at all (a PartyKit limitation),
      // so its outbox reaches the other room through the server's own address instead.
      response = await fetch(`${this.origin}/parties/${party}/${encodeURIComponent(roomId)}/internal/${op}`, init);
    } else {
      throw new Error("no route to other rooms yet (no request seen since start)");
    }
    const text = await response.text();
    let parsed: unknown = null;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = { ok: false, error: { code: "INTERNAL", message: text.slice(0, 200) } };
    }
    return { status: response.status, body: parsed };
  }

  protected feedEvent(kind: string, text: string): FeedEvent {
    return { id: newId(), at: Date.now(), kind, text };
  }
}

/** Compares secrets in time independent of where they differ. */
function sameSecret(given: string, expected: string): boolean {
  let difference = given.length ^ expected.length;
  for (let i = 0; i < expected.length; i++) difference |= (given.charCodeAt(i) || 0) ^ expected.charCodeAt(i);
  return difference === 0;
}

async function readBody(req: Request, limit: number = LIMITS.maxFrameBytes): Promise<{ ok: true; value: unknown } | { ok: false; code: ErrorCode; message: string }> {
  // Read even an oversize body (up to the hard limit): answering before the client finished
  // sending makes the runtime reset the connection, and the client sees no typed error at all.
  const length = Number(req.headers.get("content-length") ?? 0);
  if (length > LIMITS.hardFrameBytes) return { ok: false, code: "TOO_LARGE", message: `body is ${length} bytes; the limit is ${limit}` };
  const text = await req.text();
  if (new TextEncoder().encode(text).byteLength > limit) return { ok: false, code: "TOO_LARGE", message: `the limit is ${limit} bytes` };
  if (text.trim() === "") return { ok: true, value: {} };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false, code: "BAD_FRAME", message: "body is not JSON" };
  }
}
