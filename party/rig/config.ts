/**
 * The rig room's configuration: its PartyKit vars (GT_*), read in one place. The lifecycle's
 * deadlines are floored to whole numbers and fall back to their defaults when not positive
 * (docs/lifecycle.md "Configuration"); the counts must be whole numbers already.
 */
import { TOWN_NOTICES } from "../feed.ts";
import { LIMITS } from "../protocol.ts";
import type { WorkConfig } from "../work/index.ts";
import type { RigMeta } from "./store/meta.ts";

/** Deadlines, each overridable by a GT_* variable (docs/lifecycle.md). */
const DEADLINES = {
  GT_WITNESS_TIMEOUT_MS: 90_000,
  GT_AGENT_IDLE_MS: 10 * 60_000,
  GT_MERGE_TIMEOUT_MS: 5 * 60_000,
  GT_MERGE_TRIES: 3,
  GT_LEASE_TTL_MS: 30_000,
  GT_STOP_TIMEOUT_MS: 60_000,
  GT_MAX_RUNS: 3,
} as const;

/** Without GT_AGENT_CEILING_MS, a run silent for this many times GT_AGENT_IDLE_MS is stopped in any case (W8). */
const CEILING_TIMES_IDLE = 3;

/** Closed beads kept in the live document (GT_RETAIN_CLOSED); older ones move to storage. */
const RETAIN_CLOSED = 1_000;

export type RigEnv = {
  deadlines: Record<keyof typeof DEADLINES, number>;
  /** GT_AGENT_CEILING_MS: no progress for this long stops a run, nudged or not (W8); 3 × GT_AGENT_IDLE_MS by default, never below it. */
  agentCeilingMs: number;
  /** Unfinished beads a rig holds at most (GT_MAX_OPEN_BEADS): the rig document's ceiling. */
  maxOpenBeads: number;
  retainClosed: number;
  /** The window that bounds the rig's failures told to the town's feed (GT_TOWN_FEED_WINDOW_MS). */
  townFeedWindowMs: number;
  /** GT_TEST_HOOKS=1: the test-only tools exist. */
  testHooks: boolean;
};

type Vars = Record<string, unknown>;

function floored(vars: Vars, name: string, fallback: number): number {
  const configured = Math.floor(Number(vars[name]));
  return Number.isFinite(configured) && configured > 0 ? configured : fallback;
}

function whole(vars: Vars, name: string, fallback: number): number {
  const configured = Number(vars[name]);
  return Number.isInteger(configured) && configured > 0 ? configured : fallback;
}

export function rigEnv(vars: Vars): RigEnv {
  const deadlines = Object.fromEntries(Object.entries(DEADLINES).map(([name, fallback]) => [name, floored(vars, name, fallback)])) as RigEnv["deadlines"];
  const idle = deadlines.GT_AGENT_IDLE_MS;
  return {
    deadlines,
    agentCeilingMs: Math.max(idle, floored(vars, "GT_AGENT_CEILING_MS", CEILING_TIMES_IDLE * idle)),
    maxOpenBeads: whole(vars, "GT_MAX_OPEN_BEADS", LIMITS.openBeadsPerRig),
    retainClosed: whole(vars, "GT_RETAIN_CLOSED", RETAIN_CLOSED),
    townFeedWindowMs: floored(vars, "GT_TOWN_FEED_WINDOW_MS", TOWN_NOTICES.windowMs),
    testHooks: vars.GT_TEST_HOOKS === "1",
  };
}

/** What the work machine is configured with, for this rig as it is now. */
export function workConfig(meta: RigMeta, env: RigEnv): WorkConfig {
  const d = env.deadlines;
  return {
    rigName: meta.name,
    rigId: meta.rigId,
    ready: meta.status === "ready",
    maxPolecats: meta.maxPolecats,
    heartbeatTimeoutMs: d.GT_WITNESS_TIMEOUT_MS,
    idleMs: d.GT_AGENT_IDLE_MS,
    ceilingMs: env.agentCeilingMs,
    mergeTimeoutMs: d.GT_MERGE_TIMEOUT_MS,
    mergeTries: d.GT_MERGE_TRIES,
    leaseTtlMs: d.GT_LEASE_TTL_MS,
    stopTimeoutMs: d.GT_STOP_TIMEOUT_MS,
    maxRuns: d.GT_MAX_RUNS,
    maxOpenBeads: env.maxOpenBeads,
  };
}

/** How often the lease holder renews, and its TTL, as the lease frame tells it. */
export function leaseTiming(env: RigEnv): { renew_ms: number; ttl_ms: number } {
  const ttl = env.deadlines.GT_LEASE_TTL_MS;
  return { renew_ms: Math.max(100, Math.floor(ttl / 3)), ttl_ms: ttl };
}
