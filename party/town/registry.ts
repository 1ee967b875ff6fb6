/**
 * The rig registry's rules, pure: when a rig may be added and what its entry holds, what an update
 * changes, what a removal does to the convoys, which summary a rig's push replaces, and who sees a
 * rig's git URL whole. rig-tools.ts carries them out.
 */
import type { z } from "zod";
import { coversRig } from "../access.ts";
import type { rigInit } from "../internal.ts";
import { LIMITS, ToolError, redactGitUrl, type Convoy, type Rig, type RigSummary, type TokenPayload, type townToolArgs } from "../protocol.ts";
import { emptySummary } from "../summary.ts";
import { failRigBeads, landIfDone } from "./convoys.ts";

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

/** The registry entry of a rig being added: `cloning` until its room hears from the container. */
export function newRig(args: AddArgs, id: string, now: number): Rig {
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
  };
}

/** What the new rig's room is started with. */
export function rigInitOf(town: string, rig: Rig, now: number): z.infer<typeof rigInit> {
  return { town, rig_id: rig.id, name: rig.name, created_at: now, git_url: rig.gitUrl, default_branch: rig.defaultBranch, max_polecats: rig.maxPolecats };
}

/** The entry after gt_rig_update, and what changed in words (for the feed). */
export function updatedRig(rig: Rig, args: UpdateArgs): { rig: Rig; what: string } {
  const next: Rig = {
    ...rig,
    ...(args.capabilities ? { capabilities: [...new Set(args.capabilities)].sort() } : {}),
    ...(args.max_polecats ? { maxPolecats: args.max_polecats } : {}),
  };
  const what = [args.capabilities ? `capabilities ${next.capabilities.join(", ") || "none"}` : "", args.max_polecats ? `max polecats ${next.maxPolecats}` : ""]
    .filter(Boolean)
    .join(", ");
  return { rig: next, what: what || "no change" };
}

/**
 * The open convoys a rig's removal changes: its unfinished beads in them fail, and a convoy left
 * with nothing unfinished lands (so every convoy can still land once the rig is gone).
 */
export function convoysWithoutRig(convoys: readonly Convoy[], rig: Rig, now: number): { convoy: Convoy; landed: boolean }[] {
  return convoys.flatMap((c) => {
    const failed = c.status === "open" ? failRigBeads(c, rig.id, `rig ${rig.name} was removed`) : null;
    return failed ? [landIfDone(failed, now)] : [];
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
