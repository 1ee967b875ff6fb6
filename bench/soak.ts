/**
 * npm run soak [-- --minutes 30 --rigs 5 --beads 240 --seed 7 --gap 20,45 --settle 10 --out bench/results/soak.md --keep]
 *
 * A town run under a seeded chaos schedule, then checked (bench/soak/soak.ts says what). Prints the
 * table and writes it (markdown, and JSON beside it). Exits 1 on any violation.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parseArgs } from "node:util";
import { renderSoak, runSoak } from "./soak/soak.ts";

const { values } = parseArgs({
  options: {
    minutes: { type: "string", default: "30" },
    rigs: { type: "string", default: "5" },
    beads: { type: "string", default: "240" },
    seed: { type: "string", default: "7" },
    gap: { type: "string", default: "20,45" },
    settle: { type: "string", default: "10" },
    out: { type: "string", default: "bench/results/soak.md" },
    keep: { type: "boolean", default: false },
  },
  strict: true,
});
const number = (name: string, text: string, min: number) => {
  const n = Number(text);
  if (!Number.isFinite(n) || n < min) {
    console.error(`soak: --${name} must be a number ≥ ${min}, got ${text}`);
    process.exit(2);
  }
  return n;
};
const [gapMin, gapMax] = values.gap.split(",").map((g) => number("gap", g, 1));
const report = await runSoak({
  minutes: number("minutes", values.minutes, 0.5),
  rigs: number("rigs", values.rigs, 2),
  beads: number("beads", values.beads, 1),
  seed: number("seed", values.seed, 0),
  chaosGapS: [gapMin!, gapMax ?? gapMin!],
  settleMinutes: number("settle", values.settle, 1),
  keep: values.keep,
  log: (line) => console.log(line),
});
const markdown = renderSoak(report);
console.log(`\n${markdown}`);
const out = resolve(values.out);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, markdown);
writeFileSync(out.replace(/\.md$/, ".json"), JSON.stringify(report, null, 2));
console.log(`written to ${out}${values.keep ? `; the run's directory is kept: ${report.dir}` : ""}`);
process.exit(report.violations === 0 ? 0 : 1);
