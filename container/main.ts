/**
 * npm run container -- --town <town> [options]: runs the town container: every rig's clone,
 * worktrees and agents in this one process; with --mayor, the Mayor too, as an agent with the town
 * tools (container/mayor.ts). `npm run container -- --help` lists every option (OPTIONS below).
 * The container token comes from GT_CONTAINER_TOKEN, or is signed with GT_SECRET (or the secret
 * `npm start` keeps in .townhall/): never from the command line, which every local user can read
 * (/proc/<pid>/cmdline). For the same reason agents' keys are named here, never given: their values
 * come from the container's environment or a secrets file (container/agent-keys.ts).
 * Agents reach on this machine only the rooms, their rig's remote and what --agent-allow names
 * (GT_AGENT_ALLOW, comma-separated, too); beyond it everything, or only --agent-egress's networks
 * (GT_AGENT_EGRESS) when given (container/sandbox.ts).
 */
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import WebSocket from "ws";
import { signToken } from "../party/auth.ts";
import { plain } from "../party/plain-text.ts";
import { AGENT_RUNTIMES, SLUG_RE } from "../party/protocol.ts";
import { AgentKeyError, readAgentEnv, readAgentSecrets } from "./agent-keys.ts";
import { STATE_DIR, readLocalState } from "./local-state.ts";
import { isPresetName } from "./presets/index.ts";
import { readPrices, type Prices } from "./presets/prices.ts";
import type { PresetName } from "./presets/types.ts";
import type { Runtime, RuntimeConfig } from "./runtimes.ts";
import { Supervisor } from "./supervisor.ts";
import { parseCidr, parseHostPort } from "./agent-network.ts";

function splitList(text: string | undefined): string[] {
  return (text ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
}

/** A bad option or argument: main() prints its message as one line and exits 2. */
export class ContainerUsageError extends Error {}

function fail(message: string): never {
  throw new ContainerUsageError(message);
}

type Option = { type: "string" | "boolean"; multiple?: boolean; arg?: string; help: string };

/** Every option, with what --help says of it (in this order). */
export const OPTIONS: Record<string, Option> = {
  town: { type: "string", arg: "<town>", help: "the town to serve (a slug; default: the one npm start made)" },
  host: { type: "string", arg: "<host:port>", help: "where the rooms are (default 127.0.0.1:1999)" },
  secure: { type: "boolean", help: "reach the rooms over https/wss" },
  workspace: { type: "string", arg: "<dir>", help: "clones, worktrees and the rigs' homes (GT_WORKSPACE; default .townhall/workspace)" },
  rigs: { type: "string", arg: "<a,b>", help: "serve only these rigs (by name); default every rig of the town" },
  runtime: {
    type: "string",
    arg: `<${AGENT_RUNTIMES.join("|")}>`,
    help: "agents' runtime for rigs whose registry entry names none (default scripted); a rig's runtime and model in the registry win",
  },
  command: { type: "string", arg: '"<shell>"', help: "the command runtime's shell command" },
  "rig-command": { type: "string", multiple: true, arg: "<rig>=<shell>", help: "one rig's agents run this shell command (repeatable)" },
  "agent-env": {
    type: "string",
    multiple: true,
    arg: "<VAR,…> | <rig>=<VAR,…>",
    help: "pass these variables of the container's environment (e.g. ANTHROPIC_API_KEY) to every rig's agents, or to one rig's (repeatable); values never appear on a command line or in output",
  },
  "agent-secrets": {
    type: "string",
    multiple: true,
    arg: "<rig>=<file>",
    help: "KEY=VALUE lines (a file of mode 0600) given to one rig's agents in their environment (repeatable)",
  },
  "agent-bin": {
    type: "string",
    multiple: true,
    arg: "<runtime>=<path>",
    help: "a preset's CLI binary (absolute path); default: found on PATH, then in npm's global prefix (repeatable)",
  },
  prices: {
    type: "string",
    arg: "<file>",
    help: 'JSON, model → {"input","output","cacheRead"?,"cacheWrite"?} USD per million tokens: the cost of runs whose CLI reports none',
  },
  "agent-allow": { type: "string", multiple: true, arg: "<host:port>", help: "agents may also reach this on the machine (repeatable; GT_AGENT_ALLOW)" },
  "agent-egress": { type: "string", arg: "<cidr,…>", help: "beyond the machine, agents reach only these networks (GT_AGENT_EGRESS); default all" },
  "heartbeat-ms": { type: "string", arg: "<ms>", help: "renew rigs' leases at least this often (default 10000)" },
  "max-agents": { type: "string", arg: "<n>", help: "agent processes at once over all rigs (GT_MAX_AGENTS)" },
  mayor: { type: "string", arg: '"<shell>"', help: "run the Mayor as an agent with this shell command" },
  token: { type: "string", arg: "", help: "refused: set GT_CONTAINER_TOKEN (a command line is readable by every local user)" },
  help: { type: "boolean", help: "print this and exit" },
};

export function containerHelp(): string {
  const lines = ["Usage: npm run container -- [--town <town>] [options]", "", "Runs a town's rigs' agents on this machine.", "", "Options:"];
  for (const [name, option] of Object.entries(OPTIONS)) {
    if (name === "token") continue;
    lines.push(`  --${name}${option.arg ? ` ${option.arg}` : ""}`, `      ${option.help}`);
  }
  lines.push("", "Environment: GT_CONTAINER_TOKEN (or GT_SECRET) signs the container in; the variables --agent-env names hold agents' keys.");
  return lines.join("\n");
}

/** One clear line for what parseArgs refused (its own messages name the option, then advise at length). */
function argsProblem(error: unknown): string {
  const code = (error as { code?: string }).code;
  const message = (error as Error).message ?? String(error);
  const option = /'(-{1,2}[^' ]+)/.exec(message)?.[1];
  if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") return `unknown option ${option ?? message}: npm run container -- --help lists them`;
  if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE")
    return `${option ?? "an option"} ${/argument missing/.test(message) ? "needs a value" : "takes no value"}`;
  if (code === "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL") return `unexpected argument ${/'([^']*)'/.exec(message)?.[1] ?? ""}: options start with --`;
  return message.split("\n")[0]!;
}

export function parseContainerArgs(argv: string[], env: Record<string, string | undefined> = process.env) {
  let values: Record<string, unknown>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: Object.fromEntries(Object.entries(OPTIONS).map(([name, o]) => [name, { type: o.type, ...(o.multiple ? { multiple: true } : {}) }])),
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    fail(argsProblem(error));
  }
  const str = (name: string) => values[name] as string | undefined;
  const list = (name: string) => (values[name] as string[] | undefined) ?? [];
  if (values.help) return { help: true as const };
  if (values.token !== undefined)
    fail("--token would put the container token on a command line, which every local user can read (/proc/<pid>/cmdline): set GT_CONTAINER_TOKEN instead");
  const agentAllow = [...list("agent-allow"), ...splitList(env.GT_AGENT_ALLOW)];
  for (const entry of agentAllow) if (!parseHostPort(entry)) fail(`--agent-allow takes host:port (e.g. 127.0.0.1:8080 or [::1]:8080), got ${entry}`);
  const egressText = str("agent-egress") ?? env.GT_AGENT_EGRESS;
  const agentEgress =
    egressText === undefined
      ? undefined
      : splitList(egressText).map(
          (entry) => parseCidr(entry) ?? fail(`--agent-egress takes networks as CIDRs (e.g. 203.0.113.0/24,2001:db8::/32), got ${entry}`),
        );
  const town = str("town") ?? readLocalState()?.town;
  if (!town || !SLUG_RE.test(town)) fail("--town <town> is required (a slug)");
  const runtimeName = str("runtime") ?? "scripted";
  if (!(AGENT_RUNTIMES as readonly string[]).includes(runtimeName)) fail(`--runtime must be one of ${AGENT_RUNTIMES.join(", ")}, got ${runtimeName}`);
  const command = str("command");
  if (runtimeName === "command" && !command) fail('--runtime command needs --command "<shell command>"');
  const townRuntime: Runtime =
    runtimeName === "command"
      ? { kind: "command", command: command! }
      : isPresetName(runtimeName)
        ? { kind: "preset", name: runtimeName }
        : { kind: "scripted" };
  const rigs: Record<string, Runtime> = {};
  for (const entry of list("rig-command")) {
    const [name, ...rest] = entry.split("=");
    if (!name || !SLUG_RE.test(name) || rest.length === 0 || !rest.join("=").trim()) fail(`--rig-command takes <rig>=<shell command>, got ${entry}`);
    rigs[name] = { kind: "command", command: rest.join("=") };
  }
  const agentBin: Partial<Record<PresetName, string>> = {};
  for (const entry of list("agent-bin")) {
    const eq = entry.indexOf("=");
    const name = entry.slice(0, Math.max(0, eq));
    const path = entry.slice(eq + 1);
    if (eq <= 0 || !isPresetName(name) || !path.startsWith("/"))
      fail(`--agent-bin takes <runtime>=<absolute path> (runtime: claude, codex, gemini or opencode), got ${entry}`);
    agentBin[name] = path;
  }
  let agentKeys;
  try {
    const { keys, names } = readAgentEnv(list("agent-env"), env);
    readAgentSecrets(list("agent-secrets"), keys);
    agentKeys = { keys, names };
  } catch (error) {
    if (error instanceof AgentKeyError) fail(error.message);
    throw error;
  }
  let prices: Prices | null = null;
  const pricesFile = str("prices");
  if (pricesFile !== undefined) {
    try {
      prices = readPrices(pricesFile);
    } catch (error) {
      fail((error as Error).message);
    }
  }
  const heartbeatMs = Number(str("heartbeat-ms") ?? "10000");
  if (!Number.isInteger(heartbeatMs) || heartbeatMs < 50) fail("--heartbeat-ms must be a whole number ≥ 50");
  const mayor = str("mayor");
  if (mayor !== undefined && !mayor.trim()) fail('--mayor needs the Mayor\'s shell command, e.g. --mayor "gt rigs"');
  const maxAgentsText = str("max-agents") ?? env.GT_MAX_AGENTS;
  const maxAgents = maxAgentsText === undefined ? undefined : Number(maxAgentsText);
  if (maxAgents !== undefined && (!Number.isInteger(maxAgents) || maxAgents < 1)) fail("--max-agents (GT_MAX_AGENTS) must be a whole number ≥ 1");
  const rigNames = str("rigs");
  return {
    help: false as const,
    town,
    host: str("host") ?? "127.0.0.1:1999",
    secure: values.secure === true,
    workspace: resolve(str("workspace") ?? env.GT_WORKSPACE ?? resolve(STATE_DIR, "workspace")),
    rigNames: rigNames ? new Set(splitList(rigNames)) : undefined,
    runtime: { town: townRuntime, rigs, ...(command ? { command } : {}) } satisfies RuntimeConfig,
    heartbeatMs,
    token: env.GT_CONTAINER_TOKEN,
    agentAllow,
    ...(agentEgress ? { agentEgress } : {}),
    mayorCommand: mayor,
    maxAgents,
    agentKeys: agentKeys.keys,
    /** The variables whose values were taken as keys: removed from this process's environment. */
    agentKeyNames: agentKeys.names,
    agentBin,
    prices,
  };
}

async function main() {
  let args: ReturnType<typeof parseContainerArgs>;
  try {
    args = parseContainerArgs(process.argv.slice(2));
  } catch (error) {
    if (error instanceof ContainerUsageError) {
      console.error(`container: ${error.message}`);
      process.exit(2);
    }
    throw error;
  }
  if (args.help) {
    console.log(containerHelp());
    process.exit(0);
  }
  // Agents' keys are held by the supervisor alone: nothing this process starts inherits them.
  for (const name of args.agentKeyNames) delete process.env[name];
  let token = args.token;
  const envSecret = process.env.GT_SECRET;
  // Nothing this process starts later inherits them (what it starts is given its environment anyway).
  delete process.env.GT_CONTAINER_TOKEN;
  delete process.env.GT_SECRET;
  if (!token) {
    const secret = envSecret ?? readLocalState()?.secret;
    if (!secret) {
      console.error("container: no container token: set GT_CONTAINER_TOKEN, or set GT_SECRET");
      process.exit(2);
    }
    token = await signToken({ role: "container", town: args.town, exp: Math.floor(Date.now() / 1000) + 30 * 24 * 3600 }, secret);
  }
  let supervisor: Supervisor;
  try {
    supervisor = new Supervisor({
      host: args.host,
      secure: args.secure,
      town: args.town,
      containerToken: token,
      workspace: args.workspace,
      heartbeatMs: args.heartbeatMs,
      runtime: args.runtime,
      WebSocket,
      log: (line) => console.log(plain(line)), // agents' output among it: plain for the terminal (party/plain-text.ts)
      ...(args.rigNames ? { rigNames: args.rigNames } : {}),
      ...(args.mayorCommand ? { mayorCommand: args.mayorCommand } : {}),
      ...(args.maxAgents ? { maxAgents: args.maxAgents } : {}),
      agentAllow: args.agentAllow,
      ...(args.agentEgress ? { agentEgress: args.agentEgress } : {}),
      agentKeys: args.agentKeys,
      agentBin: args.agentBin,
      prices: args.prices,
    });
  } catch (error) {
    console.error(`container: ${error instanceof Error ? error.message : String(error)}`); // e.g. the workspace is another container's
    process.exit(2);
  }
  const stop = () => void supervisor.stop().finally(() => process.exit(0));
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  console.log(`container: town ${args.town} at ${args.host}, workspace ${args.workspace}${args.mayorCommand ? ", with the Mayor" : ""}`);
  await supervisor.start();
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith("container/main.ts")) await main();
