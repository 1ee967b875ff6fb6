/**
 * The contract between the shared room machinery and each room, in one place. Each room
 * (party/town/room.ts, party/rig/room.ts) *has* a LiveRoom (./room.ts), made with the room's
 * RoomSpec; the LiveRoom lends the room its LiveServices. PartyKit's class for a room (./party.ts)
 * hands every handler to the room's LiveRoom.
 *
 *   RoomSpec      what the room tells its LiveRoom once, when it makes it: which party it is, its
 *                 documents, its tool table, its room-to-room operations and what it is for the
 *                 admission rule; and, optionally, what it adds at a few points (the hooks)
 *   LiveServices  what the LiveRoom lends the room back: its id, records and secret, sends and
 *                 closes of sockets, rate limits, feed events, revocation and calls to other rooms
 *
 * Nothing else passes between them: no subclassing, no protected members. What a LiveRoom does by
 * itself for every room: the gate (./gate.ts), admitting sockets by path and token (./room.ts) and
 * keeping them (./sockets.ts, ./revocations.ts), parsing tool frames (./frames.ts), dispatching
 * tools (./tools.ts), serving the read-only live documents (./docs.ts), HTTP routes (./requests.ts)
 * and room-to-room calls (./calls.ts).
 */
import type * as Party from "partykit/server";
import type { z } from "zod";
import type { RoomRef } from "../access.ts";
import type { FeedAbout } from "../feed.ts";
import type { RateKind } from "../limits.ts";
import type { EventFrame, FeedEvent, Nudge, OutputFrame, ServerFrame, TokenPayload, TokenRole } from "../protocol.ts";
import type { DocLayout, RecordDoc } from "../records.ts";
import type { DerivedDocSpec } from "./derived.ts";

/** The two parties: the town (PartyKit's `main`) and the rigs. */
export type PartyName = "main" | "rig";

/** Who is calling: the verified token, and for sockets the connection. */
export type Caller = { token: TokenPayload; connectionId?: string };

export type ToolSpec<A> = {
  schema: z.ZodType<A>;
  roles: readonly TokenRole[];
  run: (args: A, caller: Caller) => Promise<unknown>;
};

/** A room's tools by name. */
export type ToolTable = Record<string, ToolSpec<any>>;

/** Declares a tool with its argument type inferred from its schema. */
export function tool<A>(schema: z.ZodType<A>, roles: readonly TokenRole[], run: (args: A, caller: Caller) => Promise<unknown>): ToolSpec<A> {
  return { schema, roles, run };
}

/** A socket refused: the close code and reason it is closed with. */
export type Refusal = { code: number; reason: string };

/** Another room's answer to a room-to-room call: its HTTP status and parsed JSON body. */
export type RoomReply = { status: number; body: any };

/**
 * What an output socket was last sent, so each line reaches it once and in order: the run and the
 * seq of its last line. Lines are relayed only once `ready` (its first frame is out).
 */
export type OutputWatch = { identity: string; ready: boolean; run: string | null; seq: number };

/** An output socket watching an agent, for a relay of new lines. */
export type OutputWatcher = { connectionId: string; token: TokenPayload; watch: OutputWatch };

/** What a room tells its LiveRoom, once, when it makes it. */
export type RoomSpec = RoomHooks & {
  /** The party this room serves (`room.name` is not readable in every handler). */
  party: PartyName;
  /** The room's live documents and the collections in each; `/docs/<name>` serves each one. */
  layout: DocLayout;
  /** Documents built per token from one of the room's (./derived.ts): `/docs/<name>` serves each one. */
  derived?: readonly DerivedDocSpec[];
  /**
   * This room for the admission rule (party/access.ts), asked at every socket and HTTP call; null
   * while the room does not exist (a rig never added, or removed): sockets close 4404, calls 404.
   */
  ref(): RoomRef | null;
  /**
   * The room's tools. Built once, at the first call: the table holds a closure and a zod schema per
   * tool (costly to make), and nothing in it changes while the room lives.
   */
  tools(): ToolTable;
  /** A room-to-room operation (`POST /internal/<op>`), its signature and body already checked. */
  internal(op: string, body: unknown): Promise<Response>;
};

/**
 * What a room may add at a few points of its life, each optional. Every hook runs after the
 * LiveRoom's own part of that point and may use LiveServices.
 */
export type RoomHooks = {
  /**
   * onStart, once the room knows its id, its documents were loaded from storage and its
   * revocations read: e.g. load the room's own state, resume its timers. Nothing reaches the room
   * before it resolves (PartyKit holds requests and sockets until onStart is done).
   */
  started?(): Promise<void>;
  /** onAlarm (after onStart: a room woken by its alarm starts first). PartyKit hides `room.id` and `room.context` there: use LiveServices. */
  alarm?(): Promise<void>;
  /**
   * A tool socket passed its token, the admission rule and the socket caps, and is about to be
   * counted: the room's last say (e.g. who a container is). Return a Refusal to close it. No await:
   * admissions running side by side must not all pass the caps.
   */
  claimSocket?(connectionId: string, token: TokenPayload, request: Request): Refusal | null;
  /** A tool socket is counted and its hello went out: e.g. send a container its pending commands. */
  socketReady?(connection: Party.Connection, token: TokenPayload): Promise<void>;
  /** Any socket closed or errored (whether or not it was ever admitted). */
  socketGone?(connectionId: string): void;
  /**
   * A room that has this hook serves agents' output at `/output/<identity>` (without it such a
   * path is no socket of the room: 4404). An output socket passed the admission rule and is
   * counted: send its first frame and set `watch.ready`, or close it.
   */
  outputSocketReady?(connection: Party.Connection, watch: OutputWatch, token: TokenPayload): Promise<void>;
  /**
   * A tool call, over a socket or HTTP, whose role may call it and whose arguments are valid, before
   * it runs: throw a ToolError to refuse it (e.g. a run's token that is over).
   */
  checkCaller?(tool: string, caller: Caller): void;
  /**
   * Every call that checkCaller let through, just before it runs (e.g. an agent's progress). It may
   * answer what the call's reply carries besides the tool's own answer (the witness's nudge), which
   * the call then awaits before the tool runs.
   */
  noteCall?(tool: string, caller: Caller): Promise<ReplyExtra> | void;
};

/** What a room adds to a tool call's reply, whatever the tool answers: the witness's nudge to an agent (docs/lifecycle.md, W8). */
export type ReplyExtra = { nudge?: Nudge };

/**
 * What a LiveRoom lends its room: plain functions, safe to hand on one by one. The id and the
 * records exist from onStart on.
 */
export interface LiveServices {
  /** This room's id. PartyKit refuses `room.id` inside an alarm that woke the room; this one is kept in storage. */
  roomId(): string;
  /** The room's records and live documents (party/records.ts). */
  records(): RecordDoc;
  /** The town's secret (GT_SECRET); a ToolError (INTERNAL) when it is not configured. */
  secret(): string;
  /** Calls another room of this town (`/internal/<op>`, signed). Throws on network failure; returns the parsed reply. */
  callRoom(party: PartyName, roomId: string, op: string, body: unknown): Promise<RoomReply>;
  /** A feed event of this room, now; its tone is the kind's unless `about` says (party/feed.ts). */
  feedEvent(kind: string, text: string, about?: FeedAbout): FeedEvent;
  /** Takes `cost` of the caller's `kind` budget (party/limits.ts), or throws RATE_LIMITED with when to try again. */
  rateLimit(caller: Caller, kind: RateKind, cost?: number): void;
  /** Takes one of the token's `kind` budget; false, and nothing taken, when it is spent. */
  takeRate(token: TokenPayload, kind: RateKind): boolean;
  /**
   * `gt_token_refresh`, in both rooms: the caller's own token with a fresh expiry (same claims, same
   * lifetime, a new jti), for the container and agents; share links and operators' tokens are not
   * refreshed (a link ends when it was meant to). `stillEntitled` says why a token may not be renewed.
   */
  tokenRefreshTool(stillEntitled?: (token: TokenPayload) => string | null): ToolSpec<Record<string, never>>;
  /** Sends a frame to one tool socket by id; false if it is gone. */
  sendTo(connectionId: string, frame: ServerFrame): boolean;
  /** Pushes an event to every tool socket that receives for `identity` (its mail identity). */
  pushEvent(identity: string, frame: EventFrame): void;
  /** The output sockets watching `identity`. */
  outputWatchers(identity: string): OutputWatcher[];
  /** Sends a frame to one output socket by id; false if it is gone. */
  sendOutput(connectionId: string, frame: OutputFrame): boolean;
  /** Closes one socket by id, if it is still open. */
  closeConnection(connectionId: string, code: number, reason: string): void;
  /** Closes every socket (the room's rig was removed). */
  closeAll(code: number, reason: string): void;
  /** Revokes a token id: refused from now on (stored), and every open socket with it closed (4401). */
  revokeToken(jti: string, exp: number): Promise<void>;
}
