/** `gt help`: the whole usage text, every command by whose it is (a rig agent's, the Mayor's, everyone's, an operator's). */
import type { Command } from "./command.ts";
import { COMMANDS } from "./commands.ts";
import type { GtMode } from "./env.ts";

const OTHER_COMMANDS = [
  ["mcp", "serve your tools over MCP on stdin/stdout (for an LLM agent); the Mayor's tools in Mayor mode"],
  ["help [command]", "show this text, or a command's (as gt <command> --help does)"],
] as const;

/** The commands of a mode (not an operator's), as `gt <name>, …`: told to whoever tries the other mode's. */
export const namesOf = (mode: GtMode) =>
  COMMANDS.filter((c) => !c.operator && (c.mode ?? mode) === mode)
    .map((c) => `gt ${c.name}`)
    .join(", ");

export function usage(): string {
  const lines = ["gt: the Gas Town agent CLI; acts as yourself: in your rig room, or in the town room as the Mayor.", ""];
  const section = (title: string, which: (c: Command) => boolean) => {
    lines.push(title);
    for (const c of COMMANDS) if (which(c)) lines.push(`  gt ${c.name} ${c.usage}`, `      ${c.summary}`);
    lines.push("");
  };
  section("Rig agents:", (c) => c.mode === "rig" && !c.operator);
  section("The Mayor (GT_AGENT=mayor):", (c) => c.mode === "mayor");
  section("Everyone:", (c) => c.mode === undefined && !c.operator);
  section("Operators (GT_TOKEN an operator token; GT_RIG_ID, or GT_RIG, the id of the rig to act in, except for bead move):", (c) => c.operator === true);
  for (const [name, summary] of OTHER_COMMANDS) lines.push(`  gt ${name}`, `      ${summary}`);
  lines.push(
    "",
    "Every command takes --json (print the raw result) and --help (-h). docs/gt.md maps Gas Town's gt verbs onto these.",
    "Addresses: mayor, operator, <rig>/witness, <rig>/refinery, <rig>/polecats/<name>;",
    "Gas Town's mayor/, <rig>/<name> (a polecat) and --human (the operator) work too.",
    "",
    "Environment (set by the container):",
    "  GT_HOST (host:port), GT_TOWN, GT_RIG_ID (rig id), GT_TOKEN (agent token): required",
    "  GT_RIG (the rig's name; taken as its id when GT_RIG_ID is not set), GT_ROLE (polecat), GT_POLECAT (your name)",
    "  GT_AGENT (your identity), GT_BEAD (your hooked bead), GT_SECURE=1 (https; default http)",
    "  GT_AGENT=mayor: Mayor mode: calls go to the town room (the rig and GT_BEAD are not used),",
    "  and only the Mayor's commands and the mail commands are available.",
    "",
    "Exit codes: 0 ok, 2 usage error, 3 the tool answered an error (gt: <CODE>: <message>),",
    "4 the server could not be reached (network failures are retried 3 times first).",
  );
  return lines.join("\n");
}
