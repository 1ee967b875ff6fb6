/**
 * A read-only replica of one of a room's live Yjs documents, over its document socket
 * (`/parties/<party>/<room>/docs/<name>`, y-protocols frames only). Each connection syncs into a
 * fresh Y.Doc: the room rebuilds its documents from storage when it restarts, and replaces one
 * after compacting it (closing its sockets with 4205, after which this reconnects), so history from
 * an earlier connection could fork from the room's and must not be merged into it. Until that
 * fresh document is synced, `doc` stays the last synced one: a rebuild, reconnect or restart never
 * shows as an empty (deleted-looking) document.
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
  /** The last fully synced document (an empty one before the first sync). */
  doc = new Y.Doc();
  status: SyncStatus = "connecting";
  /** When the replica last stopped being live (for "stale since" displays). */
  staleSince: number | null = Date.now();
  lastClose: { code: number; reason: string } | null = null;
  private readonly listeners = new Set<(replica: DocReplica) => void>();
  /** The document being synced on this connection, until its sync step 2 makes it `doc`. */
  private pending: Y.Doc | null = null;
  private everSynced = false;

  constructor(address: Omit<RoomAddress, "path"> & { doc: "town" | "scope" | "mail" | "rig" }) {
    const { doc, ...rest } = address;
    this.socket = openRoomSocket({ ...rest, path: `docs/${doc}` });
    this.socket.addEventListener("open", () => this.startSync());
    this.socket.addEventListener("message", (event: MessageEvent) => {
      if (typeof event.data === "string") return; // a document socket carries y-protocols frames only
      const decoder = decoding.createDecoder(new Uint8Array(event.data as ArrayBuffer));
      if (decoding.readVarUint(decoder) !== MESSAGE_SYNC) return;
      const target = this.pending ?? this.doc;
      const reply = encoding.createEncoder();
      const type = syncProtocol.readSyncMessage(decoder, reply, target, this);
      if (type === syncProtocol.messageYjsSyncStep2 && target === this.pending) {
        const previous = this.doc;
        this.doc = target;
        this.pending = null;
        this.everSynced = true;
        if (previous !== target) previous.destroy();
        this.setStatus("live");
      }
    });
    this.socket.addEventListener("close", (event: CloseEvent) => {
      this.lastClose = { code: event.code, reason: event.reason };
      this.pending?.destroy();
      this.pending = null;
      this.setStatus(PERMANENT_CLOSES.has(event.code) ? "closed" : "reconnecting");
    });
  }

  /** Sync step 1 for a fresh document (the first one syncs straight into `doc`). */
  private startSync(): void {
    this.pending?.destroy();
    this.pending = this.everSynced ? new Y.Doc() : this.doc;
    const encoder = encoding.createEncoder();
    encoding.writeVarUint(encoder, MESSAGE_SYNC);
    syncProtocol.writeSyncStep1(encoder, this.pending);
    this.socket.send(encoding.toUint8Array(encoder));
  }

  /** True while the current connection's document has arrived and is being kept up to date. */
  get synced(): boolean {
    return this.status === "live" && this.pending === null;
  }

  private setStatus(status: SyncStatus): void {
    if (status !== "live" && this.status === "live") this.staleSince = Date.now();
    if (status === "live") this.staleSince = null;
    this.status = status;
    for (const listener of this.listeners) listener(this);
  }

  /** Called on every status change and whenever a newly synced doc replaces the old one. */
  onChange(listener: (replica: DocReplica) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves once the current connection has received the full document. */
  whenSynced(): Promise<Y.Doc> {
    if (this.synced) return Promise.resolve(this.doc);
    return new Promise((resolve, reject) => {
      const off = this.onChange((r) => {
        if (r.synced) {
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
