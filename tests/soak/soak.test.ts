/**
 * The soak's smoke variant (the 30-minute run is `npm run soak`): five rigs and one removed
 * mid-run, two containers, scripted agents of which some fail, hang or exit early, documents
 * rebuilt often, and a seeded chaos schedule that strikes every kind at least once (SIGKILL and
 * SIGSTOP of partykit dev, of a container and of agents). It runs alone, after every other test
 * (its own vitest project, group 1), on its own partykit dev.
 */
import { describe, expect, it } from "vitest";
import { renderSoak, runSoak } from "../../bench/soak/soak.ts";

describe("the soak, two minutes", () => {
  it("keeps every invariant through every kind of chaos: beads settled, merged once, convoys landed, acknowledged mail kept, clones kept, nothing orphaned", async () => {
    const report = await runSoak({
      minutes: 2,
      rigs: 5,
      beads: 36,
      seed: 20261125,
      chaosGapS: [6, 11],
      settleMinutes: 5,
      log: (line) => console.log(`soak: ${line}`),
    });
    console.log(renderSoak(report));
    // Every kind of chaos struck at least once (the schedule deals them out in shuffled rounds).
    expect(new Set(report.chaos.filter((e) => e.struck).map((e) => e.kind))).toEqual(
      new Set(["server-kill", "server-freeze", "container-kill", "container-freeze", "agent-kill", "agent-freeze", "rig-remove"]),
    );
    expect(report.checks.map((c) => c.name)).toHaveLength(6);
    expect(report.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`)).toEqual([]);
    expect(report.checks.every((c) => c.checked > 0)).toBe(true);
  });
});
