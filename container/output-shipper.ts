/**
 * Agents' output on its way to the rig room: each run's stdout and stderr split into lines (at most
 * LIMITS.outputLineBytes kept of each), redacted (the run's own token, the container's, in any form
 * and any fragment of 8 or more characters, and every token-shaped string: party/redact.ts), and sent in batches with `gt_agent_output` over the rig's
 * socket: every FLUSH_MS, or at once when a batch is full (LIMITS.outputBatchLines lines or
 * BATCH_BYTES). One batch is in flight at a time, so a run's lines arrive in order.
 *
 * While the socket is away the lines wait in a bounded backlog (BACKLOG_LINES lines or
 * BACKLOG_BYTES, for all of one rig's runs); past it the oldest are dropped. Lines are numbered per
 * run (`first` of a batch), so the room stores a batch sent again once and counts dropped lines as
 * the gap they leave.
 */
import { LIMITS, type OutputKind } from "../party/protocol.ts";
import { shapeLine, type IncomingLine } from "../party/agent-output.ts";
import { StreamRedactor } from "../party/redact.ts";
import { SecretValues } from "../party/secret-values.ts";

export const FLUSH_MS = 250;
/** A batch's lines as JSON stay under this, so its frame stays under LIMITS.maxFrameBytes. */
export const BATCH_BYTES = 56 * 1024;
export const BACKLOG_LINES = 5_000;
export const BACKLOG_BYTES = 2 * 1024 * 1024;
/**
 * Of a preset runtime's stdout line, what is kept to be parsed: whole, as its events are (a
 * stream-json line with a tool's result is often far longer than the room keeps of a line); only
 * a line past this (which no event of theirs reaches) is cut, and is then shown as it is.
 */
export const PARSED_LINE_BYTES = 8 * 1024 * 1024;

/** A preset's parser of whole stdout lines: the lines to show for each (container/presets/lines.ts PresetStream). */
export type LineParser = (line: string) => { stream: "out" | "err"; text: string; kind?: OutputKind; ok?: boolean }[];

const encoder = new TextEncoder();

/**
 * Splits a stream's bytes into lines. Of a line at most `maxBytes` bytes are kept (a line without
 * an end, however long, costs no more); `bytes` says how long it really was.
 */
export class LineSplitter {
  private parts: Buffer[] = [];
  private kept = 0;
  private total = 0;

  constructor(private readonly maxBytes: number = LIMITS.outputLineBytes) {}

  /** The lines `chunk` completes. */
  push(chunk: Buffer): { text: string; bytes: number }[] {
    const lines: { text: string; bytes: number }[] = [];
    let start = 0;
    for (let nl = chunk.indexOf(10, start); nl !== -1; nl = chunk.indexOf(10, start)) {
      this.keep(chunk.subarray(start, nl));
      lines.push(this.take());
      start = nl + 1;
    }
    if (start < chunk.length) this.keep(chunk.subarray(start));
    return lines;
  }

  /** What is left when the stream ends, as a last line (none when it ended with a newline). */
  end(): { text: string; bytes: number }[] {
    return this.total ? [this.take()] : [];
  }

  private keep(part: Buffer): void {
    this.total += part.length;
    const room = this.maxBytes - this.kept;
    if (room <= 0) return;
    const piece = part.length > room ? part.subarray(0, room) : part;
    this.parts.push(Buffer.from(piece)); // a copy: the stream reuses its chunks
    this.kept += piece.length;
  }

  private take(): { text: string; bytes: number } {
    // A line cut inside a character ends in a broken one: leave it out.
    let text = Buffer.concat(this.parts, this.kept).toString("utf8");
    if (this.total > this.kept) text = text.replace(/\uFFFD+$/, "");
    const line = { text, bytes: this.total };
    this.parts = [];
    this.kept = 0;
    this.total = 0;
    return line;
  }
}

export type OutputBatch = { epoch: number; run: string; identity: string; first: number; lines: IncomingLine[] };

/** Why sending a batch failed: `retry` (the socket is away or slow) or `drop` (the room refused it), `lease` (the epoch is over). */
export type SendFailure = "retry" | "drop" | "lease";

export type ShipperOptions = {
  /** Sends one batch (gt_agent_output); throws, and `classify` says what to do about it. */
  send: (batch: OutputBatch) => Promise<unknown>;
  classify: (error: unknown) => SendFailure;
  /** Whether the socket is open now (otherwise lines wait for `resume`). */
  connected: () => boolean;
  log: (line: string) => void;
  flushMs?: number;
  backlogLines?: number;
  backlogBytes?: number;
};

type RunKey = { epoch: number; run: string; identity: string };
type Queued = { key: RunKey; n: number; line: IncomingLine; size: number };

/** One run's output: its streams' splitters and redactors, and its line count. */
export class RunOutput {
  private next = 0;
  private readonly splitters: { out: LineSplitter; err: LineSplitter };
  private readonly redactors: { out: StreamRedactor; err: StreamRedactor };
  /** The secrets this run's lines are redacted of, by value: an open set (add what the run is given later). */
  readonly secrets: SecretValues;

  constructor(
    private readonly shipper: OutputShipper,
    readonly key: RunKey,
    secrets: SecretValues | readonly string[],
    /** A preset's parser of stdout: its lines are parsed whole, and what it shows is sent instead (cut to the room's limit after parsing). */
    private readonly parse?: LineParser,
  ) {
    this.splitters = { out: new LineSplitter(parse ? PARSED_LINE_BYTES : LIMITS.outputLineBytes), err: new LineSplitter() };
    this.secrets = secrets instanceof SecretValues ? secrets : new SecretValues(secrets);
    this.redactors = { out: new StreamRedactor(this.secrets), err: new StreamRedactor(this.secrets) };
  }

  /** Takes a chunk of one stream; returns its complete lines as they were kept (for the container's own log). */
  chunk(stream: "out" | "err", chunk: Buffer, at = Date.now()): string[] {
    return this.splitters[stream].push(chunk).flatMap((l) => this.take(stream, l, at).map((x) => x.text));
  }

  /** The streams ended: their unfinished last lines. */
  end(at = Date.now()): { stream: "out" | "err"; text: string }[] {
    return (["out", "err"] as const).flatMap((stream) => this.splitters[stream].end().flatMap((l) => this.take(stream, l, at)));
  }

  /** One whole line of a stream: as it is, or (a preset's stdout) the lines its parser shows for it. */
  private take(stream: "out" | "err", line: { text: string; bytes: number }, at: number): { stream: "out" | "err"; text: string }[] {
    if (stream === "err" || !this.parse) return [{ stream, text: this.add(stream, line.text, line.bytes, at) }];
    return this.parse(line.text).map((shown) => ({
      stream: shown.stream,
      text: this.add(shown.stream, shown.text, undefined, at, shown.kind, shown.ok),
    }));
  }

  private add(stream: "out" | "err", raw: string, bytes: number | undefined, at: number, kind?: OutputKind, ok?: boolean): string {
    const text = shapeLine(raw, (t) => this.redactors[stream].line(t), bytes);
    this.shipper.enqueue(this.key, this.next++, { at, stream, text, ...(kind ? { kind } : {}), ...(ok !== undefined ? { ok } : {}) });
    return text;
  }
}

export class OutputShipper {
  private queue: Queued[] = [];
  private queuedBytes = 0;
  private inFlight: Queued[] = [];
  private timer: ReturnType<typeof setTimeout> | null = null;
  private sending = false;
  private failures = 0;
  private readonly waiters = new Set<() => void>();
  /** Lines dropped so far (backlog overflow, or refused by the room). */
  dropped = 0;
  private readonly flushMs: number;
  private readonly backlogLines: number;
  private readonly backlogBytes: number;

  constructor(private readonly options: ShipperOptions) {
    this.flushMs = options.flushMs ?? FLUSH_MS;
    this.backlogLines = options.backlogLines ?? BACKLOG_LINES;
    this.backlogBytes = options.backlogBytes ?? BACKLOG_BYTES;
  }

  /** A run's output: `secrets` are redacted by value wherever and however they appear (its own token, the container's). */
  open(key: RunKey, secrets: SecretValues | readonly string[], parse?: LineParser): RunOutput {
    return new RunOutput(this, key, secrets, parse);
  }

  enqueue(key: RunKey, n: number, line: IncomingLine): void {
    const size = encoder.encode(JSON.stringify(line.text)).byteLength + 48;
    this.queue.push({ key, n, line, size });
    this.queuedBytes += size;
    this.bound();
    if (this.pendingLines(this.queue[0]?.key.run) >= LIMITS.outputBatchLines || this.queuedBytes >= BATCH_BYTES) void this.flush();
    else this.schedule(this.flushMs);
  }

  /** The socket is back: send what waited. */
  resume(): void {
    this.failures = 0;
    void this.flush();
  }

  /** Lines (queued or in flight) of `run`, or of every run. */
  pending(run?: string): number {
    return [...this.inFlight, ...this.queue].filter((q) => run === undefined || q.key.run === run).length;
  }

  /** Resolves once no line of `run` (or of any run) waits, or after `timeoutMs`: whichever is first. */
  drain(run: string | undefined, timeoutMs: number): Promise<void> {
    void this.flush();
    return new Promise((resolve) => {
      const check = () => {
        if (this.pending(run) > 0) return;
        done();
      };
      const timer = setTimeout(() => done(), timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      this.waiters.add(check);
      check();
    });
  }

  /** Stops the timer; what waits is dropped with the shipper. */
  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private pendingLines(run: string | undefined): number {
    return run === undefined ? 0 : this.queue.filter((q) => q.key.run === run).length;
  }

  /** Past the backlog's bounds the oldest lines go: the room sees the gap they leave. */
  private bound(): void {
    let drop = 0;
    while (this.queue.length - drop > this.backlogLines || (this.queuedBytes > this.backlogBytes && drop < this.queue.length))
      this.queuedBytes -= this.queue[drop++]!.size;
    if (!drop) return;
    if (this.dropped === 0 || Math.floor((this.dropped + drop) / 1000) > Math.floor(this.dropped / 1000))
      this.options.log(`agents' output backlog full (the room is away): dropping the oldest lines, ${this.dropped + drop} so far`);
    this.dropped += drop;
    this.queue = this.queue.slice(drop);
  }

  private schedule(ms: number): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.flush();
    }, ms);
  }

  private settled(): void {
    for (const check of [...this.waiters]) check();
  }

  /** The next batch: the oldest line's run, its lines in order, within the batch's bounds. */
  private takeBatch(): OutputBatch | null {
    const head = this.queue[0];
    if (!head) return null;
    const taken: Queued[] = [];
    let bytes = 0;
    for (const q of this.queue) {
      if (q.key.run !== head.key.run || q.key.epoch !== head.key.epoch) continue;
      if (taken.length >= LIMITS.outputBatchLines || (taken.length && bytes + q.size > BATCH_BYTES)) break;
      taken.push(q);
      bytes += q.size;
    }
    const set = new Set(taken);
    this.queue = this.queue.filter((q) => !set.has(q));
    this.queuedBytes -= bytes;
    this.inFlight = taken;
    return { epoch: head.key.epoch, run: head.key.run, identity: head.key.identity, first: head.n, lines: taken.map((q) => q.line) };
  }

  private async flush(): Promise<void> {
    if (this.sending || !this.options.connected()) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.sending = true;
    try {
      for (let batch = this.takeBatch(); batch; batch = this.takeBatch()) {
        try {
          await this.options.send(batch);
          this.failures = 0;
        } catch (error) {
          const failure = this.options.classify(error);
          if (failure === "retry") {
            // Back at the head, in order; the bound may drop them if the socket stays away.
            this.queue = [...this.inFlight, ...this.queue];
            this.queuedBytes += this.inFlight.reduce((sum, q) => sum + q.size, 0);
            this.inFlight = [];
            this.bound();
            this.failures += 1;
            this.schedule(Math.min(10_000, 500 * 2 ** Math.min(5, this.failures)));
            return;
          }
          this.dropped += this.inFlight.length;
          if (failure === "lease") {
            // The room gave this epoch's runs to someone else: none of their lines will be taken.
            const stale = this.queue.filter((q) => q.key.epoch === batch!.epoch);
            this.dropped += stale.length;
            this.queue = this.queue.filter((q) => q.key.epoch !== batch!.epoch);
            this.queuedBytes -= stale.reduce((sum, q) => sum + q.size, 0);
          } else {
            this.options.log(`output of ${batch.identity} (run ${batch.run}) refused: ${error instanceof Error ? error.message : error}`);
          }
        } finally {
          this.inFlight = [];
          this.settled();
        }
      }
    } finally {
      this.sending = false;
      this.settled();
    }
  }
}
