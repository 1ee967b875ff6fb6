/**
 * Room-to-room calls: signed `POST /internal/<op>` requests (see signInternal), through the
 * runtime's stubs when the room has them and through the server's own address when it does not
 * (a room woken by its alarm after a restart has none: a PartyKit limitation).
 */
import type * as Party from "partykit/server";
import { signInternal } from "../auth.ts";
import type { TokenPayload } from "../protocol.ts";
import type { PartyName, RoomReply } from "./contract.ts";

const HOP_TIMEOUT_MS = 5_000;

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

async function parsedReply(response: Response): Promise<RoomReply> {
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
export async function callRoomThrough(
  parties: Party.Context["parties"],
  party: PartyName,
  roomId: string,
  op: string,
  body: unknown,
  secret: string,
): Promise<RoomReply> {
  const stub = parties[party]?.get(roomId);
  if (!stub) throw new Error(`no party ${party}`);
  return parsedReply((await stub.fetch(`/internal/${op}`, await internalCall(secret, roomId, op, body))) as unknown as Response);
}

/** One room's way to the others: the stubs kept from start-up, or the server's origin as last learnt. */
export class RoomCalls {
  /** Room-to-room stubs, kept from start-up: PartyKit hides them inside `onAlarm`. */
  private parties: Party.Context["parties"] | null = null;
  /** This server's own origin, learnt from requests, for room-to-room calls when no stub exists. */
  private origin: string | null = null;

  constructor(
    private readonly room: Party.Room,
    private readonly secret: () => string,
  ) {}

  /** At start: the stubs if this start can see them, and the origin stored before. */
  async start(): Promise<void> {
    try {
      this.parties = this.room.context.parties;
    } catch {
      this.parties = null; // woken by an alarm: see call
    }
    this.origin = (await this.room.storage.get<string>("origin")) ?? null;
  }

  /**
   * Remembers the server's origin (see call) from operators' and containers' requests only: a room
   * sends mail and signed calls there, and a request's origin is its Host header, which an agent or
   * a link's page could choose.
   */
  async learnOrigin(url: string, token: TokenPayload): Promise<void> {
    if (token.role !== "operator" && token.role !== "container") return;
    const origin = new URL(url).origin;
    if (origin === this.origin) return;
    this.origin = origin;
    await this.room.storage.put({ origin });
  }

  /** Calls another room of this town. Throws on network failure; returns the parsed reply. */
  async call(party: PartyName, roomId: string, op: string, body: unknown): Promise<RoomReply> {
    if (this.parties) return callRoomThrough(this.parties, party, roomId, op, body, this.secret());
    if (!this.origin) throw new Error("no route to other rooms yet (no request seen since start)");
    // A room woken by its alarm after a restart has no stubs at all (a PartyKit limitation), so
    // its outbox reaches the other room through the server's own address instead.
    const response = await fetch(
      `${this.origin}/parties/${party}/${encodeURIComponent(roomId)}/internal/${op}`,
      await internalCall(this.secret(), roomId, op, body),
    );
    return parsedReply(response);
  }
}
