/**
 * Records persisted one storage key each (`<collection>:<key>`) and mirrored into the live Yjs
 * document as plain values of Y.Maps. Storage is the durable truth; the document is rebuilt from it
 * when a room starts, so storage holds one key per record and never accumulates Yjs history.
 *
 * A write goes to storage first and only then into the document, so a dashboard never sees a change
 * that a crash could take back, and a tool replies only after `write` resolved.
 *
 * Each document is built as a lineage: its Y.Doc `clientID` is the lineage id, 1, 2, 3… for the
 * room's lifetime, one new id per load and per rebuild, counted in storage (`lineage:<doc>`) before
 * a document of that lineage is served, so no id ever stands for two different contents (party/sync.ts
 * `planHandOver` relies on it to hand a standard provider's replica over to the current lineage).
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

/**
 * Where each collection lives: one or more live documents (each its own Y.Doc), and the one that
 * holds the activity feed. A plain list of collections is one document, `main`.
 */
export type DocLayout = { docs: Record<string, readonly string[]>; events: string };

export class RecordDoc {
  /** The live documents by name. */
  readonly docs = new Map<string, Y.Doc>();
  private readonly home = new Map<string, string>();
  private readonly layout: DocLayout;
  private eventIds: string[] = [];
  /** Storage entries added to the first write (e.g. the room's id: a room stores nothing before). */
  private firstWrite: Record<string, unknown> | null = null;
  /** Each document's current lineage id (its Y.Doc clientID). */
  private readonly lineages = new Map<string, number>();
  /** The highest lineage id each document ever tried to store (a failed put may have landed). */
  private readonly issued = new Map<string, number>();

  constructor(
    private readonly storage: KeyValueStorage,
    layout: readonly string[] | DocLayout,
  ) {
    this.layout = Array.isArray(layout) ? { docs: { main: layout as readonly string[] }, events: "main" } : (layout as DocLayout);
    for (const [name, collections] of Object.entries(this.layout.docs)) {
      this.docs.set(name, new Y.Doc());
      for (const c of collections) this.home.set(c, name);
    }
  }

  /** The document holding the feed (the only one, for a single-document room). */
  get doc(): Y.Doc {
    return this.docs.get(this.layout.events)!;
  }

  private get collections(): string[] {
    return [...this.home.keys()];
  }

  /** Stores `entries` with the next write (once). */
  withFirstWrite(entries: Record<string, unknown>): void {
    this.firstWrite = { ...this.firstWrite, ...entries };
  }

  /** A document's current lineage id, its Y.Doc clientID. */
  lineage(name: string): number {
    return this.lineages.get(name) ?? 0;
  }

  /**
   * Counts the next lineage of each named document in storage before any document of it is served:
   * at once, or with the first write in a room that has stored nothing yet (whose documents are
   * empty until then, and the same again after a restart, so reusing an id for them is harmless).
   */
  private async nextLineages(names: readonly string[], stored: Map<string, number>): Promise<Map<string, number>> {
    const next = new Map(names.map((name) => [name, Math.max(stored.get(name) ?? 0, this.issued.get(name) ?? 0) + 1]));
    for (const [name, id] of next) this.issued.set(name, id);
    const entries = Object.fromEntries([...next].map(([name, id]) => [`lineage:${name}`, id]));
    if (this.firstWrite) Object.assign(this.firstWrite, entries);
    else await this.storage.put(entries);
    return next;
  }

  docOf(collection: string): Y.Doc {
    const name = this.home.get(collection);
    if (!name) throw new Error(`no collection ${collection}`);
    return this.docs.get(name)!;
  }

  map<T>(collection: string): Y.Map<T> {
    return this.docOf(collection).getMap<T>(collection);
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

  /**
   * Rebuilds the documents from storage, each as a new lineage. Call `withFirstWrite` first in a room
   * that has stored nothing yet.
   */
  async load(): Promise<void> {
    const stored = await this.storage.list<number>({ prefix: "lineage:" });
    const lineages = await this.nextLineages([...this.docs.keys()], new Map([...stored].map(([k, v]) => [k.slice("lineage:".length), v])));
    for (const [name, id] of lineages) {
      this.lineages.set(name, id);
      this.docs.get(name)!.clientID = id;
    }
    const collections = this.collections;
    const loaded = await Promise.all(collections.map((c) => this.storage.list<object>({ prefix: `${c}:` })));
    const events = await this.storage.list<FeedEvent>({ prefix: "events:" });
    this.eventIds = [...events.keys()];
    const feed = [...events.values()].slice(-LIMITS.eventsKept);
    for (const [name, doc] of this.docs) {
      doc.transact(
        () => {
          collections.forEach((collection, i) => {
            if (this.home.get(collection) !== name) return;
            const map = doc.getMap<object>(collection);
            for (const [key, value] of loaded[i]!) map.set(key.slice(collection.length + 1), value);
          });
          if (name === this.layout.events) doc.getArray<FeedEvent>("events").push(feed);
        },
        { source: "storage" } satisfies Origin,
      );
    }
  }

  /**
   * Persists the changes, feed events and any raw storage entries outside the documents (`extra`,
   * e.g. an outbox entry that must land together with its mail) in one batch, then applies the
   * changes to each document they touch, one transaction each.
   */
  /** `extra.dropEvents`: ids of feed lines this write replaces (gone from storage and the document with it). */
  async write(
    changes: Change[],
    newEvents: FeedEvent[] = [],
    extra: { put?: Record<string, unknown>; delete?: string[]; dropEvents?: string[] } = {},
  ): Promise<void> {
    const puts: Record<string, unknown> = { ...this.firstWrite, ...extra.put };
    const deletes: string[] = [...(extra.delete ?? [])];
    for (const { collection, key, value } of changes) {
      const storageKey = `${collection}:${key}`;
      if (value === null) deletes.push(storageKey);
      else puts[storageKey] = value;
    }
    // Claim the feed slots before any await, so overlapping writes never lose track of a key.
    const dropped = new Set((extra.dropEvents ?? []).map((id) => `events:${id}`).filter((k) => this.eventIds.includes(k)));
    deletes.push(...dropped);
    const keptEvents = [...this.eventIds.filter((k) => !dropped.has(k)), ...newEvents.map((e) => `events:${e.id}`)];
    const evicted = keptEvents.length > LIMITS.eventsKept ? keptEvents.slice(0, keptEvents.length - LIMITS.eventsKept) : [];
    this.eventIds = keptEvents.slice(evicted.length);
    for (const e of newEvents) puts[`events:${e.id}`] = e;
    deletes.push(...evicted);

    const putKeys = Object.keys(puts);
    try {
      // Every batch is issued before the first is awaited: a Durable Object coalesces writes made
      // without an await between them into one atomic commit (one fsync), where awaiting the puts
      // before the deletes made two (a status change past the feed's 500 events evicts one).
      const batches: Promise<unknown>[] = [];
      for (let i = 0; i < putKeys.length; i += CHUNK) batches.push(this.storage.put(Object.fromEntries(putKeys.slice(i, i + CHUNK).map((k) => [k, puts[k]]))));
      for (let i = 0; i < deletes.length; i += CHUNK) batches.push(this.storage.delete(deletes.slice(i, i + CHUNK)));
      await Promise.all(batches);
    } catch (error) {
      // Keep tracking every feed key that may be in storage, so a later write still evicts them.
      this.eventIds = [...new Set([...evicted, ...dropped, ...this.eventIds])];
      throw error;
    }
    this.firstWrite = null;

    const touched = new Set(changes.map((c) => this.home.get(c.collection)!));
    if (newEvents.length || dropped.size) touched.add(this.layout.events);
    for (const name of touched) {
      const doc = this.docs.get(name)!;
      doc.transact(
        () => {
          for (const { collection, key, value } of changes) {
            if (this.home.get(collection) !== name) continue;
            if (value === null) doc.getMap(collection).delete(key);
            else doc.getMap(collection).set(key, value);
          }
          if (name !== this.layout.events) return;
          const events = doc.getArray<FeedEvent>("events");
          for (let i = events.length - 1; i >= 0 && dropped.size; i--) if (dropped.has(`events:${events.get(i).id}`)) events.delete(i, 1);
          if (newEvents.length) events.push(newEvents);
          const excess = events.length - LIMITS.eventsKept;
          if (excess > 0) events.delete(0, excess);
        },
        { source: "tool" } satisfies Origin,
      );
    }
  }

  /**
   * Replaces a document with a fresh one holding the same records. Every overwrite of a map value
   * leaves a little structure behind in a Yjs document, so a long-lived room's document (and every
   * dashboard's first sync) would grow with its history; a rebuild keeps it the size of its
   * content. Sockets that replicate the old document must start over (party/live/docs.ts). The
   * fresh document is the next lineage, counted in storage before it is swapped in.
   */
  async rebuild(name: string = this.layout.events): Promise<Y.Doc> {
    const id = (await this.nextLineages([name], new Map())).get(name)!;
    this.lineages.set(name, id);
    const old = this.docs.get(name)!;
    const fresh = new Y.Doc();
    fresh.clientID = id;
    fresh.transact(
      () => {
        for (const c of this.layout.docs[name] ?? []) {
          const map = fresh.getMap(c);
          for (const [key, value] of old.getMap(c).entries()) map.set(key, value);
        }
        if (name === this.layout.events) fresh.getArray<FeedEvent>("events").push(old.getArray<FeedEvent>("events").toArray());
      },
      { source: "storage" } satisfies Origin,
    );
    old.destroy();
    this.docs.set(name, fresh);
    return fresh;
  }

  /** Forgets everything: storage and documents (a removed rig). */
  async wipe(): Promise<void> {
    await this.storage.deleteAll();
    // The lineage counters outlive the records: the documents' ids keep increasing.
    if (this.lineages.size) await this.storage.put(Object.fromEntries([...this.lineages].map(([name, id]) => [`lineage:${name}`, id])));
    this.eventIds = [];
    for (const [name, doc] of this.docs) {
      doc.transact(
        () => {
          for (const c of this.layout.docs[name] ?? []) doc.getMap(c).clear();
          if (name === this.layout.events) {
            const events = doc.getArray<FeedEvent>("events");
            events.delete(0, events.length);
          }
        },
        { source: "room" } satisfies Origin,
      );
    }
  }
}
