/**
 * The room's live documents as document sockets see them: read-only y-protocols sync (a client's
 * sync step 1 answered with the whole document, metered), every update fanned out to the sockets
 * that synced, and a compacting rebuild after so many updates, whose sockets sync afresh (4205).
 */
import type * as Party from "partykit/server";
import { principalOf, type DocName } from "../access.ts";
import type { RateLimiter } from "../limits.ts";
import { CLOSE, LIMITS } from "../protocol.ts";
import { RecordDoc, type DocLayout, type Origin } from "../records.ts";
import { AWARENESS_NONE, encodeUpdateMessage, handleClientSyncMessage } from "../sync.ts";
import type * as Y from "yjs";
import type { TokenPayload } from "../protocol.ts";
import { DerivedDocs, type DerivedDocSpec } from "./derived.ts";
import type { SocketInfo, Sockets } from "./sockets.ts";

/** A document socket's awareness is answered at most this often (providers send theirs every 15 s). */
const AWARENESS_ANSWER_MS = 4_000;

/** How long after a restart or a rebuild the room counts first syncs as its own asking. */
const ROOM_ASKED_SYNC_MS = 15_000;

export class LiveDocs {
  readonly records: RecordDoc;
  private readonly updatesSinceRebuild = new Map<string, number>();
  private readonly rebuilding = new Set<string>();
  /**
   * Full syncs the room asked for never count against a client's meter: for a while after the room
   * started, every socket's first sync; after a rebuild, as many first syncs per principal as the
   * rebuild closed sockets of it.
   */
  private startedAt = 0;
  private readonly owedSyncs = new Map<string, { until: number; byPrincipal: Map<string, number> }>();

  constructor(
    private readonly room: Party.Room,
    layout: DocLayout,
    private readonly sockets: Sockets,
    private readonly limiter: RateLimiter,
    derived: readonly DerivedDocSpec[] = [],
  ) {
    this.records = new RecordDoc(room.storage, layout);
    for (const spec of derived) {
      this.derived.set(
        spec.name,
        new DerivedDocs(
          spec,
          room.storage,
          () => this.records.docs.get(spec.from)!,
          (key, update, n) => this.derivedUpdate(spec.name, key, update, n),
        ),
      );
    }
  }

  /** Documents built per token from one of the room's (see ./derived.ts), by name. */
  private readonly derived = new Map<string, DerivedDocs>();

  /** Whether the room has a document of this name. */
  has(name: string): boolean {
    return this.records.docs.has(name) || this.derived.has(name);
  }

  /** Once loaded: every document's updates go out to its sockets, and first syncs are the room's for a while. */
  started(): void {
    for (const name of this.records.docs.keys()) this.watchDoc(name);
    this.startedAt = Date.now();
  }

  /** Before a document socket is counted: a derived document's part for this token is built. */
  async prepare(doc: DocName, token: TokenPayload): Promise<void> {
    await this.derived.get(doc)?.open(token);
  }

  /** The document a socket syncs: the room's, or its token's part of a derived one. */
  private docFor(doc: DocName, token: TokenPayload): Y.Doc | undefined {
    const derived = this.derived.get(doc);
    if (!derived) return this.records.docs.get(doc);
    const key = derived.keyOf(token);
    return key === null ? undefined : derived.doc(key);
  }

  /** A document socket went: a derived part no other socket holds is dropped. */
  gone(info: SocketInfo): void {
    if (info.purpose.kind !== "doc") return;
    const derived = this.derived.get(info.purpose.doc);
    const key = derived?.keyOf(info.token) ?? null;
    if (!derived || key === null) return;
    const name = info.purpose.doc;
    for (const [, other] of this.sockets.entries()) {
      if (other !== info && other.purpose.kind === "doc" && other.purpose.doc === name && derived.keyOf(other.token) === key) return;
    }
    derived.drop(key);
  }

  /** A derived part changed: to its sockets; after so many changes it is built afresh (4205), as a rebuild. */
  private derivedUpdate(name: string, key: string, update: Uint8Array, updates: number): void {
    const derived = this.derived.get(name)!;
    const ofPart = (info: SocketInfo) => info.purpose.kind === "doc" && info.purpose.doc === name && derived.keyOf(info.token) === key;
    const message = encodeUpdateMessage(update);
    for (const [id, info] of this.sockets.entries()) if (info.syncing && ofPart(info)) this.room.getConnection(id)?.send(message);
    if (updates < this.rebuildAfter) return;
    derived.drop(key);
    const owed = this.owedSyncs.get(name) ?? { until: 0, byPrincipal: new Map<string, number>() };
    owed.until = Date.now() + ROOM_ASKED_SYNC_MS;
    for (const [id, info] of [...this.sockets.entries()]) {
      if (!ofPart(info)) continue;
      const principal = principalOf(info.token);
      owed.byPrincipal.set(principal, (owed.byPrincipal.get(principal) ?? 0) + 1);
      this.sockets.closeConnection(id, CLOSE.DOC_REPLACED, "document replaced: sync again");
    }
    this.owedSyncs.set(name, owed);
  }

  /** One binary frame of a document socket. */
  frame(message: ArrayBuffer | ArrayBufferView, connection: Party.Connection, info: SocketInfo, doc: DocName): void {
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
      else if (this.limiter.take(principalOf(info.token), "sync", 1, now) !== null)
        refusal = { code: CLOSE.ROOM_FULL, reason: "too many full syncs for this link: try again later" };
      if (refusal) return false;
      if (info.syncing) info.syncs.push(now);
      info.syncing = true;
      return true;
    };
    const source = this.docFor(doc, info.token);
    // A derived part is dropped only when its last socket went or it was replaced (that socket closes).
    if (!source) return this.sockets.close(connection, CLOSE.DOC_REPLACED, "document replaced: sync again");
    const outcome = handleClientSyncMessage(source, data, mayReply);
    switch (outcome.kind) {
      case "reply":
        connection.send(outcome.message);
        return;
      case "sync-refused": {
        const { code, reason } = refusal ?? { code: CLOSE.TOO_MANY_SYNCS, reason: "too many full syncs" };
        return this.sockets.close(connection, code, reason);
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
        return this.sockets.close(connection, CLOSE.FORBIDDEN, "live documents are read-only for clients");
      case "diverged":
        return this.sockets.close(connection, CLOSE.DOC_DIVERGED, outcome.reason);
      case "bad-frame":
        // A document socket has no error frames: a provider never sends an undecodable frame.
        return this.sockets.close(connection, CLOSE.ABUSE, outcome.reason);
    }
  }

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
      for (const derived of this.derived.values()) if (derived.spec.from === name) derived.sourceChanged();
      const n = (this.updatesSinceRebuild.get(name) ?? 0) + 1;
      this.updatesSinceRebuild.set(name, n);
      if (n === this.rebuildAfter) queueMicrotask(() => void this.rebuildDoc(name));
    });
  }

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
    for (const [id, info] of [...this.sockets.entries()]) {
      if (info.purpose.kind !== "doc" || info.purpose.doc !== name) continue;
      const principal = principalOf(info.token);
      owed.set(principal, (owed.get(principal) ?? 0) + 1);
      this.sockets.closeConnection(id, CLOSE.DOC_REPLACED, "document replaced: sync again");
    }
    this.owedSyncs.set(name, { until: Date.now() + ROOM_ASKED_SYNC_MS, byPrincipal: owed });
  }

  private broadcastUpdate(doc: string, update: Uint8Array): void {
    const message = encodeUpdateMessage(update);
    for (const [id, info] of this.sockets.entries()) {
      if (info.syncing && info.purpose.kind === "doc" && info.purpose.doc === doc) this.room.getConnection(id)?.send(message);
    }
  }
}
