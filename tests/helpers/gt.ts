/**
 * Running the agents' `gt` CLI and its MCP server (container/gt.ts) as child processes, for tests:
 * through container/bin/gt, as agents do, so its bundle (container/dist/gt.js, built by the global
 * setup) is what runs.
 */
import { spawn } from "node:child_process";
import { createServer, connect, type Server } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { expect } from "vitest";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const GT = join(ROOT, "container/bin/gt");
export const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

export type GtEnv = Record<string, string | undefined>;
export type Run = { code: number | null; stdout: string; stderr: string };

/** This process's environment without any GT_* variable, so each run sees only what the test gives it. */
export function baseEnv(): Record<string, string> {
  return Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => !e[0].startsWith("GT_") && e[1] !== undefined));
}

/** Runs `gt <args>` to completion; stdin gets `input` (or is closed at once). */
export function gt(args: string[], env: GtEnv, options: { input?: string; cwd?: string } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const vars = { ...baseEnv(), ...env };
    for (const [k, v] of Object.entries(vars)) if (v === undefined) delete vars[k];
    const child = spawn(GT, args, { cwd: options.cwd ?? ROOT, env: vars as Record<string, string>, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.input ?? "");
  });
}

/** `gt --json` output, parsed; fails with the run's stderr when the command did not succeed. */
export async function gtJson<T>(args: string[], env: GtEnv): Promise<T> {
  const run = await gt([...args, "--json"], env);
  expect(run.stderr).toBe("");
  expect(run.code).toBe(0);
  return JSON.parse(run.stdout) as T;
}

/** A TCP proxy to the server that cuts the first `drop` connections once the server has answered. */
export async function lossyProxy(target: string, drop: number): Promise<{ host: string; connections: () => number; close: () => Promise<void> }> {
  const [targetHost, targetPort] = target.split(":") as [string, string];
  let connections = 0;
  const server: Server = createServer((client) => {
    const lose = connections++ < drop;
    const upstream = connect(Number(targetPort), targetHost);
    client.pipe(upstream);
    upstream.on("data", (chunk: Buffer) => {
      if (lose) {
        client.destroy(); // the request was handled, the reply never arrives
        upstream.destroy();
      } else client.write(chunk);
    });
    upstream.on("end", () => client.end());
    upstream.on("error", () => client.destroy());
    client.on("error", () => upstream.destroy());
    client.on("close", () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return { host: `127.0.0.1:${port}`, connections: () => connections, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** `gt mcp` with this environment, connected; the caller closes it. */
export async function mcpClient(env: GtEnv): Promise<Client> {
  const vars = { ...baseEnv(), ...env } as Record<string, string>;
  const transport = new StdioClientTransport({ command: GT, args: ["mcp"], env: vars, cwd: ROOT, stderr: "pipe" });
  const client = new Client({ name: "gt-cli-test", version: "0.0.0" });
  await client.connect(transport);
  return client;
}

export type ToolResult = { isError?: boolean; content: { type: string; text: string }[] };

export async function mcpCall(client: Client, name: string, args: Record<string, unknown> = {}): Promise<ToolResult> {
  return (await client.callTool({ name, arguments: args })) as ToolResult;
}

/** The JSON value of a successful MCP tool result; fails the test on an error result. */
export function valueOf<T>(result: ToolResult): T {
  expect(result.isError ?? false, result.content[0]?.text).toBe(false);
  return JSON.parse(result.content[0]!.text) as T;
}
