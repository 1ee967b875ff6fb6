/**
 * What the town room lends the modules that carry out its tools and room-to-room operations: its
 * documents, storage and outbox, and the few services its LiveRoom lends it (feed events, rate
 * limits, pushes, revocations; calls to rig rooms). The room builds one `Town` (room.ts); nothing
 * here decides where work goes. Also the registry's reads and the two access checks every town tool
 * uses.
 */
import type * as Party from "partykit/server";
import { coversRig, townWide } from "../access.ts";
import { auditWho, type AuditDraft, type AuditLog, type Staged } from "../audit.ts";
import { DurableOutbox } from "../durable-outbox.ts";
import type { Caller, LiveServices, RoomReply } from "../live/index.ts";
import type { OutboxEntry } from "../outbox.ts";
import { TOWN_DOC, ToolError, type Rig } from "../protocol.ts";
import type { RecordDoc } from "../records.ts";

export type Town = Pick<LiveServices, "feedEvent" | "rateLimit" | "pushEvent" | "revokeToken"> & {
  /** The town's id (its room's). */
  readonly id: string;
  readonly records: RecordDoc;
  readonly storage: Party.Storage;
  readonly outbox: DurableOutbox;
  readonly secret: string;
  readonly config: TownConfig;
  /** Who did what in the town (party/audit.ts): slings, convoys, rigs, budgets, links, town mail. */
  readonly audit: AuditLog;
  /** A signed room-to-room call to one of the town's rig rooms. Throws on network failure. */
  callRig(rigId: string, op: string, body: unknown): Promise<RoomReply>;
};

export type TownConfig = {
  /** The Mayor's token lifetime (GT_MAYOR_TOKEN_TTL_S, default 24 h; tests shorten it): the container renews it at two thirds. */
  mayorTokenLifetimeS: number;
  /** How often open convoys are reconciled with their rigs (GT_RECONCILE_MS, default 30 s). */
  reconcileEveryMs: number;
};

/** The town room's settings from its environment. */
export function townConfig(env: Record<string, unknown>): TownConfig {
  const ttl = Math.floor(Number(env.GT_MAYOR_TOKEN_TTL_S));
  const reconcile = Number(env.GT_RECONCILE_MS);
  return {
    mayorTokenLifetimeS: Number.isFinite(ttl) && ttl > 0 ? Math.min(ttl, 24 * 3600) : 24 * 3600,
    reconcileEveryMs: Number.isFinite(reconcile) && reconcile > 0 ? reconcile : 30_000,
  };
}

/** Who may call which town tool. The Mayor is an agent token (see access.ts). */
export const ROLES = {
  operator: ["operator"],
  /** People, the Mayor and the container. */
  staff: ["operator", "agent", "container"],
  /** The town's inboxes are the operator's and the Mayor's. */
  mailers: ["operator", "agent"],
  /** Placing work: people and the Mayor. */
  placers: ["operator", "agent"],
} as const;

/** The registry, by name. */
export function rigsOf(town: Town): Rig[] {
  return town.records.values<Rig>(TOWN_DOC.rigs).sort((a, b) => a.name.localeCompare(b.name));
}

export function rigById(town: Town, id: string): Rig | undefined {
  return town.records.get<Rig>(TOWN_DOC.rigs, id);
}

export function rigByName(town: Town, name: string): Rig | undefined {
  return rigsOf(town).find((r) => r.name === name);
}

export function requireRig(town: Town, name: string): Rig {
  const rig = rigByName(town, name);
  if (!rig) throw new ToolError("UNKNOWN_RIG", `no rig named ${name} in town ${town.id}`);
  return rig;
}

/** Town-wide tools (adding rigs, town mail, links) refuse tokens scoped to a rig. */
export function requireTownWide(caller: Caller, what: string): void {
  if (!townWide(caller.token)) throw new ToolError("FORBIDDEN", `a token scoped to a rig may not ${what}`);
}

/** A rig-scoped token acts only on its rig(s). */
export function requireCovers(caller: Caller, rig: Rig): void {
  if (!coversRig(caller.token, rig.id)) throw new ToolError("FORBIDDEN", `this token is scoped to another rig than ${rig.name}`);
}

/** An action's audit entry, staged: its puts go into the action's write, then `commit` (party/audit.ts). */
export function audited(town: Town, caller: Caller, draft: AuditDraft): Staged {
  return town.audit.stage(auditWho(caller.token), [draft]);
}

/** The storage puts of outbox entries, to go in the same write as the records they belong to. */
export function outboxPuts(entries: readonly OutboxEntry[]): Record<string, OutboxEntry> {
  return Object.fromEntries(entries.map((e) => [DurableOutbox.storageKey(e.key), e]));
}

/** Hands entries already stored (outboxPuts) to the outbox, and tries them at once. */
export async function sendNow(town: Town, entries: readonly OutboxEntry[]): Promise<void> {
  for (const entry of entries) await town.outbox.added(entry);
  await town.outbox.flush();
}
