/**
 * Derived documents: read-only documents a room builds per token from one of its own documents and
 * keeps in step with it, served like the others (`/docs/<name>`, y-protocols sync, one socket each).
 * The town's `scope` is one: the part of the town document a convoy link or a rig-scoped operator
 * may read, so that no token is sent records it may not see (a filter on the wire could not be
 * trusted: Yjs updates carry whole records).
 *
 * Tokens that see the same part (`key`) share one document, built when the first socket asks and
 * dropped with its last. Each build is a new lineage of the document's name (its Y.Doc clientID,
 * counted in storage before it is served), so a standard provider's replica of an earlier build is
 * handed over like any replica of a rebuilt document (party/sync.ts planHandOver).
 */
import * as Y from "yjs";
import type { TokenPayload } from "../protocol.ts";
import type { KeyValueStorage } from "../records.ts";

/** What a token sees of the source: per collection, record key → record (only what it may read). */
export type Picked = Record<string, Record<string, unknown>>;

/** A part of the source document: who shares it (`key`), and what it holds. */
export type DerivedPart = { key: string; pick(source: (collection: string) => Y.Map<unknown>): Picked };

export type DerivedDocSpec = {
  /** Its name: sockets at `/docs/<name>`. */
  name: string;
  /** The room document it is derived from (its collections are the source's). */
  from: string;
  /** The collections it may hold. */
  collections: readonly string[];
  /** The part a token reads, or null when it reads none (party/access.ts refuses such sockets first). */
  part(token: TokenPayload): DerivedPart | null;
};

type Built = { doc: Y.Doc; part: DerivedPart; updates: number };

export class DerivedDocs {
  private readonly built = new Map<string, Built>();
  private readonly building = new Map<string, Promise<Built>>();
  /** The highest lineage ever issued for this name (a put that failed may still have landed). */
  private issued = 0;
  private refreshQueued = false;

  constructor(
    readonly spec: DerivedDocSpec,
    private readonly storage: KeyValueStorage,
    private readonly source: () => Y.Doc,
    /** A built part changed: its update goes to the sockets of that part. */
    private readonly onUpdate: (key: string, update: Uint8Array, updates: number) => void,
  ) {}

  /** The key of the part a token reads, or null. */
  keyOf(token: TokenPayload): string | null {
    return this.spec.part(token)?.key ?? null;
  }

  /** The built document of a part, if any socket holds it open. */
  doc(key: string): Y.Doc | undefined {
    return this.built.get(key)?.doc;
  }

  /** Builds a token's part unless it is built (its lineage counted in storage first); its key. */
  async open(token: TokenPayload): Promise<string | null> {
    const part = this.spec.part(token);
    if (!part) return null;
    if (this.built.has(part.key)) return part.key;
    let pending = this.building.get(part.key);
    if (!pending) {
      pending = this.build(part).finally(() => this.building.delete(part.key));
      this.building.set(part.key, pending);
    }
    await pending;
    return part.key;
  }

  private async build(part: DerivedPart): Promise<Built> {
    const key = `lineage:${this.spec.name}`;
    const stored = (await this.storage.get<number>(key)) ?? 0;
    const id = Math.max(stored, this.issued) + 1;
    this.issued = id;
    await this.storage.put({ [key]: id });
    const doc = new Y.Doc();
    doc.clientID = id;
    const built: Built = { doc, part, updates: 0 };
    this.fill(built);
    doc.on("update", (update: Uint8Array) => {
      built.updates++;
      this.onUpdate(part.key, update, built.updates);
    });
    this.built.set(part.key, built);
    return built;
  }

  /** The source changed: every built part catches up (once per turn, however many changes came). */
  sourceChanged(): void {
    if (this.refreshQueued || this.built.size === 0) return;
    this.refreshQueued = true;
    queueMicrotask(() => {
      this.refreshQueued = false;
      for (const built of this.built.values()) this.fill(built);
    });
  }

  /** Writes what changed of a part's picked records into its document, in one transaction. */
  private fill(built: Built): void {
    const source = this.source();
    const picked = built.part.pick((collection) => source.getMap(collection));
    built.doc.transact(() => {
      for (const collection of this.spec.collections) {
        const map = built.doc.getMap<unknown>(collection);
        const want = picked[collection] ?? {};
        for (const key of [...map.keys()]) if (!(key in want)) map.delete(key);
        for (const [key, value] of Object.entries(want)) {
          const had = map.get(key);
          if (had !== value && JSON.stringify(had) !== JSON.stringify(value)) map.set(key, value);
        }
      }
    });
  }

  /** Forgets a part (its last socket went, or it is replaced: its sockets sync a fresh build). */
  drop(key: string): void {
    const built = this.built.get(key);
    if (!built) return;
    this.built.delete(key);
    built.doc.destroy();
  }
}
