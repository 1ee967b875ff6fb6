/**
 * The six-bead run of the container issue, timed: two rigs on local bare repos, three beads each,
 * max_polecats 2, scripted agents, real `partykit dev` and the real container process. Prints the
 * wall time and, from each bead's status history, where the time goes: waiting for a polecat,
 * the agent's run (process start, prime, commit, done), and the refinery's merge and push.
 * Usage: npx tsx bench/six-beads.ts
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Bead } from "../party/protocol.ts";
import { spawnContainer } from "../tests/helpers/container.ts";
import { makeBareRepo } from "../tests/helpers/git.ts";
import { startPartykit } from "../tests/helpers/partykit.ts";
import { makeTown, until } from "../tests/helpers/town.ts";

const SECRET = "bench-secret-0123456789abcdef";
const dir = mkdtempSync(join(tmpdir(), "townhall-six-"));
const server = await startPartykit({ persistDir: join(dir, "state"), vars: { GT_SECRET: SECRET } });
const town = await makeTown(server.host, SECRET, "six");
const container = spawnContainer({ host: server.host, town: town.town, token: town.container, workspace: join(dir, "workspace") });
try {
  const rigs = [];
  for (const name of ["alpha", "beta"]) rigs.push(await town.addRig(name, { git_url: makeBareRepo(dir, name), max_polecats: 2 }));
  const replicas = await Promise.all(
    rigs.map(async (rig) => {
      const replica = town.replica("rig", town.rigRoom(rig));
      await replica.whenSynced();
      return replica;
    }),
  );
  await Promise.all(rigs.map((r) => container.waitFor(new RegExp(`\\[${r.name}\\] ready`))));
  const t0 = Date.now();
  for (const rig of rigs)
    for (let i = 1; i <= 3; i++) await town.rigCall(rig, "gt_bead_create", { title: `${rig.name} ${i}`, body: `write ${rig.name}-${i}.txt: ${i}` });
  await Promise.all(
    replicas.map((r) =>
      until(
        (cb) => (r.doc.on("update", cb), () => r.doc.off("update", cb)),
        () => {
          const mine = [...r.doc.getMap<Bead>("beads").values()];
          return mine.length === 3 && mine.every((b) => b.status === "closed");
        },
        120_000,
      ),
    ),
  );
  const wall = Date.now() - t0;
  // Whole beads: the document holds only a bead's last status changes, gt_bead_status all of them.
  const whole = await Promise.all(
    rigs.flatMap((rig, k) => [...replicas[k]!.doc.getMap<Bead>("beads").keys()].map((id) => town.rigCall<Bead>(rig, "gt_bead_status", { bead_id: id }))),
  );
  const phase = (b: Bead, from: string, to: string) => {
    const start = b.history!.find((h) => h.status === from)!.at;
    const end = b.history!.findLast((h) => h.status === to)!.at;
    return end - start;
  };
  const rows = whole.map((b) => ({
    bead: b.title,
    waiting: phase(b, "open", "in_progress"),
    working: phase(b, "in_progress", "in_review"),
    merging: phase(b, "in_review", "closed"),
  }));
  const mean = (k: "waiting" | "working" | "merging") => Math.round(rows.reduce((s, r) => s + r[k], 0) / rows.length);
  console.log(`six beads over two rigs, max_polecats 2: ${(wall / 1000).toFixed(1)} s wall, ${(6 / (wall / 60000)).toFixed(1)} beads/min`);
  console.log("| bead | waiting for a polecat ms | agent run ms | merge + push ms |");
  console.log("|---|---|---|---|");
  for (const r of rows) console.log(`| ${r.bead} | ${r.waiting} | ${r.working} | ${r.merging} |`);
  console.log(`| mean | ${mean("waiting")} | ${mean("working")} | ${mean("merging")} |`);
} finally {
  await container.stop();
  town.closeAll();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
}
