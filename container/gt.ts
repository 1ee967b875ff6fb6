/**
 * `gt`: the agent's command line into its rig room, or, for the Mayor (GT_AGENT=mayor), into the
 * town room. The commands are container/gt/program.ts (one tool each; gt/tools.ts holds the
 * tools' defaults and retry policy, gt/call.ts calls them, gt/schemas.ts has their schemas); `gt mcp`
 * serves the same tools over MCP on stdio (gt/mcp-server.ts, loaded only then: gt's other commands
 * load neither zod nor the MCP SDK).
 *
 * Results go to stdout, errors to stderr. Exit codes: 0 ok; 2 usage error (command, option or
 * environment); 3 the tool answered an error (`gt: <CODE>: <message>`); 4 the server could not be reached.
 */
import { EXIT, type Outcome } from "./gt/command.ts";
import { run, usageError } from "./gt/program.ts";
import { write } from "./gt/output.ts";
import { readGtEnv, type GtEnv } from "./gt/env.ts";
import { GtUsageError } from "./gt/errors.ts";

const MCP_HELP = "Usage: gt mcp\n\nServe your tools over MCP on stdin/stdout (for an LLM agent); the Mayor's tools in Mayor mode (GT_AGENT=mayor).";

async function main(argv: string[]): Promise<Outcome> {
  // ---- `gt mcp`: the one place it is dispatched (it owns stdout while it serves) ----
  if (argv[0] === "mcp") {
    if (argv.length === 2 && (argv[1] === "--help" || argv[1] === "-h")) return { code: EXIT.ok, stdout: MCP_HELP };
    if (argv.length > 1) return usageError(`takes no arguments, got ${argv.slice(1).join(" ")}`, "mcp");
    let env: GtEnv;
    try {
      env = readGtEnv();
    } catch (error) {
      if (error instanceof GtUsageError) return usageError(error.message, "mcp");
      throw error;
    }
    const { startMcpServer } = await import("./gt/mcp-server.ts"); // the MCP SDK and zod: for gt mcp only
    await startMcpServer(env);
    return { code: -1 }; // keeps serving until stdin closes
  }
  // ---- every other command ----
  return run(argv);
}

main(process.argv.slice(2)).then(
  async (outcome) => {
    if (outcome.code < 0) return; // the MCP server runs on
    await write(process.stdout, outcome.stdout);
    await write(process.stderr, outcome.stderr);
    const problem = await outcome.after?.();
    if (problem) await write(process.stderr, `gt: ${problem}`);
    process.exit(outcome.code);
  },
  async (error: unknown) => {
    await write(process.stderr, `gt: internal error: ${(error as Error)?.stack ?? String(error)}`);
    process.exit(1);
  },
);
