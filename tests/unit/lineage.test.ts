/**
 * Lineage hand-over (party/sync.ts `planHandOver`, party/records.ts lineages): a standard Yjs
 * provider keeps one Y.Doc across reconnects, while the room's document is a new lineage after each
 * restart and rebuild. Whatever the sequence of writes, rebuilds, restarts and missed updates, a
 * replica that reconnects with its old Y.Doc must equal the room's document after the step 2; a
 * replica that wrote must be refused and never synced.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import * as Y from "yjs";
import * as encoding from "lib0/encoding";
import * as decoding from "lib0/decoding";
import * as syncProtocol from "y-protocols/sync";
import type { FeedEvent } from "../../party/protocol.ts";
import { RecordDoc, type Origin } from "../../party/records.ts";
import { deleteAllOf, handleClientSyncMessage, MESSAGE_SYNC, planHandOver, type SyncOutcome } from "../../party/sync.ts";
import { FakeStorage } from "../helpers/fake-storage.ts";

const COLLECTIONS = ["beads", "agents"] as const;

/** A room as LiveRoom drives its RecordDoc: load at start (the id with the first write), rebuilds. */
class Room {
  records!: RecordDoc;
  private listeners = new Set<(update: Uint8Array) => void>();
  constructor(readonly storage = new FakeStorage()) {}

  async start(): Promise<this> {
    this.records = new RecordDoc(this.storage, COLLECTIONS);
    if (!this.storage.data.has("room-id")) this.records.withFirstWrite({ "room-id": "r" });
    await this.records.load();
    this.watch();
    return this;
  }

  private watch(): void {
    this.records.doc.on("update", (update: Uint8Array, origin: Origin | null) => {
      if (origin?.source === "storage") return;
      for (const listener of this.listeners) listener(update);
    });
  }

  async rebuild(): Promise<void> {
    await this.records.rebuild();
    this.watch();
  }

  onUpdate(listener: (update: Uint8Array) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get doc(): Y.Doc {
    return this.records.doc;
  }
}

function stepOne(doc: Y.Doc): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, MESSAGE_SYNC);
  syncProtocol.writeSyncStep1(encoder, doc);
  return encoding.toUint8Array(encoder);
}

/** Applies a room's reply the way y-websocket's provider does (origin: the provider). */
function applyReply(doc: Y.Doc, outcome: SyncOutcome): void {
  if (outcome.kind !== "reply") throw new Error(`expected a reply, got ${outcome.kind}`);
  const decoder = decoding.createDecoder(outcome.message);
  expect(decoding.readVarUint(decoder)).toBe(MESSAGE_SYNC);
  expect(syncProtocol.readSyncMessage(decoder, encoding.createEncoder(), doc, "provider")).toBe(syncProtocol.messageYjsSyncStep2);
}

const contentOf = (doc: Y.Doc) => ({
  beads: doc.getMap("beads").toJSON(),
  agents: doc.getMap("agents").toJSON(),
  events: doc.getArray("events").toJSON(),
});

/** A standard provider's replica: one Y.Doc for its whole life, live updates while connected. */
class Provider {
  doc = new Y.Doc();
  connected = false;
  wrote = false;
  private off: (() => void) | null = null;
  constructor(
    private readonly room: () => Room,
    id: number,
  ) {
    this.doc.clientID = 0x7f000000 + id; // a provider's own id: random in real life, far above any lineage
  }

  /** Sync step 1 → step 2, then live updates; or the refusal a replica that wrote gets. */
  connect(): SyncOutcome {
    this.disconnect();
    const outcome = handleClientSyncMessage(this.room().doc, stepOne(this.doc));
    if (outcome.kind !== "reply") return outcome;
    applyReply(this.doc, outcome);
    this.off = this.room().onUpdate((update) => Y.applyUpdate(this.doc, update, "provider"));
    this.connected = true;
    return outcome;
  }

  disconnect(): void {
    this.off?.();
    this.off = null;
    this.connected = false;
  }

  write(n: number): void {
    this.doc.getMap("beads").set(`B${n % 4}`, { mine: n });
    this.wrote = true;
  }
}

type Op =
  | { kind: "set"; collection: 0 | 1; key: number; value: number; event: boolean }
  | { kind: "delete"; key: number }
  | { kind: "event" }
  | { kind: "rebuild" }
  | { kind: "restart" }
  | { kind: "drop"; replica: number }
  | { kind: "connect"; replica: number }
  | { kind: "write"; replica: number };

const REPLICAS = 3;
const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant("set" as const),
      collection: fc.constantFrom(0 as const, 1 as const),
      key: fc.nat(5),
      value: fc.nat(1000),
      event: fc.boolean(),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("delete" as const), key: fc.nat(5) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("event" as const) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("rebuild" as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("restart" as const) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("drop" as const), replica: fc.nat(REPLICAS - 1) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("connect" as const), replica: fc.nat(REPLICAS - 1) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("write" as const), replica: fc.nat(REPLICAS - 1) }) },
);

async function run(ops: Op[]): Promise<void> {
  let room = await new Room().start();
  let events = 0;
  let providerIds = 0;
  const replicas = Array.from({ length: REPLICAS }, () => new Provider(() => room, providerIds++));
  const event = (): FeedEvent => ({ id: `E${String(events).padStart(6, "0")}`, at: events, kind: "test", text: `event ${events++}` });
  const check = (p: Provider, i: number) => {
    const outcome = p.connect();
    if (p.wrote) {
      // Refused, never synced: a fresh Y.Doc on the same socket path takes its place.
      expect(outcome.kind).toBe("diverged");
      expect(p.connected).toBe(false);
      replicas[i] = new Provider(() => room, providerIds++);
      replicas[i]!.connect();
    }
    expect(contentOf(replicas[i]!.doc)).toEqual(contentOf(room.doc));
  };
  for (const o of ops) {
    switch (o.kind) {
      case "set":
        await room.records.write([{ collection: COLLECTIONS[o.collection], key: `B${o.key}`, value: { v: o.value } }], o.event ? [event()] : []);
        break;
      case "delete":
        await room.records.write([{ collection: "beads", key: `B${o.key}`, value: null }]);
        break;
      case "event":
        await room.records.write([], [event()]);
        break;
      case "rebuild":
        await room.rebuild();
        for (const p of replicas) p.disconnect(); // 4205
        break;
      case "restart":
        for (const p of replicas) p.disconnect();
        room = await new Room(room.storage).start();
        break;
      case "drop":
        replicas[o.replica]!.disconnect();
        break;
      case "connect":
        check(replicas[o.replica]!, o.replica);
        break;
      case "write":
        replicas[o.replica]!.write(o.replica);
        break;
    }
    // A connected replica follows every update.
    for (const p of replicas) if (p.connected && !p.wrote) expect(contentOf(p.doc)).toEqual(contentOf(room.doc));
  }
  replicas.forEach((p, i) => check(p, i));
}

describe("lineage hand-over", () => {
  it("every replica equals the room after any sequence of writes, rebuilds, restarts, drops and reconnects", async () => {
    await fc.assert(fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 60 }), run), { seed: 1313, numRuns: 300 });
  });

  it("a replica that missed updates before the rebuild, through two rebuilds in a row", async () => {
    const room = await new Room().start();
    const p = new Provider(() => room, 1);
    await room.records.write([
      { collection: "beads", key: "B1", value: { v: 1 } },
      { collection: "beads", key: "B2", value: { v: 1 } },
    ]);
    p.connect();
    p.disconnect();
    await room.records.write([
      { collection: "beads", key: "B1", value: { v: 2 } },
      { collection: "beads", key: "B2", value: null },
      { collection: "beads", key: "B3", value: { v: 3 } },
    ]);
    await room.rebuild();
    await room.records.write([{ collection: "beads", key: "B1", value: { v: 4 } }]);
    await room.rebuild();
    expect(room.doc.clientID).toBe(3);
    p.connect();
    expect(contentOf(p.doc)).toEqual({ beads: { B1: { v: 4 }, B3: { v: 3 } }, agents: {}, events: [] });
  });

  it("a plain reconnect gets the diff only; after a rebuild the whole document and a delete set", async () => {
    const room = await new Room().start();
    await room.records.write(Array.from({ length: 50 }, (_, i) => ({ collection: "beads", key: `B${i}`, value: { title: `bead ${i}`.repeat(5) } })));
    const p = new Provider(() => room, 1);
    const first = p.connect();
    p.disconnect();
    await room.records.write([{ collection: "beads", key: "B1", value: { title: "changed" } }]);
    const plain = p.connect();
    expect(plain.kind === "reply" && first.kind === "reply" && plain.message.byteLength < first.message.byteLength / 10).toBe(true);
    await room.rebuild();
    const handedOver = p.connect();
    expect(handedOver.kind === "reply" && first.kind === "reply" && handedOver.message.byteLength < first.message.byteLength + 32).toBe(true);
    expect(contentOf(p.doc)).toEqual(contentOf(room.doc));
  });

  it("refuses a replica that wrote, and one from before lineages (a random client id), on every step 1", async () => {
    const room = await new Room().start();
    await room.records.write([{ collection: "beads", key: "B1", value: { v: 1 } }]);
    const p = new Provider(() => room, 1);
    p.connect();
    p.write(1);
    for (let i = 0; i < 3; i++) expect(p.connect().kind).toBe("diverged");
    await room.rebuild();
    expect(p.connect().kind).toBe("diverged");
    expect(p.doc.getMap("beads").get("B1")).toEqual({ mine: 1 }); // never synced: its own write stays visible to it

    const old = new Y.Doc(); // a replica of a document written before lineages: random client ids
    old.getMap("beads").set("B1", { v: 0 });
    expect(handleClientSyncMessage(room.doc, stepOne(old)).kind).toBe("diverged");
  });

  it("plans: the current lineage as far as the room has it, earlier lineages deleted, anything else refused", () => {
    const room = new Map([[5, 10]]);
    expect(planHandOver(5, room, new Map())).toEqual({ kind: "hand-over", stale: new Map() });
    expect(planHandOver(5, room, new Map([[5, 10]]))).toEqual({ kind: "hand-over", stale: new Map() });
    expect(
      planHandOver(
        5,
        room,
        new Map([
          [5, 3],
          [4, 7],
          [1, 2],
        ]),
      ),
    ).toEqual({
      kind: "hand-over",
      stale: new Map([
        [4, 7],
        [1, 2],
      ]),
    });
    expect(planHandOver(5, room, new Map([[5, 11]]))).toEqual({ kind: "diverged", client: 5 });
    expect(planHandOver(5, room, new Map([[6, 1]]))).toEqual({ kind: "diverged", client: 6 });
    expect(planHandOver(5, room, new Map([[0, 1]]))).toEqual({ kind: "diverged", client: 0 });
    expect(planHandOver(5, room, new Map([[3_000_000_000, 1]]))).toEqual({ kind: "diverged", client: 3_000_000_000 });
  });

  it("encodes the delete set as a Yjs update with no structs", () => {
    const decoded = Y.decodeUpdate(
      deleteAllOf(
        new Map([
          [2, 7],
          [1, 3],
        ]),
      ),
    );
    expect(decoded.structs).toEqual([]);
    expect([...decoded.ds.clients].map(([c, items]) => [c, items.map((i) => [i.clock, i.len])]).sort()).toEqual([
      [1, [[0, 3]]],
      [2, [[0, 7]]],
    ]);
  });

  it("needs both parts: the old step 2 leaves old values behind, and a lower lineage id loses the value", () => {
    const lineage = (id: number, value: number, events: number[]) => {
      const doc = new Y.Doc();
      doc.clientID = id;
      doc.getMap("beads").set("B1", { v: value });
      doc.getArray("events").push(events);
      return doc;
    };
    const old = lineage(1, 1, [1]);
    old.getMap("beads").set("B1", { v: 2 });
    // Without a hand-over (the step 2 before lineages): events duplicated, the value depends on ids.
    const plain = new Y.Doc();
    Y.applyUpdate(plain, Y.encodeStateAsUpdate(old));
    Y.applyUpdate(plain, Y.encodeStateAsUpdate(lineage(2, 3, [1, 2])));
    expect(plain.getArray("events").toJSON()).toEqual([1, 1, 2]);
    // With the delete set, but a new lineage whose id is lower than the old one's: the value is lost.
    const lower = new Y.Doc();
    Y.applyUpdate(lower, Y.encodeStateAsUpdate(lineage(7, 1, [1])));
    const low = lineage(2, 3, [1, 2]);
    Y.applyUpdate(lower, Y.mergeUpdates([Y.encodeStateAsUpdate(low), deleteAllOf(new Map([[7, 2]]))]));
    expect(lower.getMap("beads").get("B1")).toBeUndefined();
    // A higher id and the delete set: the replica equals the new lineage.
    const handed = new Y.Doc();
    Y.applyUpdate(handed, Y.encodeStateAsUpdate(old));
    const high = lineage(2, 3, [1, 2]);
    Y.applyUpdate(handed, Y.mergeUpdates([Y.encodeStateAsUpdate(high), deleteAllOf(Y.decodeStateVector(Y.encodeStateVector(old)))]));
    expect(contentOf(handed)).toEqual(contentOf(high));
  });
});

describe("lineage ids", () => {
  it("count up across starts and rebuilds, stored before the document is served", async () => {
    const storage = new FakeStorage();
    let room = await new Room(storage).start();
    expect(room.doc.clientID).toBe(1);
    expect(storage.keys()).toEqual([]); // an empty room stores nothing until its first write
    await room.records.write([{ collection: "beads", key: "B1", value: { v: 1 } }]);
    expect(storage.data.get("lineage:main")).toBe(1);
    await room.rebuild();
    expect([room.doc.clientID, storage.data.get("lineage:main")]).toEqual([2, 2]);
    room = await new Room(storage).start();
    expect([room.doc.clientID, storage.data.get("lineage:main")]).toEqual([3, 3]);
  });

  it("a rebuild whose counter cannot be stored keeps the old document", async () => {
    const room = await new Room().start();
    await room.records.write([{ collection: "beads", key: "B1", value: { v: 1 } }]);
    const before = room.doc;
    room.storage.failPuts = 1;
    await expect(room.rebuild()).rejects.toThrow();
    expect(room.doc).toBe(before);
    await room.rebuild();
    expect(room.doc.clientID).toBe(3); // 2 may have been stored: never reused
  });

  it("survive a wipe", async () => {
    const room = await new Room().start();
    await room.records.write([{ collection: "beads", key: "B1", value: { v: 1 } }]);
    await room.rebuild();
    await room.records.wipe();
    expect(room.storage.data.get("lineage:main")).toBe(2);
  });
});
