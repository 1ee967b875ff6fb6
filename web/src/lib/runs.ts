/**
 * What the bead page says of runs whose output is no longer kept (each agent keeps the output of its
 * last LIMITS.outputRunsKept runs): never "no runs yet" for a bead that ran; what is still known of
 * each (how it ended, how long it ran), and how many runs are not even remembered.
 */
import type { RunInfo } from "../../../party/protocol.ts";
import { LIMITS } from "../../../party/protocol/limits.ts";

/** A run's length: "42 s", "3 min 5 s", "2 h 10 min"; null while it has not ended. */
export function duration(run: Pick<RunInfo, "startedAt" | "endedAt">): string | null {
  if (run.endedAt === undefined) return null;
  const s = Math.max(0, Math.round((run.endedAt - run.startedAt) / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 ? `${m} min ${s % 60} s` : `${m} min`;
  const h = Math.floor(m / 60);
  return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
}

export type AgedRuns = {
  /** The runs' output that is gone, before when (the oldest kept run's start, or the last aged run's end). */
  before: number | null;
  /** Runs of the bead (by its count) neither kept nor remembered: only their number is known. */
  unknown: number;
  /** Why: the limit, in words. */
  why: string;
};

/**
 * Whether some of a bead's runs are no longer kept, and what to say: `counted` is the bead's own
 * run count (its details' "of N runs"), `kept` the runs whose output is kept, `aged` those whose
 * output aged out but whose end is remembered. Null when every run of the bead is kept.
 */
export function agedRuns(counted: number, kept: readonly RunInfo[], aged: readonly RunInfo[]): AgedRuns | null {
  const unknown = Math.max(0, counted - kept.length - aged.length);
  if (!aged.length && !unknown) return null;
  const oldestKept = kept.reduce<number | null>((at, r) => (at === null || r.startedAt < at ? r.startedAt : at), null);
  const lastAged = aged.reduce<number | null>((at, r) => Math.max(at ?? 0, r.endedAt ?? r.startedAt), null);
  return {
    before: oldestKept ?? lastAged,
    unknown,
    why: `each agent keeps the output of its last ${LIMITS.outputRunsKept} runs`,
  };
}
