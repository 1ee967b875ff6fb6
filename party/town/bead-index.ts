/**
 * The town's index of the beads it placed (`beadrig:<bead id>`): the rig each is in, and once moved,
 * where it went (gt_bead_move finds the source rig here, and answers a retried move from it).
 * Bounded by LIMITS.beadIndexKept: past it the lowest bead ids (ULIDs: the oldest) are forgotten,
 * and moving one of those needs its rig named (`from`).
 */
import type * as Party from "partykit/server";
import { LIMITS } from "../protocol.ts";

export type BeadPlace = { rigId: string; movedTo?: { rigId: string; rig: string; beadId: string } };

const PREFIX = "beadrig:";
const COUNT = "beadrig-count";

export class BeadIndex {
  /** Keys in the index (also in storage, `beadrig-count`), counted as they are added. */
  private count = 0;

  constructor(private readonly storage: Party.Storage) {}

  async load(): Promise<void> {
    this.count = (await this.storage.get<number>(COUNT)) ?? 0;
  }

  get(beadId: string): Promise<BeadPlace | undefined> {
    return this.storage.get<BeadPlace>(`${PREFIX}${beadId}`);
  }

  /**
   * Index entries to store (in the write that places or moves the beads), and the count with
   * `added` new keys: counted now, before any await, so concurrent writes count every key.
   */
  puts(entries: readonly [string, BeadPlace][], added: number): Record<string, unknown> {
    this.count += added;
    return { ...Object.fromEntries(entries.map(([id, place]) => [`${PREFIX}${id}`, place])), [COUNT]: this.count };
  }

  /** Keeps the index within LIMITS.beadIndexKept: the lowest ids (the oldest ULIDs) go first. */
  async trim(): Promise<void> {
    const excess = this.count - LIMITS.beadIndexKept;
    if (excess <= 0) return;
    this.count -= excess;
    const oldest = await this.storage.list({ prefix: PREFIX, limit: excess });
    await this.storage.delete([...oldest.keys()]);
    await this.storage.put(COUNT, this.count);
  }
}
