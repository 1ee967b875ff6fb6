/**
 * A preset runtime's parsed output in Chromium against real `partykit dev`: lines the container
 * sends with a kind (text, a tool call, a tool's result, an error, the final result) are shown as
 * such on the agent page and the bead's runs (a chip per tool, failures marked), not as raw JSON.
 */
import { expect, it } from "vitest";
import type { Bead, OutputKind } from "../../party/protocol.ts";
import { harness, live } from "./harness.ts";
import { standIn } from "./stand-in.ts";

const h = harness();

type Parsed = { text: string; kind?: OutputKind; ok?: boolean; stream?: "out" | "err" };
const RUN: Parsed[] = [
  { kind: "text", text: "I will add the endpoint and commit it." },
  { kind: "tool", text: "→ Write: api/login.go" },
  { kind: "tool_result", ok: true, text: "← Write: ok" },
  { kind: "tool", text: "→ Bash: go test ./..." },
  { kind: "tool_result", ok: false, text: "← Bash failed: exit 1 ⏎ undefined: session" },
  { kind: "error", stream: "err", text: "error: rate limited, retrying" },
  { kind: "result", ok: true, text: "result: done (claude-sonnet-4-5, 4 turns, $0.0210)" },
  { text: "a plain line" },
];

it("shows tool calls as chips with their input, failures marked, errors and the final result, on the agent page and the bead's runs", async () => {
  const t = await h.town("parsed");
  const alpha = await t.readyRig("alpha");
  const container = await standIn(t, alpha);
  h.later(() => container.close());
  const bead = await t.rigCall<Bead>(alpha, "gt_bead_create", { title: "Add the login endpoint" });
  const start = await container.nextStart(bead.id);
  await container.started(start);
  await t.rigCall(
    alpha,
    "gt_agent_output",
    {
      epoch: container.epoch,
      run: start.run,
      identity: start.identity,
      lines: RUN.map(({ stream, ...line }) => ({ at: Date.now(), stream: stream ?? "out", ...line })),
    },
    t.container,
  );

  const p = await h.page(t.url(`/rigs/alpha/agents/${start.name}`));
  await live(p, 2);
  const log = p.locator("[data-testid=output-log]");
  await log.locator("[data-testid=log-line]", { hasText: "a plain line" }).waitFor();
  const line = (seq: number) => log.locator(`[data-testid=log-line][data-seq="${seq}"]`);
  const chip = (seq: number) => line(seq).locator("[data-testid=log-chip]");
  expect(await line(1).getAttribute("data-kind")).toBe("text");
  expect(await chip(1).count()).toBe(0);
  expect(await chip(2).innerText()).toBe("Write");
  expect(await line(2).innerText()).not.toContain("→"); // the chip says it is a tool call
  expect(await line(2).innerText()).toContain("api/login.go");
  expect(await chip(3).innerText()).toBe("✓ Write");
  expect(await line(3).getAttribute("data-ok")).toBe("true");
  expect(await chip(5).innerText()).toBe("✗ Bash");
  expect(await line(5).getAttribute("data-ok")).toBe("false");
  expect(await line(5).innerText()).toContain("failed: exit 1 ⏎ undefined: session");
  expect(await line(5).getAttribute("class")).toContain("text-rose-300");
  expect(await chip(6).innerText()).toBe("error");
  expect(await line(6).innerText()).toContain("rate limited, retrying");
  expect(await chip(7).innerText()).toBe("result");
  expect(await line(7).innerText()).toContain("done (claude-sonnet-4-5, 4 turns, $0.0210)");
  expect(await chip(8).count()).toBe(0);
  expect(await log.innerText()).not.toMatch(/[{}]"/);

  // The run ends; the bead's page shows it the same way.
  await t.rigCall(alpha, "gt_agent_exited", { as: start.identity, bead_id: bead.id, run: start.run, epoch: container.epoch, code: 0 }, t.container);
  await p.goto(t.url(`/rigs/alpha/beads/${bead.id}`));
  const runLog = p.locator("[data-testid=bead-run-log]");
  await runLog.locator("[data-testid=log-line]", { hasText: "a plain line" }).waitFor();
  expect(await runLog.locator("[data-testid=log-chip]").allInnerTexts()).toEqual(["Write", "✓ Write", "Bash", "✗ Bash", "error", "result"]);
});
