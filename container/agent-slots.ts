/**
 * How many agent processes one container runs at once, whatever the number of rigs it serves.
 *
 * Each rig runs at most its `max_polecats`, but nothing bounded their sum: at 100 rigs of two
 * polecats (four containers on one machine) 200 agent processes ran together, their summed RSS
 * peaking at 20 GB (the town-scale bench, bench/results/town-scale.md), and their start-up starved
 * the containers' own calls (the room's acknowledgements timed out after 10 s). Starts past the limit wait in order
 * for a slot; a waiting start is vouched for by the lease's renewals like a running one.
 */
import { availableParallelism } from "node:os";

/** Agent processes per core when GT_MAX_AGENTS does not say. */
const PER_CORE = 8;

export function defaultMaxAgents(): number {
  return Math.max(4, PER_CORE * availableParallelism());
}

export class AgentSlots {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new Error(`agent slots: a whole number ≥ 1, got ${limit}`);
  }

  /** Resolves with `release` once a slot is free; `release` frees it (once, however often it is called). */
  async acquire(): Promise<() => void> {
    if (this.running < this.limit) this.running++;
    else await new Promise<void>((resolve) => this.waiting.push(resolve)); // the slot is handed over, not counted again
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    };
  }

  get busy(): number {
    return this.running;
  }

  get queued(): number {
    return this.waiting.length;
  }
}
