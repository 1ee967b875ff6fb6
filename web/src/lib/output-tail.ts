/**
 * The tail of one agent's output as the dashboard keeps it: the run it belongs to and its last
 * lines (at most `cap`), cleaned of control sequences once, as they arrive. Pure, so the rules
 * (a new run starts a new tail, a reconnect's replay adds no duplicates) are tested without a browser.
 */
import type { AgentLogResult, OutputFrame, OutputLine, RunInfo } from "../../../party/protocol.ts";
import { cleanLine } from "./terminal-text.ts";

export type Tail = { run: RunInfo | null; lines: OutputLine[] };

/** As many lines as the room keeps per run: the tail never holds more than the ring it mirrors. */
export const TAIL_CAP = 2000;

export const emptyTail: Tail = { run: null, lines: [] };

const clean = (lines: OutputLine[]): OutputLine[] => lines.map((l) => ({ ...l, text: cleanLine(l.text) }));

export function applyFrame(tail: Tail, frame: OutputFrame, cap = TAIL_CAP): Tail {
  if (frame.type === "run") {
    if (tail.run?.run === frame.run.run) return { run: frame.run, lines: tail.lines };
    return { run: frame.run, lines: [] };
  }
  if (!frame.run) return tail.run ? tail : { run: null, lines: [] };
  if (tail.run?.run !== frame.run.run) return { run: frame.run, lines: clean(frame.lines).slice(-cap) };
  // The same run: a reconnect replays the last lines, so keep only those after what we have.
  const last = tail.lines.length ? tail.lines[tail.lines.length - 1]!.seq : -1;
  const fresh = frame.lines.filter((l) => l.seq > last);
  if (!fresh.length) return { run: frame.run, lines: tail.lines };
  const lines = tail.lines.concat(clean(fresh));
  return { run: frame.run, lines: lines.length > cap ? lines.slice(lines.length - cap) : lines };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null;
const isNumber = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

function isRun(v: unknown): v is RunInfo {
  return (
    isObject(v) && typeof v.run === "string" && typeof v.identity === "string" && typeof v.beadId === "string" && isNumber(v.startedAt) && isNumber(v.lines)
  );
}

function isLine(v: unknown): v is OutputLine {
  return isObject(v) && isNumber(v.seq) && isNumber(v.at) && (v.stream === "out" || v.stream === "err") && typeof v.text === "string";
}

/** A frame of the output socket, or null for anything else (checked once here; the view trusts it). */
export function parseOutputFrame(data: unknown): OutputFrame | null {
  if (typeof data !== "string") return null;
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return null; // not JSON: not a frame this socket sends; ignore it rather than break the tail
  }
  if (!isObject(value)) return null;
  if (value.type === "run" && isRun(value.run)) return { type: "run", run: value.run };
  if (value.type === "output" && (value.run === null || isRun(value.run)) && Array.isArray(value.lines) && value.lines.every(isLine))
    return { type: "output", run: value.run, lines: value.lines };
  return null;
}

/** A `gt_agent_log` result, checked, with its lines cleaned like the live tail's; null if it is not one. */
export function parseLogResult(value: unknown): AgentLogResult | null {
  if (!isObject(value)) return null;
  if (!(value.run === null || isRun(value.run)) || !Array.isArray(value.runs) || !value.runs.every(isRun)) return null;
  if (!Array.isArray(value.lines) || !value.lines.every(isLine) || !isNumber(value.next)) return null;
  // A bead's read says which runs aged out (`aged`); a malformed list is left out, not trusted.
  const aged = Array.isArray(value.aged) && value.aged.every(isRun) ? { aged: value.aged } : {};
  return { run: value.run, runs: value.runs, lines: clean(value.lines), next: value.next, ...aged };
}
