/**
 * Agent output in Chromium against real `partykit dev`: the agent page's live tail (a line printed
 * after the page opened appears; pause holds new lines back; search filters and marks), output shown
 * as text whatever it contains, 2,000 lines with a small DOM, and a finished run's output on its
 * bead's page.
 */
import { describe, expect, it } from "vitest";
import type { Bead } from "../../party/protocol.ts";
import { harness, live } from "./harness.ts";
import { standIn } from "./stand-in.ts";

const h = harness();

describe("the agent page", () => {
  it("shows a line printed after it opened; pause holds new lines until resumed; search filters and marks", async () => {
    const t = await h.town("tail");
    const alpha = await t.readyRig("alpha");
    const container = await standIn(t, alpha);
    h.later(() => container.close());
    const bead = await t.rigCall<Bead>(alpha, "gt_bead_create", { title: "Compile the world" });
    const start = await container.nextStart(bead.id);
    await container.started(start);
    await container.print(start, ["starting up"]);

    const p = await h.page(t.url(`/rigs/alpha/agents/${start.name}`));
    await live(p, 2);
    await p.locator("[data-testid=output-status][data-status=live]").waitFor();
    await p.locator("[data-testid=output-run]", { hasText: "Compile the world" }).waitFor();
    // Its worktree path names the rig as people know it, not by its id.
    expect(await p.locator("[data-testid=agent-detail]").textContent()).toContain(`alpha/worktrees/${start.name}`);
    expect(await p.locator("[data-testid=agent-detail]").textContent()).not.toContain(alpha.id);
    const log = p.locator("[data-testid=output-log]");
    await log.locator("[data-testid=log-line]", { hasText: "starting up" }).waitFor();

    await container.print(start, ["compiling 42 files"]);
    await log.locator("[data-testid=log-line]", { hasText: "compiling 42 files" }).waitFor();
    await container.print(start, ["warning: unused import"], "err");
    await log.locator("[data-testid=log-line][data-stream=err]", { hasText: "warning: unused import" }).waitFor();

    // Pause: a new line is held back (counted on the button) until Resume.
    await p.locator("[data-testid=output-pause]").click();
    await container.print(start, ["linking"]);
    await p.locator("[data-testid=output-resume]", { hasText: "1 new" }).waitFor();
    expect(await log.locator("[data-testid=log-line]", { hasText: "linking" }).count()).toBe(0);
    await p.locator("[data-testid=output-resume]").click();
    await log.locator("[data-testid=log-line]", { hasText: "linking" }).waitFor();

    // Search: only matching lines, each match marked.
    await p.locator("[data-testid=output-search]").fill("COMPIL");
    await p.locator("[data-testid=output-matches]", { hasText: "1 of 4 lines" }).waitFor();
    expect(await log.locator("[data-testid=log-line]").count()).toBe(1);
    expect(await log.locator("[data-testid=log-line] mark").textContent()).toBe("compil");
    await p.locator("[data-testid=output-search]").press("Escape");
    await expect.poll(() => log.locator("[data-testid=log-line]").count()).toBe(4);
  });

  it("shows output as text: markup is not rendered and terminal escapes are gone", async () => {
    const t = await h.town("safe");
    const alpha = await t.readyRig("alpha");
    const container = await standIn(t, alpha);
    h.later(() => container.close());
    const bead = await t.rigCall<Bead>(alpha, "gt_bead_create", { title: "Hostile output" });
    const start = await container.nextStart(bead.id);
    await container.started(start);
    const p = await h.page(t.url(`/rigs/alpha/agents/${start.name}`));
    await p.locator("[data-testid=output-status][data-status=live]").waitFor();
    const markup = `<img src=x onerror="window.__pwned=1"><b>bold</b>`;
    await container.print(start, [markup, "\u001b[31mred\u001b[0m \u001b]0;title\u0007text"]);
    const log = p.locator("[data-testid=output-log]");
    await log.locator("[data-testid=log-line]", { hasText: "red text" }).waitFor();
    expect(await log.locator("[data-testid=log-line]", { hasText: "<img" }).textContent()).toContain(markup);
    expect(await log.locator("img, b").count()).toBe(0);
    expect(await p.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(await log.textContent()).not.toMatch(/\u001b/);
  });

  it("keeps 2,000 lines with only the visible rows in the DOM, following the newest", async () => {
    const t = await h.town("many");
    const alpha = await t.readyRig("alpha");
    const container = await standIn(t, alpha);
    h.later(() => container.close());
    const bead = await t.rigCall<Bead>(alpha, "gt_bead_create", { title: "Verbose build" });
    const start = await container.nextStart(bead.id);
    await container.started(start);
    const p = await h.page(t.url(`/rigs/alpha/agents/${start.name}`));
    await p.locator("[data-testid=output-status][data-status=live]").waitFor();
    for (let batch = 0; batch < 25; batch++)
      await container.print(
        start,
        Array.from({ length: 100 }, (_, i) => `line ${batch * 100 + i + 1}`),
      );
    const log = p.locator("[data-testid=output-log]");
    await log.locator("[data-testid=log-line]", { hasText: /^\d+line 2500$/ }).waitFor();
    expect(await log.getAttribute("data-lines")).toBe("2000");
    expect(await log.locator("[data-testid=log-line]").count()).toBeLessThan(100);
    expect(await log.locator("[data-testid=log-line]", { hasText: /^\d+line 500$/ }).count()).toBe(0);
  });
});

describe("the bead page", () => {
  it("shows each finished run with how it ended and its last lines", async () => {
    const t = await h.town("runs");
    const alpha = await t.readyRig("alpha");
    const container = await standIn(t, alpha);
    h.later(() => container.close());
    const { bead, runs } = await container.failingBead("Fix the flaky test", (n) => [`attempt ${n}`, `AssertionError: expected 200, got 50${n}`]);
    const p = await h.page(t.url(`/rigs/alpha/beads/${bead.id}`));
    await live(p, 2);
    await expect.poll(() => p.locator("[data-testid=bead-run]").count()).toBe(runs.length);
    // The latest run is shown first: its exit and its last line.
    await p.locator(`[data-testid=bead-run-detail][data-run="${runs.at(-1)!.run}"] [data-testid=bead-run-exit]`, { hasText: "exit 4" }).waitFor();
    await p.locator("[data-testid=bead-run-log] [data-testid=log-line][data-stream=err]", { hasText: "got 503" }).waitFor();
    // An earlier run on demand.
    await p.locator(`[data-testid=bead-run][data-run="${runs[0]!.run}"]`).click();
    await p.locator("[data-testid=bead-run-log] [data-testid=log-line]", { hasText: "got 501" }).waitFor();
    expect(await p.locator("[data-testid=bead-run-log] [data-testid=log-line]", { hasText: "got 503" }).count()).toBe(0);
  });
});
