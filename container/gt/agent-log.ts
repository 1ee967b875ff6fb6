/**
 * `gt agent log`: printing agents' output (runs and lines), and `--follow`, which reads the agent's
 * output socket (`…/output/<identity>`) and prints as lines come.
 */
import { PERMANENT_CLOSES, openRoomSocket } from "../../client/connection.ts";
import { plain } from "../../party/plain-text.ts";
import type { AgentLogResult, OutputFrame, OutputLine, RunInfo } from "../../party/protocol.ts";
import type { GtEnv } from "./env.ts";

const when = (at: number) => new Date(at).toISOString();

/** A run on one line: id, bead, when, how it ended, its lines. */
export function printRunLine(run: RunInfo): string {
  const lines = `${run.lines} line${run.lines === 1 ? "" : "s"}${run.dropped ? ` (${run.dropped} dropped)` : ""}`;
  return `${run.run} bead ${run.beadId} started ${when(run.startedAt)}, ${run.endedAt ? `ended ${when(run.endedAt)}: ${run.exit ?? "?"}` : "running"}; ${lines}`;
}

/** One output line: seq, time of day (UTC), `!` for stderr, the text. */
export function printOutputLine(line: OutputLine): string {
  return `${String(line.seq).padStart(5)} ${when(line.at).slice(11, 23)}${line.stream === "err" ? " !" : "  "} ${line.text}`;
}

export function printLog(log: AgentLogResult): string {
  if (!log.run) return "no output kept for that (no run yet, or not one of the last 20 of its agent)";
  const out = [`run ${printRunLine(log.run)}`];
  if (log.runs.length > 1) out.push("runs (newest first):", ...log.runs.map((r) => `${r.run === log.run!.run ? "  * " : "    "}${printRunLine(r)}`));
  out.push("", ...(log.lines.length ? log.lines.map(printOutputLine) : ["(no lines)"]));
  return out.join("\n");
}

/**
 * Follows an agent's output: the last lines of its current run, then each new line, until that run
 * ends (exit 0; an agent with no run yet: the next run it starts). Reconnects after a blip without
 * printing a line twice; a refused socket (4401, 4403, 4404) ends it with exit 3.
 */
export async function followOutput(env: GtEnv, identity: string, write: (text: string) => Promise<void>, writeError: (text: string) => Promise<void>): Promise<number> {
  const { default: WebSocket } = await import("ws");
  const socket = openRoomSocket({
    host: env.host,
    secure: env.secure,
    party: "rig",
    room: `${env.town}.${env.rig}`,
    token: env.token,
    WebSocket,
    path: `output/${encodeURIComponent(identity)}`,
  });
  let following: string | null = null;
  let printed = 0;
  let out: Promise<void> = Promise.resolve();
  const print = (text: string) => (out = out.then(() => write(text)));
  return new Promise<number>((resolve) => {
    const finish = (code: number, message?: string) => {
      socket.close();
      void out.then(() => (message ? (code ? writeError(message) : write(message)) : undefined)).then(() => resolve(code));
    };
    const ended = (run: RunInfo) => finish(0, `run ${run.run} ended: ${run.exit ?? "?"}`);
    socket.addEventListener("message", (event: MessageEvent) => {
      let frame: OutputFrame;
      try {
        frame = JSON.parse(String(event.data)) as OutputFrame;
      } catch {
        return;
      }
      const run = frame.run;
      if (!run) return;
      if (following === null) {
        following = run.run;
        print(`run ${printRunLine(run)}`);
      }
      if (run.run !== following) return;
      if (frame.type === "output") {
        const fresh = frame.lines.filter((l) => l.seq > printed);
        if (fresh.length) {
          printed = fresh.at(-1)!.seq;
          print(fresh.map(printOutputLine).join("\n"));
        }
      }
      if (run.endedAt !== undefined) ended(run);
    });
    socket.addEventListener("close", (event: CloseEvent) => {
      if (PERMANENT_CLOSES.has(event.code)) finish(3, `gt: closed by the room (${event.code}): ${plain(event.reason)}`);
    });
  });
}
