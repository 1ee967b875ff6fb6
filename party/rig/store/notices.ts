/**
 * The rig's notices to the town, as outbox entries stored in the same write as what they tell (so
 * none is lost): a convoy bead's change, a bead moved out (W16), and the rig's failures for the
 * town's feed, bounded per window (party/feed.ts) so an agent looping gt_escalate cannot flood it.
 */
import type { z } from "zod";
import { TOWN_NOTICES, admitNotice, mergedEvent, reachesTown, type NoticeWindow } from "../../feed.ts";
import { newId } from "../../ids.ts";
import type { beadMoved } from "../../internal.ts";
import type { OutboxEntry } from "../../outbox.ts";
import type { Bead, FeedEvent } from "../../protocol.ts";
import type { StoredUsage } from "./usage.ts";

function entry(key: string, kind: OutboxEntry["kind"], payload: unknown, now: number, dueAt = now): OutboxEntry {
  return { key, kind, payload, attempts: 0, createdAt: now, nextAttemptAt: dueAt };
}

/** A convoy bead's status or assignee changed: one entry per bead, a newer notice replaces one not yet sent (the town orders by rev). */
export function convoyNotice(bead: Bead, rigId: string, now: number): OutboxEntry {
  const payload = {
    convoy_id: bead.convoyId,
    bead_id: bead.id,
    rig_id: rigId,
    status: bead.status,
    rev: bead.rev!,
    ...(bead.assignee ? { assignee: bead.assignee } : {}),
    ...(bead.status === "failed" && bead.failure ? { failure: bead.failure.slice(0, 300) } : {}),
    ...(bead.usage ? { usage: bead.usage } : {}),
  };
  return entry(`convoy-${bead.id}`, "convoy", payload, now);
}

/**
 * The town's daily totals hear the rig's sums of a day (W22): the whole day's totals, not a run's,
 * so a notice sent again, or overtaken by a later one, counts nothing twice (the town keeps the one
 * with the most runs). One entry per day: a newer notice replaces one not yet sent.
 */
export function usageNotice(rigId: string, usage: StoredUsage, now: number): OutboxEntry {
  return entry(`usage-${usage.day}`, "usage", { rig_id: rigId, day: usage.day, totals: usage.totals }, now);
}

/**
 * The town's notice that a bead left this rig (W16): what its successor needs (`whole`: the whole
 * body, not the document's preview), where it goes, and its convoy, which counts the successor in its place.
 */
export function moveNotice(
  whole: Bead,
  from: { name: string; rigId: string },
  to: { toRig: string; toRigId: string; newBeadId: string },
  now: number,
): OutboxEntry {
  const payload: z.infer<typeof beadMoved> = {
    bead_id: whole.id,
    from_rig: from.name,
    from_rig_id: from.rigId,
    to_rig: to.toRig,
    to_rig_id: to.toRigId,
    new_bead_id: to.newBeadId,
    title: whole.title,
    body: whole.body,
    priority: whole.priority,
    requires: whole.requires,
    ...(whole.convoyId ? { convoy_id: whole.convoyId } : {}),
    ...(whole.model ? { model: whole.model } : {}),
  };
  return entry(`move-${whole.id}`, "move", payload, now);
}

/**
 * The town's feed hears of this rig's failures (reachesTown). A window lets the first few through one
 * by one; the rest become one merged line (one outbox entry, replaced as more come) sent when the
 * window ends. Returns the entries and the window as it is now.
 */
export function townNotices(
  events: FeedEvent[],
  window: NoticeWindow | null,
  rig: { name: string; rigId: string },
  now: number,
  windowMs: number,
): { entries: OutboxEntry[]; window: NoticeWindow | null } {
  const entries = new Map<string, OutboxEntry>();
  const rule = { perWindow: TOWN_NOTICES.perWindow, windowMs };
  for (const event of events) {
    if (!reachesTown(event)) continue;
    const decision = admitNotice(window, event, now, newId, rule);
    window = decision.window;
    if (decision.send) {
      entries.set(`feed-${event.id}`, entry(`feed-${event.id}`, "feed", { rig_id: rig.rigId, event }, now));
      continue;
    }
    const merged = mergedEvent(decision.window, now, rig.name);
    if (!merged) continue;
    const key = `feed-held-${merged.id}`;
    entries.set(key, entry(key, "feed", { rig_id: rig.rigId, event: merged }, now, decision.dueAt));
  }
  return { entries: [...entries.values()], window };
}
