/**
 * The rig room's one lane: every step of the work machine runs after the last one, on its state, as
 * step → store (one write) → effects. A dispatch the step owes as a step of its own follows at once.
 */
import type { PostOffice } from "../post-office.ts";
import { step, type ReplyOf, type WorkEvent } from "../work/index.ts";
import type { Effects } from "./effects.ts";
import type { AuditOf, RigStore } from "./store/index.ts";

/** What the room hands each part of its wiring: its store, its lane, its mail, and which room it is. */
export type RigParts = { store: RigStore; steps: Steps; post: () => PostOffice; roomId(): string };

/** An event, or how to make it in the lane (after reading what it needs, e.g. a record moved to storage). */
export type EventSource<E extends WorkEvent> = E | (() => Promise<E>);

export class Steps {
  private serial: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly store: RigStore,
    private readonly effects: Effects,
  ) {}

  /** Runs `fn` after every earlier serial step; its failure does not stop the ones after it. */
  serially<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.serial.then(fn);
    this.serial = run.catch(() => {});
    return run;
  }

  /**
   * One event through the machine; answers its reply once the runs it ended or began are noted. An
   * operator's action names itself in `audit`: its entry goes into the same write as its step.
   */
  async work<E extends WorkEvent>(source: EventSource<E>, audit?: AuditOf | (() => AuditOf | undefined)): Promise<ReplyOf<E>> {
    const noted: Promise<void>[] = [];
    const reply = await this.serially(async () => {
      const event = typeof source === "function" ? await source() : source;
      const first = await this.apply(event, noted, typeof audit === "function" ? audit() : audit);
      if (first.then === "dispatch") await this.apply({ type: "dispatch" }, noted);
      return first.reply;
    });
    await Promise.all(noted);
    return reply;
  }

  private async apply<E extends WorkEvent>(event: E, noted: Promise<void>[], audit?: AuditOf) {
    const now = Date.now();
    const t = step(this.store.workState(), event, now);
    await this.effects.written(await this.store.commit(t, now, audit));
    noted.push((await this.effects.carry(t)).noted);
    return t;
  }
}
