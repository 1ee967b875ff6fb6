/** Options shared by every client of a Townhall room, in Node and in the browser. */
import PartySocket from "partysocket";

export type RoomAddress = {
  /** `host:port`, e.g. `127.0.0.1:1999`. */
  host: string;
  /** `ws`/`http` or `wss`/`https`; guessed from the host when absent (plain only on loopback). */
  secure?: boolean;
  party: "main" | "rig";
  room: string;
  token: string;
  /** Node 20 has no global WebSocket: pass `ws`'s class. */
  WebSocket?: unknown;
  /** More query parameters for the socket (a container names itself: `container`, `session`). */
  query?: Record<string, string>;
};

/** Close codes after which reconnecting cannot help: the token or the room is wrong. */
export const PERMANENT_CLOSES = new Set([4401, 4403, 4404, 4413]);
// 4429 (room full) and 4408 (a container's lease expired) are not permanent: reconnect.

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
    query: { ...address.query, token: address.token },
    WebSocket: address.WebSocket,
    maxEnqueuedMessages: 1000,
    minReconnectionDelay: 250 + Math.random() * 750,
    maxReconnectionDelay: 10_000,
    shouldReconnectOnClose: (event: CloseEvent) => !PERMANENT_CLOSES.has(event.code),
  });
  socket.binaryType = "arraybuffer";
  return socket;
}
