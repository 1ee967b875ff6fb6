import { describe, expect, it } from "vitest";
import * as Y from "yjs";
import { LIMITS, type FeedEvent } from "../../party/protocol.ts";
import { RecordDoc } from "../../party/records.ts";
import { FakeStorage, MAX_BATCH } from "../helpers/fake-storage.ts";

const COLLECTIONS = ["beads", "agents", "mail"] as const;

/** Sortable event ids, so storage order (by key) is write order, as with ULIDs. */
const event = (n: number): FeedEvent => ({ id: `E${String(n).padStart(6, "0")}`, at: n, kind: "test", text: `event ${n}` });
const events = (from: number, count: number) => Array.from({ length: count }, (_, i) => event(from + i));

function setup(initial: Record<string, unknown> = {}) {
  const storage = new FakeStorage(initial);
  return { storage, records: new RecordDoc(storage, COLLECTIONS) };
}

describe("RecordDoc.write", () => {
  it("persists one storage key per record as <collection>:<key> and mirrors it into the doc", async () => {
    const { storage, records } = setup();
    await records.write([
      { collection: "beads", key: "B1", value: { id: "B1", title: "one" } },
      { collection: "agents", key: "a/witness", value: { identity: "a/witness" } },
    ]);
    expect(storage.keys()).toEqual(["agents:a/witness", "beads:B1"]);
    expect(storage.data.get("beads:B1")).toEqual({ id: "B1", title: "one" });
    expect(records.get("beads", "B1")).toEqual({ id: "B1", title: "one" });
    expect(records.values("agents")).toEqual([{ identity: "a/witness" }]);
  });

  it("a null value deletes the record from storage and doc", async () => {
    const { storage, records } = setup();
    await records.write([{ collection: "beads", key: "B1", value: { id: "B1" } }]);
    await records.write([{ collection: "beads", key: "B1", value: null }]);
    expect(storage.keys("beads:")).toEqual([]);
    expect(records.map("beads").has("B1")).toBe(false);
  });

  it("persists before the doc changes: a failed put leaves the doc unchanged", async () => {
    const { storage, records } = setup();
    await records.write([{ collection: "beads", key: "B1", value: { id: "B1", title: "old" } }], [event(1)]);
    const before = Y.encodeStateAsUpdate(records.doc);
    let docChanged = false;
    records.doc.on("update", () => (docChanged = true));

    storage.failPuts = 1;
    await expect(
      records.write(
        [
          { collection: "beads", key: "B1", value: { id: "B1", title: "new" } },
          { collection: "beads", key: "B2", value: { id: "B2" } },
        ],
        [event(2)],
      ),
    ).rejects.toThrow("storage unavailable");

    expect(docChanged).toBe(false);
    expect(Y.encodeStateAsUpdate(records.doc)).toEqual(before);
    expect(records.get("beads", "B1")).toEqual({ id: "B1", title: "old" });
    expect(records.events.length).toBe(1);
  });

  it("a failed write does not leave a feed key behind that is never evicted", async () => {
    const { storage, records } = setup();
    await records.write([], events(0, LIMITS.eventsKept));
    storage.failPuts = 1;
    await expect(records.write([], [event(LIMITS.eventsKept)])).rejects.toThrow();
    await records.write([], events(LIMITS.eventsKept + 1, 600));
    expect(storage.keys("events:").length).toBe(LIMITS.eventsKept);
    const reloaded = new RecordDoc(storage, COLLECTIONS);
    await reloaded.load();
    expect(reloaded.events.length).toBe(LIMITS.eventsKept);
  });

  it("the doc changes only after storage holds the record", async () => {
    const { storage, records } = setup();
    const seenInStorage: boolean[] = [];
    records.doc.on("update", () => seenInStorage.push(storage.data.has("beads:B1")));
    await records.write([{ collection: "beads", key: "B1", value: { id: "B1" } }]);
    expect(seenInStorage).toEqual([true]);
  });

  it("stores extra puts and deletes together with the records", async () => {
    const { storage, records } = setup({ "outbox:old": { key: "old" } });
    await records.write([{ collection: "mail", key: "M1", value: { id: "M1" } }], [], { put: { "outbox:M1": { key: "M1" } }, delete: ["outbox:old"] });
    expect(storage.keys()).toEqual(["mail:M1", "outbox:M1"]);
  });

  it("chunks a put of more than 128 keys into batches of at most 128", async () => {
    const { storage, records } = setup();
    const changes = Array.from({ length: 300 }, (_, i) => ({ collection: "beads", key: `B${i}`, value: { id: `B${i}` } }));
    await records.write(changes);
    expect(storage.putCalls.map((keys) => keys.length)).toEqual([128, 128, 44]);
    expect(storage.putCalls.every((keys) => keys.length <= MAX_BATCH)).toBe(true);
    expect(storage.keys("beads:")).toHaveLength(300);
    expect(records.map("beads").size).toBe(300);
  });

  it("chunks deletes of more than 128 keys", async () => {
    const { storage, records } = setup();
    const keys = Array.from({ length: 200 }, (_, i) => `B${i}`);
    await records.write(keys.map((key) => ({ collection: "beads", key, value: { id: key } })));
    await records.write(keys.map((key) => ({ collection: "beads", key, value: null })));
    expect(storage.deleteCalls.map((k) => k.length)).toEqual([128, 72]);
    expect(storage.keys("beads:")).toEqual([]);
  });
});

describe("RecordDoc events", () => {
  it("appends feed events to storage and the doc", async () => {
    const { storage, records } = setup();
    await records.write([], [event(1), event(2)]);
    expect(storage.keys("events:")).toEqual(["events:E000001", "events:E000002"]);
    expect(records.events.toArray()).toEqual([event(1), event(2)]);
  });

  it(`keeps only the last LIMITS.eventsKept (${LIMITS.eventsKept}) events in storage and doc`, async () => {
    const { storage, records } = setup();
    await records.write([], events(1, 300));
    await records.write([], events(301, 300)); // 600 written in two writes
    await records.write([], [event(601)]);

    const kept = events(102, LIMITS.eventsKept);
    expect(storage.keys("events:")).toEqual(kept.map((e) => `events:${e.id}`));
    expect(records.events.length).toBe(LIMITS.eventsKept);
    expect(records.events.toArray()).toEqual(kept);
  });

  it("bounds events even when one write brings more than the limit", async () => {
    const { storage, records } = setup();
    await records.write([], events(1, LIMITS.eventsKept + 50));
    expect(storage.keys("events:")).toHaveLength(LIMITS.eventsKept);
    expect(records.events.length).toBe(LIMITS.eventsKept);
    expect(records.events.get(0)).toEqual(event(51));
  });

  it("stays bounded in storage when writes overlap", async () => {
    const { storage, records } = setup();
    for (let n = 0; n < 600; n += 2) await Promise.all([records.write([], [event(n)]), records.write([], [event(n + 1)])]);
    expect(storage.keys("events:")).toHaveLength(LIMITS.eventsKept);
    expect(records.events.length).toBe(LIMITS.eventsKept);
  });

  it("keeps bounding after a reload", async () => {
    const { storage, records } = setup();
    await records.write([], events(1, LIMITS.eventsKept));
    const reloaded = new RecordDoc(storage, COLLECTIONS);
    await reloaded.load();
    await reloaded.write([], events(LIMITS.eventsKept + 1, 10));
    expect(storage.keys("events:")).toHaveLength(LIMITS.eventsKept);
    expect(storage.data.has("events:E000010")).toBe(false);
    expect(storage.data.has("events:E000011")).toBe(true);
    expect(reloaded.events.length).toBe(LIMITS.eventsKept);
  });
});

describe("RecordDoc.load", () => {
  it("rebuilds the doc from storage", async () => {
    const { storage } = setup({
      "beads:B1": { id: "B1", title: "one" },
      "beads:B2": { id: "B2", title: "two" },
      "agents:a/polecats/toast": { identity: "a/polecats/toast" },
      "events:E000002": event(2),
      "events:E000001": event(1),
      "outbox:M9": { key: "M9" }, // not a collection: stays out of the doc
    });
    const records = new RecordDoc(storage, COLLECTIONS);
    await records.load();
    expect(records.map("beads").toJSON()).toEqual({ B1: { id: "B1", title: "one" }, B2: { id: "B2", title: "two" } });
    expect(records.get("agents", "a/polecats/toast")).toEqual({ identity: "a/polecats/toast" });
    expect(records.map("mail").size).toBe(0);
    expect(records.events.toArray()).toEqual([event(1), event(2)]);
    expect([...records.doc.share.keys()].sort()).toEqual(["agents", "beads", "events", "mail"]);
  });

  it("round-trips what write stored", async () => {
    const { storage, records } = setup();
    await records.write([{ collection: "mail", key: "M1", value: { id: "M1", to: "a/witness" } }], [event(1)]);
    const reloaded = new RecordDoc(storage, COLLECTIONS);
    await reloaded.load();
    expect(reloaded.doc.getMap("mail").toJSON()).toEqual(records.doc.getMap("mail").toJSON());
    expect(reloaded.events.toArray()).toEqual(records.events.toArray());
  });
});

describe("RecordDoc.wipe", () => {
  it("clears storage and the doc", async () => {
    const { storage, records } = setup({ "outbox:M1": { key: "M1" } });
    await records.write(
      [
        { collection: "beads", key: "B1", value: { id: "B1" } },
        { collection: "mail", key: "M1", value: { id: "M1" } },
      ],
      [event(1)],
    );
    await records.wipe();
    expect(storage.data.size).toBe(0);
    for (const c of COLLECTIONS) expect(records.map(c).size).toBe(0);
    expect(records.events.length).toBe(0);
  });

  it("starts the event count afresh after a wipe", async () => {
    const { storage, records } = setup();
    await records.write([], events(1, LIMITS.eventsKept));
    await records.wipe();
    await records.write([], [event(9999)]);
    expect(storage.deleteCalls).toEqual([]); // nothing to evict
    expect(storage.keys("events:")).toEqual(["events:E009999"]);
  });
});
