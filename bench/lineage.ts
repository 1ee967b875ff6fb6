/**
 * What lineage hand-over costs (docs/protocol.md, "Using a standard Yjs provider"), on plain
 * Y.Docs driven through the room's own code (party/records.ts, party/sync.ts), no server:
 *
 * 1. Why rebuilds stay: a document of N beads after U overwrites in one lineage vs the same
 *    content fresh (encoded bytes, heap).
 * 2. A standard provider's replica after R rebuilds handed over: encoded bytes and heap it keeps
 *    beyond a fresh replica of the same content (the old lineages' deleted items).
 * 3. Resync cost: the step 2 for a plain reconnect (the diff) and for a reconnect after a rebuild
 *    (the whole document and the delete set).
 *
 *   node --expose-gc --import tsx bench/lineage.ts [beads=1000] [updates=200000] [rebuilds=10]
 */
import * as Y from "yjs";
import * as encoding from "lib0/encoding";
import * as decoding from "lib0/decoding";
import * as syncProtocol from "y-protocols/sync";
import { RecordDoc } from "../party/records.ts";
import { deleteAllOf, handleClientSyncMessage, MESSAGE_SYNC } from "../party/sync.ts";
import { FakeStorage } from "../tests/helpers/fake-storage.ts";

const [BEADS, UPDATES, REBUILDS] = [Number(process.argv[2] ?? 1000), Number(process.argv[3] ?? 200_000), Number(process.argv[4] ?? 10)];
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with node --expose-gc --import tsx bench/lineage.ts");

function heap(): number {
  for (let i = 0; i < 3; i++) gc!();
  return process.memoryUsage().heapUsed;
}

const bead = (i: number, n: number) => ({
  id: `01JBEAD${String(i).padStart(19, "0")}`,
  title: `Bead number ${i}: fix the flaky build step ${n}`,
  status: (["open", "in_progress", "closed"] as const)[n % 3],
  priority: "medium",
  assignee: `alpha/polecats/p${i % 8}`,
  createdAt: 1_760_000_000_000 + i,
  updatedAt: 1_760_000_000_000 + n,
});

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(2)} MB`;

function stepOne(doc: Y.Doc): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, MESSAGE_SYNC);
  syncProtocol.writeSyncStep1(encoder, doc);
  return encoding.toUint8Array(encoder);
}

/** Syncs `replica` from the room's document as a provider does; the reply's size in bytes. */
function sync(room: Y.Doc, replica: Y.Doc): number {
  const outcome = handleClientSyncMessage(room, stepOne(replica));
  if (outcome.kind !== "reply") throw new Error(outcome.kind);
  const decoder = decoding.createDecoder(outcome.message);
  decoding.readVarUint(decoder);
  syncProtocol.readSyncMessage(decoder, encoding.createEncoder(), replica, "provider");
  return outcome.message.byteLength;
}

async function main(): Promise<void> {
  console.log(`lineage hand-over: ${BEADS} beads, ${UPDATES} updates, ${REBUILDS} rebuilds (yjs gc on)\n`);

  // 1. One lineage forever vs rebuilt.
  {
    const base = heap();
    const doc = new Y.Doc();
    const beads = doc.getMap("beads");
    for (let i = 0; i < BEADS; i++) beads.set(String(i), bead(i, 0));
    let seed = 13;
    const next = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31); // a fixed-seed LCG: keys in random order
    for (let n = 1; n <= UPDATES; n++) {
      const key = next() % BEADS;
      beads.set(String(key), bead(key, n));
    }
    const longHeap = heap() - base;
    const longBytes = Y.encodeStateAsUpdate(doc).byteLength;
    const fresh = new Y.Doc();
    fresh.transact(() => {
      for (const [k, v] of beads.entries()) fresh.getMap("beads").set(k, v);
    });
    doc.destroy();
    const freshBytes = Y.encodeStateAsUpdate(fresh).byteLength;
    console.log(`1. one lineage after ${UPDATES} updates: ${mb(longBytes)} encoded, ${mb(longHeap)} heap; fresh: ${mb(freshBytes)} encoded`);
    console.log(`   ≈ ${((longBytes - freshBytes) / UPDATES).toFixed(1)} bytes encoded per update kept forever without rebuilds\n`);
  }

  // 2 and 3: a room (RecordDoc, as LiveRoom drives it) and a provider's replica that keeps one Y.Doc.
  const storage = new FakeStorage();
  const records = new RecordDoc(storage, ["beads", "agents", "mail"]);
  records.withFirstWrite({ "room-id": "bench" });
  await records.load();
  const all = Array.from({ length: BEADS }, (_, i) => ({ collection: "beads", key: String(i), value: bead(i, 0) }));
  for (let i = 0; i < all.length; i += 100) await records.write(all.slice(i, i + 100), [{ id: `E${i}`, at: i, kind: "test", text: `created ${i}` }]);

  const replica = new Y.Doc();
  const firstSync = sync(records.doc, replica);
  // A plain reconnect after 10 changes: the diff only.
  for (let n = 1; n <= 10; n++) await records.write([{ collection: "beads", key: String(n), value: bead(n, n) }]);
  const reconnect = sync(records.doc, replica);

  let lastHandOver = 0;
  let ds = 0;
  for (let r = 1; r <= REBUILDS; r++) {
    for (let n = 0; n < 100; n++) await records.write([{ collection: "beads", key: String((r * 100 + n) % BEADS), value: bead(n, r * 100 + n) }]);
    await records.rebuild();
    ds = deleteAllOf(Y.decodeStateVector(Y.encodeStateVector(replica))).byteLength;
    lastHandOver = sync(records.doc, replica);
    if (JSON.stringify(replica.getMap("beads").toJSON()) !== JSON.stringify(records.doc.getMap("beads").toJSON())) throw new Error("replica differs");
  }
  const replicaBytes = Y.encodeStateAsUpdate(replica).byteLength;
  const roomBytes = Y.encodeStateAsUpdate(records.doc).byteLength;

  // Heap: the handed-over replica's structure (its encoded state, deleted items included, applied
  // to an empty Y.Doc) vs a fresh replica of the same content, each measured while held.
  const heapOf = (update: Uint8Array) => {
    const base = heap();
    const doc = new Y.Doc();
    Y.applyUpdate(doc, update);
    const used = heap() - base;
    if (doc.getMap("beads").size !== BEADS) throw new Error("bad replica");
    return used;
  };
  const keptHeap = heapOf(Y.encodeStateAsUpdate(replica));
  const freshHeap = heapOf(Y.encodeStateAsUpdate(records.doc));

  console.log(`2. a provider's replica after ${REBUILDS} rebuilds handed over: ${kb(replicaBytes)} encoded vs ${kb(roomBytes)} for the room's document;`);
  console.log(
    `   heap ${mb(keptHeap)} vs ${mb(freshHeap)} fresh: it keeps ≈ ${kb((replicaBytes - roomBytes) / REBUILDS)} encoded and ≈ ${kb((keptHeap - freshHeap) / REBUILDS)} heap per rebuild (the old lineage's deleted items)\n`,
  );
  console.log(`3. step 2 bytes: first sync ${kb(firstSync)}; plain reconnect after 10 changes ${kb(reconnect)} (the diff);`);
  console.log(`   after a rebuild ${kb(lastHandOver)} (the whole document, ${kb(roomBytes)}, and a delete set of ${ds} bytes)`);
  console.log(
    `   storage: ${storage.keys("lineage:").length} lineage key(s) = ${JSON.stringify(Object.fromEntries([...storage.data].filter(([k]) => k.startsWith("lineage:"))))}`,
  );
}

await main();
