/**
 * A read-only replica of a room's live Yjs document. Each connection starts a fresh Y.Doc: the room
 * rebuilds its document from storage when it restarts, so history from an earlier connection could
 * fork from the room's and must not be merged into it.
 */
import * as Y from "yjs";
import * as encoding from "lib0/encoding";
import * as decoding from "lib0/decoding";
import * as syncProtocol from "y-protocols/sync";
import type PartySocket from "partysocket";
import { openRoomSocket, PERMANENT_CLOSES, type RoomAddress } from "./connection.ts";

export type SyncStatus = "connecting" | "live" | "reconnecting" | "closed";

const MESSAGE_SYNC = 0;

export class DocReplica {
  readonly socket: PartySocket;
  doc = new Y.Doc();
  status: SyncStatus = "connecting";
  /** When the replica last stopped being live (for "stale since" displays). */
  staleSince: number | null = Date.now();
  lastClose: { code: number; reason: string } | null = null;
  private readonly listeners = new Set<(replica: DocReplica) => void>();
  private synced = false;

  constructor(address: RoomAddress) {
    this.socket = openRoomSocket(address);
    this.socket.addEventListener("open", () => this.startSync());
    this.socket.addEventListener("message", (event: MessageEvent) => {
      if (typeof event.data === "string") {
        // Text frames are hello and errors, and `resync` when the room rebuilt its document.
        if (event.data === '{"type":"resync"}') {
          this.startSync();
          for (const listener of this.listeners) listener(this);
        }
        return;
      }
      const decoder = decoding.createDecoder(new Uint8Array(event.data as ArrayBuffer));
      if (decoding.readVarUint(decoder) !== MESSAGE_SYNC) return;
      const reply = encoding.createEncoder();
      const type = syncProtocol.readSyncMessage(decoder, reply, this.doc, this);
      if (type === syncProtocol.messageYjsSyncStep2 && !this.synced) {
        this.synced = true;
        this.setStatus("live");
      }
    });
    this.socket.addEventListener("close", (event: CloseEvent) => {
      this.lastClose = { code: event.code, reason: event.reason };
      this.synced = false;
      this.setStatus(PERMANENT_CLOSES.has(event.code) ? "closed" : "reconnecting");
    });
  }

  /** A fresh document (unless this one is still empty) and sync step 1 for it. */
  private startSync(): void {
    if (this.synced || this.doc.share.size > 0) this.doc = new Y.Doc();
    this.synced = false;
    const encoder = encoding.createEncoder();
    encoding.writeVarUint(encoder, MESSAGE_SYNC);
    syncProtocol.writeSyncStep1(encoder, this.doc);
    this.socket.send(encoding.toUint8Array(encoder));
  }

  private setStatus(status: SyncStatus): void {
    if (status !== "live" && this.status === "live") this.staleSince = Date.now();
    if (status === "live") this.staleSince = null;
    this.status = status;
    for (const listener of this.listeners) listener(this);
  }

  /** Called on every status change and whenever a new doc replaces the old one. */
  onChange(listener: (replica: DocReplica) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves once the current connection has received the full document. */
  whenSynced(): Promise<Y.Doc> {
    if (this.synced) return Promise.resolve(this.doc);
    return new Promise((resolve, reject) => {
      const off = this.onChange((r) => {
        if (r.status === "live") {
          off();
          resolve(r.doc);
        } else if (r.status === "closed") {
          off();
          reject(new Error(`replica closed: ${r.lastClose?.code} ${r.lastClose?.reason}`));
        }
      });
    });
  }

  close(): void {
    this.socket.close();
    this.setStatus("closed");
  }
}
