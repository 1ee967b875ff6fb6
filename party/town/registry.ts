/**
 * The rig registry's rules, pure: when a rig may be added and what its entry holds, what an update
 * changes (its agents' runtime and model among it), what a removal does to the convoys, which
 * summary a rig's push replaces, and who sees a rig's git URL whole. rig-tools.ts carries them out.
 */
import type { z } from "zod";
import { coversRig } from "../access.ts";
import type { rigInit } from "../internal.ts";
import {
  LIMITS,
  ToolError,
  redactGitUrl,
  type AgentRuntime,
  type Convoy,
  type Rig,
  type RigSummary,
  type TokenPayload,
  type townToolArgs,
} from "../protocol.ts";
import { emptySummary } from "../summary.ts";
import { failRigBeads, settle, type Settled } from "./convoys.ts";

type AddArgs = z.infer<typeof townToolArgs.gt_rig_add>;
type UpdateArgs = z.infer<typeof townToolArgs.gt_rig_update>;

/** Names are unique in a town (CONFLICT). */
export function refuseTakenName(rigs: readonly Rig[], name: string): void {
  if (rigs.some((r) => r.name === name)) throw new ToolError("CONFLICT", `a rig named ${name} already exists`);
}

/** A new rig needs a free name and room in the town (LIMITS.rigsPerTown). */
export function refuseNewRig(rigs: readonly Rig[], name: string): void {
  refuseTakenName(rigs, name);
  if (rigs.length >= LIMITS.rigsPerTown) throw new ToolError("CONFLICT", `a town holds at most ${LIMITS.rigsPerTown} rigs`);
}

/**
 * Runtimes that take no model: the scripted agent does what its bead says, and a command is the
 * operator's own program (it is given no model either). A model is for a coding-agent CLI preset.
 */
const MODELLESS: readonly AgentRuntime[] = ["scripted", "command"];

/** A model named for a runtime that takes none is refused (INVALID_ARGS), rather than kept and ignored. */
function refuseModelFor(runtime: AgentRuntime | undefined, model: string | undefined): void {
  if (runtime && model && MODELLESS.includes(runtime))
    throw new ToolError("INVALID_ARGS", `model: the ${runtime} runtime takes no model (a model is for claude, codex, gemini or opencode)`);
}

/** The registry entry of a rig being added: `cloning` until its room hears from the container. */
export function newRig(args: AddArgs, id: string, now: number): Rig {
  refuseModelFor(args.runtime, args.model);
  return {
    id,
    name: args.name,
    // People see the URL without its credentials; the container reads it whole (gt_list_rigs).
    gitUrl: redactGitUrl(args.git_url),
    defaultBranch: args.default_branch ?? "main",
    capabilities: [...new Set(args.capabilities ?? [])].sort(),
    maxPolecats: args.max_polecats ?? 3,
    status: "cloning",
    createdAt: now,
    summary: emptySummary(now),
    // Absent: the container's default runtime, and that runtime's default model.
    ...(args.runtime ? { runtime: args.runtime } : {}),
    ...(args.model ? { model: args.model } : {}),
  };
}

/** What the new rig's room is started with. */
export function rigInitOf(town: string, rig: Rig, now: number): z.infer<typeof rigInit> {
  return { town, rig_id: rig.id, name: rig.name, created_at: now, git_url: rig.gitUrl, default_branch: rig.defaultBranch, max_polecats: rig.maxPolecats };
}

/**
 * The entry after gt_rig_update, and what changed in words (for the feed). `runtime` or `model`
 * null goes back to the default (the container's runtime, the runtime's model). A model names one
 * CLI's models, so a new runtime without a model drops the old one. Either applies to the rig's
 * next run; a run in progress keeps what it started with.
 */
export function updatedRig(rig: Rig, args: UpdateArgs): { rig: Rig; what: string } {
  const { runtime: oldRuntime, model: oldModel, ...rest } = rig;
  const runtime = args.runtime === undefined ? oldRuntime : (args.runtime ?? undefined);
  const runtimeChanged = args.runtime !== undefined && runtime !== oldRuntime;
  const model = args.model !== undefined ? (args.model ?? undefined) : runtimeChanged ? undefined : oldModel;
  refuseModelFor(runtime, model);
  const next: Rig = {
    ...rest,
    ...(args.capabilities ? { capabilities: [...new Set(args.capabilities)].sort() } : {}),
    ...(args.max_polecats ? { maxPolecats: args.max_polecats } : {}),
    ...(runtime ? { runtime } : {}),
    ...(model ? { model } : {}),
  };
  const what = [
    args.capabilities ? `capabilities ${next.capabilities.join(", ") || "none"}` : "",
    args.max_polecats ? `max polecats ${next.maxPolecats}` : "",
    args.runtime !== undefined ? (runtime ? `runtime ${runtime}` : "runtime back to the container's default") : "",
    args.model !== undefined || model !== oldModel ? (model ? `model ${model}` : "model back to the runtime's default") : "",
  ]
    .filter(Boolean)
    .join(", ");
  const agents = args.runtime !== undefined || args.model !== undefined;
  return { rig: next, what: what ? `${what}${agents ? " (from its next run)" : ""}` : "no change" };
}

/**
 * The open convoys a rig's removal changes: its unfinished beads in them fail, and a convoy left
 * with nothing unfinished settles (stuck: its failed beads say why) instead of waiting forever.
 */
export function convoysWithoutRig(convoys: readonly Convoy[], rig: Rig, now: number): Settled[] {
  return convoys.flatMap((c) => {
    const failed = c.status === "open" ? failRigBeads(c, rig.id, `rig ${rig.name} was removed`) : null;
    return failed ? [settle(failed, now)] : [];
  });
}

/** The entry with a rig's pushed summary, or null when the entry's is newer (pushes arrive out of order). */
export function withSummary(rig: Rig, summary: RigSummary): Rig | null {
  if (rig.summary.updatedAt > summary.updatedAt) return null;
  // The rig room owns readiness (the container reports clones to it); the registry mirrors it.
  return { ...rig, status: summary.status ?? rig.status, summary };
}

/** Git URLs with credentials are for a container that serves the rig (it clones); everyone else sees them redacted. */
export function seesRealUrl(token: TokenPayload, rig: Rig): boolean {
  return token.role === "container" && coversRig(token, rig.id);
}
