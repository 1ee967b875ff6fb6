import { monotonicFactory, type ULIDFactory } from "ulid";

let factory: ULIDFactory | null = null;

/**
 * Time-sortable, collision-free ids (ULIDs), monotonic within one process. Built on first use:
 * Workers forbid random values at module scope, and ulid's own PRNG detection misses workerd.
 */
export function newId(): string {
  factory ??= monotonicFactory(() => crypto.getRandomValues(new Uint8Array(1))[0]! / 0x100);
  return factory();
}
