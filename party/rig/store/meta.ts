/**
 * The rig's meta record (`meta:rig` in the rig document): who it is, its lifecycle fields (the work
 * machine's RigState), what retention moved out, and who serves it; and the lease as stored.
 */
import { emptyLease, type LeaseState, type RigState, type TownBudget } from "../../work/index.ts";
import type { Boundary, Budget, BudgetHold, RigStatus } from "../../protocol.ts";

export type RigMeta = {
  town: string;
  rigId: string;
  name: string;
  createdAt: number;
  gitUrl: string;
  defaultBranch: string;
  maxPolecats: number;
  /** `cloning` until the container reports the clone (gt_rig_ready). */
  status: RigStatus;
  diskBytes?: number;
  error?: string;
  /** Since when the rig is in `error` (the attention lane says since when). */
  errorAt?: number;
  /** Closed beads moved out of the document by retention (still counted as closed). */
  archivedClosed?: number;
  /** Open escalations moved out of the document past LIMITS.escalationsKept (still counted as open). */
  archivedOpenEscalations?: number;
  /** Who serves the rig, for people: the lease holder's container, epoch and standbys. */
  container?: ContainerView | null;
  /** What of the agents' boundary the serving container enforces (its last gt_rig_ready). */
  boundary?: Boundary;
  /** The rig's daily budget, its dispatch held by a budget, and the town's last notice of its own (W22). */
  budget?: Budget;
  hold?: BudgetHold;
  townBudget?: TownBudget;
};

type ContainerView = { id: string; epoch: number; since: number; connected: boolean; standbys: number };

/** The lease's lasting part, in storage (`lease`): renewal deadlines restart with the room. */
export type StoredLease = { epoch: number; holder: { container: string; session: string; epoch: number; since: number } | null };

const RIG_FIELDS = ["status", "error", "errorAt", "diskBytes", "boundary", "maxPolecats", "budget", "hold", "townBudget"] as const;

/** The meta's lifecycle fields, as the work machine reads them. */
export function rigState(meta: RigMeta): RigState {
  const rig: RigState = { status: meta.status, maxPolecats: meta.maxPolecats };
  if (meta.error !== undefined) rig.error = meta.error;
  if (meta.errorAt !== undefined) rig.errorAt = meta.errorAt;
  if (meta.diskBytes !== undefined) rig.diskBytes = meta.diskBytes;
  if (meta.boundary !== undefined) rig.boundary = meta.boundary;
  if (meta.budget !== undefined) rig.budget = meta.budget;
  if (meta.hold !== undefined) rig.hold = meta.hold;
  if (meta.townBudget !== undefined) rig.townBudget = meta.townBudget;
  return rig;
}

/** The meta with the machine's lifecycle fields (a field the machine dropped is dropped). */
export function withRig(meta: RigMeta, rig: RigState): RigMeta {
  const next: RigMeta = { ...meta };
  for (const field of RIG_FIELDS) delete next[field];
  return { ...next, ...rig };
}

/** The meta with who serves the rig now (the same object when that did not change). */
export function withContainer(meta: RigMeta, lease: LeaseState): RigMeta {
  const h = lease.holder;
  const view: ContainerView | null = h
    ? { id: h.container, epoch: h.epoch, since: h.since, connected: h.connection !== null, standbys: lease.standbys.length }
    : null;
  const was = meta.container ?? null;
  const same =
    view === was ||
    (view !== null && was !== null && view.id === was.id && view.epoch === was.epoch && view.connected === was.connected && view.standbys === was.standbys);
  return same ? meta : { ...meta, container: view };
}

export function storedLease(lease: LeaseState): StoredLease {
  const h = lease.holder;
  return { epoch: lease.epoch, holder: h ? { container: h.container, session: h.session, epoch: h.epoch, since: h.since } : null };
}

/** The lease a room starts with: the stored holder, disconnected, its deadline restarted by room_started (W12). */
export function loadedLease(stored: StoredLease | undefined): LeaseState {
  if (!stored) return emptyLease();
  return { ...emptyLease(), epoch: stored.epoch, holder: stored.holder ? { ...stored.holder, connection: null, renewBy: 0 } : null };
}
