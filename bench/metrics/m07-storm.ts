/**
 * #7 reconnect storm: 100 agents (ToolSockets) and 10 dashboards (DocReplicas) on two rigs and the
 * town; SIGKILL the server's process group, restart it on the same port and storage, and time
 * until every agent has its hello again and every dashboard is live with the right content. The
 * clients' own random 250–1000 ms minimum reconnect delay spreads the storm; we check the spread.
 * Baseline: the same 110 clients connecting at once to a running server.
 */
import type { DocReplica } from "../../client/doc-sync.ts";
import type { ToolSocket } from "../../client/tools.ts";
import type { Bead, Rig } from "../../party/protocol.ts";
import { CpuMeter } from "../lib/cpu.ts";
import { benchTown, closeAll, createBeads, dashboardToken, operatorSockets, pool, replica, toolSocket, untilReplica } from "../lib/fixtures.ts";
import type { Metric, SummaryRow } from "../lib/report.ts";
import { Rng } from "../lib/rng.ts";
import { BenchServer } from "../lib/server.ts";
import { maxInWindow, summarize } from "../lib/stats.ts";
import { fmt, type Cell } from "../lib/table.ts";

const SEED = 707;

type Client = { kind: "agent" | "dashboard"; minDelay: number; back: number | null; opened: number | null };

const minDelayOf = (socket: unknown) => (socket as { _options: { minReconnectionDelay: number } })._options.minReconnectionDelay;

export const storm: Metric = {
  id: 7,
  name: "reconnect-storm",
  title: "reconnect storm",
  async run(ctx) {
    const agentCount = 100;
    const dashboardCount = 10;
    const rounds = ctx.smoke ? 1 : 3;
    const rng = new Rng(SEED);
    const server = await BenchServer.start();
    const rows: Cell[][] = [];
    const summary: SummaryRow[] = [];
    const data: Record<string, unknown> = {};
    const notes: string[] = [];
    const agents: ToolSocket[] = [];
    const dashboards: DocReplica[] = [];
    try {
      const town = await benchTown(server.host, "storm");
      const rigs: Rig[] = [await town.addRig("alpha"), await town.addRig("beta")];
      const expected = new Map<string, string[]>(); // room → bead ids every dashboard must show
      for (const rig of rigs) {
        const [op] = await operatorSockets(town, rig, 1);
        expected.set(town.rigRoom(rig), (await createBeads([op!], 20, rng)).ids);
        await pool(agentCount / rigs.length, 8, (i) => op!.call("gt_agent_register", { name: `a${i}` }));
        op!.close();
      }
      const tokens = await Promise.all(
        Array.from({ length: agentCount }, (_, i) => {
          const rig = rigs[i % rigs.length]!;
          return town.token({ role: "agent", rig: rig.id, agent: `${rig.name}/polecats/a${Math.floor(i / rigs.length)}` });
        }),
      );
      const rooms = [...rigs.map((r) => ({ party: "rig" as const, room: town.rigRoom(r) })), { party: "main" as const, room: town.town }];

      // Baseline: all 110 connect at once to the running server.
      const b0 = performance.now();
      for (let i = 0; i < agentCount; i++) agents.push(toolSocket(town, "rig", town.rigRoom(rigs[i % rigs.length]!), tokens[i]!));
      for (let i = 0; i < dashboardCount; i++) {
        const { party, room } = rooms[i % rooms.length]!;
        dashboards.push(replica(town, party, room, await dashboardToken(town)));
      }
      const firstTimes = await Promise.all([
        ...agents.map((a) => a.ready.then(() => performance.now() - b0)),
        ...dashboards.map((d) => d.whenSynced().then(() => performance.now() - b0)),
      ]);
      const baseline = summarize(firstTimes);
      rows.push(["baseline: 110 clients connect at once to a running server", "–", baseline.p50, baseline.p95, baseline.max, "–", "–", "–", "–"]);

      for (let round = 1; round <= rounds; round++) {
        ctx.log(`#7 round ${round}: SIGKILL + restart`);
        // One more acked write just before the crash: it must be in every dashboard afterwards.
        const rig = rigs[round % rigs.length]!;
        const [op] = await operatorSockets(town, rig, 1);
        const last = (await createBeads([op!], 1, rng)).ids[0]!;
        op!.close();
        expected.get(town.rigRoom(rig))!.push(last);

        const clients: Client[] = [];
        const backs: Promise<void>[] = [];
        agents.forEach((a) => {
          const c: Client = { kind: "agent", minDelay: minDelayOf(a.socket), back: null, opened: null };
          clients.push(c);
          backs.push(
            new Promise<void>((resolve) => {
              const off = a.onHello(() => {
                c.back = performance.now();
                off();
                resolve();
              });
            }),
          );
          a.socket.addEventListener("open", () => (c.opened ??= performance.now()), { once: true });
        });
        dashboards.forEach((d, i) => {
          const c: Client = { kind: "dashboard", minDelay: minDelayOf(d.socket), back: null, opened: null };
          clients.push(c);
          d.socket.addEventListener("open", () => (c.opened ??= performance.now()), { once: true });
          const { party, room } = rooms[i % rooms.length]!;
          backs.push(
            new Promise<void>((resolve) => {
              // Live again after the restart (not the live state before the kill), with the content.
              const offClose = d.onChange((r) => {
                if (r.status !== "live") {
                  offClose();
                  untilReplica(
                    d,
                    (doc) =>
                      party === "main"
                        ? rigs.every((rg) => doc.getMap<Rig>("rigs").has(rg.id))
                        : expected.get(room)!.every((id) => doc.getMap<Bead>("beads").has(id)),
                    60_000,
                    "dashboard live with its content",
                  ).then(() => {
                    c.back = performance.now();
                    resolve();
                  }, resolve);
                }
              });
            }),
          );
        });

        const tKill = performance.now();
        await server.down("kill");
        const meter = new CpuMeter(() => server.pgid);
        await server.up();
        meter.start();
        const ready = server.readyAt;
        const timeout = new Promise<"timeout">((r) => setTimeout(() => r("timeout"), 60_000));
        const outcome = await Promise.race([Promise.all(backs).then(() => "ok" as const), timeout]);
        const cpu = meter.stop();
        const missing = clients.filter((c) => c.back === null).length;
        const fromReady = clients.filter((c) => c.back !== null).map((c) => c.back! - ready);
        const fromKill = clients.filter((c) => c.back !== null).map((c) => c.back! - tKill);
        const opens = clients.filter((c) => c.opened !== null).map((c) => c.opened!);
        const s = summarize(fromReady);
        const burst = maxInWindow(opens, 50);
        const spread = opens.length ? Math.max(...opens) - Math.min(...opens) : 0;
        const downMs = ready - tKill;
        rows.push([
          `round ${round}: back after restart (from Ready)`,
          clients.length - missing,
          s.p50,
          s.p95,
          s.max,
          summarize(fromKill).max,
          downMs,
          `${spread.toFixed(0)} ms; ≤ ${burst} in any 50 ms`,
          `${fmt(cpu.serverS)} s (${fmt(cpu.serverPct, 0)}%)`,
        ]);
        const maxMin = Math.max(...clients.map((c) => c.minDelay));
        const bar = maxMin + 2000;
        data[`round${round}`] = {
          fromReady: s,
          fromKill: summarize(fromKill),
          missing,
          downMs,
          spread,
          burst,
          outcome,
          cpu,
          maxMinDelay: maxMin,
          serverStartMs: server.lastStartMs,
        };
        summary.push({
          metric: `#7 reconnect storm, round ${round} (110 clients)`,
          result: `all back ${fmt(s.max, 0)} ms after Ready (p50 ${fmt(s.p50, 0)}), ${missing} missing; spread ${fmt(spread, 0)} ms, ≤ ${burst} in any 50 ms`,
          baseline: `cold connect of 110: max ${fmt(baseline.max, 0)} ms`,
          ratio: s.max / baseline.max,
          bar: `all ≤ ${fmt(maxMin, 0)} + 2,000 ms, jittered`,
          met: missing === 0 && s.max <= bar && burst < clients.length / 2,
        });
      }
      notes.push(
        "Clients: 100 agent ToolSockets (50 per rig, agent tokens) and 10 viewer DocReplicas (4 per rig, 2 on the town), the real client code with its random 250–1000 ms minimum reconnect delay (growing ×1.3 per failed attempt while the server is down).",
        "Back = an agent's next hello; a dashboard live again on a fresh document holding every bead created before the kill (including one acked just before it) or every rig (town). Timed from the restarted server's Ready line; the kill → Ready downtime is the partykit dev restart.",
        "Spread: first and last reconnect (socket open) after the restart; burst = most socket opens in any 50 ms window. The bar's min delay is the largest client minimum delay drawn.",
      );
      town.closeAll();
    } finally {
      closeAll(agents, dashboards);
      await server.close();
    }
    return {
      params: { agents: agentCount, dashboards: dashboardCount, rounds, seed: SEED },
      sections: [
        {
          title: "restart under 110 clients (ms)",
          headers: ["case", "clients back", "p50", "p95", "max", "max from kill", "kill → Ready ms", "reconnect spread", "server CPU"],
          rows,
        },
      ],
      summary,
      notes,
      data,
    };
  },
};
