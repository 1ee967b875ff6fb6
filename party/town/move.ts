/**
 * Moving a bead between rigs (gt_bead_move, lifecycle rule W16), pure. The move has two steps:
 *  1. the source rig closes the bead as moved (and stops its run) under an id the town chose for
 *     its successor, and stores its notice to the town in the same write (`planMove` decides which
 *     rig that is, or answers a move made already; `movedNotice` reads the rig's answer);
 *  2. the town creates the successor in the target rig through its outbox, indexes both beads and
 *     puts the successor in the old bead's place in its convoy (`moveSteps`), once.
 * Every step is idempotent: the source rig answers a bead moved already with where it went, and
 * the town applies a move once. So a retried call, or a town that crashed between the two rooms,
 * still makes exactly one new bead. move-tools.ts carries the steps out.
 */
import type { z } from "zod";
import { newId } from "../ids.ts";
import { beadMoved, type beadMoveOut } from "../internal.ts";
import type { OutboxEntry } from "../outbox.ts";
import { ERROR_STATUS, ToolError, type BeadMoveResult, type ConvoyBead, type Rig, type townToolArgs } from "../protocol.ts";
import type { BeadPlace } from "./bead-index.ts";
import { beadEntry } from "./entries.ts";

export type MoveArgs = z.infer<typeof townToolArgs.gt_bead_move>;
export type MoveRequest = z.infer<typeof beadMoveOut>;
export type MovedNotice = z.infer<typeof beadMoved>;

/** The registry as a move reads it. `byName` refuses an unknown name (UNKNOWN_RIG). */
export type RigLookup = { byId(id: string): Rig | undefined; byName(name: string): Rig };

export type MovePlan =
  /** The index says the bead was moved to this target already: its answer, again. */
  | { kind: "answered"; result: BeadMoveResult }
  /** Step 1: ask `source` to close the bead as moved. */
  | { kind: "ask"; source: Rig; request: MoveRequest };

/**
 * Which rig the bead is in, from the town's index (`place`: it placed the bead) or the caller's
 * `from` (a bead the town did not place, or no longer remembers); refused when they disagree, when
 * the bead is in the target already, or when it went to another rig already.
 */
export function planMove(args: MoveArgs, target: Rig, place: BeadPlace | undefined, rigs: RigLookup, newBeadId: () => string = newId): MovePlan {
  if (place?.movedTo) {
    if (place.movedTo.rigId !== target.id)
      throw new ToolError("CONFLICT", `bead ${args.bead_id} was moved to rig ${place.movedTo.rig} already (as bead ${place.movedTo.beadId})`);
    const from = rigs.byId(place.rigId)?.name ?? args.from ?? "";
    return { kind: "answered", result: { bead_id: place.movedTo.beadId, rig: place.movedTo.rig, moved_from: { rig: from, bead_id: args.bead_id } } };
  }
  let source: Rig;
  if (place) {
    const known = rigs.byId(place.rigId);
    if (!known) throw new ToolError("UNKNOWN_RIG", `the rig bead ${args.bead_id} was placed in was removed`);
    if (args.from !== undefined && args.from !== known.name)
      throw new ToolError("INVALID_ARGS", `from: bead ${args.bead_id} is in rig ${known.name} (the town placed it there), not ${args.from}`);
    source = known;
  } else {
    if (args.from === undefined)
      throw new ToolError("INVALID_ARGS", `from: required: the town did not place bead ${args.bead_id} (or no longer remembers it); name the rig it is in`);
    source = rigs.byName(args.from);
  }
  if (source.id === target.id) throw new ToolError("INVALID_ARGS", `rig: bead ${args.bead_id} is in rig ${target.name} already`);
  return { kind: "ask", source, request: { bead_id: args.bead_id, to_rig: target.name, to_rig_id: target.id, new_bead_id: newBeadId() } };
}

/**
 * The source rig's answer to step 1 as the notice of step 2, or the refusal to pass on: the rig's
 * own error where it is a client error, INTERNAL otherwise (calling again resumes the move), and
 * CONFLICT when the bead went to another rig before.
 */
export function movedNotice(reply: { status: number; body: any }, source: Rig, target: Rig, beadId: string): MovedNotice {
  if (reply.status !== 200) {
    const error = reply.body?.error as { code?: string; message?: string } | undefined;
    const code = error?.code && Object.hasOwn(ERROR_STATUS, error.code) && reply.status < 500 ? (error.code as keyof typeof ERROR_STATUS) : "INTERNAL";
    throw new ToolError(code, error?.message ?? `rig ${source.name} answered HTTP ${reply.status}; call again: the move resumes where it stopped`);
  }
  const moved = beadMoved.parse(reply.body.value);
  if (moved.to_rig !== target.name) throw new ToolError("CONFLICT", `bead ${beadId} was moved to rig ${moved.to_rig} already (as bead ${moved.new_bead_id})`);
  return { ...moved, to_rig_id: target.id };
}

export type MoveSteps =
  /** The index has the move: it was applied before (the tool and the rig's notice both bring it). */
  | { kind: "applied"; result: BeadMoveResult }
  | {
      kind: "apply";
      result: BeadMoveResult;
      /** The successor's entry in the old bead's convoy (if it has one). */
      successor: ConvoyBead;
      /** The successor's creation in the target rig; none when the target was removed meanwhile. */
      entries: OutboxEntry[];
      /** Index entries to store, and how many of them are new keys. */
      index: [string, BeadPlace][];
      added: number;
      feed: { kind: "moved" | "failed"; text: string };
    };

/**
 * Step 2 for a move the source rig has made: `target` is the target rig as the registry has it now
 * (undefined: removed meanwhile), `indexed` the old bead's index entry.
 */
export function moveSteps(notice: MovedNotice, target: Rig | undefined, indexed: BeadPlace | undefined, now: number): MoveSteps {
  const result: BeadMoveResult = { bead_id: notice.new_bead_id, rig: notice.to_rig, moved_from: { rig: notice.from_rig, bead_id: notice.bead_id } };
  if (indexed?.movedTo) return { kind: "applied", result: { ...result, bead_id: indexed.movedTo.beadId, rig: indexed.movedTo.rig } };
  const successor: ConvoyBead = {
    rigId: notice.to_rig_id,
    rigName: notice.to_rig,
    beadId: notice.new_bead_id,
    title: notice.title,
    status: "open",
    reason: `moved from ${notice.from_rig}`,
    rev: 0,
  };
  const entries = target
    ? [
        beadEntry(
          target.id,
          {
            id: notice.new_bead_id,
            title: notice.title,
            body: notice.body,
            priority: notice.priority,
            requires: notice.requires,
            reason: `moved from ${notice.from_rig} by the operator`,
            moved_from: { rig: notice.from_rig, bead_id: notice.bead_id },
            ...(notice.convoy_id ? { convoy_id: notice.convoy_id } : {}),
            ...(notice.model ? { model: notice.model } : {}),
          },
          now,
        ),
      ]
    : [];
  const index: [string, BeadPlace][] = [
    [notice.bead_id, { rigId: notice.from_rig_id, movedTo: { rigId: notice.to_rig_id, rig: notice.to_rig, beadId: notice.new_bead_id } }],
  ];
  if (target) index.push([notice.new_bead_id, { rigId: target.id }]);
  const text = target
    ? `bead ${notice.bead_id.slice(-8)} "${notice.title}" moved from ${notice.from_rig} to ${notice.to_rig} as ${notice.new_bead_id.slice(-8)}`
    : `bead ${notice.bead_id.slice(-8)} "${notice.title}" was moved to rig ${notice.to_rig}, which was removed meanwhile`;
  // The old bead's key exists when the town placed it: only the others are new.
  return {
    kind: "apply",
    result,
    successor,
    entries,
    index,
    added: indexed ? index.length - 1 : index.length,
    feed: { kind: target ? "moved" : "failed", text },
  };
}
