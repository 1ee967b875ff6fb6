/**
 * #4 document size and memory at 10k / 50k / 100k beads, before and after 5 status changes of
 * every bead: encoded size of a synced replica's document, the room's document heap, workerd's
 * RSS, and the load time (the server restarted on the same storage until a fresh replica is
 * synced). Floor: the same records as plain objects (JSON size and V8 heap).
 */
import * as Y from "yjs";
import type { ToolSocket } from "../../client/tools.ts";
import type { Bead, BeadStatus } from "../../party/protocol.ts";
import { benchTown, closeAll, createBeads, operatorSockets, pool, replica, untilReplica, type TestTown } from "../lib/fixtures.ts";
import { docHeap, type HeapFigures } from "../lib/heap.ts";
import type { Metric, SummaryRow } from "../lib/report.ts";
import { Rng } from "../lib/rng.ts";
import { BenchServer } from "../lib/server.ts";
import { fmt, mb, type Cell } from "../lib/table.ts";
import type { Rig } from "../../party/protocol.ts";

const SEED = 404;
// Closing last: a close triggers the room's retention scan (see the A/B below); the bounded large
// runs get the cheaper changes in first.
const CYCLE: BeadStatus[] = ["failed", "open", "failed", "open", "closed"];

type Measure = {
  beads: number;
  /** JSON bytes of the beads' status histories (part of each bead's value in the document). */
  historyBytes: number;
  /** Time Yjs takes to compute Y.Map.size of the beads map (it iterates every entry), in this process. */
  mapSizeMs: number;
  warmSyncMs: number;
  encodedLive: number;
  encodedLoaded: number;
  heap: HeapFigures;
  rssLive: number | null;
  rssLoaded: number | null;
  serverStartMs: number;
  loadMs: number;
};

async function measure(server: BenchServer, town: TestTown, rig: Rig, expected: number | null): Promise<Measure> {
  const room = town.rigRoom(rig);
  // Warm: a fresh replica of the running room.
  const t0 = performance.now();
  const live = replica(town, "rig", room);
  await live.whenSynced();
  const warmSyncMs = performance.now() - t0;
  const beads = live.doc.getMap<Bead>("beads").size;
  if (expected !== null && beads !== expected) throw new Error(`replica has ${beads} beads, expected ${expected}`);
  const encodedLive = Y.encodeStateAsUpdate(live.doc).byteLength;
  const beadsMap = live.doc.getMap<Bead>("beads");
  for (let i = 0; i < 3; i++) void beadsMap.size;
  const z0 = performance.now();
  for (let i = 0; i < 10; i++) void beadsMap.size;
  const mapSizeMs = (performance.now() - z0) / 10;
  let historyBytes = 0;
  for (const b of live.doc.getMap<Bead>("beads").values()) historyBytes += JSON.stringify(b.history ?? []).length;
  const rssLive = server.memory().workerdRss;
  live.close();
  // Cold: restart on the same storage; the room rebuilds its document when the replica arrives.
  await server.restart("stop");
  const t1 = performance.now();
  const cold = replica(town, "rig", room);
  const loaded = await cold.whenSynced();
  const loadMs = performance.now() - t1;
  const encodedLoaded = Y.encodeStateAsUpdate(loaded).byteLength;
  const rssLoaded = server.memory().workerdRss;
  const heap = docHeap(loaded);
  cold.close();
  return { beads, historyBytes, mapSizeMs, warmSyncMs, encodedLive, encodedLoaded, heap, rssLive, rssLoaded, serverStartMs: server.lastStartMs, loadMs };
}

export const docsize: Metric = {
  id: 4,
  name: "docsize",
  title: "doc size and memory",
  async run(ctx) {
    // BENCH_DOCSIZE_SIZES=10000 measures one size alone (e.g. while working on the 10k bar).
    const only = process.env.BENCH_DOCSIZE_SIZES?.split(",")
      .map(Number)
      .filter((n) => n > 0);
    const sizes = only?.length ? only : ctx.smoke ? [1000] : [10_000, 50_000, 100_000];
    // Retention (GT_RETAIN_CLOSED, default 1,000 closed beads per document) and the cap of unfinished
    // beads (GT_MAX_OPEN_BEADS, 10,000) off for the size runs,
    // so every bead stays in the document: the worst case. One more run at 10k keeps the default.
    type Case = { n: number; retain: "off" | "default" };
    const cases: Case[] = sizes.map((n) => ({ n, retain: "off" }));
    if (!ctx.smoke && !only?.length) cases.splice(1, 0, { n: 10_000, retain: "default" });
    /** Time allowed for the 5 status changes of every bead, per size (the large ones are bounded). */
    const budgetS = (n: number) => (ctx.smoke ? 60 : n <= 10_000 ? 300 : 120);
    const rows: Cell[][] = [];
    const work: Cell[][] = [];
    const ab: Cell[][] = [];
    const loadSteps: Cell[][] = [];
    const summary: SummaryRow[] = [];
    const data: Record<string, unknown> = {};
    const notes: string[] = [];
    for (const { n, retain } of cases) {
      const rng = new Rng(SEED + n);
      const server = await BenchServer.start(retain === "off" ? { GT_RETAIN_CLOSED: "1000000000", GT_MAX_OPEN_BEADS: "1000000" } : {});
      const label = retain === "off" ? fmt(n) : `${fmt(n)}, default retention`;
      let ops: ToolSocket[] = [];
      try {
        const town = await benchTown(server.host, "big");
        const rig = await town.addRig("big");
        const room = town.rigRoom(rig);
        const empty = replica(town, "rig", room);
        await empty.whenSynced();
        const rssEmpty = server.memory().workerdRss;
        empty.close();

        ctx.log(`#4 creating ${n} beads`);
        ops = await operatorSockets(town, rig, 4);
        const c0 = server.cpuSeconds();
        const created = await createBeads(ops, n, rng, 16);
        const createCpu = server.cpuSeconds() - c0;
        work.push([label, "create (gt_bead_create)", n, created.ms / 1000, n / (created.ms / 1000), createCpu, created.errors]);
        closeAll(ops);

        ctx.log(`#4 ${n}: measuring before`);
        const before = await measure(server, town, rig, n);

        // 5 status changes of every bead (closed, failed, open, closed, failed), bounded in time.
        ctx.log(`#4 ${n}: 5 status changes per bead (budget ${budgetS(n)} s)`);
        ops = await operatorSockets(town, rig, 4);
        const s0 = performance.now();
        const cpu0 = server.cpuSeconds();
        let applied = 0;
        let errors = 0;
        let rounds = 0;
        for (const status of CYCLE) {
          if ((performance.now() - s0) / 1000 > budgetS(n)) break;
          // The beads in the document (with the default retention, closed beads leave it).
          const ids = (await ops[0]!.call<Bead[]>("gt_list_beads", {}, 60_000)).map((b) => b.id);
          await pool(ids.length, 64, async (i) => {
            if ((performance.now() - s0) / 1000 > budgetS(n)) return;
            try {
              await ops[i % ops.length]!.call("gt_bead_update", { bead_id: ids[i], status }, 60_000);
              applied++;
            } catch {
              errors++;
            }
          });
          rounds++;
        }
        const changeMs = performance.now() - s0;
        work.push([label, "status changes (gt_bead_update)", applied, changeMs / 1000, applied / (changeMs / 1000), server.cpuSeconds() - cpu0, errors]);
        closeAll(ops);
        const complete = retain === "default" ? rounds === CYCLE.length : applied === 5 * n;
        if (!complete)
          notes.push(
            `**${label} beads: the status-change phase was bounded at ${budgetS(n)} s: ${fmt(applied)} of ${fmt(5 * n)} changes applied (${rounds} rounds started).** The "after" row is measured on that state.`,
          );

        if (retain === "default") {
          // Retention moves closed beads out in batches (at most once a second): wait until the
          // document is down to what it keeps, so "after" is the bounded document.
          const r0 = performance.now();
          const watcher = replica(town, "rig", room);
          const drained = await untilReplica(watcher, (doc) => doc.getMap<Bead>("beads").size <= 1000, 120_000, "retention").then(
            () => true,
            () => false,
          );
          watcher.close();
          notes.push(
            `${label}: after the last round closed every bead, retention brought the document down to ≤ 1,000 beads in ${fmt((performance.now() - r0) / 1000, 1)} s${drained ? "" : " (**not within 120 s**)"}.`,
          );
        }
        ctx.log(`#4 ${n}: measuring after`);
        const after = await measure(server, town, rig, retain === "off" ? n : null);

        // A/B: the cost of one status change to failed vs to closed at this size (distinct beads).
        if (retain === "off") {
          ops = await operatorSockets(town, rig, 4);
          const ids = (await ops[0]!.call<Bead[]>("gt_list_beads", {}, 60_000)).map((b) => b.id).slice(0, 300);
          await pool(ids.length, 64, (i) => ops[i % ops.length]!.call("gt_bead_update", { bead_id: ids[i], status: "open" }, 60_000));
          for (const [status, part] of [
            ["failed", ids],
            ["closed", ids],
          ] as const) {
            const a0 = performance.now();
            const cpuA = server.cpuSeconds();
            await pool(part.length, 64, (i) => ops[i % ops.length]!.call("gt_bead_update", { bead_id: part[i], status }, 60_000));
            const ms = performance.now() - a0;
            ab.push([
              label,
              status === "failed" ? "open → failed" : "failed → closed",
              part.length,
              ms / 1000,
              part.length / (ms / 1000),
              (1000 * (server.cpuSeconds() - cpuA)) / part.length,
              after.mapSizeMs,
            ]);
          }
          closeAll(ops);
        }
        for (const [state, m] of [
          ["before", before],
          [complete ? "after 5 changes each" : `after ${fmt(applied)} changes`, after],
        ] as const) {
          rows.push([
            label,
            `${state} (${fmt(m.beads)} beads in the doc)`,
            mb(m.encodedLive),
            mb(m.encodedLoaded),
            mb(m.historyBytes),
            mb(m.heap.json),
            mb(m.heap.plainHeap),
            mb(m.heap.docHeap),
            mb(m.rssLoaded),
            mb(m.rssLoaded && rssEmpty ? m.rssLoaded - rssEmpty : null),
            mb(m.rssLive),
            m.warmSyncMs,
            m.loadMs,
            m.serverStartMs,
          ]);
          loadSteps.push([
            label,
            state,
            m.loadMs,
            m.heap.deserializeMs,
            m.heap.buildMs,
            m.heap.encodeMs,
            m.heap.decodeMs,
            m.heap.deserializeMs + m.heap.buildMs + m.heap.encodeMs + m.heap.decodeMs,
            m.warmSyncMs,
          ]);
        }
        data[retain === "off" ? `n${n}` : `n${n}-default-retention`] = {
          before,
          after,
          rssEmpty,
          create: { ms: created.ms, errors: created.errors, cpuS: createCpu },
          changes: { applied, errors, ms: changeMs, complete },
        };
        if (retain === "default") {
          summary.push({
            metric: `#4 doc at ${fmt(n)} beads with the default retention, after 5 changes`,
            result: `${fmt(after.beads)} beads in the doc, ${fmt(mb(after.encodedLoaded))} MB encoded, doc heap ${fmt(mb(after.heap.docHeap))} MB, load ${fmt(after.loadMs, 0)} ms`,
            baseline: `plain: ${fmt(mb(after.heap.json))} MB JSON`,
            ratio: after.encodedLoaded / after.heap.json,
            bar: "report (bounded document)",
            met: null,
          });
        } else if (n === 10_000 || ctx.smoke) {
          for (const [label, m] of [
            ["before", before],
            ["after", after],
          ] as const) {
            const enc = m.encodedLoaded;
            summary.push({
              metric: `#4 doc at ${fmt(n)} beads, ${label} 5 changes each`,
              result: `${fmt(mb(enc))} MB encoded (live ${fmt(mb(m.encodedLive))}), doc heap ${fmt(mb(m.heap.docHeap))} MB, workerd RSS +${fmt(mb((m.rssLoaded ?? 0) - (rssEmpty ?? 0)))} MB, load ${fmt(m.loadMs, 0)} ms`,
              baseline: `plain objects: ${fmt(mb(m.heap.json))} MB JSON, ${fmt(mb(m.heap.plainHeap))} MB heap`,
              ratio: enc / m.heap.json,
              bar: ctx.smoke ? "(10k bar: ≤ 6 MB, ≤ 64 MB heap, load ≤ 300 ms)" : "≤ 6 MB encoded, ≤ 64 MB heap, load ≤ 300 ms",
              met: ctx.smoke ? null : Math.max(enc, m.encodedLive) <= 6 * 2 ** 20 && m.heap.docHeap <= 64 * 2 ** 20 && m.loadMs <= 300,
            });
          }
        } else {
          summary.push({
            metric: `#4 doc at ${fmt(n)} beads (report only)`,
            result: `${fmt(mb(after.encodedLoaded))} MB encoded after, doc heap ${fmt(mb(after.heap.docHeap))} MB, load ${fmt(after.loadMs, 0)} ms`,
            baseline: `plain: ${fmt(mb(after.heap.json))} MB JSON, ${fmt(mb(after.heap.plainHeap))} MB heap`,
            ratio: after.encodedLoaded / after.heap.json,
            bar: "no bar above 10k",
            met: null,
          });
        }
        town.closeAll();
      } finally {
        closeAll(ops);
        await server.close();
      }
    }
    notes.push(
      "Size runs use GT_RETAIN_CLOSED=1e9 (retention off): every bead stays in the document, the worst case for the bar. The extra 10k run keeps the default (closed beads past 1,000 leave the document for storage); its status changes apply to the beads still in the document each round.",
      "Each size runs on a fresh server: beads created with gt_bead_create over 4 operator sockets (16 calls in flight each), ~200-character bodies, seeded.",
      "encoded live = Y.encodeStateAsUpdate of a fresh replica of the running room (includes structure left by updates since the room's last rebuild, every 5,000 updates); encoded after load = the same after a restart (the room rebuilds its document from storage).",
      "doc heap: workerd's inspector is held by partykit dev, so the room's heap cannot be read in place; it is measured in a clean Node process (same V8) on a Y.Doc built the way RecordDoc.load builds the room's (bench/lib/heap-child.mjs). Plain heap = the same records as plain objects (the floor). workerd RSS is the server's real resident memory after the cold load; Δ = minus workerd's RSS with the empty rig loaded.",
      "load = restart on the same storage (SIGTERM, start, Ready) then a fresh replica's open → synced: the room's start (storage list + document build) + sync step 2 + decode. server start = partykit dev start until Ready.",
      "ratio in the summary = encoded (after load) ÷ the plain JSON of the same records.",
      "A/B: after the \"after\" measurement, 300 beads are set open (untimed), then failed, then closed (64 calls in flight): a close is the change that triggers the room's retention of closed beads (party/rig/room.ts retireSoon), which first reads the beads map's Y.Map.size; Yjs computes that by iterating every entry (last column: its cost on the same document in this process).",
      "Load steps: the same records, timed in a clean Node process (bench/lib/heap-child.mjs); the measured load also includes the WebSocket connect, the token check and the transfer.",
    );
    return {
      params: { sizes, changesPerBead: 5, seed: SEED },
      sections: [
        {
          title: "size, memory, load",
          headers: [
            "beads",
            "state",
            "encoded live MB",
            "encoded after load MB",
            "of which history (JSON) MB",
            "plain JSON MB",
            "plain heap MB",
            "doc heap MB",
            "workerd RSS MB",
            "workerd RSS Δ MB",
            "RSS live MB",
            "warm sync ms",
            "load ms",
            "server start ms",
          ],
          rows,
        },
        { title: "work done", headers: ["beads", "phase", "calls", "seconds", "calls/s", "server CPU s", "errors"], rows: work },
        {
          title: "where a status change's time goes: to failed vs to closed (the same 300 beads, 64 in flight)",
          headers: ["beads", "change", "calls", "seconds", "calls/s", "server CPU ms per call", "Y.Map.size of beads, ms (Node)"],
          rows: ab,
        },
        {
          title: "where the load time goes (the same records, each step timed in Node; ms)",
          headers: [
            "beads",
            "state",
            "measured load",
            "read records (v8 deserialize)",
            "build Y.Doc",
            "encode step 2",
            "decode on the client",
            "sum of steps",
            "measured warm sync",
          ],
          rows: loadSteps,
        },
      ],
      summary,
      notes,
      data,
    };
  },
};
