/**
 * #5 initial sync: a fresh dashboard replica joins a rig with 1k / 10k beads (the room running),
 * and the town overview (the town document) of a town with 20 rigs. Timed open → synced, split at
 * the socket's open. Floor: encoding and decoding the same document in this process.
 */
import * as Y from "yjs";
import type { Rig } from "../../party/protocol.ts";
import { CpuMeter } from "../lib/cpu.ts";
import { benchTown, closeAll, createBeads, operatorSockets, replica, untilReplica, type TestTown } from "../lib/fixtures.ts";
import { LATENCY_HEADERS, latencyRow, type Metric, type SummaryRow } from "../lib/report.ts";
import { Rng } from "../lib/rng.ts";
import { BenchServer } from "../lib/server.ts";
import { summarize } from "../lib/stats.ts";
import { fmt, mb, type Cell } from "../lib/table.ts";

const SEED = 505;

async function joins(town: TestTown, party: "main" | "rig", room: string, count: number, check: (doc: Y.Doc) => boolean) {
  const total: number[] = [];
  const connect: number[] = [];
  const sync: number[] = [];
  let errors = 0;
  let bytes = 0;
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    const r = replica(town, party, room);
    let opened = 0;
    r.socket.addEventListener("open", () => (opened = performance.now()), { once: true });
    const doc = await r.whenSynced();
    const t1 = performance.now();
    total.push(t1 - t0);
    connect.push(opened - t0);
    sync.push(t1 - opened);
    if (!check(doc)) errors++;
    bytes = Y.encodeStateAsUpdate(doc).byteLength;
    r.close();
  }
  return { total, connect, sync, errors, bytes };
}

/** The floor: encode the document and decode it into a fresh one, in this process. */
function encodeDecode(doc: Y.Doc, count: number): number[] {
  const xs: number[] = [];
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    const update = Y.encodeStateAsUpdate(doc);
    Y.applyUpdate(new Y.Doc(), update);
    xs.push(performance.now() - t0);
  }
  return xs;
}

export const initialSync: Metric = {
  id: 5,
  name: "initial-sync",
  title: "initial sync",
  async run(ctx) {
    const sizes = ctx.smoke ? [1000] : [1000, 10_000];
    const count = ctx.smoke ? 5 : 20;
    const rigCount = 20;
    const rng = new Rng(SEED);
    const server = await BenchServer.start();
    const rows: Cell[][] = [];
    const summary: SummaryRow[] = [];
    const data: Record<string, unknown> = {};
    try {
      const town = await benchTown(server.host, "sync");
      for (const n of sizes) {
        ctx.log(`#5 rig with ${n} beads`);
        const rig = await town.addRig(`r${n}`);
        const ops = await operatorSockets(town, rig, 4);
        await createBeads(ops, n, rng, 16);
        closeAll(ops);
        const room = town.rigRoom(rig);
        (await joins(town, "rig", room, 2, () => true)).total; // warm-up
        const meter = new CpuMeter(() => server.pgid);
        const j = await joins(town, "rig", room, count, (doc) => doc.getMap("beads").size === n);
        const cpu = meter.stop();
        const keeper = replica(town, "rig", room);
        const floor = summarize(encodeDecode(await keeper.whenSynced(), count));
        keeper.close();
        const total = summarize(j.total);
        rows.push(
          latencyRow(`${fmt(n)} beads: open → synced`, total, 0, j.errors, cpu, floor.p50),
          latencyRow(`${fmt(n)} beads: open → socket open`, summarize(j.connect), 0, 0, null, null),
          latencyRow(`${fmt(n)} beads: socket open → synced`, summarize(j.sync), 0, 0, null, floor.p50),
          latencyRow(`${fmt(n)} beads: floor, encode + decode in-process`, floor, 0, 0, null, null),
        );
        data[`rig${n}`] = { total, connect: summarize(j.connect), sync: summarize(j.sync), floor, cpu, encodedBytes: j.bytes, errors: j.errors };
        summary.push({
          metric: `#5 initial sync, rig with ${fmt(n)} beads`,
          result: `p50 ${fmt(total.p50)} ms, p99 ${fmt(total.p99)} ms (${fmt(mb(j.bytes))} MB)`,
          baseline: `encode+decode p50 ${fmt(floor.p50)} ms`,
          ratio: total.p50 / floor.p50,
          bar: n >= 10_000 ? "≤ 500 ms to synced" : "(bar at 10k: ≤ 500 ms)",
          met: n >= 10_000 ? total.p99 <= 500 && j.errors === 0 : null,
        });
      }

      ctx.log(`#5 town overview with ${rigCount} rigs`);
      const rigs: Rig[] = [];
      for (let i = 0; i < rigCount; i++) rigs.push(await town.addRig(`t${String(i).padStart(2, "0")}`));
      const overview = replica(town, "main", town.town);
      await overview.whenSynced();
      await Promise.all(
        rigs.map(async (rig) => {
          const [op] = await operatorSockets(town, rig, 1);
          await createBeads([op!], 20, rng, 10);
          op!.close();
        }),
      );
      // Every rig's summary (pushed by the rig, debounced) shows its 20 beads.
      const counted = (doc: Y.Doc) => rigs.every((r) => (doc.getMap<Rig>("rigs").get(r.id)?.summary?.beads?.open ?? 0) === 20);
      await untilReplica(overview, counted, 30_000, "every rig summary in the town document");
      overview.close();
      await joins(town, "main", town.town, 2, () => true);
      const meter = new CpuMeter(() => server.pgid);
      const j = await joins(town, "main", town.town, count, counted);
      const cpu = meter.stop();
      const keeper = replica(town, "main", town.town);
      const floor = summarize(encodeDecode(await keeper.whenSynced(), count));
      keeper.close();
      const total = summarize(j.total);
      rows.push(
        latencyRow(`town overview, ${rigCount + sizes.length} rigs: open → synced`, total, 0, j.errors, cpu, floor.p50),
        latencyRow(`town overview: socket open → synced`, summarize(j.sync), 0, 0, null, floor.p50),
        latencyRow(`town overview: floor, encode + decode`, floor, 0, 0, null, null),
      );
      data.town = { total, connect: summarize(j.connect), sync: summarize(j.sync), floor, cpu, encodedBytes: j.bytes, errors: j.errors };
      summary.push({
        metric: `#5 town overview, ${rigCount + sizes.length} rigs`,
        result: `p50 ${fmt(total.p50)} ms, p99 ${fmt(total.p99)} ms (${fmt(j.bytes / 1024)} KB)`,
        baseline: `encode+decode p50 ${fmt(floor.p50)} ms`,
        ratio: total.p50 / floor.p50,
        bar: "≤ 200 ms",
        met: total.p99 <= 200 && j.errors === 0,
      });
      town.closeAll();
    } finally {
      await server.close();
    }
    return {
      params: { sizes, joins: count, rigs: rigCount, seed: SEED },
      sections: [{ title: "a fresh replica joins a running room (ms)", headers: LATENCY_HEADERS, rows }],
      summary,
      notes: [
        "Each join is a new DocReplica (viewer token, the real client): WebSocket connect, token check, hello, sync step 1 → step 2, decode; it must hold every bead (or every rig's summary). Joins go one at a time, after 2 warm-up joins; the bar is checked on p99.",
        "The town overview is the town document: the registry of every rig with its live summary (the town also holds the rigs of the size runs).",
        "Ratio: p50 ÷ encoding and decoding the same document in this process (the floor).",
      ],
      data,
    };
  },
};
