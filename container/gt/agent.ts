/**
 * `gt agent`: an operator stops or restarts an agent's run (told what its runs used today, UTC),
 * and reads what an agent printed (its runs and lines), or follows it with `--follow`, which reads
 * the agent's output socket (`…/output/<identity>`) and prints as lines come.
 */
import { PERMANENT_CLOSES, openRoomSocket } from "../../client/connection.ts";
import { plain } from "../../party/plain-text.ts";
import type { Agent, AgentLogResult, OutputFrame, OutputLine, RunInfo } from "../../party/protocol.ts";
import type { Command } from "./command.ts";
import { totalsText } from "./costs.ts";
import type { GtEnv } from "./env.ts";
import { GtUsageError } from "./errors.ts";
import { numberOption } from "./input.ts";
import { write } from "./output.ts";

/** "; today (UTC): $1.20, 1,260 tokens, 1 run" when the agent's runs used anything today, else nothing. */
function todayText(agent: Agent): string {
  const u = agent.usage;
  return u && u.day === new Date().toISOString().slice(0, 10) && u.today.runs ? `; today (UTC): ${totalsText(u.today)}` : "";
}

export const agentStop: Command = {
  name: "agent stop",
  usage: "<identity> [--reason <text>]",
  summary: "stop an agent's run; its bead fails (stopped by the operator), to retry or move later",
  tool: "gt_agent_stop",
  operator: true,
  arguments: [["<identity>", "the agent, e.g. alpha/polecats/toast"]],
  options: [["--reason <text>", "why, for the run's record"]],
  args: (v) => ({ identity: v.identity, reason: v.reason }),
  print: (agent: Agent) => `${agent.identity} is ${agent.status}${agent.run ? `: run ${agent.run.id} (${agent.run.reason ?? "stop"})` : ""}${todayText(agent)}`,
};

export const agentRestart: Command = {
  name: "agent restart",
  usage: "<identity> [--reason <text>]",
  summary: "stop an agent's run; its bead goes back to open without an attempt counted, and is dispatched again",
  tool: "gt_agent_restart",
  operator: true,
  arguments: [["<identity>", "the agent, e.g. alpha/polecats/toast"]],
  options: [["--reason <text>", "why, for the run's record"]],
  args: (v) => ({ identity: v.identity, reason: v.reason }),
  print: (agent: Agent) =>
    `${agent.identity} is ${agent.status}${agent.run ? `: run ${agent.run.id} (${agent.run.reason ?? "stop"}); its bead is open again` : ""}${todayText(agent)}`,
};

export const agentLog: Command = {
  name: "agent log",
  usage: "<identity> [--run <run>] [--bead <id>] [--after <seq>] [--limit <n>] [--follow]",
  summary:
    "what an agent printed (stdout and stderr, redacted): its runs, newest first, and the lines of one (default: its current or latest run; the last 500, or after --after); --follow prints new lines as they come, until that run ends",
  tool: "gt_agent_log",
  mode: "rig",
  operator: true,
  arguments: [["<identity>", "the agent, e.g. alpha/polecats/toast"]],
  options: [
    ["--run <run>", "one run (default: its current or latest)"],
    ["--bead <id>", "its latest run of this bead"],
    ["--after <seq>", "the lines after this one"],
    ["--limit <n>", "at most this many lines"],
    ["--follow", "print new lines as they come, until the run ends"],
  ],
  args: (v) => ({ identity: v.identity, run: v.run, bead_id: v.bead, after: numberOption(v.after), limit: numberOption(v.limit) }),
  stream: (v, env) => {
    if (!v.follow) return null;
    if (v.run !== undefined || v.bead !== undefined || v.after !== undefined)
      throw new GtUsageError("--follow follows the agent's current run: leave out --run, --bead and --after");
    return followOutput(
      env,
      v.identity as string,
      (text) => write(process.stdout, text),
      (text) => write(process.stderr, text),
    );
  },
  print: printLog,
};

/** A time as ISO 8601 (UTC); every run and line has one. */
const iso = (at: number) => new Date(at).toISOString();

/** A run on one line: id, bead, when, how it ended, its lines. */
function printRunLine(run: RunInfo): string {
  const lines = `${run.lines} line${run.lines === 1 ? "" : "s"}${run.dropped ? ` (${run.dropped} dropped)` : ""}`;
  return `${run.run} bead ${run.beadId} started ${iso(run.startedAt)}, ${run.endedAt ? `ended ${iso(run.endedAt)}: ${run.exit ?? "?"}` : "running"}; ${lines}`;
}

/** One output line: seq, time of day (UTC), `!` for stderr, the text. */
function printOutputLine(line: OutputLine): string {
  return `${String(line.seq).padStart(5)} ${iso(line.at).slice(11, 23)}${line.stream === "err" ? " !" : "  "} ${line.text}`;
}

function printLog(log: AgentLogResult): string {
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
async function followOutput(
  env: GtEnv,
  identity: string,
  write: (text: string) => Promise<void>,
  writeError: (text: string) => Promise<void>,
): Promise<number> {
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
