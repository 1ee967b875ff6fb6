/**
 * What the town and rig rooms share: the gate before a room (tokens and body sizes checked before
 * any room starts or reads a body), authorising sockets and HTTP calls with one admission rule
 * (party/access.ts), parsing every frame at the boundary, dispatching tools, serving the read-only
 * live documents, and room-to-room calls. Subclasses supply the tool table, their documents and the
 * room-to-room operations; their decisions live in pure modules.
 *
 * Sockets come in two kinds, by path:
 *   /parties/<party>/<room>                 tool socket: JSON frames (hello, calls, results, events, commands)
 *   /parties/<party>/<room>/docs/<name>     document socket: y-protocols frames only (sync, awareness)
 *   /parties/rig/<room>/output/<identity>   output socket: one agent's output, JSON frames server → client only
 */
import type * as Party from "partykit/server";
import type * as Y from "yjs";
import { z } from "zod";
import { admit, principalOf, type Admission, type DocName, type Purpose, type RoomRef } from "./access.ts";
import { bodyDigest, checkInternal, sameString, signInternal, signToken, tokenFromRequest, verifyToken } from "./auth.ts";
import { RateLimiter, type RateKind } from "./limits.ts";
import { socketCapProblem, socketCaps, type SocketCaps } from "./socket-caps.ts";
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
  type OutputFrame,
  type ServerFrame,
  type TokenPayload,
  type TokenRefreshResult,
  type TokenRole,
  MAX_TOKEN_LIFETIME_S,
} from "./protocol.ts";
import { RecordDoc, type DocLayout, type Origin } from "./records.ts";
import { AWARENESS_NONE, encodeUpdateMessage, handleClientSyncMessage } from "./sync.ts";
import { newId } from "./ids.ts";
import { makeEvent, type FeedAbout } from "./feed.ts";

export type { Admission } from "./access.ts";

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
  purpose: Purpose;
  /** The mail identity this socket receives events for (agents; operators acting as one). */
  identity: string | null;
  /** A document socket that sent sync step 1: it receives the document's updates. */
  syncing: boolean;
  strikes: number[];
  /** When it asked for the whole document (its first sync is free). */
  syncs: number[];
  /** When its awareness frame was last answered (document sockets; see AWARENESS_NONE). */
  awarenessAnsweredAt?: number;
  /** An output socket: the agent it watches; `ready` once its first frame went out (see OutputWatch). */
  watch?: OutputWatch;
};

/**
 * What an output socket was last sent, so each line reaches it once and in order: the run and the
 * seq of its last line. Lines are relayed only once `ready` (its first frame is out).
 */
export type OutputWatch = { identity: string; ready: boolean; run: string | null; seq: number };

const JSON_HEADERS = { "content-type": "application/json" };
const HOP_TIMEOUT_MS = 5_000;

export function jsonResponse(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { ...JSON_HEADERS, ...headers } });
}

export function errorResponse(code: ErrorCode, message: string, retryAfter?: number, headers: Record<string, string> = {}): Response {
  const body: ErrorBody = { code, message, ...(retryAfter !== undefined ? { retry_after: retryAfter } : {}) };
  return jsonResponse({ ok: false, error: body }, ERROR_STATUS[code], { ...(retryAfter !== undefined ? { "retry-after": String(retryAfter) } : {}), ...headers });
}

/** `/parties/<party>/<room>[/rest]` → the rest ("" for the room itself). */
function roomPath(url: string): string {
  const path = new URL(url).pathname;
  const match = path.match(/^\/parties\/[^/]+\/[^/]+(\/.*)?$/);
  return match?.[1] ?? "";
}

/**
 * The id of a frame that is not JSON as a whole (cut short, or oversize and broken), read from its
 * first 200 characters only: `{"type":"call","id":"…"` or `{"id":"…"`, as clients write call
 * frames, so the id is the frame's own and not one nested in its args. Null when it does not start so.
 */
export function leadingId(text: string): string | null {
  const match = /^\s*\{\s*(?:"type"\s*:\s*"call"\s*,\s*)?"id"\s*:\s*"([^"\\\x00-\x1f]{1,64})"/.exec(text.slice(0, 200));
  return match?.[1] ?? null;
}

/** A document socket's awareness is answered at most this often (providers send theirs every 15 s). */
const AWARENESS_ANSWER_MS = 4_000;

/** How long after a restart or a rebuild the room counts first syncs as its own asking. */
const ROOM_ASKED_SYNC_MS = 15_000;

/** The town of a room id: the town room's id, or the part of a rig room's id before the dot. */
function townOfRoom(roomId: string): string {
  return roomId.split(".")[0] ?? "";
}

/**
 * The gate, run by PartyKit before a request or socket reaches a room (onBeforeRequest,
 * onBeforeConnect): no room starts, no storage is touched and no body is read for a caller without
 * a token signed for this town, nor for a room that `exists` says is not there (a rig room the
 * town's registry does not know: 404, close 4404). HTTP bodies are counted as they arrive (a declared
 * length over the limit is refused at once). A refused socket is accepted by the worker itself and
 * closed with its code (4401, 4403, 4404), so a client can read why (a refused handshake tells a
 * browser nothing).
 */
export async function gate(req: Party.Request, lobby: Party.Lobby, kind: "http" | "socket", exists?: RoomExists): Promise<Request | Response> {
  const request = req as unknown as Request;
  const secret = lobby.env.GT_SECRET;
  if (typeof secret !== "string" || secret.length < 16) return errorResponse("INTERNAL", "GT_SECRET is not configured");
  const town = townOfRoom(lobby.id);
  const rest = roomPath(request.url);
  const internalOp = kind === "http" ? rest.match(/^\/internal\/([a-z_]+)$/)?.[1] : undefined;
  if (internalOp) {
    // The signature is checked before the body is read; the body must then be the one it signed.
    const signed = await checkInternal(request.headers.get("x-townhall-internal"), secret, lobby.id, internalOp);
    if (!signed.ok) return errorResponse("UNAUTHORIZED", signed.reason);
    return withCountedBody(request, LIMITS.hardFrameBytes, signed.digest);
  }
  const token = tokenFromRequest(request, kind);
  const check = token ? await verifyToken(token, secret) : ({ ok: false, reason: kind === "http" ? "no token: send Authorization: Bearer <token>" : "no token" } as const);
  const refusal = !check.ok ? { status: "UNAUTHORIZED" as const, close: CLOSE.UNAUTHORIZED, reason: check.reason } : check.payload.town !== town ? { status: "FORBIDDEN" as const, close: CLOSE.FORBIDDEN, reason: `token is for town ${check.payload.town}` } : null;
  if (refusal) return kind === "socket" ? refusedSocket(refusal.close, refusal.reason) : errorResponse(refusal.status, refusal.reason);
  // A room that does not exist is not started (it would create its storage): 404 for any token.
  if (exists) {
    let known: boolean;
    try {
      known = await exists(lobby, secret);
    } catch (error) {
      console.warn(`[gate] could not learn whether room ${lobby.id} exists`, error);
      const reason = "could not learn whether this room exists: try again";
      return kind === "socket" ? refusedSocket(1011, reason) : errorResponse("INTERNAL", reason);
    }
    if (!known) return kind === "socket" ? refusedSocket(CLOSE.GONE, `room ${lobby.id} does not exist`) : errorResponse("UNKNOWN_RIG", `room ${lobby.id} does not exist (never added, or removed)`);
  }
  return kind === "socket" ? request : withCountedBody(request, LIMITS.maxFrameBytes);
}

/** Whether the room a request names exists, asked by the gate before the room starts (see RigRoom). */
export type RoomExists = (lobby: Party.Lobby, secret: string) => Promise<boolean>;

/**
 * A socket refused at the gate still learns why: the worker accepts it itself and closes it with the
 * typed code (a refused handshake would tell a browser nothing, and its client would retry for good).
 */
function refusedSocket(code: number, reason: string): Response {
  const pair = new WebSocketPair();
  const [client, server] = Object.values(pair) as [WebSocket, WebSocket & { accept(): void }];
  server.accept();
  server.close(code, reason);
  return new Response(null, { status: 101, webSocket: client } as ResponseInit);
}

/**
 * The request with its body read here, counting as it arrives: past `limit` bytes the rest is not
 * read and the answer is 413. What passes on to the room is at most `limit` bytes, already whole (a
 * stream the gate cut short would reach the room as a body that merely ended early).
 */
async function withCountedBody(request: Request, limit: number, digest?: string): Promise<Request | Response> {
  if (!request.body) return digest === undefined || digest === (await bodyDigest("")) ? request : errorResponse("UNAUTHORIZED", "the body is not the one signed");
  const declared = Number(request.headers.get("content-length") ?? NaN);
  if (declared > limit) return errorResponse("TOO_LARGE", `body is ${declared} bytes; the limit is ${limit}`);
  const read = await readLimited(request.body, limit);
  if (!read) return errorResponse("TOO_LARGE", `the limit is ${limit} bytes`);
  if (digest !== undefined && !sameString(await bodyDigest(read), digest)) return errorResponse("UNAUTHORIZED", "the body is not the one signed");
  return new Request(request, { body: read as Uint8Array<ArrayBuffer> });
}

/** The stream's bytes, or null as soon as they pass `limit` (the rest is never read). */
async function readLimited(body: ReadableStream<Uint8Array>, limit: number): Promise<Uint8Array | null> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      return null;
    }
    chunks.push(value);
  }
  return concat(chunks, size);
}

export abstract class LiveRoom implements Party.Server {
  static onBeforeRequest(req: Party.Request, lobby: Party.Lobby): Promise<Request | Response> {
    return gate(req, lobby, "http");
  }

  static onBeforeConnect(req: Party.Request, lobby: Party.Lobby): Promise<Request | Response> {
    return gate(req, lobby, "socket");
  }

  readonly options = { hibernate: false }; // hibernation breaks live Yjs fan-out
  protected records!: RecordDoc;
  private readonly sockets = new Map<string, SocketInfo>();
  private readonly admitting = new Map<string, Promise<void>>();
  protected readonly limiter = new RateLimiter();
  /** Revoked token ids (share links), until they would have expired anyway. */
  private readonly revoked = new Map<string, number>();
  private expiryTimer: ReturnType<typeof setTimeout> | null = null;
  private nextExpiry = Infinity;

  constructor(readonly room: Party.Room) {}

  /** The party this class serves (`room.name` is not readable in every handler). */
  protected abstract readonly party: "main" | "rig";
  /** Town id this room belongs to. */
  abstract get townId(): string;
  /** This room for the admission rule; null while a rig room does not exist (never added, or removed). */
  protected abstract roomRef(): RoomRef | null;
  /** The room's live documents and the collections in each. */
  protected abstract docLayout(): DocLayout;
  protected abstract tools(): Record<string, ToolSpec<any>>;
  private toolTable: Record<string, ToolSpec<any>> | null = null;
  /** Room-to-room operations (`/internal/<op>`), already authenticated. */
  protected abstract internal(op: string, body: unknown): Promise<Response>;
  /** Runs after the documents were loaded from storage. */
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
   * kept in storage (with the room's first write) and read back from there.
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
    try {
      this.parties = this.room.context.parties;
    } catch {
      this.parties = null; // woken by an alarm: see callRoom
    }
    this.origin = (await this.room.storage.get<string>("origin")) ?? null;
    this.records = new RecordDoc(this.room.storage, this.docLayout());
    // A room stores nothing until something is written to it (its town creates it, an authenticated call).
    if ((await this.room.storage.get<string>("room-id")) !== id) this.records.withFirstWrite({ "room-id": id });
    await this.records.load();
    for (const [jti, exp] of await this.room.storage.list<number>({ prefix: "revoked:" })) this.revoked.set(jti.slice("revoked:".length), exp);
    for (const name of this.records.docs.keys()) this.watchDoc(name);
    this.startedAt = Date.now();
    await this.started();
  }

  // ------------------------------------------------------------------ sockets

  onConnect(connection: Party.Connection, ctx: Party.ConnectionContext): Promise<void> {
    // Frames may arrive while the token is checked; onMessage waits for this.
    const admitted = this.admitSocket(connection, ctx.request as unknown as Request);
    this.admitting.set(connection.id, admitted);
    return admitted.finally(() => this.admitting.delete(connection.id));
  }

  /** The room's socket caps (party/socket-caps.ts), from its environment. */
  private get caps(): SocketCaps {
    return socketCaps(this.room.env);
  }

  /** What a socket's path asks for: the room's tool socket, or one of its documents. */
  private purposeOf(url: string): Purpose | null {
    const rest = roomPath(url);
    if (rest === "" || rest === "/") return { kind: "tools" };
    const doc = rest.match(/^\/docs\/([a-z]+)\/?$/)?.[1];
    if (doc) return this.records.docs.has(doc) ? { kind: "doc", doc: doc as DocName } : null;
    // An identity holds slashes: `/output/alpha/polecats/toast`, or encoded as one segment.
    const output = rest.match(/^\/output\/(.{1,360})$/)?.[1];
    if (output === undefined || this.party !== "rig") return null;
    try {
      return { kind: "output", identity: decodeURIComponent(output) };
    } catch {
      return null;
    }
  }

  private async admitSocket(connection: Party.Connection, request: Request): Promise<void> {
    // Bounded before any work: a flood of sockets must not cost a token check each.
    if (this.sockets.size + this.admitting.size >= this.caps.room) return connection.close(CLOSE.ROOM_FULL, "room full");
    const purpose = this.purposeOf(request.url);
    if (!purpose) return connection.close(CLOSE.GONE, "no such document in this room");
    const token = tokenFromRequest(request, "socket");
    const check = token ? await verifyToken(token, this.secret) : { ok: false as const, reason: "no token" };
    if (!check.ok) return connection.close(CLOSE.UNAUTHORIZED, check.reason);
    if (this.revoked.has(check.payload.jti)) return connection.close(CLOSE.UNAUTHORIZED, "token revoked");
    const admission = this.admit(check.payload, purpose);
    if (!admission.ok) return connection.close(admission.code === "UNKNOWN_RIG" ? CLOSE.GONE : CLOSE.FORBIDDEN, admission.message);
    await this.learnOrigin(request.url, check.payload);
    // No await from here until the socket is counted: concurrent admissions cannot all pass the caps.
    const full = socketCapProblem(this.openTokens(), check.payload, this.caps);
    if (full) return connection.close(CLOSE.ROOM_FULL, full);
    const refusal = purpose.kind === "tools" ? this.claimSocket(connection.id, check.payload, request) : null;
    if (refusal) return connection.close(refusal.code, refusal.reason);
    const watch = purpose.kind === "output" ? { identity: purpose.identity, ready: false, run: null, seq: 0 } : undefined;
    this.sockets.set(connection.id, { token: check.payload, purpose, identity: admission.identity, syncing: false, strikes: [], syncs: [], ...(watch ? { watch } : {}) });
    this.watchExpiry(check.payload.exp);
    if (watch) return this.outputSocketReady(connection, watch, check.payload);
    if (purpose.kind === "tools") {
      this.send(connection, {
        type: "hello",
        protocol: PROTOCOL_VERSION,
        room: { party: this.party === "main" ? "main" : "rig", id: this.roomId },
        role: check.payload.role,
        ...(admission.identity ? { identity: admission.identity } : {}),
      });
      await this.socketReady(connection, check.payload);
    }
  }

  /** The tokens of the sockets this room holds open (what socket caps count). */
  private *openTokens(): Iterable<TokenPayload> {
    for (const info of this.sockets.values()) yield info.token;
  }

  /** The admission rule for this room, or UNKNOWN_RIG while the room does not exist. */
  protected admit(token: TokenPayload, purpose: Purpose): Admission {
    const ref = this.roomRef();
    if (!ref) return { ok: false, code: "UNKNOWN_RIG", message: `room ${this.roomId} does not exist` };
    return admit(token, ref, purpose);
  }

  /** A last say on an authorised tool socket (e.g. who a container is); returns a close to refuse it. */
  protected claimSocket(_connectionId: string, _token: TokenPayload, _request: Request): { code: number; reason: string } | null {
    return null;
  }

  /** A last say on an authorised call with valid arguments: throws a ToolError to refuse it. */
  protected checkCaller(_tool: string, _caller: Caller): void {}

  /** Every authorised tool call with valid arguments, before it runs (e.g. an agent's progress). */
  protected noteCall(_tool: string, _caller: Caller): void {}

  /** After the hello: e.g. send a container its pending commands. */
  protected async socketReady(_connection: Party.Connection, _token: TokenPayload): Promise<void> {}

  /** A socket closed or errored. */
  protected socketGone(_connectionId: string): void {}

  /**
   * An admitted output socket: send its first frame and mark it `ready`. Rooms without agents'
   * output have none to show.
   */
  protected async outputSocketReady(connection: Party.Connection, _watch: OutputWatch, _token: TokenPayload): Promise<void> {
    this.closeConnection(connection.id, CLOSE.GONE, "no agents' output in this room");
  }

  /** The output sockets watching `identity`, for a relay of new lines. */
  protected outputWatchers(identity: string): { connectionId: string; token: TokenPayload; watch: OutputWatch }[] {
    const watchers: { connectionId: string; token: TokenPayload; watch: OutputWatch }[] = [];
    for (const [connectionId, info] of this.sockets) if (info.watch?.identity === identity) watchers.push({ connectionId, token: info.token, watch: info.watch });
    return watchers;
  }

  /** Sends a frame to one output socket by id; false if it is gone. */
  protected sendOutput(connectionId: string, frame: OutputFrame): boolean {
    const connection = this.sockets.get(connectionId)?.watch ? this.room.getConnection(connectionId) : undefined;
    if (!connection) return false;
    this.send(connection, frame);
    return true;
  }

  async onMessage(message: string | ArrayBuffer | ArrayBufferView, connection: Party.Connection): Promise<void> {
    await this.admitting.get(connection.id);
    const info = this.sockets.get(connection.id);
    if (!info) return; // refused or closed while admitting
    try {
      if (info.purpose.kind === "output") {
        return this.closeSocket(connection, CLOSE.ABUSE, "an output socket carries nothing from the client");
      } else if (info.purpose.kind === "doc") {
        if (typeof message === "string") return this.closeSocket(connection, CLOSE.ABUSE, "document sockets carry y-protocols frames only");
        this.onSyncFrame(message, connection, info, info.purpose.doc);
      } else if (typeof message === "string") {
        await this.onTextFrame(message, connection, info);
      } else {
        this.refuseFrame(connection, info, null, "BAD_FRAME", "a tool socket carries JSON text frames; documents are at /docs/<name>");
      }
    } catch (error) {
      console.error(`[${this.party}/${this.roomId}] frame from ${connection.id} failed`, error);
      if (info.purpose.kind === "tools") this.send(connection, { type: "result", id: null, ok: false, error: { code: "INTERNAL", message: "internal error" } });
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
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      const id = leadingId(text);
      return this.refuseFrame(connection, info, id, bytes > LIMITS.maxFrameBytes ? "TOO_LARGE" : "BAD_FRAME", bytes > LIMITS.maxFrameBytes ? `frame is ${bytes} bytes; the limit is ${LIMITS.maxFrameBytes}` : "frame is not JSON");
    }
    const id = typeof (json as { id?: unknown })?.id === "string" ? ((json as { id: string }).id.slice(0, 64) || null) : null;
    if (bytes > LIMITS.maxFrameBytes) return this.refuseFrame(connection, info, id, "TOO_LARGE", `frame is ${bytes} bytes; the limit is ${LIMITS.maxFrameBytes}`);
    const frame = callFrame.safeParse(json);
    if (!frame.success) return this.refuseFrame(connection, info, id, "BAD_FRAME", describeIssues(frame.error));
    const outcome = await this.callTool(frame.data.tool, frame.data.args ?? {}, { token: info.token, connectionId: connection.id });
    if (!outcome.ok && (outcome.error.code === "UNKNOWN_TOOL" || outcome.error.code === "INVALID_ARGS")) this.strike(connection, info);
    this.send(connection, outcome.ok ? { type: "result", id: frame.data.id, ok: true, value: outcome.value } : { type: "result", id: frame.data.id, ok: false, error: outcome.error });
  }

  private onSyncFrame(message: ArrayBuffer | ArrayBufferView, connection: Party.Connection, info: SocketInfo, doc: DocName): void {
    const data = message instanceof ArrayBuffer ? new Uint8Array(message) : new Uint8Array(message.buffer, message.byteOffset, message.byteLength);
    // Every sync step 1 is answered with the whole document, so full syncs are metered before one
    // is encoded: per socket (its first is free; asking again and again closes it for good, 4420),
    // and for a share link across all its sockets (opening sockets again and again is no way round
    // the first: past its budget a socket is told to come back later, 4429, as a team on one link
    // opening at once would be). Operators and containers are trusted with their documents.
    let refusal: { code: number; reason: string } | null = null;
    const mayReply = () => {
      const now = Date.now();
      info.syncs = info.syncs.filter((t) => now - t < 60_000);
      if (info.syncing && info.syncs.length >= LIMITS.syncsPerMinute) refusal = { code: CLOSE.TOO_MANY_SYNCS, reason: "too many full syncs on this socket" };
      else if (info.syncing || info.token.role !== "viewer" || this.syncAskedByRoom(doc, principalOf(info.token), now)) refusal = null;
      else if (this.limiter.take(principalOf(info.token), "sync", 1, now) !== null) refusal = { code: CLOSE.ROOM_FULL, reason: "too many full syncs for this link: try again later" };
      if (refusal) return false;
      if (info.syncing) info.syncs.push(now);
      info.syncing = true;
      return true;
    };
    const outcome = handleClientSyncMessage(this.records.docs.get(doc)!, data, mayReply);
    switch (outcome.kind) {
      case "reply":
        connection.send(outcome.message);
        return;
      case "sync-refused": {
        const { code, reason } = refusal ?? { code: CLOSE.TOO_MANY_SYNCS, reason: "too many full syncs" };
        return this.closeSocket(connection, code, reason);
      }
      case "ignored":
        return;
      case "awareness": {
        // Answered at most once per AWARENESS_ANSWER_MS per socket: it keeps a provider's connection
        // open, and a client that floods awareness gets no more than that back.
        const now = Date.now();
        if (now - (info.awarenessAnsweredAt ?? 0) < AWARENESS_ANSWER_MS) return;
        info.awarenessAnsweredAt = now;
        connection.send(AWARENESS_NONE);
        return;
      }
      case "write-refused":
        return this.closeSocket(connection, CLOSE.FORBIDDEN, "live documents are read-only for clients");
      case "diverged":
        return this.closeSocket(connection, CLOSE.DOC_DIVERGED, outcome.reason);
      case "bad-frame":
        // A document socket has no error frames: a provider never sends an undecodable frame.
        return this.closeSocket(connection, CLOSE.ABUSE, outcome.reason);
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
    if (info.strikes.length > LIMITS.abuseStrikes) this.closeSocket(connection, CLOSE.ABUSE, "too many bad frames");
  }

  private readonly updatesSinceRebuild = new Map<string, number>();
  /**
   * Full syncs the room asked for never count against a client's meter: for a while after the room
   * started, every socket's first sync; after a rebuild, as many first syncs per principal as the
   * rebuild closed sockets of it.
   */
  private startedAt = 0;
  private readonly owedSyncs = new Map<string, { until: number; byPrincipal: Map<string, number> }>();

  private syncAskedByRoom(doc: string, principal: string, now: number): boolean {
    if (now - this.startedAt < ROOM_ASKED_SYNC_MS) return true;
    const owed = this.owedSyncs.get(doc);
    if (!owed || now > owed.until) return false;
    const left = owed.byPrincipal.get(principal) ?? 0;
    if (left <= 0) return false;
    owed.byPrincipal.set(principal, left - 1);
    return true;
  }

  private get rebuildAfter(): number {
    const configured = Number(this.room.env.GT_REBUILD_AFTER);
    return Number.isInteger(configured) && configured > 0 ? configured : LIMITS.rebuildAfterUpdates;
  }

  private watchDoc(name: string): void {
    this.records.docs.get(name)!.on("update", (update: Uint8Array, origin: Origin | null) => {
      if (origin?.source === "storage") return; // a load or rebuild: no socket has this document yet
      this.broadcastUpdate(name, update);
      const n = (this.updatesSinceRebuild.get(name) ?? 0) + 1;
      this.updatesSinceRebuild.set(name, n);
      if (n === this.rebuildAfter) queueMicrotask(() => void this.rebuildDoc(name));
    });
  }

  private readonly rebuilding = new Set<string>();

  /**
   * Swaps in a compact copy of a document, the next lineage (counted in storage first); its sockets
   * reconnect and sync the new one afresh (a standard provider's old replica is handed over).
   */
  private async rebuildDoc(name: string): Promise<void> {
    if (this.rebuilding.has(name)) return;
    this.rebuilding.add(name);
    try {
      await this.records.rebuild(name);
    } catch (error) {
      console.error(`rebuilding document ${name} failed; it is tried again later`, error);
      this.updatesSinceRebuild.set(name, 0);
      return;
    } finally {
      this.rebuilding.delete(name);
    }
    this.updatesSinceRebuild.set(name, 0);
    this.watchDoc(name);
    const owed = new Map<string, number>();
    for (const [id, info] of [...this.sockets]) {
      if (info.purpose.kind !== "doc" || info.purpose.doc !== name) continue;
      const principal = principalOf(info.token);
      owed.set(principal, (owed.get(principal) ?? 0) + 1);
      this.closeConnection(id, CLOSE.DOC_REPLACED, "document replaced: sync again");
    }
    this.owedSyncs.set(name, { until: Date.now() + ROOM_ASKED_SYNC_MS, byPrincipal: owed });
  }

  private broadcastUpdate(doc: string, update: Uint8Array): void {
    const message = encodeUpdateMessage(update);
    for (const [id, info] of this.sockets) {
      if (info.syncing && info.purpose.kind === "doc" && info.purpose.doc === doc) this.room.getConnection(id)?.send(message);
    }
  }

  /** A live document by name (one Y.Doc per name; replaced on a rebuild). */
  protected liveDoc(name: string): Y.Doc {
    return this.records.docs.get(name)!;
  }

  // ------------------------------------------------------------------ expiry and revocation

  /** Closes sockets whose token has expired, each at its expiry (4401), whatever they are doing. */
  private watchExpiry(exp: number): void {
    const at = exp * 1000;
    if (at >= this.nextExpiry) return;
    this.nextExpiry = at;
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    // Timers take at most ~24.8 days; a later expiry is looked at again then.
    this.expiryTimer = setTimeout(() => this.closeExpired(), Math.min(2 ** 31 - 1, Math.max(0, at - Date.now())));
  }

  private closeExpired(): void {
    this.expiryTimer = null;
    this.nextExpiry = Infinity;
    const now = Date.now() / 1000;
    let next = Infinity;
    for (const [id, info] of [...this.sockets]) {
      if (info.token.exp <= now) this.closeConnection(id, CLOSE.UNAUTHORIZED, "token expired");
      else next = Math.min(next, info.token.exp);
    }
    if (next !== Infinity) this.watchExpiry(next);
  }

  /** Revokes a token id: refused from now on, and every open socket with it closed (4401). */
  protected async revokeToken(jti: string, exp: number): Promise<void> {
    if (!this.revoked.has(jti)) {
      this.revoked.set(jti, exp);
      await this.room.storage.put({ [`revoked:${jti}`]: exp });
    }
    for (const [id, info] of [...this.sockets]) if (info.token.jti === jti) this.closeConnection(id, CLOSE.UNAUTHORIZED, "token revoked");
    // Entries past their token's expiry are of no use any more.
    const now = Date.now() / 1000;
    const stale = [...this.revoked].filter(([, e]) => e < now).map(([j]) => j);
    if (stale.length) {
      for (const j of stale) this.revoked.delete(j);
      await this.room.storage.delete(stale.map((j) => `revoked:${j}`));
    }
  }

  protected isRevoked(jti: string): boolean {
    return this.revoked.has(jti);
  }

  // ------------------------------------------------------------------ sending

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

  /** Sends a frame to one tool socket by id; false if it is gone. */
  protected sendTo(connectionId: string, frame: ServerFrame): boolean {
    const info = this.sockets.get(connectionId);
    const connection = info?.purpose.kind === "tools" ? this.room.getConnection(connectionId) : undefined;
    if (!connection) return false;
    this.send(connection, frame);
    return true;
  }

  /** Pushes an event to every tool socket that receives for `identity`. */
  protected pushEvent(identity: string, frame: EventFrame): void {
    const text = JSON.stringify(frame);
    for (const [id, info] of this.sockets) {
      if (info.identity === identity && info.purpose.kind === "tools") this.room.getConnection(id)?.send(text);
    }
  }

  /** Closes one socket by id, if it is still open. */
  protected closeConnection(connectionId: string, code: number, reason: string): void {
    this.sockets.delete(connectionId);
    this.room.getConnection(connectionId)?.close(code, reason);
  }

  /** Closes every socket (the room's rig was removed). */
  protected closeAll(code: number, reason: string): void {
    for (const id of [...this.sockets.keys()]) this.closeConnection(id, code, reason);
  }

  // ------------------------------------------------------------------ tools

  /** Takes `cost` of the caller's `kind` budget, or refuses with RATE_LIMITED and when to try again. */
  protected rateLimit(caller: Caller, kind: RateKind, cost = 1): void {
    const waitMs = this.limiter.take(principalOf(caller.token), kind, cost, Date.now());
    if (waitMs === null) return;
    if (waitMs === Infinity) throw new ToolError("TOO_LARGE", `one call may cost at most a full ${kind} budget`);
    const retryAfter = Math.max(1, Math.ceil(waitMs / 1000));
    const what = kind === "bead" ? "beads" : kind === "refresh" ? "token renewals" : kind === "log" ? "output reads" : `${kind}s`;
    throw new ToolError("RATE_LIMITED", `too many ${what} from this token; try again in ${retryAfter} s`, retryAfter);
  }

  /**
   * `gt_token_refresh`, in both rooms: the caller's own token with a fresh expiry (same claims, same
   * lifetime, a new jti), for the container and agents; share links and operators' tokens are not
   * refreshed (a link ends when it was meant to). `stillEntitled` says why a token may not be renewed.
   */
  protected tokenRefreshTool(stillEntitled: (token: TokenPayload) => string | null = () => null): ToolSpec<Record<string, never>> {
    return tool(z.strictObject({}), ["container", "agent"], async (_args, caller): Promise<TokenRefreshResult> => {
      const why = stillEntitled(caller.token);
      if (why) throw new ToolError("FORBIDDEN", why);
      const { sub: _sub, jti: _jti, iat, exp, ...claims } = caller.token;
      const now = Math.floor(Date.now() / 1000);
      // Only in the second half of its life: one token is not a well of fresh ones.
      if (now < iat + (exp - iat) / 2) throw new ToolError("CONFLICT", `renew this token after ${new Date((iat + (exp - iat) / 2) * 1000).toISOString()}`);
      this.rateLimit(caller, "refresh");
      const lifetime = Math.min(MAX_TOKEN_LIFETIME_S, Math.max(1, exp - iat));
      const token = await signToken({ ...claims, iat: now, exp: now + lifetime }, this.secret);
      return { token, expiresAt: (now + lifetime) * 1000 };
    });
  }

  async callTool(name: string, rawArgs: unknown, caller: Caller): Promise<{ ok: true; value: unknown } | { ok: false; error: ErrorBody }> {
    try {
      // Built once: the table holds a closure and a schema per tool (zod schemas are costly to make),
      // and nothing in it changes while the room lives.
      const tools = (this.toolTable ??= this.tools());
      const spec = Object.hasOwn(tools, name) ? tools[name] : undefined;
      if (!spec) throw new ToolError("UNKNOWN_TOOL", `no tool ${name} in the ${this.party === "main" ? "town" : "rig"} room`);
      if (!spec.roles.includes(caller.token.role)) throw new ToolError("FORBIDDEN", `role ${caller.token.role} may not call ${name}`);
      const args = spec.schema.safeParse(rawArgs);
      if (!args.success) throw new ToolError("INVALID_ARGS", describeIssues(args.error));
      this.checkCaller(name, caller);
      this.noteCall(name, caller);
      return { ok: true, value: (await spec.run(args.data, caller)) ?? null };
    } catch (error) {
      if (error instanceof ToolError) return { ok: false, error: { code: error.code, message: error.message, ...(error.retryAfter !== undefined ? { retry_after: error.retryAfter } : {}) } };
      console.error(`[${this.party}/${this.roomId}] ${name} failed`, error);
      return { ok: false, error: { code: "INTERNAL", message: "internal error" } };
    }
  }

  // ------------------------------------------------------------------ HTTP

  /**
   * Remembers the server's origin (see callRoom) from operators' and containers' requests only: a
   * room sends mail and signed calls there, and a request's origin is its Host header, which an
   * agent or a link's page could choose.
   */
  private async learnOrigin(url: string, token: TokenPayload): Promise<void> {
    if (token.role !== "operator" && token.role !== "container") return;
    const origin = new URL(url).origin;
    if (origin === this.origin) return;
    this.origin = origin;
    await this.room.storage.put({ origin });
  }

  async onRequest(request: Party.Request): Promise<Response> {
    const req = request as unknown as Request;
    const rest = roomPath(req.url);
    const api = rest.match(/^\/api\/([A-Za-z0-9_]+)$/);
    const internal = rest.match(/^\/internal\/([a-z_]+)$/);
    try {
      if (api && req.method === "POST") return await this.onApiRequest(api[1]!, req);
      if (internal && req.method === "POST") return await this.onInternalRequest(internal[1]!, req);
      if (req.method === "GET" && rest === "") return await this.onInfoRequest(req);
      // A wrong method or an unknown route, told only to a caller whose token the room accepts.
      if (!internal) await this.authorise(req);
      await req.body?.cancel().catch(() => {});
      const allow = api || internal ? "POST" : rest === "" ? "GET" : null;
      const where = `${req.method} ${new URL(req.url).pathname}`;
      if (allow) return errorResponse("METHOD_NOT_ALLOWED", `${where}: this route takes ${allow} only`, undefined, { allow });
      return errorResponse("NOT_FOUND", `no route ${where}: tools are POST /api/<tool>`);
    } catch (error) {
      if (error instanceof ToolError) return errorResponse(error.code, error.message, error.retryAfter);
      if (error instanceof z.ZodError) return errorResponse("BAD_FRAME", describeIssues(error)); // a room-to-room body
      console.error(`[${this.party}/${this.roomId}] ${req.method} ${new URL(req.url).pathname} failed`, error);
      return errorResponse("INTERNAL", "internal error");
    }
  }

  /** The caller's verified token (HTTP: the Authorization header only) and its admission to tools. */
  private async authorise(req: Request): Promise<TokenPayload> {
    const token = tokenFromRequest(req, "http");
    if (!token) throw new ToolError("UNAUTHORIZED", "no token: send Authorization: Bearer <token>");
    const check = await verifyToken(token, this.secret);
    if (!check.ok) throw new ToolError("UNAUTHORIZED", check.reason);
    if (this.revoked.has(check.payload.jti)) throw new ToolError("UNAUTHORIZED", "token revoked");
    return check.payload;
  }

  private async onInfoRequest(req: Request): Promise<Response> {
    await this.authorise(req);
    if (!this.roomRef()) throw new ToolError("UNKNOWN_RIG", `room ${this.roomId} does not exist (never added, or removed)`);
    return jsonResponse({ ok: true, room: { party: this.party, id: this.roomId }, protocol: PROTOCOL_VERSION });
  }

  private async onApiRequest(name: string, req: Request): Promise<Response> {
    let token: TokenPayload;
    try {
      token = await this.authorise(req);
    } catch (error) {
      await req.body?.cancel().catch(() => {}); // nothing of an unauthorised body is read
      throw error;
    }
    const admission = this.admit(token, { kind: "tools", tool: name });
    if (!admission.ok) return errorResponse(admission.code, admission.message);
    await this.learnOrigin(req.url, token);
    const body = await readBody(req, LIMITS.maxFrameBytes);
    if (!body.ok) return errorResponse(body.code, body.message);
    const outcome = await this.callTool(name, body.value, { token });
    return outcome.ok ? jsonResponse(outcome) : jsonResponse(outcome, ERROR_STATUS[outcome.error.code], outcome.error.retry_after !== undefined ? { "retry-after": String(outcome.error.retry_after) } : {});
  }

  private async onInternalRequest(op: string, req: Request): Promise<Response> {
    // Checked here too: a call from another room's stub does not pass the gate.
    const signed = await checkInternal(req.headers.get("x-townhall-internal"), this.secret, this.roomId, op);
    if (!signed.ok) {
      await req.body?.cancel().catch(() => {});
      return errorResponse("UNAUTHORIZED", signed.reason);
    }
    // Room-to-room bodies wrap a client's (a mail), so they may be larger.
    const body = await readBody(req, LIMITS.hardFrameBytes, signed.digest);
    if (!body.ok) return errorResponse(body.code, body.message);
    return this.internal(op, body.value);
  }

  /** Calls another room of this town. Throws on network failure; returns the parsed reply. */
  protected async callRoom(party: "main" | "rig", roomId: string, op: string, body: unknown): Promise<{ status: number; body: any }> {
    if (this.parties) return callRoomThrough(this.parties, party, roomId, op, body, this.secret);
    if (!this.origin) throw new Error("no route to other rooms yet (no request seen since start)");
    // A room woken by its alarm after a restart has no stubs at all (a PartyKit limitation), so
    // its outbox reaches the other room through the server's own address instead.
    const response = await fetch(`${this.origin}/parties/${party}/${encodeURIComponent(roomId)}/internal/${op}`, await internalCall(this.secret, roomId, op, body));
    return parsedReply(response);
  }

  /** A feed event of this room, now; its tone is the kind's unless `about` says (party/feed.ts). */
  protected feedEvent(kind: string, text: string, about?: FeedAbout): FeedEvent {
    return makeEvent(newId(), Date.now(), kind, text, about);
  }
}

/** The request of one signed room-to-room call (`POST /internal/<op>`, see signInternal). */
async function internalCall(secret: string, roomId: string, op: string, body: unknown): Promise<RequestInit> {
  const text = JSON.stringify(body);
  return {
    // A hung hop must not hang the caller: after this the mail waits in the outbox instead.
    signal: AbortSignal.timeout(HOP_TIMEOUT_MS),
    method: "POST",
    headers: { "content-type": "application/json", "x-townhall-internal": await signInternal(secret, roomId, op, text) },
    body: text,
  };
}

async function parsedReply(response: Response): Promise<{ status: number; body: any }> {
  const reply = await response.text();
  let parsed: unknown = null;
  try {
    parsed = JSON.parse(reply);
  } catch {
    parsed = { ok: false, error: { code: "INTERNAL", message: reply.slice(0, 200) } };
  }
  return { status: response.status, body: parsed };
}

/**
 * A signed room-to-room call through the runtime's stubs (a room's, or the gate's lobby's: the gate
 * asks the town room whether a rig exists). Throws on network failure; returns the parsed reply.
 */
export async function callRoomThrough(parties: Party.Context["parties"], party: "main" | "rig", roomId: string, op: string, body: unknown, secret: string): Promise<{ status: number; body: any }> {
  const stub = parties[party]?.get(roomId);
  if (!stub) throw new Error(`no party ${party}`);
  return parsedReply((await stub.fetch(`/internal/${op}`, await internalCall(secret, roomId, op, body))) as unknown as Response);
}

/** Reads a JSON body, counting as it arrives: past `limit` bytes it stops reading and says so. */
async function readBody(req: Request, limit: number, digest?: string): Promise<{ ok: true; value: unknown } | { ok: false; code: ErrorCode; message: string }> {
  const declared = Number(req.headers.get("content-length") ?? NaN);
  if (declared > limit) {
    await req.body?.cancel().catch(() => {});
    return { ok: false, code: "TOO_LARGE", message: `body is ${declared} bytes; the limit is ${limit}` };
  }
  const bytes = req.body ? await readLimited(req.body, limit) : new Uint8Array();
  if (!bytes) return { ok: false, code: "TOO_LARGE", message: `the limit is ${limit} bytes` };
  if (digest !== undefined && !sameString(await bodyDigest(bytes), digest)) return { ok: false, code: "UNAUTHORIZED", message: "the body is not the one signed" };
  const text = new TextDecoder().decode(bytes);
  if (text.trim() === "") return { ok: true, value: {} };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false, code: "BAD_FRAME", message: "body is not JSON" };
  }
}

function concat(chunks: Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}
