/** Watching an agent's output socket (`/parties/rig/<room>/output/<identity>`) in tests. */
import WebSocket from "ws";
import type { OutputFrame, OutputLine } from "../../party/protocol.ts";

export type OutputWatcher = {
  /** Every frame received so far, in order. */
  frames: OutputFrame[];
  /** Resolves with the first frame (after which the socket is admitted), or rejects with the close code. */
  first: Promise<OutputFrame>;
  /** Resolves with the first frame (already received or not) that `predicate` accepts. */
  next: (predicate: (frame: OutputFrame) => boolean, timeoutMs?: number) => Promise<OutputFrame>;
  /** Resolves with the close code once the socket is closed. */
  closed: Promise<number>;
  /** Sends a text frame (an output socket takes none: the room closes it). */
  send: (text: string) => void;
  close: () => void;
};

/** Opens an output socket; `identity` is sent encoded as one path segment unless `raw`. */
export function watchOutput(host: string, room: string, identity: string, token: string, options: { raw?: boolean } = {}): OutputWatcher {
  const path = options.raw ? identity : encodeURIComponent(identity);
  const ws = new WebSocket(`ws://${host}/parties/rig/${room}/output/${path}?token=${token}`);
  const frames: OutputFrame[] = [];
  const waiters: { predicate: (frame: OutputFrame) => boolean; resolve: (frame: OutputFrame) => void }[] = [];
  let firstResolve!: (frame: OutputFrame) => void;
  let firstReject!: (error: Error) => void;
  const first = new Promise<OutputFrame>((resolve, reject) => ((firstResolve = resolve), (firstReject = reject)));
  first.catch(() => {});
  const closed = new Promise<number>((resolve) => {
    ws.on("close", (code) => {
      firstReject(Object.assign(new Error(`closed ${code}`), { code }));
      resolve(code);
    });
  });
  ws.on("error", () => {});
  ws.on("message", (data) => {
    const frame = JSON.parse(String(data)) as OutputFrame;
    frames.push(frame);
    if (frames.length === 1) firstResolve(frame);
    for (const w of [...waiters]) if (w.predicate(frame)) (waiters.splice(waiters.indexOf(w), 1), w.resolve(frame));
  });
  return {
    frames,
    first,
    closed,
    send: (text) => ws.send(text),
    close: () => ws.close(),
    next: (predicate, timeoutMs = 15_000) => {
      const seen = frames.find(predicate);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no such output frame in ${timeoutMs} ms; got ${JSON.stringify(frames).slice(0, 500)}`)), timeoutMs);
        waiters.push({ predicate, resolve: (frame) => (clearTimeout(timer), resolve(frame)) });
      });
    },
  };
}

/** The close code of a socket the room refuses (it must not send a frame first). */
export async function refusedWith(watcher: OutputWatcher): Promise<number> {
  const code = await watcher.closed;
  if (watcher.frames.length) throw new Error(`the socket was admitted first: ${JSON.stringify(watcher.frames[0]).slice(0, 200)}`);
  return code;
}

/** The lines of an `output` frame (fails on a `run` frame). */
export function linesOf(frame: OutputFrame): OutputLine[] {
  if (frame.type !== "output") throw new Error(`expected an output frame, got ${JSON.stringify(frame).slice(0, 200)}`);
  return frame.lines;
}
