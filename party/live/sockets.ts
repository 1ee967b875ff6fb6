/**
 * The sockets a room holds open, and what it knows of each: its token, what its path asked for
 * (the tool socket, a document, an agent's output), its meters. Every send and close of a socket by
 * id goes through here, and so does closing each socket when its token expires.
 *
 * Sockets come in three kinds, by path:
 *   /parties/<party>/<room>                 tool socket: JSON frames (hello, calls, results, events, commands)
 *   /parties/<party>/<room>/docs/<name>     document socket: y-protocols frames only (sync, awareness)
 *   /parties/rig/<room>/output/<identity>   output socket: one agent's output, JSON frames server → client only
 */
import type * as Party from "partykit/server";
import type { Purpose } from "../access.ts";
import { CLOSE, type EventFrame, type OutputFrame, type ServerFrame, type TokenPayload } from "../protocol.ts";
import type { OutputWatch, OutputWatcher } from "./contract.ts";

export type SocketInfo = {
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

export class Sockets {
  private readonly open = new Map<string, SocketInfo>();
  /** Sockets whose admission is under way: frames they send wait for it (see LiveRoom.onMessage). */
  private readonly admitting = new Map<string, Promise<void>>();
  private expiryTimer: ReturnType<typeof setTimeout> | null = null;
  private nextExpiry = Infinity;

  constructor(private readonly room: Party.Room) {}

  /** Sockets open and being admitted: what the room's cap counts. */
  get count(): number {
    return this.open.size + this.admitting.size;
  }

  /** Tracks a socket's admission until it settles. */
  admit(connectionId: string, admission: Promise<void>): Promise<void> {
    this.admitting.set(connectionId, admission);
    return admission.finally(() => this.admitting.delete(connectionId));
  }

  /** The socket's admission while it is under way. */
  pending(connectionId: string): Promise<void> | undefined {
    return this.admitting.get(connectionId);
  }

  /** An admitted socket still open; undefined if it was refused or is closed. */
  get(connectionId: string): SocketInfo | undefined {
    return this.open.get(connectionId);
  }

  /** Counts an admitted socket; it is closed when its token expires. */
  add(connectionId: string, info: SocketInfo): void {
    this.open.set(connectionId, info);
    this.watchExpiry(info.token.exp);
  }

  /** Forgets a socket that closed. */
  forget(connectionId: string): void {
    this.open.delete(connectionId);
  }

  entries(): IterableIterator<[string, SocketInfo]> {
    return this.open.entries();
  }

  /** The tokens of the sockets this room holds open (what socket caps count). */
  *tokens(): Iterable<TokenPayload> {
    for (const info of this.open.values()) yield info.token;
  }

  send(connection: Party.Connection, frame: ServerFrame): void {
    try {
      connection.send(JSON.stringify(frame));
    } catch {
      // closed under us (the client left mid-call): nobody is there to read the reply
    }
  }

  /** Sends a frame to one tool socket by id; false if it is gone. */
  sendTo(connectionId: string, frame: ServerFrame): boolean {
    const info = this.open.get(connectionId);
    const connection = info?.purpose.kind === "tools" ? this.room.getConnection(connectionId) : undefined;
    if (!connection) return false;
    this.send(connection, frame);
    return true;
  }

  /** Pushes an event to every tool socket that receives for `identity`. */
  pushEvent(identity: string, frame: EventFrame): void {
    const text = JSON.stringify(frame);
    for (const [id, info] of this.open) {
      if (info.identity === identity && info.purpose.kind === "tools") this.room.getConnection(id)?.send(text);
    }
  }

  /** The output sockets watching `identity`, for a relay of new lines. */
  outputWatchers(identity: string): OutputWatcher[] {
    const watchers: OutputWatcher[] = [];
    for (const [connectionId, info] of this.open) if (info.watch?.identity === identity) watchers.push({ connectionId, token: info.token, watch: info.watch });
    return watchers;
  }

  /** Sends a frame to one output socket by id; false if it is gone. */
  sendOutput(connectionId: string, frame: OutputFrame): boolean {
    const connection = this.open.get(connectionId)?.watch ? this.room.getConnection(connectionId) : undefined;
    if (!connection) return false;
    this.send(connection, frame);
    return true;
  }

  /** Closes a socket the room gives up on; frames it already sent are then ignored, not answered. */
  close(connection: Party.Connection, code: number, reason: string): void {
    this.open.delete(connection.id);
    connection.close(code, reason);
  }

  /** Closes one socket by id, if it is still open. */
  closeConnection(connectionId: string, code: number, reason: string): void {
    this.open.delete(connectionId);
    this.room.getConnection(connectionId)?.close(code, reason);
  }

  /** Closes every socket (the room's rig was removed). */
  closeAll(code: number, reason: string): void {
    for (const id of [...this.open.keys()]) this.closeConnection(id, code, reason);
  }

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
    for (const [id, info] of [...this.open]) {
      if (info.token.exp <= now) this.closeConnection(id, CLOSE.UNAUTHORIZED, "token expired");
      else next = Math.min(next, info.token.exp);
    }
    if (next !== Infinity) this.watchExpiry(next);
  }
}
