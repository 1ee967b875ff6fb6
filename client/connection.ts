/** Options shared by every client of a Townhall room, in Node and in the browser. */
import PartySocket from "partysocket";

export type RoomAddress = {
  /** `host:port`, e.g. `127.0.0.1:1999`. */
  host: string;
  /** `ws`/`http` or `wss`/`https`; guessed from the host when absent (plain only on loopback). */
  secure?: boolean;
  party: "main" | "rig";
  room: string;
  /** The token, or where to read the current one (a TokenKeeper's `current`): each connection reads it anew. */
  token: string | (() => string);
  /** Node 20 has no global WebSocket: pass `ws`'s class. */
  WebSocket?: unknown;
  /** More query parameters for the socket (a container names itself: `container`, `session`). */
  query?: Record<string, string>;
  /** A path inside the room, without a leading slash: `docs/<name>` for a document socket. */
  path?: string;
};

/** Close codes after which reconnecting cannot help: the token or the room is wrong. */
export const PERMANENT_CLOSES = new Set([4401, 4403, 4404, 4413, 4420]);
// 4429 (room full), 4408 (a container's lease expired) and 4205 (the document was replaced: sync
// afresh) are not permanent: reconnect. Nor is 4409 (a replica the room cannot reconcile): every
// connection here syncs a fresh Y.Doc (client/doc-sync.ts), which the room always can.

export function tokenOf(address: Pick<RoomAddress, "token">): string {
  return typeof address.token === "function" ? address.token() : address.token;
}

function isSecure(address: RoomAddress): boolean {
  if (address.secure !== undefined) return address.secure;
  return !/^(localhost|127\.\d+\.\d+\.\d+|\[::1\])(:\d+)?$/.test(address.host);
}

export function httpBase(address: Pick<RoomAddress, "host" | "secure" | "party" | "room">): string {
  return `${isSecure(address as RoomAddress) ? "https" : "http"}://${address.host}/parties/${address.party}/${encodeURIComponent(address.room)}`;
}

/**
 * A reconnecting socket with a bounded send queue and a per-client random reconnect delay, so a
 * restarted room is not hit by every client at the same instant.
 */
export function openRoomSocket(address: RoomAddress): PartySocket {
  const socket = new PartySocket({
    host: address.host,
    protocol: isSecure(address) ? "wss" : "ws",
    party: address.party,
    room: address.room,
    ...(address.path ? { path: address.path } : {}),
    query: () => ({ ...address.query, token: tokenOf(address) }),
    WebSocket: address.WebSocket,
    maxEnqueuedMessages: 1000,
    minReconnectionDelay: 250 + Math.random() * 750,
    maxReconnectionDelay: 10_000,
    shouldReconnectOnClose: (event: CloseEvent) => !PERMANENT_CLOSES.has(event.code),
  });
  socket.binaryType = "arraybuffer";
  return socket;
}
