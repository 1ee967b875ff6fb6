/**
 * #3 sockets per rig room: ramp up to 1,000 sockets on one rig room. Every socket is a dashboard
 * replica of the rig document (operator token) that also heartbeats every 5 s over the same socket,
 * the way a Yjs provider does: an awareness frame, which the room answers with an awareness of no
 * one (a document socket carries y-protocols frames only). At each step one bead change is broadcast to all,
 * a few times. The server runs with GT_MAX_CONNECTIONS = the last step: the next socket must be
 * closed with 4429 ROOM_FULL. Floor: a plain ws broadcast server with as many clients, heartbeats
 * echoed.
 */
import type WebSocket from "ws";
import type { DocReplica } from "../../client/doc-sync.ts";
import { callHttp } from "../../client/tools.ts";
import { CLOSE } from "../../party/protocol.ts";
import { CpuMeter } from "../lib/cpu.ts";
import { benchTown, closeAll, createBeads, operatorSockets, pool, replica, sleep } from "../lib/fixtures.ts";
import { floorClients, startFloor } from "../lib/floor.ts";
import { ProbeReceiver, parseProbe, probeLoop, probeTitle, watchBeadTitle } from "../lib/probes.ts";
import { LATENCY_HEADERS, latencyRow, type Metric, type SummaryRow } from "../lib/report.ts";
import { Rng } from "../lib/rng.ts";
import { BenchServer } from "../lib/server.ts";
import { summarize } from "../lib/stats.ts";
import { fmt, mb, type Cell } from "../lib/table.ts";

const SEED = 303;
const HEARTBEAT_MS = 5000;

/** A provider's awareness frame (an empty awareness update will do: the room keeps no presence). */
const AWARENESS_FRAME = Uint8Array.of(1, 1, 0);

/** A replica that heartbeats over its own document socket, as a provider does, timing each answer. */
class Agent {
  readonly latencies: number[] = [];
  errors = 0;
  /** When the heartbeat waiting for its answer was sent (one at a time). */
  private sentAt: number | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  constructor(
    readonly replica: DocReplica,
    readonly identity: string,
  ) {
    replica.socket.addEventListener("message", (e: MessageEvent) => {
      if (typeof e.data === "string" || this.sentAt === null) return;
      const bytes = new Uint8Array(e.data as ArrayBuffer);
      if (bytes[0] !== 1) return; // a sync frame, not the awareness answer
      this.latencies.push(performance.now() - this.sentAt);
      this.sentAt = null;
    });
  }
  start(phaseMs: number): void {
    const beat = () => {
      if (this.sentAt !== null) this.errors++; // the last one was never answered
      this.sentAt = performance.now();
      this.replica.socket.send(AWARENESS_FRAME);
      this.timer = setTimeout(beat, HEARTBEAT_MS);
    };
    this.timer = setTimeout(beat, phaseMs);
  }
  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.sentAt !== null) this.errors++; // unanswered
    this.sentAt = null;
  }
}

/** Opens one more replica and reports how it ended: synced, or the close code it got first. */
function tryOne(town: Parameters<typeof replica>[0], room: string, token: string): Promise<{ synced: boolean; code: number | null; replica: DocReplica }> {
  const r = replica(town, "rig", room, token);
  return new Promise((resolve) => {
    r.socket.addEventListener("close", (e: CloseEvent) => resolve({ synced: false, code: e.code, replica: r }), { once: true });
    r.whenSynced().then(
      () => resolve({ synced: true, code: null, replica: r }),
      () => {},
    );
  });
}

export const sockets: Metric = {
  id: 3,
  name: "sockets",
  title: "sockets per rig room",
  async run(ctx) {
    const steps = ctx.smoke ? [100, 200] : [100, 250, 500, 750, 1000];
    const cap = steps[steps.length - 1]!;
    const broadcasts = ctx.smoke ? 5 : 20;
    const rng = new Rng(SEED);
    const server = await BenchServer.start({ GT_MAX_CONNECTIONS: String(cap) });
    const floor = await startFloor();
    const rows: Cell[][] = [];
    const other: Cell[][] = [];
    const summary: SummaryRow[] = [];
    const data: Record<string, unknown> = {};
    const notes: string[] = [];
    const agents: Agent[] = [];
    const floorSockets: WebSocket[] = [];
    const floorTimers: ReturnType<typeof setInterval>[] = [];
    try {
      const town = await benchTown(server.host, "crowd");
      const rig = await town.addRig("crowd");
      const room = town.rigRoom(rig);
      const [op] = await operatorSockets(town, rig, 1);
      const { ids } = await createBeads([op!], 50, rng);
      const beadId = ids[0]!;
      ctx.log(`#3 registering ${cap} polecats`);
      await pool(cap, 32, (i) => op!.call("gt_agent_register", { name: `p${i}` }, 30_000));
      op!.close(); // from here the room holds exactly the replicas
      const http = { host: server.host, party: "rig" as const, room, token: town.operator };
      let seq = 1;
      const floorSource = (await floorClients(floor.port, 1))[0]!;
      let floorSeq = 1;

      for (const n of steps) {
        ctx.log(`#3 ${n} sockets`);
        // Open up to n, 50 at a time, timing each socket's connect + sync.
        const joins: number[] = [];
        while (agents.length < n) {
          const batch = Math.min(50, n - agents.length);
          const opened = await Promise.all(
            Array.from({ length: batch }, async () => {
              const t0 = performance.now();
              const r = replica(town, "rig", room, town.operator);
              await r.whenSynced();
              joins.push(performance.now() - t0);
              return r;
            }),
          );
          for (const r of opened) {
            const agent = new Agent(r, `crowd/polecats/p${agents.length}`);
            agent.start(rng.int(0, HEARTBEAT_MS));
            agents.push(agent);
          }
        }
        while (floorSockets.length < n) {
          const added = await floorClients(floor.port, Math.min(50, n - floorSockets.length));
          for (const ws of added) {
            const t = setTimeout(() => floorTimers.push(setInterval(() => ws.send(`h${Date.now()}`), HEARTBEAT_MS)), rng.int(0, HEARTBEAT_MS));
            floorTimers.push(t as unknown as ReturnType<typeof setInterval>);
          }
          floorSockets.push(...added);
        }
        await sleep(1000); // heartbeats running
        const hb0 = agents.map((a) => a.latencies.length);

        const receivers = agents.map(() => new ProbeReceiver());
        const unwatch = agents.map((a, k) =>
          watchBeadTitle(a.replica, beadId, (title) => {
            const p = parseProbe(title);
            if (p) receivers[k]!.receive(p.seq, p.t0);
          }),
        );
        const meter = new CpuMeter(() => server.pgid);
        const run = await probeLoop(broadcasts, receivers, (s, t0) => callHttp(http, "gt_bead_update", { bead_id: beadId, title: probeTitle(s, t0) }), seq, 3);
        const cpu = meter.stop();
        seq += broadcasts + 3;
        unwatch.forEach((u) => u());
        const memory = server.memory();

        // Floor: the same broadcasts through the plain ws server.
        const floorReceivers = floorSockets.map(() => new ProbeReceiver());
        const handlers = floorSockets.map((ws, k) => {
          const h = (raw: WebSocket.RawData) => {
            const text = raw.toString();
            if (text[0] !== "{") return; // heartbeat echo
            const f = JSON.parse(text) as { seq: number; t0: number };
            floorReceivers[k]!.receive(f.seq, f.t0);
          };
          ws.on("message", h);
          return h;
        });
        const floorMeter = new CpuMeter(
          () => null,
          () => floor.pid,
        );
        const floorRun = await probeLoop(
          broadcasts,
          floorReceivers,
          async (s, t0) => floorSource.send(JSON.stringify({ seq: s, t0, pad: "x".repeat(360) })),
          floorSeq,
          3,
        );
        const floorCpu = floorMeter.stop();
        floorCpu.serverS = floorCpu.otherS ?? 0;
        floorCpu.serverPct = (100 * floorCpu.serverS) / floorCpu.wallS;
        floorSeq += broadcasts + 3;
        floorSockets.forEach((ws, k) => ws.off("message", handlers[k]!));

        const heartbeats = agents.flatMap((a, k) => a.latencies.slice(hb0[k]));
        const hbErrors = agents.reduce((s, a) => s + a.errors, 0);
        const all = summarize(run.all);
        const floorAll = summarize(floorRun.all);
        const per = summarize(run.perRecipient);
        const floorPer = summarize(floorRun.perRecipient);
        rows.push(
          latencyRow(`${n} sockets: broadcast, last of ${n}`, all, run.drops, run.errors, cpu, floorAll.p50),
          latencyRow(`${n} sockets: broadcast, per socket`, per, 0, 0, null, floorPer.p50),
          latencyRow(`${n} floor: broadcast, last of ${n}`, floorAll, floorRun.drops, floorRun.errors, floorCpu, null),
          latencyRow(`${n} floor: per socket`, floorPer, 0, 0, null, null),
          latencyRow(`${n} sockets: heartbeat round trip`, summarize(heartbeats), 0, hbErrors, null, null),
        );
        other.push([n, summarize(joins).p50, summarize(joins).max, mb(memory.workerdRss), mb(memory.groupRss)]);
        data[`n${n}`] = {
          all,
          per,
          floorAll,
          floorPer,
          heartbeats: summarize(heartbeats),
          hbErrors,
          joins: summarize(joins),
          cpu,
          floorCpu,
          memory,
          drops: run.drops,
        };
      }

      // The cap: the room holds `cap` sockets; the next one must get 4429.
      ctx.log(`#3 cap: socket ${cap + 1}`);
      const refused: { accepted: number; firstRefusal: number | null; code: number | null } = { accepted: agents.length, firstRefusal: null, code: null };
      const extra: DocReplica[] = [];
      for (let k = 0; k < 3 && refused.firstRefusal === null; k++) {
        const attempt = await tryOne(town, room, town.operator);
        extra.push(attempt.replica);
        if (attempt.synced) refused.accepted++;
        else {
          refused.firstRefusal = agents.length + k + 1;
          refused.code = attempt.code;
        }
      }
      closeAll(extra);
      // After one socket leaves, a new one is accepted again.
      agents.pop()!.replica.close();
      await sleep(200);
      const again = await tryOne(town, room, town.operator);
      closeAll(again.replica);
      const capOk = refused.firstRefusal === cap + 1 && refused.code === CLOSE.ROOM_FULL && again.synced;
      data.cap = { cap, ...refused, acceptedAfterOneLeft: again.synced };
      other.push([
        `cap ${cap}`,
        `socket ${refused.firstRefusal ?? "none"} of the room got ${refused.code ?? "no close"}`,
        `${refused.accepted} accepted`,
        again.synced ? "after one left: accepted" : "after one left: refused",
        "",
      ]);

      const half = data[`n${Math.round(cap / 2)}`] as { all: { p50: number; p99: number }; drops: number } | undefined;
      const full = data[`n${cap}`] as { all: { p50: number; p99: number }; floorAll: { p50: number }; drops: number; hbErrors: number };
      summary.push({
        metric: `#3 broadcast to ${cap} sockets (the cap)`,
        result: `last of ${cap}: p50 ${fmt(full.all.p50)} ms, p99 ${fmt(full.all.p99)} ms; drops ${full.drops}, heartbeat errors ${full.hbErrors}`,
        baseline: `floor p50 ${fmt(full.floorAll.p50)} ms`,
        ratio: full.all.p50 / full.floorAll.p50,
        bar: "served without drops at the cap",
        met: full.drops === 0 && full.hbErrors === 0,
      });
      summary.push({
        metric: `#3 cap ${cap} with typed ROOM_FULL; 2× headroom`,
        result: `socket ${refused.firstRefusal ?? "–"} closed ${refused.code ?? "–"}${half ? `; at ${cap / 2}: last-of-N p50 ${fmt(half.all.p50)} ms, p99 ${fmt(half.all.p99)} ms` : ""}`,
        baseline: "–",
        ratio: null,
        bar: `socket ${cap + 1} closed 4429; room works at ${cap} = 2× ${cap / 2}`,
        met: capOk && full.drops === 0,
      });
      notes.push(
        `Every socket is a DocReplica (operator token) that also sends an awareness frame every ${HEARTBEAT_MS / 1000} s at a seeded random phase, timed until the room's answer (as a Yjs provider keeps its connection alive); the broadcast is an HTTP gt_bead_update of one bead's title (so the room holds exactly the replicas), ${broadcasts} per step (+3 warm-up), one at a time.`,
        `Server started with GT_MAX_CONNECTIONS=${cap}. ${refused.firstRefusal === cap + 1 ? "" : `**The room accepted ${refused.accepted} sockets with a cap of ${cap}: party/live/room.ts admitSocket checks \`sockets.count > max\` before the new socket is counted, so it admits max + 1; the comparison should be \`>=\`.**`}`,
        "Floor: the same broadcast through a plain ws server to as many plain ws clients (heartbeats echoed by the server).",
      );
      town.closeAll();
    } finally {
      closeAll(agents.map((a) => (a.stop(), a.replica)));
      floorTimers.forEach((t) => (clearInterval(t), clearTimeout(t)));
      floorSockets.forEach((ws) => ws.close());
      await floor.stop();
      await server.close();
    }
    return {
      params: { steps, cap, broadcasts, heartbeatMs: HEARTBEAT_MS, seed: SEED },
      sections: [
        { title: "one change broadcast to every socket of the room (ms)", headers: LATENCY_HEADERS, rows },
        {
          title: "joins, memory and the cap",
          headers: ["sockets", "join p50 ms (connect + sync)", "join max ms", "workerd RSS MB", "server group RSS MB"],
          rows: other,
        },
      ],
      summary,
      notes,
      data,
    };
  },
};
