/**
 * The town's outbox entries (room → rig, retried until the rig acknowledges): what each kind
 * carries, made in one place. deliveries.ts carries them out.
 */
import type { z } from "zod";
import type { beadCreate } from "../internal.ts";
import type { Budget } from "../protocol.ts";
import type { OutboxEntry } from "../outbox.ts";

/** A bead the town placed, as the rig room creates it. */
export type BeadCreate = z.infer<typeof beadCreate>;

export type WipePayload = { rig_id: string; name: string };
export type BeadPayload = { rig_id: string; bead: BeadCreate };
export type RigUpdatePayload = { rig_id: string; max_polecats: number };
export type RevokePayload = { rig_id: string; jti: string; exp: number };
export type BudgetPayload = { rig_id: string; budget: Budget | null };
export type TownBudgetPayload = { rig_id: string; reached: boolean; day: string; at: number; reason: string };

function entry(key: string, kind: OutboxEntry["kind"], payload: unknown, now: number): OutboxEntry {
  return { key, kind, payload, attempts: 0, createdAt: now, nextAttemptAt: now };
}

/** Empties a removed rig's room. */
export function wipeEntry(rig: { id: string; name: string }, now: number): OutboxEntry {
  return entry(`wipe-${rig.id}`, "wipe", { rig_id: rig.id, name: rig.name } satisfies WipePayload, now);
}

/** The key of a bead's creation: one entry per bead, so a retried placement is one entry. */
export function beadKey(beadId: string): string {
  return `bead-${beadId}`;
}

/** Creates a bead in its rig. */
export function beadEntry(rigId: string, bead: BeadCreate, now: number): OutboxEntry {
  return entry(beadKey(bead.id), "bead", { rig_id: rigId, bead } satisfies BeadPayload, now);
}

/** Tells a rig room the registry changes it acts on. */
export function rigUpdateEntry(rigId: string, maxPolecats: number, now: number): OutboxEntry {
  return entry(`update-${rigId}`, "rig_update", { rig_id: rigId, max_polecats: maxPolecats } satisfies RigUpdatePayload, now);
}

/** Tells a rig room a share link was revoked. */
export function revokeEntry(rigId: string, jti: string, exp: number, now: number): OutboxEntry {
  return entry(`revoke-${jti}-${rigId}`, "revoke", { rig_id: rigId, jti, exp } satisfies RevokePayload, now);
}

/** Sets a rig's daily budget in its room (W22): one entry per rig, a newer budget replacing one not yet sent. */
export function budgetEntry(rigId: string, budget: Budget | null, now: number): OutboxEntry {
  return entry(`budget-${rigId}`, "budget", { rig_id: rigId, budget } satisfies BudgetPayload, now);
}

/** Tells a rig that the town's budget is reached, or no longer (W22): one entry per rig, the newest notice replacing one not yet sent. */
export function townBudgetEntry(rigId: string, notice: Omit<TownBudgetPayload, "rig_id">, now: number): OutboxEntry {
  return entry(`town-budget-${rigId}`, "town_budget", { rig_id: rigId, ...notice } satisfies TownBudgetPayload, now);
}
