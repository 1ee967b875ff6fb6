/**
 * Agents' output in the rig room: what each run printed, kept in a bounded ring per run in room
 * storage (never in a live document), the last LIMITS.outputRunsKept runs of each agent, and the
 * reads of it (gt_agent_log, the output sockets' first frame).
 *
 * The decisions are pure functions (shaping a line, appending to a ring, choosing what a read
 * returns); `AgentOutput` keeps them in storage, one change at a time, with the runs' index and a
 * few rings in memory. Which step of the work machine ended a run is the machine's to say
 * (party/work/overlay.ts runEnded).
 *
 * Storage (keys of the rig room):
 *   agentlog:run:<run>              StoredRun: the RunInfo and the ring's bookkeeping
 *   agentlog:lines:<run>:<batch>    OutputLine[]: the lines one gt_agent_output stored (≤ 200, ≤ 64 KiB)
 *   agentlog:gone:<run>             RunInfo of a run whose output aged out (how it ended, when, its size)
 * A batch is deleted once every line of it has left the ring; a run's keys go with it when it is
 * more than the LIMITS.outputRunsKept-th of its agent, and its RunInfo stays under `gone` (the last
 * LIMITS.outputRunsRemembered of each agent), so a bead's page can say what is still known of it.
 */
import { showInvisible } from "./invisible.ts";
import { withoutControls } from "./plain-text.ts";
import { LIMITS, ToolError, type AgentLogResult, type OutputKind, type OutputLine, type RunInfo, type Usage } from "./protocol.ts";
import type { KeyValueStorage } from "./records.ts";
import { redact } from "./redact.ts";
import { SecretValues } from "./secret-values.ts";

/** A line as the container sends it; a preset runtime's parsed lines say what they are (`kind`, `ok`). */
export type IncomingLine = { at: number; stream: "out" | "err"; text: string; kind?: OutputKind; ok?: boolean };

/** What of agents' output a caller may read (party/access.ts outputScope): all of it, one agent's (by name), one bead's runs. */
export type OutputScope = { agent?: string; bead?: string };

/** A run as stored: its RunInfo and the ring's bookkeeping. */
export type StoredRun = RunInfo & {
  /** Lines the container has sent so far, by its own count (`first` of gt_agent_output): retries are stored once, gaps are drops. */
  received: number;
  /** The seq the next stored line gets (seqs count from 1). */
  nextSeq: number;
  /** Storage batches `[firstBatch, nextBatch)` may hold its lines. */
  firstBatch: number;
  nextBatch: number;
};

/** A kept line and the storage batch it is in. */
export type RingLine = OutputLine & { batch: number; size: number };

const encoder = new TextEncoder();
const utf8Bytes = (text: string) => encoder.encode(text).byteLength;

export const runKey = (run: string) => `agentlog:run:${run}`;
export const batchKey = (run: string, batch: number) => `agentlog:lines:${run}:${String(batch).padStart(8, "0")}`;
const batchPrefix = (run: string) => `agentlog:lines:${run}:`;
export const goneKey = (run: string) => `agentlog:gone:${run}`;

/** Rings kept in memory (the runs being appended to and the last few read); the rest stay in storage. */
export const RINGS_IN_MEMORY = 32;

// ---------------------------------------------------------------------------------------------
// Lines

/**
 * `text` cut to at most `maxBytes` UTF-8 bytes (on a character boundary), marked with how long it
 * was; unchanged when it fits. `originalBytes`: the line's length before the container cut it.
 */
export function cutLine(text: string, maxBytes: number = LIMITS.outputLineBytes, originalBytes?: number): string {
  const bytes = utf8Bytes(text);
  const total = Math.max(bytes, originalBytes ?? 0);
  if (total <= maxBytes && bytes <= maxBytes) return text;
  const marker = ` … [line cut: ${total} bytes]`;
  const room = maxBytes - utf8Bytes(marker);
  let kept = "";
  let used = 0;
  for (const char of text) {
    const size = utf8Bytes(char);
    if (used + size > room) break;
    kept += char;
    used += size;
  }
  return kept + marker;
}

/**
 * One line as it is kept and shown: what a terminal would show last of a line overwritten with
 * `\r` (a progress bar), without escape sequences or control characters (tabs stay), redacted
 * (`redactLine`: by default the patterns of party/redact.ts), invisible characters written out
 * (`⟨U+200B⟩`: after redaction, which reads past them, so the marks never split what it hides), and
 * at most LIMITS.outputLineBytes bytes.
 */
export function shapeLine(text: string, redactLine: (text: string) => string = (t) => redact(t), originalBytes?: number): string {
  const withoutCr = text.replace(/\r+$/, "");
  const shown = withoutCr.includes("\r") ? withoutCr.slice(withoutCr.lastIndexOf("\r") + 1) : withoutCr;
  return cutLine(showInvisible(redactLine(withoutControls(shown).replace(/\n/g, " "))), LIMITS.outputLineBytes, originalBytes);
}

// ---------------------------------------------------------------------------------------------
// The ring

export function newRun(run: string, identity: string, at: number): StoredRun {
  return { run, identity, beadId: beadOfRun(run), startedAt: at, lines: 0, bytes: 0, dropped: 0, received: 0, nextSeq: 1, firstBatch: 0, nextBatch: 0 };
}

/** Run ids are `<bead id>.<n>`. */
export function beadOfRun(run: string): string {
  return run.slice(0, run.lastIndexOf("."));
}

/** The RunInfo of a stored run (what clients see). */
export function infoOf(run: StoredRun): RunInfo {
  const { received: _r, nextSeq: _n, firstBatch: _f, nextBatch: _b, ...info } = run;
  return info;
}

export type Appended = {
  run: StoredRun;
  ring: RingLine[];
  /** The lines stored by this append, in order (none when the batch was a repeat). */
  added: OutputLine[];
  put: Record<string, unknown>;
  delete: string[];
};

/**
 * Appends a batch to a run's ring. `first`: the container's number of the batch's first line: lines
 * it has sent before are skipped (a batch sent again), and a jump past what it sent counts the
 * lines between as dropped (the container's backlog overflowed). Past LIMITS.outputRingLines lines
 * or LIMITS.outputRingBytes bytes the oldest lines leave the ring (counted in `dropped`), and the
 * storage batches they emptied are deleted.
 */
export function appendLines(
  run: StoredRun,
  ring: readonly RingLine[],
  incoming: readonly IncomingLine[],
  first: number | undefined,
  secrets: SecretValues | readonly string[],
): Appended {
  const start = first ?? run.received;
  const skip = Math.max(0, run.received - start);
  const lost = Math.max(0, start - run.received);
  const fresh = incoming.slice(skip);
  const next: StoredRun = { ...run, received: Math.max(run.received, start + incoming.length), dropped: run.dropped + lost };
  if (!fresh.length) return { run: next, ring: [...ring], added: [], put: lost ? { [runKey(run.run)]: next } : {}, delete: [] };

  const batch = next.nextBatch;
  const known = secrets instanceof SecretValues ? secrets : new SecretValues(secrets);
  const added: RingLine[] = fresh.map((line, i) => {
    const text = shapeLine(line.text, (t) => redact(t, known));
    return {
      seq: next.nextSeq + i,
      at: line.at,
      stream: line.stream,
      text,
      ...(line.kind ? { kind: line.kind } : {}),
      ...(line.ok !== undefined ? { ok: line.ok } : {}),
      batch,
      size: utf8Bytes(text),
    };
  });
  let kept = [...ring, ...added];
  let bytes = next.bytes + added.reduce((sum, l) => sum + l.size, 0);
  let drop = 0;
  while (kept.length - drop > LIMITS.outputRingLines || bytes > LIMITS.outputRingBytes) bytes -= kept[drop++]!.size;
  kept = kept.slice(drop);
  const firstBatch = kept.length ? kept[0]!.batch : batch + 1;
  const stored: StoredRun = {
    ...next,
    nextSeq: next.nextSeq + added.length,
    nextBatch: batch + 1,
    firstBatch,
    lines: kept.length,
    bytes,
    dropped: next.dropped + drop,
  };
  const keptAdded = added.filter((l) => l.seq >= (kept[0]?.seq ?? Infinity));
  const put: Record<string, unknown> = { [runKey(run.run)]: stored };
  if (keptAdded.length) put[batchKey(run.run, batch)] = keptAdded.map(publicLine);
  const emptied: string[] = [];
  for (let b = run.firstBatch; b < Math.min(firstBatch, batch); b++) emptied.push(batchKey(run.run, b));
  return { run: stored, ring: kept, added: added.map(publicLine), put, delete: emptied };
}

function publicLine(line: OutputLine): OutputLine {
  return {
    seq: line.seq,
    at: line.at,
    stream: line.stream,
    text: line.text,
    ...(line.kind ? { kind: line.kind } : {}),
    ...(line.ok !== undefined ? { ok: line.ok } : {}),
  };
}

/** A ring read back from its storage batches (lines still in the ring only). */
export function ringFromBatches(run: StoredRun, batches: Iterable<[string, OutputLine[]]>): RingLine[] {
  const ring: RingLine[] = [];
  const firstSeq = run.nextSeq - run.lines;
  for (const [key, lines] of batches) {
    const batch = Number(key.slice(key.lastIndexOf(":") + 1));
    for (const line of lines) if (line.seq >= firstSeq) ring.push({ ...line, batch, size: utf8Bytes(line.text) });
  }
  return ring.sort((a, b) => a.seq - b.seq);
}

/** A page of a ring: without `after` its last `limit` lines, else the first `limit` with seq > after. */
export function pageOf(ring: readonly OutputLine[], after: number | undefined, limit: number): OutputLine[] {
  const lines = after === undefined ? ring.slice(Math.max(0, ring.length - limit)) : ring.filter((l) => l.seq > after).slice(0, limit);
  return lines.map(publicLine);
}

// ---------------------------------------------------------------------------------------------
// Runs

/** Newest first: by start, then by run id (a bead's later runs have higher numbers). */
export function newestFirst(a: RunInfo, b: RunInfo): number {
  return b.startedAt - a.startedAt || (b.run > a.run ? 1 : b.run < a.run ? -1 : 0);
}

/** The name an agent view of a link names (`toast` of `alpha/polecats/toast`, `witness` of `alpha/witness`). */
export function agentName(identity: string): string {
  return identity.slice(identity.lastIndexOf("/") + 1);
}

export function scopeAllows(scope: OutputScope, run: Pick<RunInfo, "identity" | "beadId">): boolean {
  return (scope.agent === undefined || agentName(run.identity) === scope.agent) && (scope.bead === undefined || run.beadId === scope.bead);
}

export type LogQuery = {
  identity?: string | undefined;
  run?: string | undefined;
  bead_id?: string | undefined;
  after?: number | undefined;
  limit?: number | undefined;
};

/**
 * Which runs a read lists and which one it shows: `run` when named; else the identity's current run
 * (`current`) or its latest; else the bead's latest. Everything outside `scope` is left out, and
 * naming it is FORBIDDEN.
 */
export function chooseRun(
  all: readonly RunInfo[],
  query: LogQuery,
  scope: OutputScope,
  current: (identity: string) => string | undefined,
): { run: RunInfo | null; runs: RunInfo[] } {
  if (query.identity === undefined && query.run === undefined && query.bead_id === undefined)
    throw new ToolError("INVALID_ARGS", "give identity, run or bead_id");
  if (query.identity !== undefined && scope.agent !== undefined && agentName(query.identity) !== scope.agent)
    throw new ToolError("FORBIDDEN", `this link shows the output of ${scope.agent} only`);
  if (query.bead_id !== undefined && scope.bead !== undefined && query.bead_id !== scope.bead)
    throw new ToolError("FORBIDDEN", `this link shows the runs of bead ${scope.bead} only`);
  let named: RunInfo | undefined;
  if (query.run !== undefined) {
    named = all.find((r) => r.run === query.run);
    if (!named) throw new ToolError("INVALID_ARGS", `run: no output of run ${query.run} is kept (each agent keeps its last ${LIMITS.outputRunsKept} runs)`);
    if (!scopeAllows(scope, named)) throw new ToolError("FORBIDDEN", "this link does not show that run");
    if (query.identity !== undefined && named.identity !== query.identity)
      throw new ToolError("INVALID_ARGS", `run: ${query.run} is a run of ${named.identity}, not ${query.identity}`);
    if (query.bead_id !== undefined && named.beadId !== query.bead_id)
      throw new ToolError("INVALID_ARGS", `run: ${query.run} is a run of bead ${named.beadId}, not ${query.bead_id}`);
  }
  const identity = query.identity ?? (query.bead_id === undefined ? named?.identity : undefined);
  const runs = all
    .filter((r) => scopeAllows(scope, r) && (identity === undefined || r.identity === identity) && (query.bead_id === undefined || r.beadId === query.bead_id))
    .sort(newestFirst)
    .slice(0, LIMITS.outputRunsKept);
  if (named) return { run: named, runs };
  const live = identity !== undefined ? current(identity) : undefined;
  return { run: runs.find((r) => r.run === live) ?? runs[0] ?? null, runs };
}

// ---------------------------------------------------------------------------------------------
// The store

/** Work items of one store run one at a time, in the order they were asked for. */
type Lane = Promise<unknown>;

/**
 * The rig room's agent output in its storage. Memory: the index of every kept run (≤ 20 per agent,
 * a few hundred bytes each) and at most RINGS_IN_MEMORY rings (≤ 256 KiB of text each).
 */
export class AgentOutput {
  private index: Map<string, StoredRun> | null = null;
  /** Runs whose output aged out: what is still known of them (≤ LIMITS.outputRunsRemembered per agent). */
  private gone: Map<string, RunInfo> | null = null;
  private readonly rings = new Map<string, RingLine[]>();
  private lane: Lane = Promise.resolve();
  private closed = false;
  /** What `secrets` gave so far, ready to match (made once, not per batch). */
  private readonly known = new SecretValues();

  constructor(
    private readonly storage: KeyValueStorage,
    /** Secrets to redact by value besides the patterns (the room's secret). */
    private readonly secrets: () => readonly string[] = () => [],
  ) {}

  /**
   * The rig was removed (its storage wiped): forgets everything, and stores nothing from now on, so
   * a call still in flight cannot write into the emptied room.
   */
  close(): void {
    this.closed = true;
    this.index = new Map();
    this.gone = new Map();
    this.rings.clear();
  }

  /** Runs `fn` after every earlier change; a store that was closed meanwhile refuses it. */
  private serially<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lane.then(() => {
      if (this.closed) throw new ToolError("UNKNOWN_RIG", "this rig was removed");
      return fn();
    });
    this.lane = run.catch(() => {});
    return run;
  }

  private async runs(): Promise<Map<string, StoredRun>> {
    if (this.index) return this.index;
    const stored = await this.storage.list<StoredRun>({ prefix: "agentlog:run:" });
    const gone = await this.storage.list<RunInfo>({ prefix: "agentlog:gone:" });
    this.gone ??= new Map([...gone.values()].map((r) => [r.run, r]));
    this.index ??= new Map([...stored.values()].map((r) => [r.run, r]));
    return this.index;
  }

  /** Every kept run's RunInfo. */
  async all(): Promise<RunInfo[]> {
    return [...(await this.runs()).values()].map(infoOf);
  }

  async get(run: string): Promise<RunInfo | undefined> {
    const stored = (await this.runs()).get(run);
    return stored && infoOf(stored);
  }

  private async ring(run: StoredRun): Promise<RingLine[]> {
    let ring = this.rings.get(run.run);
    if (ring) {
      this.rings.delete(run.run); // most recently used last
    } else {
      ring = run.lines ? ringFromBatches(run, await this.storage.list<OutputLine[]>({ prefix: batchPrefix(run.run) })) : [];
    }
    this.rings.set(run.run, ring);
    while (this.rings.size > RINGS_IN_MEMORY) this.rings.delete(this.rings.keys().next().value!);
    return ring;
  }

  /**
   * Makes `run` known (at its start, its first line or its exit), and makes room: the agent keeps its
   * last LIMITS.outputRunsKept runs, and an earlier run of it still open is over (its exit was never
   * reported). Returns the runs that changed, the new one first.
   */
  private admitRun(index: Map<string, StoredRun>, run: string, identity: string, at: number, put: Record<string, unknown>, del: string[]): StoredRun[] {
    const created = newRun(run, identity, at);
    const changed: StoredRun[] = [created];
    const mine = [...index.values()].filter((r) => r.identity === identity).sort(newestFirst);
    for (const open of mine.filter((r) => r.endedAt === undefined)) {
      const ended = { ...open, endedAt: at, exit: "ended (no exit reported)" };
      index.set(open.run, ended);
      put[runKey(open.run)] = ended;
      changed.push(ended);
    }
    for (const old of mine.slice(LIMITS.outputRunsKept - 1)) {
      index.delete(old.run);
      this.rings.delete(old.run);
      del.push(runKey(old.run));
      for (let b = old.firstBatch; b < old.nextBatch; b++) del.push(batchKey(old.run, b));
      // Its output goes; how it ended stays (a run still open ends here, as above).
      const info = infoOf(old.endedAt === undefined ? { ...old, endedAt: at, exit: "ended (no exit reported)" } : old);
      this.gone?.set(old.run, info);
      put[goneKey(old.run)] = info;
    }
    const gone = [...(this.gone?.values() ?? [])].filter((r) => r.identity === identity).sort(newestFirst);
    for (const old of gone.slice(LIMITS.outputRunsRemembered)) {
      this.gone?.delete(old.run);
      del.push(goneKey(old.run));
    }
    index.set(run, created);
    put[runKey(run)] = created;
    return changed;
  }

  private async commit(put: Record<string, unknown>, del: string[]): Promise<void> {
    if (this.closed) throw new ToolError("UNKNOWN_RIG", "this rig was removed");
    const keys = Object.keys(put);
    // Durable Object storage takes at most 128 keys a call; the run's record goes in the last put.
    for (let i = 0; i < keys.length; i += 128) await this.storage.put(Object.fromEntries(keys.slice(i, i + 128).map((k) => [k, put[k]])));
    for (let i = 0; i < del.length; i += 128) await this.storage.delete(del.slice(i, i + 128));
  }

  /** A run began (gt_agent_started): the runs that changed (a new one, and earlier ones now over). */
  started(run: string, identity: string, at: number): Promise<RunInfo[]> {
    return this.serially(async () => {
      const index = await this.runs();
      if (index.has(run)) return [];
      const put: Record<string, unknown> = {};
      const del: string[] = [];
      const changed = this.admitRun(index, run, identity, at, put, del);
      await this.commit(put, del);
      return changed.map(infoOf);
    });
  }

  /**
   * A run ended, with how and what it used (`usage`, when its exit reported it). `create`: make it
   * known if it is not (a run that never printed, e.g. one whose worktree could not be made).
   * Returns the runs that changed.
   */
  ended(run: string, identity: string, exit: string, at: number, create: boolean, usage?: Usage): Promise<RunInfo[]> {
    return this.serially(async () => {
      const index = await this.runs();
      const put: Record<string, unknown> = {};
      const del: string[] = [];
      const changed: StoredRun[] = [];
      let stored = index.get(run);
      if (!stored) {
        if (!create) return [];
        changed.push(...this.admitRun(index, run, identity, at, put, del).slice(1));
        stored = index.get(run)!;
      }
      if (stored.endedAt !== undefined) {
        // Over already (its exit reported, or a later run began first): its usage is still its own.
        if (usage && !stored.usage) {
          const withUsage: StoredRun = { ...stored, usage };
          index.set(run, withUsage);
          put[runKey(run)] = withUsage;
          changed.unshift(withUsage);
        }
        await this.commit(put, del);
        return changed.map(infoOf);
      }
      const ended: StoredRun = { ...stored, endedAt: at, exit: exit.slice(0, 500), ...(usage ? { usage } : {}) };
      index.set(run, ended);
      put[runKey(run)] = ended;
      await this.commit(put, del);
      return [ended, ...changed].map(infoOf);
    });
  }

  /**
   * Stores a batch of lines of `run` (gt_agent_output): redacted, shaped and within the ring's
   * bounds. Returns the run as it is now, the lines stored (their seqs), and runs that changed
   * besides (when this batch made the run known).
   */
  append(
    run: string,
    identity: string,
    first: number | undefined,
    lines: readonly IncomingLine[],
    now: number,
  ): Promise<{ run: RunInfo; added: OutputLine[]; changed: RunInfo[] }> {
    return this.serially(async () => {
      const index = await this.runs();
      const put: Record<string, unknown> = {};
      const del: string[] = [];
      const changed: RunInfo[] = [];
      let stored = index.get(run);
      if (!stored) {
        changed.push(...this.admitRun(index, run, identity, now, put, del).map(infoOf));
        stored = index.get(run)!;
      }
      const appended = appendLines(stored, await this.ring(stored), lines, first, this.known.add(...this.secrets()));
      await this.commit({ ...put, ...appended.put }, [...del, ...appended.delete]);
      index.set(run, appended.run);
      this.rings.set(run, appended.ring);
      return { run: infoOf(appended.run), added: appended.added, changed };
    });
  }

  /** gt_agent_log: see chooseRun and pageOf. */
  log(query: LogQuery, scope: OutputScope, current: (identity: string) => string | undefined): Promise<AgentLogResult> {
    return this.serially(async () => {
      const chosen = chooseRun(await this.all(), query, scope, current);
      // A bead's read also says which of its runs' output aged out, and how they ended.
      const aged = query.bead_id !== undefined ? this.agedOf(query.bead_id, scope) : [];
      const more = aged.length ? { aged } : {};
      if (!chosen.run) return { run: null, runs: chosen.runs, lines: [], next: query.after ?? 0, ...more };
      const stored = (await this.runs()).get(chosen.run.run)!;
      const lines = pageOf(await this.ring(stored), query.after, query.limit ?? LIMITS.outputBacklogLines);
      return { run: chosen.run, runs: chosen.runs, lines, next: lines.at(-1)?.seq ?? query.after ?? stored.nextSeq - 1, ...more };
    });
  }

  /** The runs of `beadId` whose output aged out, newest first (the index is loaded: called after `runs()`). */
  private agedOf(beadId: string, scope: OutputScope): RunInfo[] {
    return [...(this.gone?.values() ?? [])].filter((r) => r.beadId === beadId && scopeAllows(scope, r)).sort(newestFirst);
  }

  /** An output socket's first frame: the last lines of the identity's current or latest run that `scope` shows. */
  async backlog(identity: string, scope: OutputScope, current: string | undefined): Promise<{ run: RunInfo | null; lines: OutputLine[] }> {
    return this.serially(async () => {
      const mine = (await this.all()).filter((r) => r.identity === identity && scopeAllows(scope, r)).sort(newestFirst);
      const run = mine.find((r) => r.run === current) ?? mine[0] ?? null;
      if (!run) return { run: null, lines: [] };
      return { run, lines: pageOf(await this.ring((await this.runs()).get(run.run)!), undefined, LIMITS.outputBacklogLines) };
    });
  }
}
