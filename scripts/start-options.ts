/**
 * `npm start`'s options: parsed and checked in one place, so that a bad one is one clear line (and
 * exit 2) rather than Node's stack trace, and `--help` lists exactly what is parsed. Pure: the
 * script (scripts/start.ts) prints and exits.
 */
import { parseArgs } from "node:util";
import { AGENT_RUNTIMES, SLUG_RE, type AgentRuntime } from "../party/protocol.ts";
import { MODEL_RE } from "../party/protocol/patterns.ts";
import { DEMO_EVERY_S, parseEvery } from "./living-demo.ts";

/** The daily budget `npm start` gives each rig of a town whose agents are real (they spend money): USD 5 per rig per day. */
export const DEFAULT_DAILY_BUDGET = { unit: "usd", daily: 5 } as const;

export type StartOptions = {
  port: number;
  /** The town's name when given (else the state directory's). */
  town?: string;
  workspace?: string;
  extraRigs: { name: string; gitUrl: string }[];
  every: readonly [number, number];
  runtime: AgentRuntime;
  /** Whether --runtime was given (a town resumed without it keeps its rigs' runtimes). */
  runtimeGiven: boolean;
  model?: string;
  command?: string;
  /** Whether new work keeps coming after the first convoy (the living demo). */
  living: boolean;
};

/** A bad option, in words for the terminal. */
export class StartOptionError extends Error {}

export const START_HELP = `npm start [-- options]: a demo town on this machine (partykit dev, the dashboard, the town container).

  --runtime <r>        how the demo's rigs run their agents: scripted (the default: the built-in
                       scripted agent), command (--command), or a coding-agent CLI: claude, codex,
                       gemini, opencode. With a CLI the demo slings one convoy of plain tasks, sets a
                       daily budget of USD ${DEFAULT_DAILY_BUDGET.daily} per rig, and brings no new work unless --living.
  --model <m>          the model those agents ask for (CLI runtimes only; else the CLI's default)
                       A CLI's key variables set in this environment (e.g. ANTHROPIC_API_KEY) are
                       handed to its agents by name (the container's --agent-env), never on a command line.
  --command "<shell>"  the agents' shell command (--runtime command only)
  --living             keep bringing new work after the first convoy (on by default for scripted)
  --quiet              no new work after the first convoy (scripted)
  --every <s>[-<s>]    seconds between new work, e.g. 20-40 (the default ${DEMO_EVERY_S.join("-")})
  --port <n>           the port of partykit dev (default 1999)
  --town <name>        the town's name (default: the one in the state directory, else demo)
  --workspace <dir>    the container's workspace (clones and worktrees)
  --add-rig <name>=<git url or path>   one more rig (repeatable)
  --help               this help

A second run resumes the same town (state in .townhall/, or GT_STATE_DIR).`;

/** The options, or `"help"`; throws StartOptionError on anything wrong. */
export function parseStartOptions(args: string[]): StartOptions | "help" {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        port: { type: "string" },
        town: { type: "string" },
        workspace: { type: "string" },
        "add-rig": { type: "string", multiple: true },
        every: { type: "string" },
        quiet: { type: "boolean" },
        living: { type: "boolean" },
        runtime: { type: "string" },
        model: { type: "string" },
        command: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new StartOptionError(parseError(error));
  }
  if (values.help) return "help";
  const port = Number(values.port ?? 1999);
  if (!/^\d{1,5}$/.test(values.port ?? "1999") || port < 1 || port > 65535)
    throw new StartOptionError(`--port must be a port number (1 to 65535), got ${values.port}`);
  if (values.town !== undefined && !SLUG_RE.test(values.town)) throw new StartOptionError(`--town must be a slug (a-z, 0-9, -), got ${values.town}`);
  const extraRigs = (values["add-rig"] ?? []).map((entry) => {
    const [name, ...url] = entry.split("=");
    if (!name || !SLUG_RE.test(name) || url.length === 0 || !url.join("="))
      throw new StartOptionError(`--add-rig takes <name>=<git url or path>, got ${entry}`);
    return { name, gitUrl: url.join("=") };
  });
  const every = values.every === undefined ? DEMO_EVERY_S : parseEvery(values.every);
  if (!every) throw new StartOptionError(`--every takes seconds between new work, e.g. 20-40 (1 to 3600), got ${values.every}`);
  const runtime = (values.runtime ?? "scripted") as AgentRuntime;
  if (!(AGENT_RUNTIMES as readonly string[]).includes(runtime))
    throw new StartOptionError(`--runtime must be one of ${AGENT_RUNTIMES.join(", ")}, got ${values.runtime}`);
  const preset = runtime !== "scripted" && runtime !== "command";
  if (values.model !== undefined) {
    if (!preset) throw new StartOptionError(`--model is for a coding-agent CLI runtime (claude, codex, gemini, opencode), not ${runtime}`);
    if (!MODEL_RE.test(values.model)) throw new StartOptionError(`--model must be a model name (letters, digits and . _ : @ / -), got ${values.model}`);
  }
  if (runtime === "command" && !values.command) throw new StartOptionError('--runtime command needs --command "<shell command>"');
  if (values.command !== undefined && runtime !== "command") throw new StartOptionError("--command is for --runtime command");
  if (values.quiet && values.living) throw new StartOptionError("--quiet and --living contradict each other: pick one");
  // A real agent costs money per bead: new work only when asked for. The scripted agent is free.
  const living = values.living ?? (preset ? false : !values.quiet);
  return {
    port,
    ...(values.town !== undefined ? { town: values.town } : {}),
    ...(values.workspace !== undefined ? { workspace: values.workspace } : {}),
    extraRigs,
    every,
    runtime,
    runtimeGiven: values.runtime !== undefined,
    ...(values.model !== undefined ? { model: values.model } : {}),
    ...(values.command !== undefined ? { command: values.command } : {}),
    living,
  };
}

/** Node's parseArgs errors, in one line that says what to do. */
function parseError(error: unknown): string {
  const { code, message } = error as { code?: string; message?: string };
  const option = message?.match(/'(-[^' ]*)/)?.[1];
  switch (code) {
    case "ERR_PARSE_ARGS_UNKNOWN_OPTION":
      return `unknown option ${option ?? ""} (npm start -- --help lists them)`.replace("  ", " ");
    case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE":
      return `${option ?? "an option"} ${/argument missing/.test(message ?? "") ? "needs a value" : "takes no value"} (npm start -- --help)`;
    case "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL":
      return `unexpected argument ${message?.match(/'([^']*)'/)?.[1] ?? ""}: options start with -- (npm start -- --help)`;
    default:
      return (message ?? String(error)).split("\n")[0]!;
  }
}

/** Whether a runtime is a coding-agent CLI's preset (real agents: plain tasks, a budget). */
export const isPreset = (runtime: AgentRuntime): boolean => runtime !== "scripted" && runtime !== "command";
