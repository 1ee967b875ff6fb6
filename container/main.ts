/**
 * npm run container -- --town <town> [--host 127.0.0.1:1999] [--workspace <dir>] [--rigs a,b]
 *   [--runtime scripted|command] [--command "<shell>"] [--rig-command <rig>=<shell>]…
 *   [--heartbeat-ms 10000] [--secure] [--mayor "<shell>"] [--max-agents <n>]
 *   [--agent-allow <host:port>]… [--agent-egress <cidr,cidr…>]
 * Runs the town container: every rig's clone, worktrees and agents in this one process; with
 * --mayor, the Mayor too, as an agent with the town tools (container/mayor.ts).
 * The container token comes from GT_CONTAINER_TOKEN, or is signed with GT_SECRET (or the secret
 * `npm start` keeps in .townhall/): never from the command line, which every local user can read
 * (/proc/<pid>/cmdline).
 * Agents reach on this machine only the rooms, their rig's remote and what --agent-allow names
 * (GT_AGENT_ALLOW, comma-separated, too); beyond it everything, or only --agent-egress's networks
 * (GT_AGENT_EGRESS) when given (container/sandbox.ts).
 */
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import WebSocket from "ws";
import { signToken } from "../party/auth.ts";
import { plain } from "../party/plain-text.ts";
import { SLUG_RE } from "../party/protocol.ts";
import { STATE_DIR, readLocalState } from "./local-state.ts";
import type { Runtime, RuntimeConfig } from "./runtimes.ts";
import { Supervisor } from "./supervisor.ts";
import { parseCidr, parseHostPort } from "./agent-network.ts";

function splitList(text: string | undefined): string[] {
  return (text ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
}

function fail(message: string): never {
  console.error(`container: ${message}`);
  process.exit(2);
}

export function parseContainerArgs(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
      town: { type: "string" },
      host: { type: "string", default: "127.0.0.1:1999" },
      workspace: { type: "string" },
      rigs: { type: "string" },
      runtime: { type: "string", default: "scripted" },
      command: { type: "string" },
      "rig-command": { type: "string", multiple: true },
      "heartbeat-ms": { type: "string", default: "10000" },
      token: { type: "string" }, // refused: see below
      "agent-allow": { type: "string", multiple: true },
      "agent-egress": { type: "string" },
      secure: { type: "boolean", default: false },
      mayor: { type: "string" },
      "max-agents": { type: "string" },
    },
    strict: true,
  });
  if (values.token !== undefined)
    fail("--token would put the container token on a command line, which every local user can read (/proc/<pid>/cmdline): set GT_CONTAINER_TOKEN instead");
  const agentAllow = [...(values["agent-allow"] ?? []), ...splitList(process.env.GT_AGENT_ALLOW)];
  for (const entry of agentAllow) if (!parseHostPort(entry)) fail(`--agent-allow takes host:port (e.g. 127.0.0.1:8080 or [::1]:8080), got ${entry}`);
  const egressText = values["agent-egress"] ?? process.env.GT_AGENT_EGRESS;
  const agentEgress =
    egressText === undefined
      ? undefined
      : splitList(egressText).map(
          (entry) => parseCidr(entry) ?? fail(`--agent-egress takes networks as CIDRs (e.g. 203.0.113.0/24,2001:db8::/32), got ${entry}`),
        );
  const town = values.town ?? readLocalState()?.town;
  if (!town || !SLUG_RE.test(town)) fail("--town <town> is required (a slug)");
  if (values.runtime !== "scripted" && values.runtime !== "command") fail("--runtime must be scripted or command");
  if (values.runtime === "command" && !values.command) fail('--runtime command needs --command "<shell command>"');
  const townRuntime: Runtime = values.runtime === "command" ? { kind: "command", command: values.command! } : { kind: "scripted" };
  const rigs: Record<string, Runtime> = {};
  for (const entry of values["rig-command"] ?? []) {
    const [name, ...rest] = entry.split("=");
    if (!name || !SLUG_RE.test(name) || rest.length === 0) fail(`--rig-command takes <rig>=<shell command>, got ${entry}`);
    rigs[name] = { kind: "command", command: rest.join("=") };
  }
  const heartbeatMs = Number(values["heartbeat-ms"]);
  if (!Number.isInteger(heartbeatMs) || heartbeatMs < 50) fail("--heartbeat-ms must be a whole number ≥ 50");
  if (values.mayor !== undefined && !values.mayor.trim()) fail('--mayor needs the Mayor\'s shell command, e.g. --mayor "gt rigs"');
  const maxAgentsText = values["max-agents"] ?? process.env.GT_MAX_AGENTS;
  const maxAgents = maxAgentsText === undefined ? undefined : Number(maxAgentsText);
  if (maxAgents !== undefined && (!Number.isInteger(maxAgents) || maxAgents < 1)) fail("--max-agents (GT_MAX_AGENTS) must be a whole number ≥ 1");
  return {
    town,
    host: values.host,
    secure: values.secure,
    workspace: resolve(values.workspace ?? process.env.GT_WORKSPACE ?? resolve(STATE_DIR, "workspace")),
    rigNames: values.rigs
      ? new Set(
          values.rigs
            .split(",")
            .map((s) => s.trim())
            .filter(Boolean),
        )
      : undefined,
    runtime: { town: townRuntime, rigs } satisfies RuntimeConfig,
    heartbeatMs,
    token: process.env.GT_CONTAINER_TOKEN,
    agentAllow,
    ...(agentEgress ? { agentEgress } : {}),
    mayorCommand: values.mayor,
    maxAgents,
  };
}

async function main() {
  const args = parseContainerArgs(process.argv.slice(2));
  let token = args.token;
  const envSecret = process.env.GT_SECRET;
  // Nothing this process starts later inherits them (what it starts is given its environment anyway).
  delete process.env.GT_CONTAINER_TOKEN;
  delete process.env.GT_SECRET;
  if (!token) {
    const secret = envSecret ?? readLocalState()?.secret;
    if (!secret) fail("no container token: set GT_CONTAINER_TOKEN (or pass --token), or set GT_SECRET");
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
    });
  } catch (error) {
    fail(error instanceof Error ? error.message : String(error)); // e.g. the workspace is another container's
  }
  const stop = () => void supervisor.stop().finally(() => process.exit(0));
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  console.log(`container: town ${args.town} at ${args.host}, workspace ${args.workspace}${args.mayorCommand ? ", with the Mayor" : ""}`);
  await supervisor.start();
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith("container/main.ts")) await main();
