/**
 * The gate, run by PartyKit before a request or socket reaches a room (the static onBeforeRequest
 * and onBeforeConnect of each room's class): no room starts, no storage is touched and no body is
 * read for a caller without a token signed for this town, nor for a room that `exists` says is not
 * there (a rig room the town's registry does not know: 404, close 4404). HTTP bodies are counted as
 * they arrive (a declared length over the limit is refused at once). A refused socket is accepted
 * by the worker itself and closed with its code (4401, 4403, 4404), so a client can read why (a
 * refused handshake tells a browser nothing).
 */
import type * as Party from "partykit/server";
import { bodyDigest, checkInternal, sameString, tokenFromRequest, verifyToken } from "../auth.ts";
import { CLOSE, LIMITS } from "../protocol.ts";
import { errorResponse, readLimited, roomPath } from "./http.ts";

/** Whether the room a request names exists, asked by the gate before the room starts (see party/rig/room.ts). */
export type RoomExists = (lobby: Party.Lobby, secret: string) => Promise<boolean>;

/** The town of a room id: the town room's id, or the part of a rig room's id before the dot. */
function townOfRoom(roomId: string): string {
  return roomId.split(".")[0] ?? "";
}

/** A request or socket passed on to the room (an HTTP body already read and counted), or the answer that refuses it. */
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
  const check = token
    ? await verifyToken(token, secret)
    : ({ ok: false, reason: kind === "http" ? "no token: send Authorization: Bearer <token>" : "no token" } as const);
  const refusal = !check.ok
    ? { status: "UNAUTHORIZED" as const, close: CLOSE.UNAUTHORIZED, reason: check.reason }
    : check.payload.town !== town
      ? { status: "FORBIDDEN" as const, close: CLOSE.FORBIDDEN, reason: `token is for town ${check.payload.town}` }
      : null;
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
    if (!known)
      return kind === "socket"
        ? refusedSocket(CLOSE.GONE, `room ${lobby.id} does not exist`)
        : errorResponse("UNKNOWN_RIG", `room ${lobby.id} does not exist (never added, or removed)`);
  }
  return kind === "socket" ? request : withCountedBody(request, LIMITS.maxFrameBytes);
}

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
  if (!request.body)
    return digest === undefined || digest === (await bodyDigest("")) ? request : errorResponse("UNAUTHORIZED", "the body is not the one signed");
  const declared = Number(request.headers.get("content-length") ?? NaN);
  if (declared > limit) return errorResponse("TOO_LARGE", `body is ${declared} bytes; the limit is ${limit}`);
  const read = await readLimited(request.body, limit);
  if (!read) return errorResponse("TOO_LARGE", `the limit is ${limit} bytes`);
  if (digest !== undefined && !sameString(await bodyDigest(read), digest)) return errorResponse("UNAUTHORIZED", "the body is not the one signed");
  return new Request(request, { body: read as Uint8Array<ArrayBuffer> });
}
