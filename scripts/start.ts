/**
 * npm start [-- --port 1999 --town demo]
 * Builds the dashboard, runs `partykit dev` serving it on one port, creates a demo town of three
 * rigs backed by local git repositories, and prints the dashboard URL with an operator token.
 * A second run resumes the same town (state lives in .townhall/). Ctrl-C stops everything.
 */
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { signToken } from "../party/auth.ts";
import { SLUG_RE, type Rig } from "../party/protocol.ts";
import { callHttp } from "../client/tools.ts";
import { STATE_DIR, ensureLocalState } from "./local-state.ts";

const ROOT = resolve(import.meta.dirname, "..");
const DEMO_RIGS = [
  { name: "frontend", capabilities: ["ts", "web"], max_polecats: 3 },
  { name: "backend", capabilities: ["api", "go"], max_polecats: 3 },
  { name: "docs", capabilities: ["docs"], max_polecats: 2 },
];

const { values } = parseArgs({
  options: { port: { type: "string" }, town: { type: "string" } },
  strict: true,
});
const state = ensureLocalState({ town: values.town ?? "demo" });
const town = values.town ?? state.town;
const port = Number(values.port ?? 1999);
if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`--port must be a port number: ${values.port}`);
if (!SLUG_RE.test(town)) throw new Error(`--town must be a slug (a-z, 0-9, -): ${town}`);

function step(text: string): void {
  console.log(`• ${text}`);
}

step("building the dashboard");
execFileSync(process.execPath, [join(ROOT, "node_modules/vite/bin/vite.js"), "build", "--logLevel", "warn"], { cwd: ROOT, stdio: "inherit" });

// A local bare repository per demo rig, with one commit on main, standing in for a git remote.
const reposDir = join(STATE_DIR, "demo-repos");
for (const rig of DEMO_RIGS) {
  const bare = join(reposDir, `${rig.name}.git`);
  if (existsSync(bare)) continue;
  const seed = join(reposDir, `${rig.name}-seed`);
  mkdirSync(seed, { recursive: true });
  const git = (args: string[], cwd = seed) => execFileSync("git", args, { cwd, stdio: "ignore" });
  git(["init", "-q", "-b", "main"]);
  writeFileSync(join(seed, "README.md"), `# ${rig.name}\n\nA demo rig of the Townhall demo town.\n`);
  git(["add", "README.md"]);
  git(["-c", "user.name=Townhall", "-c", "user.email=demo@townhall.local", "commit", "-q", "-m", "Initial commit"]);
  git(["clone", "-q", "--bare", seed, bare], reposDir);
}

// partykit dev serves the built dashboard as a single-page app from the same origin as the rooms.
const config = join(STATE_DIR, "partykit.json");
writeFileSync(
  config,
  JSON.stringify({
    name: "townhall",
    main: join(ROOT, "party/town.ts"),
    parties: { rig: join(ROOT, "party/rig.ts") },
    compatibilityDate: "2024-07-18",
    serve: { path: join(ROOT, "dist"), singlePageApp: true },
  }),
);
step(`starting partykit dev on port ${port}`);
const server = spawn(
  process.execPath,
  [
    join(ROOT, "node_modules/partykit/dist/bin.mjs"),
    "dev",
    "-c",
    config,
    "--port",
    String(port),
    "--persist",
    join(STATE_DIR, "partykit-state"),
    "--disable-request-cf-fetch",
    "--no-hotkeys",
    "--var",
    `GT_SECRET=${state.secret}`,
  ],
  { cwd: ROOT, detached: true, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1" } },
);
let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  try {
    process.kill(-server.pid!, "SIGTERM"); // the whole group: node, workerd, esbuild
  } catch {
    // already gone
  }
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
server.on("exit", (code) => {
  if (!stopping) console.error(`partykit dev exited (${code})`);
  process.exit(stopping ? 0 : 1);
});

let log = "";
await new Promise<void>((ready, failed) => {
  const onData = (chunk: Buffer) => {
    log += chunk.toString();
    if (/Ready on/.test(log)) ready();
    if (/ERROR/.test(log)) failed(new Error(log));
  };
  server.stdout!.on("data", onData);
  server.stderr!.on("data", onData);
});
server.stdout!.removeAllListeners("data");
server.stderr!.on("data", (chunk: Buffer) => process.stderr.write(chunk));

const host = `127.0.0.1:${port}`;
const exp = Math.floor(Date.now() / 1000) + 30 * 24 * 3600;
const operator = await signToken({ role: "operator", town, exp }, state.secret);
const viewer = await signToken({ role: "viewer", town, exp }, state.secret);
const existing = await callHttp<Rig[]>({ host, party: "main", room: town, token: operator }, "gt_list_rigs");
for (const rig of DEMO_RIGS) {
  if (existing.some((r) => r.name === rig.name)) continue;
  step(`adding rig ${rig.name}`);
  await callHttp({ host, party: "main", room: town, token: operator }, "gt_rig_add", {
    ...rig,
    git_url: join(reposDir, `${rig.name}.git`),
  });
}

console.log(`
Townhall is running: town "${town}" with ${DEMO_RIGS.length} rigs.

  Dashboard (operator): http://${host}/t/${town}?token=${operator}
  Read-only link:       http://${host}/t/${town}?token=${viewer}

  More tokens: npm run token -- --role <operator|viewer|agent|container> --town ${town}
  Stop with Ctrl-C.
`);
