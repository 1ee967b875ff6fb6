/**
 * One colour per meaning, everywhere: failed/dead red, stalled amber, working blue, closed green.
 * Views ask for a tone by record kind and status and never pick colours themselves.
 */
import type { AgentStatus, BeadStatus, ConvoyStatus, MailState, RigStatus } from "../../../party/protocol.ts";
import type { SyncStatus } from "../../../client/doc-sync.ts";

export type Tone = "neutral" | "blue" | "violet" | "green" | "amber" | "red";

export const BEAD_STATUSES: readonly BeadStatus[] = ["open", "in_progress", "in_review", "closed", "failed"];
export const AGENT_STATUSES: readonly AgentStatus[] = ["working", "idle", "stalled", "hung", "stopping", "dead"];

const TONES: Record<string, Record<string, Tone>> = {
  bead: { open: "neutral", in_progress: "blue", in_review: "violet", closed: "green", failed: "red" } satisfies Record<BeadStatus, Tone>,
  agent: { idle: "neutral", working: "blue", stalled: "amber", hung: "amber", stopping: "violet", dead: "red" } satisfies Record<AgentStatus, Tone>,
  mail: { queued: "amber", delivered: "blue", read: "neutral", failed: "red" } satisfies Record<MailState, Tone>,
  rig: { cloning: "blue", ready: "green", error: "red", removing: "amber" } satisfies Record<RigStatus, Tone>,
  convoy: { open: "blue", landed: "green", stuck: "red", closed: "neutral" } satisfies Record<ConvoyStatus, Tone>,
  sync: { connecting: "amber", live: "green", reconnecting: "amber", closed: "red" } satisfies Record<SyncStatus, Tone>,
  severity: { low: "neutral", medium: "blue", high: "amber", critical: "red" },
};

export function tone(kind: keyof typeof TONES, status: string): Tone {
  return TONES[kind]?.[status] ?? "neutral";
}

export const BADGE: Record<Tone, string> = {
  neutral: "bg-zinc-500/10 text-zinc-600 ring-zinc-500/20 dark:text-zinc-300",
  blue: "bg-blue-500/10 text-blue-700 ring-blue-500/25 dark:text-blue-300",
  violet: "bg-violet-500/10 text-violet-700 ring-violet-500/25 dark:text-violet-300",
  green: "bg-emerald-500/10 text-emerald-700 ring-emerald-500/25 dark:text-emerald-300",
  amber: "bg-amber-500/15 text-amber-800 ring-amber-500/30 dark:text-amber-300",
  red: "bg-rose-500/10 text-rose-700 ring-rose-500/25 dark:text-rose-300",
};

export const DOT: Record<Tone, string> = {
  neutral: "bg-zinc-400 dark:bg-zinc-500",
  blue: "bg-blue-500",
  violet: "bg-violet-500",
  green: "bg-emerald-500",
  amber: "bg-amber-500",
  red: "bg-rose-500",
};

export const BAR: Record<Tone, string> = {
  neutral: "bg-zinc-300 dark:bg-zinc-600",
  blue: "bg-blue-500",
  violet: "bg-violet-500",
  green: "bg-emerald-500",
  amber: "bg-amber-500",
  red: "bg-rose-500",
};

export const label = (status: string) => status.replace(/_/g, " ");
