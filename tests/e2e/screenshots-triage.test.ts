/**
 * Screenshots of issue 12's views, at 1440 and 390 px, light and dark: the overview with its
 * attention lane and charts, a failed bead with its runs' output and actions, an agent's live
 * output, a convoy's burn-down. With SCREENSHOTS=1 they are written to docs/screenshots/; otherwise
 * to a temp dir, so the run still checks that every view renders without errors and fits the phone.
 */
import { mkdirSync, mkdtempSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { expect, it } from "vitest";
import type { Bead, ConvoyProgress } from "../../party/protocol.ts";
import { harness } from "./harness.ts";
import { standIn } from "./stand-in.ts";

const OUT = process.env.SCREENSHOTS === "1" ? resolve(import.meta.dirname, "../../docs/screenshots") : mkdtempSync(join(tmpdir(), "townhall-shots-"));
const h = harness();

it("screenshots of the attention lane, a failed bead's output and actions, an agent's live output and a burn-down", async () => {
  mkdirSync(OUT, { recursive: true });
  const t = await h.town("acme");
  const backend = await t.readyRig("backend", { max_polecats: 3 });
  const frontend = await t.readyRig("frontend", { max_polecats: 2 });
  await t.readyRig("docs", { max_polecats: 1 });
  const container = await standIn(t, backend);
  h.later(() => container.close());
  const { bead: failed } = await container.failingBead("Paginate /v2/issues", (n) => [
    "$ npm test -- api/issues",
    "> vitest run api/issues",
    ` ✓ api/issues/list.test.ts (12 tests) ${180 + n} ms`,
    " × api/issues/paginate.test.ts > returns a cursor after 50 rows",
    "   AssertionError: expected undefined to be a string (cursor)",
    `exit 4 (run ${n})`,
  ]);
  const working = await t.rigCall<Bead>(backend, "gt_bead_create", { title: "Rate-limit the search API" });
  const start = await container.nextStart(working.id);
  await container.started(start);
  await container.print(start, [
    "$ git checkout -b gt/rate-limit",
    "Reading api/search/handler.ts",
    "Adding a token bucket (20 req/s per key)",
    "$ npm test -- api/search",
    " ✓ api/search/limit.test.ts (4 tests) 96 ms",
  ]);
  const convoy = await t.townCall<ConvoyProgress>("gt_convoy_create", {
    title: "Launch v2",
    beads: [
      { title: "v2 landing page", rig: "frontend" },
      { title: "v2 API freeze", rig: "docs" },
      { title: "v2 migration guide", rig: "docs" },
      { title: "v2 changelog", rig: "docs" },
    ],
  });
  for (const title of ["v2 changelog", "v2 API freeze"]) {
    const b = convoy.beads.find((x) => x.title === title)!;
    await t.rigCall({ id: b.rigId } as typeof frontend, "gt_bead_update", { bead_id: b.beadId, status: "closed" });
  }
  const shots = [
    { name: "attention-light", path: "", ready: "[data-testid=attention-item][data-kind=failed_bead]" },
    { name: "attention-dark", path: "", ready: "[data-testid=attention-item][data-kind=failed_bead]", dark: true },
    { name: "attention-phone-light", path: "", ready: "[data-testid=attention-item][data-kind=failed_bead]", width: 390 },
    { name: "attention-phone-dark", path: "", ready: "[data-testid=attention-item][data-kind=failed_bead]", width: 390, dark: true },
    { name: "failed-bead-light", path: `/rigs/backend/beads/${failed.id}`, ready: "[data-testid=bead-run-log] [data-testid=log-line]" },
    { name: "failed-bead-dark", path: `/rigs/backend/beads/${failed.id}`, ready: "[data-testid=bead-run-log] [data-testid=log-line]", dark: true },
    { name: "failed-bead-phone-light", path: `/rigs/backend/beads/${failed.id}`, ready: "[data-testid=bead-run-log] [data-testid=log-line]", width: 390 },
    { name: "agent-output-light", path: `/rigs/backend/agents/${start.name}`, ready: "[data-testid=output-log] [data-testid=log-line]" },
    { name: "agent-output-dark", path: `/rigs/backend/agents/${start.name}`, ready: "[data-testid=output-log] [data-testid=log-line]", dark: true },
    {
      name: "agent-output-phone-dark",
      path: `/rigs/backend/agents/${start.name}`,
      ready: "[data-testid=output-log] [data-testid=log-line]",
      width: 390,
      dark: true,
    },
    { name: "burn-down-light", path: `/convoys/${convoy.id}`, ready: "[data-testid=burn-point]" },
    { name: "burn-down-dark", path: `/convoys/${convoy.id}`, ready: "[data-testid=burn-point]", dark: true },
    { name: "burn-down-phone-light", path: `/convoys/${convoy.id}`, ready: "[data-testid=burn-point]", width: 390 },
  ];
  for (const shot of shots) {
    const width = shot.width ?? 1440;
    const p = await h.page(t.url(shot.path), { dark: shot.dark ?? false, width, height: width < 500 ? 844 : 960 });
    await p.locator(shot.ready).first().waitFor({ timeout: 15_000 });
    await p.addStyleTag({ content: "*,*::before,*::after{animation:none!important;transition:none!important}" });
    // Nothing wider than the screen.
    expect(await p.evaluate(() => document.documentElement.scrollWidth), `${shot.name} fits ${width} px`).toBeLessThanOrEqual(width);
    const file = join(OUT, `${shot.name}.png`);
    await p.screenshot({ path: file });
    expect(statSync(file).size, `${shot.name}.png stays small`).toBeLessThan(250 * 1024);
  }
}, 180_000);
