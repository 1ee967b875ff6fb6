/**
 * #9 end-to-end throughput: N polecats across R rigs in one real town container (scripted agents,
 * real git worktrees, the refinery's merges into local bare remotes) complete a batch of beads.
 * Reports beads/min and where each bead's time goes, from its status history (room clock) and the
 * container's log lines (timestamped here on arrival).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TS_LOADER } from "../../container/runtimes.ts";
import type { Bead, Rig } from "../../party/protocol.ts";
import { spawnContainer, type ContainerProcess } from "../../tests/helpers/container.ts";
import { filesOnMain, makeBareRepo } from "../../tests/helpers/git.ts";
import { treeCpuSeconds } from "../lib/cpu.ts";
import { benchTown, closeAll, openReplicas, untilReplica } from "../lib/fixtures.ts";
import type { Metric, SummaryRow } from "../lib/report.ts";
import { BenchServer, killOnExit } from "../lib/server.ts";
import { summarize } from "../lib/stats.ts";
import { fmt, type Cell } from "../lib/table.ts";

type Line = { at: number; text: string };

export const throughput: Metric = {
  id: 9,
  name: "throughput",
  title: "end-to-end throughput",
  async run(ctx) {
    const rigCount = ctx.smoke ? 2 : 3;
    const perRig = ctx.smoke ? 2 : 4;
    const maxPolecats = 2;
    const dir = mkdtempSync(join(tmpdir(), "townhall-e2e-bench-"));
    const server = await BenchServer.start();
    let container: ContainerProcess | null = null;
    let forgetContainer = () => {};
    const rows: Cell[][] = [];
    const phases: Cell[][] = [];
    const summary: SummaryRow[] = [];
    const data: Record<string, unknown> = {};
    const notes: string[] = [];
    try {
      const town = await benchTown(server.host, "e2e");
      const lines: Line[] = [];
      container = spawnContainer({ host: server.host, town: town.town, token: town.container, workspace: join(dir, "workspace") });
      forgetContainer = killOnExit(-container.child.pid!);
      const record = (chunk: Buffer) => {
        const at = Date.now();
        for (const text of chunk.toString().split("\n")) if (text.trim()) lines.push({ at, text });
      };
      container.child.stdout!.on("data", record);
      container.child.stderr!.on("data", record);
      const names = ["alpha", "beta", "gamma", "delta"].slice(0, rigCount);
      const rigs: Rig[] = [];
      const remotes = new Map<string, string>();
      for (const name of names) {
        const remote = makeBareRepo(dir, name);
        remotes.set(name, remote);
        rigs.push(await town.addRig(name, { git_url: remote, max_polecats: maxPolecats }));
      }
      const replicas = (await Promise.all(rigs.map((r) => openReplicas(town, "rig", town.rigRoom(r), 1)))).flat();
      await Promise.all(rigs.map((r) => container!.waitFor(new RegExp(`\\[${r.name}\\] ready`))));
      ctx.log(`#9 ${rigCount} rigs × ${perRig} beads`);

      const cpuServer0 = server.cpuSeconds();
      const cpuContainer0 = treeCpuSeconds(container.child.pid!);
      const t0 = Date.now();
      await Promise.all(
        rigs.map(async (rig) => {
          for (let i = 1; i <= perRig; i++) await town.rigCall(rig, "gt_bead_create", { title: `${rig.name} ${i}`, body: `write ${rig.name}-${i}.txt: ${i}` });
        }),
      );
      await Promise.all(
        replicas.map((r) =>
          untilReplica(
            r,
            (doc) => {
              const beads = [...doc.getMap<Bead>("beads").values()];
              return beads.length === perRig && beads.every((b) => b.status === "closed");
            },
            180_000,
            "every bead closed",
          ),
        ),
      );
      const wall = Date.now() - t0;
      const serverCpu = server.cpuSeconds() - cpuServer0;
      const containerCpu = treeCpuSeconds(container.child.pid!) - cpuContainer0;
      const total = rigCount * perRig;
      const perMin = total / (wall / 60_000);

      // Where the time goes, per bead.
      const lineAt = (pattern: RegExp) => lines.find((l) => pattern.test(l.text))?.at ?? null;
      // Whole beads: the document holds only a bead's last status changes, gt_bead_status all of them.
      const beads = await Promise.all(
        rigs.flatMap((rig, k) => [...replicas[k]!.doc.getMap<Bead>("beads").keys()].map((id) => town.rigCall<Bead>(rig, "gt_bead_status", { bead_id: id }))),
      );
      const phaseNames = [
        "waiting for a polecat",
        "dispatch → agent process started",
        "agent process: start → gt_done",
        "gt_done → agent exited",
        "exited → merged + pushed",
        "merged → closed (gt_merge_result)",
        "total",
      ] as const;
      const samples: Record<string, number[]> = Object.fromEntries(phaseNames.map((p) => [p, []]));
      let redone = 0;
      for (const b of beads) {
        const h = b.history ?? [];
        const created = h.find((x) => x.status === "open")!.at;
        const progress = h.findLast((x) => x.status === "in_progress")!.at;
        const review = h.findLast((x) => x.status === "in_review")!.at;
        const closed = h.findLast((x) => x.status === "closed")!.at;
        if (h.filter((x) => x.status === "in_progress").length > 1) redone++;
        const branch = b.branch ?? "";
        const identity = b.assignee ?? "";
        const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
        const started = lineAt(new RegExp(`${esc(identity)} started on ${esc(branch)}\\b`));
        const exitedLines = lines.filter((l) => new RegExp(`${esc(identity)} exited`).test(l.text) && l.at >= review - 50);
        const exited = exitedLines[0]?.at ?? null;
        const merged = lineAt(new RegExp(`merged ${esc(branch)} as`));
        const put = (name: string, v: number | null) => v !== null && Number.isFinite(v) && samples[name]!.push(v);
        put("waiting for a polecat", progress - created);
        put("dispatch → agent process started", started !== null ? started - progress : null);
        put("agent process: start → gt_done", started !== null ? review - started : null);
        put("gt_done → agent exited", exited !== null ? exited - review : null);
        put("exited → merged + pushed", exited !== null && merged !== null ? merged - exited : null);
        put("merged → closed (gt_merge_result)", merged !== null ? closed - merged : null);
        put("total", closed - created);
      }
      for (const name of phaseNames) {
        const s = summarize(samples[name]!);
        phases.push([name, s.n, s.mean, s.p50, s.max]);
      }
      // Reference: one bare `node --import <tsx loader>` start, what every scripted agent pays first.
      const nodeStarts: number[] = [];
      for (let i = 0; i < 3; i++) {
        const s0 = performance.now();
        spawnSync(process.execPath, ["--import", TS_LOADER, "-e", "0"], { stdio: "ignore" });
        nodeStarts.push(performance.now() - s0);
      }
      phases.push(["reference: node --import tsx loader, empty script", 3, summarize(nodeStarts).mean, summarize(nodeStarts).p50, summarize(nodeStarts).max]);

      const landed = names.every((n) => {
        const files = filesOnMain(remotes.get(n)!);
        return Array.from({ length: perRig }, (_, i) => `${n}-${i + 1}.txt`).every((f) => files.includes(f));
      });
      rows.push([
        rigCount,
        perRig,
        maxPolecats,
        rigCount * maxPolecats,
        total,
        wall / 1000,
        perMin,
        landed,
        redone,
        `${fmt(serverCpu)} s (${fmt((100 * serverCpu) / (wall / 1000), 0)}%)`,
        `${fmt(containerCpu)} s (${fmt((100 * containerCpu) / (wall / 1000), 0)}%)`,
      ]);
      data.run = {
        rigCount,
        perRig,
        maxPolecats,
        wallMs: wall,
        beadsPerMin: perMin,
        landed,
        redone,
        serverCpu,
        containerCpu,
        phases: Object.fromEntries(phaseNames.map((p) => [p, summarize(samples[p]!)])),
        nodeStart: summarize(nodeStarts),
      };
      summary.push({
        metric: `#9 e2e throughput, ${rigCount} rigs × ${perRig} beads, ${rigCount * maxPolecats} polecats`,
        result: `${fmt(perMin, 1)} beads/min (${fmt(wall / 1000, 1)} s wall), all merged: ${landed ? "yes" : "no"}`,
        baseline: "–",
        ratio: null,
        bar: "report beads/min and where the time goes",
        met: landed ? null : false,
      });
      const mean = (p: string) => summarize(samples[p]!).mean;
      const agentRun = mean("agent process: start → gt_done");
      notes.push(
        `Scripted agents (node + tsx loader) each write one file and commit; the refinery merges --no-ff into main and pushes to the rig's bare remote. Wall = first gt_bead_create → every bead closed (seen in replicas).`,
        `With ${maxPolecats} polecats per rig and ${perRig} beads, beads wait for a free polecat: mean ${fmt(mean("waiting for a polecat"), 0)} ms. A bead's own path (mean ${fmt(mean("total") - mean("waiting for a polecat"), 0)} ms): dispatch → process started (start_agent to the container, git worktree add, spawn) ${fmt(mean("dispatch → agent process started"), 0)} ms; the agent process until gt_done ${fmt(agentRun, 0)} ms (of which ~${fmt(summarize(nodeStarts).p50, 0)} ms is a bare node + TypeScript loader start; the rest loads the agent's modules, connects, primes, writes, commits); process exit ${fmt(mean("gt_done → agent exited"), 0)} ms; worktree removal + merge + push ${fmt(mean("exited → merged + pushed"), 0)} ms; gt_merge_result ${fmt(mean("merged → closed (gt_merge_result)"), 0)} ms.`,
        "Phases from the bead's status history (room clock) and the container's log lines (this process's clock, same machine).",
      );
      closeAll(replicas);
      town.closeAll();
    } finally {
      await container?.stop();
      forgetContainer();
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
    return {
      params: { rigs: rigCount, beadsPerRig: perRig, maxPolecats },
      sections: [
        {
          title: "run",
          headers: [
            "rigs",
            "beads per rig",
            "max polecats",
            "polecats",
            "beads",
            "wall s",
            "beads/min",
            "all on main",
            "beads redone",
            "server CPU",
            "container CPU (incl. agents, git)",
          ],
          rows,
        },
        { title: "where a bead's time goes (ms)", headers: ["phase", "n", "mean", "p50", "max"], rows: phases },
      ],
      summary,
      notes,
      data,
    };
  },
};
