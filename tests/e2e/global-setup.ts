/**
 * The e2e project: builds the dashboard, then runs one real `partykit dev` that serves it as a
 * single-page app from the same origin as the rooms (like `npm start`), on a free port with
 * throwaway storage. Tests reach it through the provided host and secret.
 */
import { execFileSync, spawn } from "node:child_process";
import { appendFileSync, cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { TestProject } from "vitest/node";
import type {} from "vitest";
import { freePort, writeDevConfig } from "../helpers/partykit.ts";

export const E2E_SECRET = "e2e-secret-0123456789abcdef";
const ROOT = resolve(import.meta.dirname, "../..");

declare module "vitest" {
  export interface ProvidedContext {
    e2eHost: string;
    e2eSecret: string;
  }
}

export default async function setup(project: TestProject) {
  execFileSync(process.execPath, [join(ROOT, "node_modules/vite/bin/vite.js"), "build", "--logLevel", "warn"], { cwd: ROOT, stdio: "inherit" });
  const dir = mkdtempSync(join(tmpdir(), "townhall-e2e-"));
  // The rooms run from a snapshot of party/: partykit dev reloads on every source change, and a
  // reload mid-run (someone editing party/) would drop every test's sockets. Under node_modules so
  // bare imports still resolve, and git ignores it.
  const cacheRoot = join(ROOT, "node_modules/.cache");
  mkdirSync(cacheRoot, { recursive: true });
  const snapshot = mkdtempSync(join(cacheRoot, "townhall-e2e-"));
  cpSync(join(ROOT, "party"), join(snapshot, "party"), { recursive: true });
  // The secret goes in the config file (mode 0600), never on the command line (writeDevConfig).
  const config = writeDevConfig(
    {
      name: "townhall",
      main: join(snapshot, "party/town/room.ts"),
      parties: { rig: join(snapshot, "party/rig/room.ts") },
      compatibilityDate: "2024-07-18",
      serve: { path: join(ROOT, "dist"), singlePageApp: true },
    },
    { GT_SECRET: E2E_SECRET, GT_TEST_HOOKS: "1", GT_WITNESS_TIMEOUT_MS: "4000", GT_RECONCILE_MS: "1000" },
  );
  const port = await freePort();
  const args = [
    join(ROOT, "node_modules/partykit/dist/bin.mjs"),
    "dev",
    "-c",
    config.path,
    "--port",
    String(port),
    "--persist",
    join(dir, "state"),
    "--disable-request-cf-fetch",
    "--no-hotkeys",
  ];
  // Its own process group, so stopping it also stops workerd and esbuild (docs/development.md).
  const child = spawn(process.execPath, args, { cwd: ROOT, detached: true, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1" } });
  const exited = new Promise<void>((done) => child.once("exit", () => done()));
  let log = "";
  await new Promise<void>((ready, failed) => {
    const onData = (chunk: Buffer) => {
      log += chunk.toString();
      if (/Ready on/.test(log)) ready();
      if (/ERROR|Error reloading/.test(log)) failed(new Error(`partykit dev failed:\n${log}`));
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", (code) => failed(new Error(`partykit dev exited (${code}) before it was ready:\n${log}`)));
  });
  // The server's own log, for when a test fails on a room error.
  const logFile = join(tmpdir(), "townhall-e2e-partykit.log");
  writeFileSync(logFile, log);
  child.stdout!.on("data", (chunk: Buffer) => appendFileSync(logFile, chunk));
  child.stderr!.on("data", (chunk: Buffer) => appendFileSync(logFile, chunk));
  child.once("exit", (code, signal) => appendFileSync(logFile, `\n[partykit dev exited: ${code ?? signal}]\n`));
  project.provide("e2eHost", `127.0.0.1:${port}`);
  project.provide("e2eSecret", E2E_SECRET);
  return async () => {
    try {
      process.kill(-child.pid!, "SIGTERM");
      await exited;
    } catch {
      // already gone
    }
    rmSync(dir, { recursive: true, force: true });
    rmSync(snapshot, { recursive: true, force: true });
    config.remove();
  };
}
