/**
 * Records persisted one storage key each (`<collection>:<key>`) and mirrored into the live Yjs
 * document as plain values of Y.Maps. Storage is the durable truth; the document is rebuilt from it
 * when a room starts, so storage holds one key per record and never accumulates Yjs history.
 *
 * A write goes to storage first and only then into the document, so a dashboard never sees a change
 * that a crash could take back, and a tool replies only after `write` resolved.
 */
import * as Y from "yjs";
import { LIMITS, type FeedEvent } from "./protocol.ts";

/** Durable Object storage, narrowed to what we use (room storage and the unit tests' fake). */
export type KeyValueStorage = {
  get<T = unknown>(key: string): Promise<T | undefined>;
  list<T = unknown>(options?: { prefix?: string }): Promise<Map<string, T>>;
  put(entries: Record<string, unknown>): Promise<void>;
  delete(keys: string[]): Promise<number>;
  deleteAll(): Promise<void>;
};

export type Change = { collection: string; key: string; value: object | null };

/** Transaction origins, so observers can tell where a change came from. */
export type Origin = { source: "storage" | "tool" | "room" };

const CHUNK = 128; // Durable Object batch limit for put/delete

export class RecordDoc {
  doc = new Y.Doc();
  private eventIds: string[] = [];

  constructor(
    private readonly storage: KeyValueStorage,
    private readonly collections: readonly string[],
  ) {}

  map<T>(collection: string): Y.Map<T> {
    return this.doc.getMap<T>(collection);
  }

  get<T>(collection: string, key: string): T | undefined {
    return this.map<T>(collection).get(key);
  }

  values<T>(collection: string): T[] {
    return [...this.map<T>(collection).values()];
  }

  get events(): Y.Array<FeedEvent> {
    return this.doc.getArray<FeedEvent>("events");
  }

  /** Rebuilds the document from storage. */
  async load(): Promise<void> {
    const loaded = await Promise.all(this.collections.map((c) => this.storage.list<object>({ prefix: `${c}:` })));
    const events = await this.storage.list<FeedEvent>({ prefix: "events:" });
    this.eventIds = [...events.keys()];
    const feed = [...events.values()].slice(-LIMITS.eventsKept);
    this.doc.transact(() => {
      this.collections.forEach((collection, i) => {
        const map = this.map<object>(collection);
        for (const [key, value] of loaded[i]!) map.set(key.slice(collection.length + 1), value);
      });
      this.events.push(feed);
    }, { source: "storage" } satisfies Origin);
  }

  /**
   * Persists the changes, feed events and any raw storage entries outside the document (`extra`, e.g.
   * an outbox entry that must land together with its mail), then applies the changes to the
   * document in one transaction.
   */
  async write(changes: Change[], newEvents: FeedEvent[] = [], extra: { put?: Record<string, unknown>; delete?: string[] } = {}): Promise<void> {
    const puts: Record<string, unknown> = { ...extra.put };
    const deletes: string[] = [...(extra.delete ?? [])];
    for (const { collection, key, value } of changes) {
      const storageKey = `${collection}:${key}`;
      if (value === null) deletes.push(storageKey);
      else puts[storageKey] = value;
    }
    // Claim the feed slots before any await, so overlapping writes never lose track of a key.
    const keptEvents = [...this.eventIds, ...newEvents.map((e) => `events:${e.id}`)];
    const evicted = keptEvents.length > LIMITS.eventsKept ? keptEvents.slice(0, keptEvents.length - LIMITS.eventsKept) : [];
    this.eventIds = keptEvents.slice(evicted.length);
    for (const e of newEvents) puts[`events:${e.id}`] = e;
    deletes.push(...evicted);

    const putKeys = Object.keys(puts);
    try {
      for (let i = 0; i < putKeys.length; i += CHUNK) {
        await this.storage.put(Object.fromEntries(putKeys.slice(i, i + CHUNK).map((k) => [k, puts[k]])));
      }
      for (let i = 0; i < deletes.length; i += CHUNK) await this.storage.delete(deletes.slice(i, i + CHUNK));
    } catch (error) {
      // Keep tracking every feed key that may be in storage, so a later write still evicts them.
      this.eventIds = [...new Set([...evicted, ...this.eventIds])];
      throw error;
    }

    this.doc.transact(() => {
      for (const { collection, key, value } of changes) {
        if (value === null) this.map(collection).delete(key);
        else this.map(collection).set(key, value);
      }
      if (newEvents.length) this.events.push(newEvents);
      const excess = this.events.length - LIMITS.eventsKept;
      if (excess > 0) this.events.delete(0, excess);
    }, { source: "tool" } satisfies Origin);
  }

  /**
   * Replaces the document with a fresh one holding the same records. Every overwrite of a map
   * value leaves a little structure behind in a Yjs document, so a long-lived room's document (and
   * every dashboard's first sync) would grow with its history; a rebuild keeps it the size of its
   * content. Sockets that replicate the old document must start over (see LiveRoom).
   */
  rebuild(): void {
    const fresh = new Y.Doc();
    fresh.transact(() => {
      for (const c of this.collections) {
        const map = fresh.getMap(c);
        for (const [key, value] of this.map(c).entries()) map.set(key, value);
      }
      fresh.getArray<FeedEvent>("events").push(this.events.toArray());
    }, { source: "storage" } satisfies Origin);
    this.doc.destroy();
    this.doc = fresh;
  }

  /** Forgets everything: storage and document (a removed rig). */
  async wipe(): Promise<void> {
    await this.storage.deleteAll();
    this.eventIds = [];
    this.doc.transact(() => {
      for (const c of this.collections) this.map(c).clear();
      this.events.delete(0, this.events.length);
    }, { source: "room" } satisfies Origin);
  }
}
