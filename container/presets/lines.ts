/**
 * A preset run's events (types.ts AgentEvent) as the lines people read of it on the agent's page and
 * the bead's runs: what the model wrote, each tool call (its name and a short input) and whether it
 * succeeded, errors, and the final result with what the run used. A `progress` event shows nothing
 * (it only keeps the agent from looking idle).
 */
import type { OutputKind, Usage } from "../../party/protocol.ts";
import { priced, type Prices } from "./prices.ts";
import type { AgentEvent, Preset } from "./types.ts";

/** A line people read, with what it is (`kind`) and, for a tool's result or the run's, whether it went well. */
export type ReadableLine = { stream: "out" | "err"; text: string; kind?: OutputKind; ok?: boolean };

/** Of a failed tool's output, what its line shows. */
const FAILURE_CHARS = 300;

function firstLines(text: string, max: number): string {
  const one = text.trim().replace(/\s*\n\s*/g, " ⏎ ");
  return one.length > max ? `${one.slice(0, max - 1)}…` : one;
}

/** `1234567` → `1,234,567`. */
const n = (value: number) => value.toLocaleString("en-US");

/** What a run used, in a line: `12 turns, 1,200 in / 340 out tokens (cache 5,000 read, 800 written), $0.0123` (model first when known). */
export function usageLine(usage: Usage): string {
  const parts = [
    ...(usage.model ? [usage.model] : []),
    ...(usage.turns !== null ? [`${usage.turns} turn${usage.turns === 1 ? "" : "s"}`] : []),
    `${n(usage.inputTokens)} in / ${n(usage.outputTokens)} out tokens` +
      (usage.cacheReadTokens || usage.cacheWriteTokens ? ` (cache ${n(usage.cacheReadTokens)} read, ${n(usage.cacheWriteTokens)} written)` : ""),
    usage.costUsd === null ? "cost unknown" : `$${usage.costUsd.toFixed(4)}`,
  ];
  return parts.join(", ");
}

/** Turns one run's events into lines; keeps the names of its tool calls, so a result names its tool. */
export class EventLines {
  private readonly tools = new Map<string, string>();

  lines(events: readonly AgentEvent[]): ReadableLine[] {
    return events.flatMap((event) => this.of(event));
  }

  private of(event: AgentEvent): ReadableLine[] {
    switch (event.kind) {
      case "text":
        return event.text
          .trimEnd()
          .split("\n")
          .map((text) => ({ stream: "out" as const, text, kind: "text" as const }));
      case "tool":
        if (event.id) this.tools.set(event.id, event.name);
        return [{ stream: "out", text: `→ ${event.name}${event.input ? `: ${event.input}` : ""}`, kind: "tool" }];
      case "tool_result": {
        const name = (event.id && this.tools.get(event.id)) || "tool";
        if (event.id) this.tools.delete(event.id);
        if (event.ok) return [{ stream: "out", text: `← ${name}: ok`, kind: "tool_result", ok: true }];
        return [{ stream: "out", text: `← ${name} failed${event.text ? `: ${firstLines(event.text, FAILURE_CHARS)}` : ""}`, kind: "tool_result", ok: false }];
      }
      case "error":
        return [{ stream: "err", text: `error: ${firstLines(event.text, 2 * FAILURE_CHARS)}`, kind: "error" }];
      case "result": {
        const head = `result: ${event.ok ? "done" : "failed"}${event.usage ? ` (${usageLine(event.usage)})` : ""}`;
        return [
          {
            stream: event.ok ? "out" : "err",
            text: event.ok || !event.text ? head : `${head}: ${firstLines(event.text, 2 * FAILURE_CHARS)}`,
            kind: "result",
            ok: event.ok,
          },
        ];
      }
      case "progress":
        return [];
    }
  }
}

/**
 * One run's stdout as a preset's CLI writes it, a whole line at a time (never cut before it is
 * parsed: a stream-json event is often longer than the room keeps of a line): its readable lines,
 * and the usage its final result reported. A line that is not one of its events is shown as it is.
 */
export class PresetStream {
  private readonly lines = new EventLines();
  /** The usage of the run's last `result` event, when it had one. */
  usage: Usage | null = null;
  /** Whether any line was one of its events (progress, even when nothing is shown). */
  events = 0;

  private readonly parse: (line: string) => AgentEvent[];

  private readonly prices: Prices | null;

  /**
   * `spec`: the run's, for a preset that reads its lines together (Preset.runParser); else each line
   * is parsed alone. `prices`: the operator's, so the result's line shows the cost the run records.
   */
  constructor(preset: Pick<Preset, "parse" | "runParser">, spec: { model: string | null } = { model: null }, prices: Prices | null = null) {
    this.parse = preset.runParser?.(spec) ?? ((line) => preset.parse(line));
    this.prices = prices;
  }

  line(text: string): ReadableLine[] {
    const trimmed = text.replace(/\r$/, "");
    if (!trimmed.trim()) return [];
    const events = this.parse(trimmed).map((event) => (event.kind === "result" && event.usage ? { ...event, usage: priced(event.usage, this.prices) } : event));
    if (!events.length) return [{ stream: "out", text: trimmed }];
    this.events += 1;
    for (const event of events) if (event.kind === "result" && event.usage) this.usage = event.usage;
    return this.lines.lines(events);
  }
}
