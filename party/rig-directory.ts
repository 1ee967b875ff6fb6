/**
 * Which rig rooms exist, for the gate (party/live/gate.ts) to answer a rig room id the town's
 * registry does not know with 404 before the runtime starts that room: a room creates its database
 * file as soon as it touches storage, so a made-up id must never reach one. The registry is the
 * authority; the gate asks the town room for its rig ids (one signed room-to-room call lists them
 * all, at most LIMITS.rigsPerTown) and keeps the listing.
 *
 * Where the memory lives: the gate runs in the worker before any room, so it has no storage of its
 * own; the listings live in the worker isolate's memory (one isolate under `partykit dev`, one per
 * isolate when deployed, each asking for itself). What is kept is only what the registry lists, so
 * made-up ids cost no memory, and at most `townsKept` towns (the least recently asked go first).
 *
 * - A rig in a listing younger than `freshMs` exists: no call.
 * - Anything else is answered from a listing asked for after the request arrived: a rig added a
 *   moment ago is found, and no 404 rests on an answer older than its question. Those asks are
 *   shared and spaced, at most one per `askEveryMs` per town, however many ids are asked about: a
 *   flood of made-up ids costs the town room a bounded number of calls (and each such request waits
 *   at most about `askEveryMs` and one call).
 * - A removed rig stays in a listing for up to `freshMs`: its room, wiped by the town, answers 4404
 *   itself (from a database it already had, so nothing is created).
 */
import { SLUG_RE, ULID_RE } from "./protocol/patterns.ts";

/** The rig ids of a town's registry, as its town room lists them. */
export type RigIds = (town: string) => Promise<readonly string[]>;

/**
 * `answerMs`: how long a request waits for the listing it needs beyond its ask's planned time (a
 * shared ask whose own request went away may never settle: each waiter gives up on its own).
 */
export type DirectoryOptions = { freshMs: number; askEveryMs: number; townsKept: number; answerMs: number };
export const DIRECTORY_DEFAULTS: DirectoryOptions = { freshMs: 60_000, askEveryMs: 250, townsKept: 1_000, answerMs: 5_000 };

type Listing = { ids: ReadonlySet<string>; askedAt: number };
/** One ask of a town's rig ids: sent at `at` (or just after), shared by every request it can answer. */
type Ask = { at: number; listing: Promise<Listing> };
type TownState = { listing: Listing | null; ask: Ask | null; lastAskAt: number };

/**
 * A rig room's id, `<town>.<rig id>`, split; null for an id no rig room can have (rig rooms are
 * created by their town under exactly this name, the rig id a ULID).
 */
export function rigRoomIdParts(roomId: string): { town: string; rigId: string } | null {
  const dot = roomId.indexOf(".");
  const town = roomId.slice(0, dot);
  const rigId = roomId.slice(dot + 1);
  return dot > 0 && SLUG_RE.test(town) && ULID_RE.test(rigId) ? { town, rigId } : null;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** `work`, or an error once `ms` have passed without it settling. */
function within<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(what)), ms)));
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

export class RigDirectory {
  private readonly towns = new Map<string, TownState>();

  constructor(private readonly options: DirectoryOptions = DIRECTORY_DEFAULTS) {}

  /** Towns whose listings are kept. */
  get size(): number {
    return this.towns.size;
  }

  /**
   * Whether `rigId` is a rig of `town`. Throws when it had to ask and the town did not answer (a
   * rig known before is then taken to exist: its own room answers for it).
   */
  async exists(town: string, rigId: string, ask: RigIds): Promise<boolean> {
    const arrived = Date.now();
    const state = this.stateOf(town);
    const known = state.listing?.ids.has(rigId) ?? false;
    if (known && arrived - state.listing!.askedAt < this.options.freshMs) return true;
    try {
      const { askEveryMs, answerMs } = this.options;
      return (await within(this.listingSince(town, state, arrived, ask), askEveryMs + answerMs, `town ${town} did not list its rigs in time`)).ids.has(rigId);
    } catch (error) {
      if (known) return true;
      throw error;
    }
  }

  private stateOf(town: string): TownState {
    let state = this.towns.get(town);
    if (state) {
      this.towns.delete(town); // to the back: the least recently asked are forgotten first
    } else {
      state = { listing: null, ask: null, lastAskAt: -Infinity };
      for (const oldest of this.towns.keys()) {
        if (this.towns.size < this.options.townsKept) break;
        this.towns.delete(oldest);
      }
    }
    this.towns.set(town, state);
    return state;
  }

  /** A listing of the town asked for at or after `since`: the last one, the next one already planned, or a new ask. */
  private listingSince(town: string, state: TownState, since: number, ask: RigIds): Promise<Listing> {
    if (state.listing && state.listing.askedAt >= since) return Promise.resolve(state.listing);
    if (state.ask && state.ask.at >= since) return state.ask.listing;
    const now = Date.now();
    const at = Math.max(now, state.lastAskAt + this.options.askEveryMs);
    state.lastAskAt = at;
    const listing = sleep(at - now)
      .then(() => ask(town))
      .then((ids) => {
        const fresh: Listing = { ids: new Set(ids), askedAt: at };
        if (!state.listing || state.listing.askedAt < at) state.listing = fresh;
        return fresh;
      });
    const planned: Ask = { at, listing };
    state.ask = planned;
    // A failed ask is not joined by later requests: they plan their own (still spaced).
    listing.catch(() => {
      if (state.ask === planned) state.ask = null;
    });
    return listing;
  }
}
