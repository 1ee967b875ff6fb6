/**
 * The rig room's W8 settings (party/rig/config.ts): GT_AGENT_IDLE_MS and the ceiling,
 * GT_AGENT_CEILING_MS, which defaults to three idle times and is never below one.
 */
import { describe, expect, it } from "vitest";
import { rigEnv } from "../../party/rig/config.ts";

describe("the witness's idle time and ceiling (W8)", () => {
  it("defaults to 10 min idle and a 30 min ceiling, so a model thinking for minutes is not even nudged", () => {
    const env = rigEnv({});
    expect(env.deadlines.GT_AGENT_IDLE_MS).toBe(600_000);
    expect(env.agentCeilingMs).toBe(1_800_000);
  });

  it("derives the ceiling from an idle time given (as npm start gives a preset's), unless one is given too", () => {
    expect(rigEnv({ GT_AGENT_IDLE_MS: "30000" }).agentCeilingMs).toBe(90_000);
    expect(rigEnv({ GT_AGENT_IDLE_MS: "30000", GT_AGENT_CEILING_MS: "45000" }).agentCeilingMs).toBe(45_000);
  });

  it("never puts the ceiling below the idle time, and ignores a value that is not a positive number", () => {
    expect(rigEnv({ GT_AGENT_IDLE_MS: "30000", GT_AGENT_CEILING_MS: "1000" }).agentCeilingMs).toBe(30_000);
    expect(rigEnv({ GT_AGENT_IDLE_MS: "30000", GT_AGENT_CEILING_MS: "soon" }).agentCeilingMs).toBe(90_000);
    expect(rigEnv({ GT_AGENT_IDLE_MS: "30000", GT_AGENT_CEILING_MS: "-5" }).agentCeilingMs).toBe(90_000);
  });
});
