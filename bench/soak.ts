/**
 * npm run soak [-- --minutes 30 --rigs 5 --beads 240 --seed 7 --gap 20,45 --settle 10 --out bench/results/soak.md --keep]
 * npm run soak:harsh [-- --seed 7,8,9 --keep]   (= --harsh: 12 minutes, 4 rigs, chaos every 12–25 s, out bench/results/soak-harsh.md)
 *
 * A town run under a seeded chaos schedule, then checked (bench/soak/soak.ts says what). Prints the
 * table and writes it (markdown, and JSON beside it). Exits 1 on any violation. Several seeds
 * (`--seed 1,2,3`) are run one after another, each on a town of its own, into one record with a
 * line per seed first. `--harsh` is the
 * shorter, denser schedule: chaos twice as often on fewer rigs, so each container is killed or
 * frozen while it holds runs far more often; any option given as well still wins, and its record
 * goes beside the 30-minute one, not over it.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parseArgs } from "node:util";
import { renderSoak, renderSoakSeeds, runSoak, type SoakReport } from "./soak/soak.ts";

const { values } = parseArgs({
  options: {
    minutes: { type: "string" },
    rigs: { type: "string" },
    beads: { type: "string", default: "240" },
    seed: { type: "string", default: "7" },
    gap: { type: "string" },
    settle: { type: "string", default: "10" },
    out: { type: "string" },
    keep: { type: "boolean", default: false },
    harsh: { type: "boolean", default: false },
  },
  strict: true,
});
const preset = values.harsh
  ? { minutes: "12", rigs: "4", gap: "12,25", out: "bench/results/soak-harsh.md" }
  : { minutes: "30", rigs: "5", gap: "20,45", out: "bench/results/soak.md" };
const { minutes = preset.minutes, rigs = preset.rigs, gap = preset.gap, out: outFile = preset.out } = values;
const number = (name: string, text: string, min: number) => {
  const n = Number(text);
  if (!Number.isFinite(n) || n < min) {
    console.error(`soak: --${name} must be a number ≥ ${min}, got ${text}`);
    process.exit(2);
  }
  return n;
};
const [gapMin, gapMax] = gap.split(",").map((g) => number("gap", g, 1));
const seeds = values.seed.split(",").map((s) => number("seed", s, 0));
const reports: SoakReport[] = [];
for (const seed of seeds) {
  if (seeds.length > 1) console.log(`\n=== seed ${seed} (${reports.length + 1} of ${seeds.length})`);
  const report = await runSoak({
    minutes: number("minutes", minutes, 0.5),
    rigs: number("rigs", rigs, 2),
    beads: number("beads", values.beads, 1),
    seed,
    chaosGapS: [gapMin!, gapMax ?? gapMin!],
    settleMinutes: number("settle", values.settle, 1),
    keep: values.keep,
    log: (line) => console.log(line),
  });
  reports.push(report);
  console.log(`\n${renderSoak(report)}`);
  if (values.keep) console.log(`the run's directory is kept: ${report.dir}`);
}
const markdown = reports.length === 1 ? renderSoak(reports[0]!) : renderSoakSeeds(reports);
const out = resolve(outFile);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, markdown);
writeFileSync(out.replace(/\.md$/, ".json"), JSON.stringify(reports.length === 1 ? reports[0] : reports, null, 2));
if (reports.length > 1) console.log(`\n${markdown.slice(0, markdown.indexOf("\n## "))}`);
console.log(`written to ${out}`);
process.exit(reports.every((r) => r.violations === 0) ? 0 : 1);
