// Heap of a rig document in V8, measured in a clean Node process (run with --expose-gc):
// the records as plain objects (the floor of docs/benchmarks.md #4), then the same records in a Y.Doc
// built the way party/records.ts RecordDoc.load builds the room's document (one transaction of
// map.set per record). workerd's inspector is held by `partykit dev`, so the room's own heap
// cannot be read directly; workerd's RSS is reported beside this.
//   node --expose-gc bench/lib/heap-child.mjs <records.json>   → prints one JSON line
import { readFileSync } from "node:fs";
import { deserialize, serialize } from "node:v8";
import * as Y from "yjs";

const settle = () => {
  for (let i = 0; i < 4; i++) globalThis.gc();
  return process.memoryUsage().heapUsed;
};
const text = readFileSync(process.argv[2], "utf8");
const h0 = settle();
const records = JSON.parse(text); // { beads: {id: bead}, ...other maps }
const h1 = settle();
const doc = new Y.Doc();
doc.transact(() => {
  for (const [name, entries] of Object.entries(records)) {
    const map = doc.getMap(name);
    for (const [k, v] of Object.entries(entries)) map.set(k, v);
  }
});
const h2 = settle();
// Timings of a cold load's steps, on the same records: reading every record back from storage
// (structured-clone deserialisation, as Durable Object storage does), building the document,
// encoding it for a new replica (sync step 2) and decoding it there.
const stored = Object.values(records).flatMap((entries) => Object.values(entries).map((v) => serialize(v)));
const d0 = performance.now();
for (const bytes of stored) deserialize(bytes);
const deserializeMs = performance.now() - d0;
const b0 = performance.now();
const rebuilt = new Y.Doc();
rebuilt.transact(() => {
  for (const [name, entries] of Object.entries(records)) {
    const map = rebuilt.getMap(name);
    for (const [k, v] of Object.entries(entries)) map.set(k, v);
  }
});
const buildMs = performance.now() - b0;
const t0 = performance.now();
const update = Y.encodeStateAsUpdate(doc);
const t1 = performance.now();
const copy = new Y.Doc();
Y.applyUpdate(copy, update);
const t2 = performance.now();
process.stdout.write(
  JSON.stringify({
    plainHeap: h1 - h0,
    docHeap: h2 - h0,
    yjsOverhead: h2 - h1,
    encoded: update.byteLength,
    json: text.length,
    encodeMs: t1 - t0,
    decodeMs: t2 - t1,
    deserializeMs,
    buildMs,
  }) + "\n",
);
void copy;
