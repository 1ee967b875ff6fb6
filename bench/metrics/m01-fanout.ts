/**
 * #1 agent → dashboard fan-out: a tool call changes one bead (operator gt_bead_update, a title
 * change carrying the probe); M DocReplica dashboards of the rig see it in their `beads` map.
 * Floor: the same fan-out through a plain ws broadcast server. Peer design: a 5 s full-list poll.
 */
import type WebSocket from "ws";
import type { CpuReading } from "../lib/cpu.ts";
import type { DocReplica } from "../../client/doc-sync.ts";
import { CpuMeter } from "../lib/cpu.ts";
import { benchTown, closeAll, createBeads, openReplicas, operatorSockets, pollingLatencies, untilReplica } from "../lib/fixtures.ts";
import { floorClients, startFloor, type Floor } from "../lib/floor.ts";
import { ProbeReceiver, parseProbe, probeLoop, probeTitle, watchBeadTitle } from "../lib/probes.ts";
import { LATENCY_HEADERS, latencyRow, type Metric, type SummaryRow } from "../lib/report.ts";
import { Rng } from "../lib/rng.ts";
import { BenchServer } from "../lib/server.ts";
import { summarize } from "../lib/stats.ts";
import { join } from "node:path";
import * as Y from "yjs";
import { fmt, type Cell } from "../lib/table.ts";
import { callHttp } from "../../client/tools.ts";
import { countFsyncs } from "../lib/strace.ts";

const SEED = 101;

export const fanout: Metric = {
  id: 1,
  name: "fanout",
  title: "agent → dashboard fan-out",
  async run(ctx) {
    const ms = [1, 10, 50, 200];
    const probes = ctx.smoke ? 30 : 300;
    const warmup = 10;
    const rng = new Rng(SEED);
    const server = await BenchServer.start();
    const floorLog = join(server.persistDir, "..", "durable-floor.log");
    const floors = { bare: await floorPool(await startFloor()), durable: await floorPool(await startFloor({ durable: floorLog })) };
    const rows: Cell[][] = [];
    const summary: SummaryRow[] = [];
    const data: Record<string, unknown> = {};
    const notes: string[] = [];
    let replicas: DocReplica[] = [];
    let decompRows: Cell[][] = [];
    let apply = summarize([]);
    try {
      const town = await benchTown(server.host, "fanout");
      const rig = await town.addRig("fanout");
      const [op] = await operatorSockets(town, rig, 1);
      const { ids } = await createBeads([op!], 100, rng);
      const beadId = ids[0]!;
      // The size of one real update, so the floor's frames are as large.
      const sizer = await openReplicas(town, "rig", town.rigRoom(rig), 1);
      let updateBytes = 0;
      let update: Uint8Array | null = null;
      const before = Y.encodeStateAsUpdate(sizer[0]!.doc);
      sizer[0]!.doc.on("update", (u: Uint8Array) => {
        updateBytes = Math.max(updateBytes, u.byteLength);
        update ??= u;
      });
      await op!.call("gt_bead_update", { bead_id: beadId, title: probeTitle(0, performance.now()) });
      await untilReplica(sizer[0]!, (d) => parseProbe(d.getMap<{ title: string }>("beads").get(beadId)?.title)?.seq === 0);
      closeAll(sizer);
      data.updateBytes = updateBytes;
      // What one dashboard spends applying that update (all M replicas share this process).
      const applyUs: number[] = [];
      for (let i = 0; i < 200; i++) {
        const d = new Y.Doc();
        Y.applyUpdate(d, before);
        const t0 = performance.now();
        Y.applyUpdate(d, update!);
        d.getMap<{ title: string }>("beads").get(beadId);
        applyUs.push((performance.now() - t0) * 1000);
      }
      apply = summarize(applyUs.slice(50));
      data.clientApplyUs = apply;

      // Peer design: a full-list fetch (HTTP gt_list_beads, 100 beads) after a wait for the next 5 s poll.
      const fetches: number[] = [];
      for (let i = 0; i < 30; i++) {
        const t0 = performance.now();
        await callHttp({ host: server.host, party: "rig", room: town.rigRoom(rig), token: town.operator }, "gt_list_beads", {});
        fetches.push(performance.now() - t0);
      }
      const peer = summarize(pollingLatencies(rng, probes * 50, fetches));

      // Where the time goes: the same socket's calls that do less (no dashboards open yet).
      const probeAgent = await town.polecat(rig, "probe");
      const decomp: Cell[][] = [];
      const timeCalls = async (n: number, call: (i: number) => Promise<unknown>) => {
        const xs: number[] = [];
        for (let i = 0; i < n + 10; i++) {
          const t0 = performance.now();
          await call(i);
          if (i >= 10) xs.push(performance.now() - t0);
        }
        return summarize(xs);
      };
      const n = ctx.smoke ? 50 : 200;
      const steps: [string, (i: number) => Promise<unknown>][] = [
        ["gt_bead_status: read from the document, no write", () => op!.call("gt_bead_status", { bead_id: beadId })],
        ["gt_checkpoint: one storage.put, no document change", (i) => op!.call("gt_checkpoint", { as: probeAgent.identity, data: `note ${i}` })],
        [
          "gt_bead_update (title): storage put, then document update and broadcast (no dashboard)",
          (i) => op!.call("gt_bead_update", { bead_id: beadId, title: `warm ${i}` }),
        ],
      ];
      for (const [label, call] of steps) {
        const s = await timeCalls(n, call);
        const pid = server.workerdPid();
        const counted = pid ? await countFsyncs(pid, () => timeCalls(50, call)) : null;
        decomp.push([label, s.n, s.p50, s.p95, s.p99, s.max, counted ? counted.fsyncs / 60 : null, counted ? counted.usPerFsync : null]);
      }
      data.decomposition = decomp;
      decompRows = decomp;

      let seq = 1;
      for (const m of ms) {
        ctx.log(`#1 M=${m}`);
        // Townhall: M replicas of the rig document, each watching the probe bead.
        if (replicas.length < m) replicas.push(...(await openReplicas(town, "rig", town.rigRoom(rig), m - replicas.length)));
        const receivers = replicas.map(() => new ProbeReceiver());
        const unwatch = replicas.map((r, k) =>
          watchBeadTitle(r, beadId, (title) => {
            const p = parseProbe(title);
            if (p) receivers[k]!.receive(p.seq, p.t0);
          }),
        );
        const meter = new CpuMeter(() => server.pgid);
        const result = await probeLoop(probes, receivers, (s, t0) => op!.call("gt_bead_update", { bead_id: beadId, title: probeTitle(s, t0) }), seq, warmup);
        const cpu = meter.stop();
        seq += probes + warmup;
        unwatch.forEach((u) => u());

        // Floors: the same fan-out through a plain ws server, frames of the same size; the durable
        // floor also appends and fsyncs each change before broadcasting it, as a storage commit does.
        const pad = "x".repeat(Math.max(0, updateBytes - 40));
        const bare = await floorFanout(floors.bare, m, pad, probes, warmup);
        const durable = await floorFanout(floors.durable, m, pad, probes, warmup);
        const f = bare.perClient;
        const d = durable.perClient;

        const r = summarize(result.perRecipient);
        const all = summarize(result.all);
        rows.push(
          latencyRow(`M=${m} Townhall, per dashboard`, r, result.drops, result.errors, cpu, d.p50),
          latencyRow(`M=${m} Townhall, last of M`, all, 0, 0, null, durable.lastOfM.p50),
          latencyRow(`M=${m} durable floor (fsync + ws broadcast), per client`, d, durable.drops, durable.errors, durable.cpu, null),
          latencyRow(`M=${m} durable floor, last of M`, durable.lastOfM, 0, 0, null, null),
          latencyRow(`M=${m} bare floor (ws broadcast), per client`, f, bare.drops, bare.errors, bare.cpu, null),
          latencyRow(`M=${m} bare floor, last of M`, bare.lastOfM, 0, 0, null, null),
          latencyRow(`M=${m} peer design (5 s poll + full list)`, peer, 0, 0, null, d.p50),
        );
        const ratio = r.p50 / d.p50;
        summary.push({
          metric: `#1 fan-out M=${m}`,
          result: `p50 ${fmt(r.p50)} ms, p99 ${fmt(r.p99)} ms, drops ${result.drops}`,
          baseline: `durable floor p50 ${fmt(d.p50)} ms (÷ bare ${fmt(r.p50 / f.p50)}×, bare p50 ${fmt(f.p50)} ms); peer p50 ${fmt(peer.p50, 0)} ms`,
          ratio,
          bar: m <= 50 ? "p50 ≤ 5, p99 ≤ 25 ms, ≤ 1.5× durable floor" : "≤ 1.5× durable floor (no absolute bar at M > 50)",
          met: (m <= 50 ? r.p50 <= 5 && r.p99 <= 25 : true) && ratio <= 1.5 && result.drops === 0 && result.errors === 0,
        });
        data[`M${m}`] = {
          townhall: r,
          townhallAll: all,
          ack: summarize(result.ack),
          floor: f,
          floorAll: bare.lastOfM,
          floorCpu: bare.cpu,
          durableFloor: d,
          durableFloorAll: durable.lastOfM,
          durableFloorCpu: durable.cpu,
          cpu,
          drops: result.drops,
          errors: result.errors,
        };
      }
      data.peer = peer;
      data.fetch = summarize(fetches);
      closeAll(op);
      notes.push(
        `Each probe is a gt_bead_update of one bead's title over an operator ToolSocket; the title carries the sequence number and the send time. Probes go one at a time (the next after every dashboard saw it, or 5 s). ${warmup} warm-up probes per M are not counted.`,
        `Floor frames are padded to the size of the real Yjs update (${updateBytes} bytes) and parsed as JSON by each client. Floor server CPU is the floor process's.`,
        `Peer design: wait uniform in [0, 5 s) for the next poll + a measured full-list fetch (HTTP gt_list_beads of 100 beads, p50 ${fmt(summarize(fetches).p50)} ms).`,
        "Durable floor: the bare floor, but each change is appended to a file on the same disk as the server's storage and fsync'd before it is broadcast (one synced write per change, as each of Townhall's storage commits is). It is the physical limit of a fan-out that loses nothing it acknowledged.",
        "Ratios: Townhall p50 ÷ durable floor p50 at the same M (the bar, ≤ 1.5×); ÷ bare floor in the summary's baseline; peer row ÷ durable floor.",
        `Client side: applying one probe update to a replica's document takes p50 ${fmt(apply.p50, 0)} µs here (JSON.parse of the floor's frame: a few µs); the M dashboards share this one process, so the k-th dashboard also waits for k−1 applies before its own.`,
        "Where the time goes: the probe call (gt_bead_update) replies after its storage write; the dashboards' update is sent right after that write, before the reply. fsyncs per call: strace -c on workerd over 60 more calls of each kind (10 warm-up + 50): each durable write is a SQLite commit with an fsync, which the floor does not do.",
      );
      town.closeAll();
    } finally {
      closeAll(replicas);
      for (const pool of Object.values(floors)) await pool.close();
      await server.close();
    }
    return {
      params: { M: ms, probes, warmup, seed: SEED },
      sections: [
        { title: "change → seen in the dashboard's document (ms)", headers: LATENCY_HEADERS, rows },
        {
          title: "where the time goes: round trips of one operator socket's calls, no dashboards (ms)",
          headers: ["call", "n", "p50", "p95", "p99", "max", "fsyncs per call (strace)", "µs per fsync (under strace)"],
          rows: decompRows,
        },
      ],
      summary,
      notes,
      data,
    };
  },
};

/** A floor server with one sending client and the receiving clients opened so far. */
type FloorPool = { floor: Floor; source: WebSocket; receivers: WebSocket[]; close: () => Promise<void> };

async function floorPool(floor: Floor): Promise<FloorPool> {
  const pool: FloorPool = {
    floor,
    source: (await floorClients(floor.port, 1))[0]!,
    receivers: [],
    close: async () => {
      pool.source.close();
      pool.receivers.forEach((ws) => ws.close());
      await floor.stop();
    },
  };
  return pool;
}

/** The probe loop of one M through a floor: the same probes, frames padded to a real update's size. */
async function floorFanout(pool: FloorPool, m: number, pad: string, probes: number, warmup: number) {
  if (pool.receivers.length < m) pool.receivers.push(...(await floorClients(pool.floor.port, m - pool.receivers.length)));
  const receivers = pool.receivers.slice(0, m).map(() => new ProbeReceiver());
  const handlers = pool.receivers.slice(0, m).map((ws, k) => {
    const h = (data: WebSocket.RawData) => {
      const frame = JSON.parse(data.toString()) as { seq: number; t0: number };
      receivers[k]!.receive(frame.seq, frame.t0);
    };
    ws.on("message", h);
    return h;
  });
  const meter = new CpuMeter(
    () => null,
    () => pool.floor.pid,
  );
  const run = await probeLoop(probes, receivers, async (s, t0) => pool.source.send(JSON.stringify({ seq: s, t0, pad })), 1, warmup);
  const cpu: CpuReading = meter.stop();
  cpu.serverS = cpu.otherS ?? 0;
  cpu.serverPct = (100 * cpu.serverS) / cpu.wallS;
  pool.receivers.slice(0, m).forEach((ws, k) => ws.off("message", handlers[k]!));
  return { perClient: summarize(run.perRecipient), lastOfM: summarize(run.all), drops: run.drops, errors: run.errors, cpu };
}
