/**
 * Probes: each carries a sequence number and a timestamp of the observer's own clock (this process
 * sends and observes, so there is no skew). A receiver that skips sequence numbers counts drops.
 */
import type * as Y from "yjs";
import type { DocReplica } from "../../client/doc-sync.ts";
import type { Bead } from "../../party/protocol.ts";

export function probeTitle(seq: number, t0: number): string {
  return `probe ${seq} ${t0.toFixed(3)}`;
}

export function parseProbe(title: string | undefined): { seq: number; t0: number } | null {
  const m = title ? /^probe (\d+) ([\d.]+)$/.exec(title) : null;
  return m ? { seq: Number(m[1]), t0: Number(m[2]) } : null;
}

/** Per-receiver bookkeeping: latencies, last sequence number seen, and gaps. */
export class ProbeReceiver {
  last = -1;
  drops = 0;
  readonly latencies: number[] = [];
  readonly seenAt = new Map<number, number>();
  /** Called for each new sequence number seen. */
  onSeen: ((seq: number, at: number) => void) | null = null;

  receive(seq: number, t0: number, now = performance.now()): void {
    if (seq <= this.last) return; // a repeat (e.g. a resync replays the current state)
    if (this.last >= 0 && seq > this.last + 1) this.drops += seq - this.last - 1;
    this.last = seq;
    this.latencies.push(now - t0);
    this.seenAt.set(seq, now);
    this.onSeen?.(seq, now);
  }

  /** Probes sent after the last one seen never arrived. */
  finish(lastSent: number): void {
    if (this.last < lastSent) this.drops += lastSent - Math.max(this.last, -1);
  }
}

/**
 * Calls `cb(title)` whenever the bead's title changes in the replica's document, following the
 * replica onto a fresh document after a reconnect or a room's rebuild.
 */
export function watchBeadTitle(replica: DocReplica, beadId: string, cb: (title: string) => void): () => void {
  let doc: Y.Doc | null = null;
  let map: Y.Map<Bead> | null = null;
  const observer = (event: Y.YMapEvent<Bead>) => {
    if (!event.keysChanged.has(beadId)) return;
    const bead = event.target.get(beadId);
    if (bead) cb(bead.title);
  };
  const attach = () => {
    if (replica.doc === doc) return;
    map?.unobserve(observer);
    doc = replica.doc;
    map = doc.getMap<Bead>("beads");
    map.observe(observer);
  };
  attach();
  const off = replica.onChange(attach);
  return () => {
    off();
    map?.unobserve(observer);
  };
}

export type ProbeRun = { perRecipient: number[]; all: number[]; ack: number[]; drops: number; errors: number };

/** Sends probes one after another; each waits until every receiver saw it (or 5 s). */
export async function probeLoop(
  count: number,
  receivers: ProbeReceiver[],
  send: (seq: number, t0: number) => Promise<unknown>,
  firstSeq: number,
  warmup: number,
): Promise<ProbeRun> {
  const run: ProbeRun = { perRecipient: [], all: [], ack: [], drops: 0, errors: 0 };
  let waiting: { seq: number; left: number; resolve: () => void } | null = null;
  const onSeen = (seq: number) => {
    if (waiting && seq >= waiting.seq && --waiting.left === 0) waiting.resolve();
  };
  for (const r of receivers) r.onSeen = onSeen;
  const start = receivers.map((r) => r.latencies.length);
  let seq = firstSeq;
  for (let i = 0; i < warmup + count; i++, seq++) {
    const allSeen = new Promise<void>((resolve) => (waiting = { seq, left: receivers.length, resolve }));
    const t0 = performance.now();
    try {
      await send(seq, t0);
      if (i >= warmup) run.ack.push(performance.now() - t0);
    } catch {
      run.errors++;
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = await Promise.race([allSeen.then(() => false), new Promise<boolean>((r) => (timer = setTimeout(() => r(true), 5000)))]);
    clearTimeout(timer);
    if (i >= warmup && !timedOut) run.all.push(Math.max(...receivers.map((r) => r.seenAt.get(seq) ?? NaN)) - t0);
    if (i === warmup - 1) receivers.forEach((r, k) => (start[k] = r.latencies.length));
  }
  receivers.forEach((r, k) => {
    r.finish(seq - 1);
    run.perRecipient.push(...r.latencies.slice(start[k]));
    run.drops += r.drops;
  });
  return run;
}
