/**
 * A big town, measured (`npm run bench -- --town-scale [--town-scale-sizes 10,30,100] [--town-scale-shards 4]`).
 *
 * For each size N: one town on a fresh `partykit dev` (the run's party/ snapshot, serving a build of
 * the dashboard made for this run), N rigs on local bare remotes with two polecats each, the real
 * container process with scripted agents (the built-in demo agent), and one convoy of ten beads per
 * rig. Then the same largest size again with its rigs sharded over several containers, each started
 * with `--rigs` naming its share and holding a container token that names those rigs (a sharded
 * container cannot ask for the Mayor's token: only a town-wide one may).
 *
 * Measured per run: wall time from the first convoy created to the last landed; beads per minute;
 * CPU seconds of the container(s) (every process of its group plus reaped children: agents, git)
 * (its process tree by parent pid: each agent runs in a process group of its own) and of the server
 * (every process of partykit dev's group; workerd alone too: it runs every room, so the town room's
 * own CPU cannot be told apart from the rig rooms'); CPU seconds per bead; peak RSS of the
 * container trees (sampled every 500 ms); disk per rig (the workspace's rigs/ ÷ N, after
 * landing); the town document's encoded size (Y.encodeStateAsUpdate of a viewer's replica); and the
 * dashboard's overview in Chromium: navigation until all N rig cards show, with the sockets it opened.
 *
 * Honest by construction: one attempt per run, nothing retried; a convoy that does not land fails
 * the run. Each rig's convoy is created with an operator token of its own: the per-token bead budget
 * (200 at once, 120 a minute) would otherwise make 1000 beads a measurement of the rate limit.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { appendFileSync, chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as Y from "yjs";
import { chromium } from "playwright-core";
import { signToken } from "../party/auth.ts";
import type { Convoy, ConvoyProgress, Rig, TokenInput } from "../party/protocol.ts";
import { TS_LOADER } from "../container/runtimes.ts";
import { deleteRigUsers } from "../tests/helpers/container.ts";
import { makeBareRepo } from "../tests/helpers/git.ts";
import { processCpuSeconds, processTreeCpuSeconds, processTreeRss } from "./lib/cpu.ts";
import { benchTown, pool, untilReplica } from "./lib/fixtures.ts";
import { BenchServer, SECRET, killOnExit } from "./lib/server.ts";
import { fmt, mdTable, type Cell } from "./lib/table.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const BEADS_PER_RIG = 10;
/** Convoys asked for at once (see oneRun). */
const CREATE_IN_FLIGHT = 16;
const POLECATS = 2;
/** The window at rest after the work, a measurement window (not a wait for an event). */
const REST_MS = 10_000;
/** No convoy bead changing for this long fails the run. */
const STALL_MS = 120_000;

export type TownScaleOptions = { sizes: number[]; shards: number; shardedSize: number | null; log: (line: string) => void; landTimeoutMs?: number };

export type TownScaleRun = {
  label: string;
  rigs: number;
  containers: number;
  beads: number;
  wallS: number;
  beadsPerMin: number;
  convoyLandS: { p50: number; max: number };
  containerCpuS: number;
  serverCpuS: number;
  workerdCpuS: number;
  cpuPerBeadS: number;
  containerRssPeakMb: number;
  serverRssEndMb: number;
  diskPerRigKb: number;
  townDocBytes: number;
  townMailDocBytes: number;
  /** From the first gt_convoy_create sent until all N returned (the town places N × 10 beads). */
  convoyCreateS: number;
  /** Town document traffic one subscriber (a viewer's replica) received during the work: update bytes, and whole documents synced again after a rebuild. */
  townUpdateBytes: number;
  townUpdates: number;
  townResyncs: number;
  overviewMs: number | null;
  overviewSockets: string[];
  overviewWorkerdCpuS: number | null;
  /** The town at rest after the work (containers connected, heartbeats and lease renewals only): CPU ms per s over REST_MS. */
  restWorkerdMsPerS: number;
  restContainerMsPerS: number;
  rigsReadyS: number;
  loadavg: { before: number; after: number };
  error?: string;
};

/** A container process (container/main.ts) in its own process group, with the production heartbeat. */
function startContainer(
  host: string,
  town: string,
  token: string,
  workspace: string,
  logFile: string,
  rigNames?: string[],
): { child: ChildProcess; log: () => string; stop: () => Promise<void> } {
  chmodSync(join(workspace, ".."), 0o711);
  const args = [
    "--import",
    TS_LOADER,
    "container/main.ts",
    "--host",
    host,
    "--town",
    town,
    "--workspace",
    workspace,
    ...(rigNames ? ["--rigs", rigNames.join(",")] : []),
  ];
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, GT_CONTAINER_TOKEN: token },
  });
  let log = "";
  const keep = (chunk: Buffer) => {
    appendFileSync(logFile, chunk);
    log += chunk.toString();
    if (log.length > 400_000) log = log.slice(-200_000);
  };
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  const forget = killOnExit(-child.pid!);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return {
    child,
    log: () => log,
    stop: async () => {
      try {
        process.kill(-child.pid!, "SIGTERM");
      } catch {}
      await exited;
      forget();
      await deleteRigUsers(workspace);
    },
  };
}

function duBytes(dir: string): number {
  try {
    return Number(execFileSync("du", ["-sb", dir], { encoding: "utf8" }).split("\t")[0]);
  } catch {
    return 0;
  }
}

/** Builds the dashboard once for the whole run, into a directory of its own. */
let built: string | null = null;
function buildDashboard(log: (line: string) => void): string {
  if (built) return built;
  const out = join(ROOT, "bench", "tmp", `dist-${process.pid}`);
  log("building the dashboard (vite build)");
  execFileSync(process.execPath, [join(ROOT, "node_modules/vite/bin/vite.js"), "build", "--logLevel", "warn", "--outDir", out], {
    cwd: ROOT,
    stdio: "inherit",
  });
  process.once("exit", () => rmSync(out, { recursive: true, force: true }));
  built = out;
  return out;
}

async function oneRun(label: string, n: number, shards: number, dist: string, log: (line: string) => void, landTimeoutMs: number): Promise<TownScaleRun> {
  const dir = mkdtempSync(join(tmpdir(), "townhall-town-scale-"));
  // The containers' logs, kept after a run that failed (bench/tmp is git-ignored).
  const logDir = join(ROOT, "bench", "tmp", `town-scale-${process.pid}`, label.replace(/[^a-z0-9]+/gi, "-"));
  mkdirSync(logDir, { recursive: true });
  const server = await BenchServer.start({}, { serve: dist });
  const containers: ReturnType<typeof startContainer>[] = [];
  const load0 = loadavg()[0]!;
  const run: TownScaleRun = {
    label,
    rigs: n,
    containers: shards,
    beads: n * BEADS_PER_RIG,
    wallS: 0,
    beadsPerMin: 0,
    convoyLandS: { p50: 0, max: 0 },
    containerCpuS: 0,
    serverCpuS: 0,
    workerdCpuS: 0,
    cpuPerBeadS: 0,
    containerRssPeakMb: 0,
    serverRssEndMb: 0,
    diskPerRigKb: 0,
    townDocBytes: 0,
    townMailDocBytes: 0,
    convoyCreateS: 0,
    townUpdateBytes: 0,
    townUpdates: 0,
    townResyncs: 0,
    overviewMs: null,
    overviewSockets: [],
    overviewWorkerdCpuS: null,
    restWorkerdMsPerS: 0,
    restContainerMsPerS: 0,
    rigsReadyS: 0,
    loadavg: { before: load0, after: 0 },
  };
  let sampler: ReturnType<typeof setInterval> | null = null;
  try {
    const town = await benchTown(server.host, "scale");
    const view = town.replica("main", town.town);
    await view.whenSynced();
    const names = Array.from({ length: n }, (_, i) => `r${String(i).padStart(3, "0")}`);
    log(`${label}: ${n} bare remotes and rigs`);
    const rigs: Rig[] = [];
    for (const name of names) rigs.push(await town.addRig(name, { git_url: makeBareRepo(dir, name), max_polecats: POLECATS }));

    // Containers: one town-wide, or `shards` each holding a token that names its rigs.
    const tReady0 = Date.now();
    const per = Math.ceil(n / shards);
    for (let s = 0; s < shards; s++) {
      const mine = rigs.slice(s * per, (s + 1) * per);
      if (!mine.length) continue;
      const exp = Math.floor(Date.now() / 1000) + 3600;
      const token =
        shards === 1 ? town.container : await signToken({ role: "container", town: town.town, exp, rigs: mine.map((r) => r.id) } as TokenInput, SECRET);
      const workspace = join(dir, `workspace-${s}`);
      mkdirSync(workspace, { recursive: true });
      containers.push(
        startContainer(server.host, town.town, token, workspace, join(logDir, `container-${s}.log`), shards === 1 ? undefined : mine.map((r) => r.name)),
      );
    }
    await untilReplica(
      view,
      (doc) => {
        const all = [...doc.getMap<Rig>("rigs").values()];
        return all.length === n && all.every((r) => r.status === "ready");
      },
      10 * 60_000,
      "every rig ready",
    );
    run.rigsReadyS = (Date.now() - tReady0) / 1000;
    log(`${label}: ${n} rigs ready in ${fmt(run.rigsReadyS)} s`);

    const operators = await Promise.all(rigs.map(() => town.token({ role: "operator" })));
    const tree = () => containers.reduce((s, c) => s + processTreeCpuSeconds(c.child.pid!), 0);
    const treeRss = () => containers.reduce((s, c) => s + processTreeRss(c.child.pid!), 0);
    sampler = setInterval(() => (run.containerRssPeakMb = Math.max(run.containerRssPeakMb, treeRss() / 2 ** 20)), 500);
    const workerd = server.workerdPid();
    const c0 = tree();
    const s0 = server.cpuSeconds();
    const w0 = workerd ? processCpuSeconds(workerd) : 0;
    // What the town document sends one subscriber while the work goes on.
    let counting = true;
    let bound: Y.Doc | null = view.doc;
    const onUpdate = (update: Uint8Array) => {
      if (!counting) return;
      run.townUpdates++;
      run.townUpdateBytes += update.byteLength;
    };
    view.doc.on("update", onUpdate);
    const offView = view.onChange((r) => {
      if (r.doc === bound || r.status !== "live") return;
      bound?.off("update", onUpdate);
      bound = r.doc;
      bound.on("update", onUpdate);
      if (counting) {
        run.townResyncs++;
        run.townUpdateBytes += Y.encodeStateAsUpdate(r.doc).byteLength;
      }
    });
    const t0 = Date.now();
    const landedAt = new Map<string, number>();
    // At most CREATE_IN_FLIGHT convoys asked for at once: all 100 at once over HTTP ended one run in
    // `fetch failed` (a connection not accepted within undici's 10 s while the machine was saturated).
    const created: Convoy[] = await pool(rigs.length, CREATE_IN_FLIGHT, (i) =>
      town.townCall<ConvoyProgress>(
        "gt_convoy_create",
        {
          title: `${rigs[i]!.name} batch`,
          beads: Array.from({ length: BEADS_PER_RIG }, (_, b) => ({
            title: `${rigs[i]!.name} ${b + 1}`,
            body: `write ${rigs[i]!.name}-${b + 1}.txt: ${b + 1}`,
            rig: rigs[i]!.name,
          })),
        },
        operators[i],
      ),
    );
    run.convoyCreateS = (Date.now() - t0) / 1000;
    const ids = new Set(created.map((c) => c.id));
    // Landed convoys past the town's live window move to storage: one seen landed counts, one gone
    // without being seen landed is asked for (gt_convoy_status) once the others are done.
    const vanished = new Set<string>();
    // No convoy bead changing for STALL_MS fails the run (naming the stuck beads) rather than
    // waiting for the rooms' own timeouts: a measurement of throughput, not of recovery.
    let progressAt = Date.now();
    let lastStates = "";
    let stuck: string[] = [];
    const landed = untilReplica(
      view,
      (doc) => {
        const live = doc.getMap<Convoy>("convoys");
        const states: string[] = [];
        stuck = [];
        for (const id of ids) {
          if (landedAt.has(id)) continue;
          const c = live.get(id);
          if (!c) vanished.add(id);
          else if (c.status !== "open") landedAt.set(id, Date.now());
          else
            for (const b of c.beads)
              (states.push(b.status), b.status !== "closed" && b.status !== "failed" && stuck.push(`${b.rigName}:${b.beadId.slice(-8)}:${b.status}`));
        }
        const key = `${landedAt.size}|${states.join(",")}`;
        if (key !== lastStates) ((lastStates = key), (progressAt = Date.now()));
        return landedAt.size + vanished.size >= ids.size;
      },
      landTimeoutMs,
      "every convoy landed",
    );
    const watchdog = new Promise<never>((_, reject) => {
      const timer = setInterval(() => {
        if (Date.now() - progressAt < STALL_MS) return;
        clearInterval(timer);
        reject(new Error(`no convoy bead changed for ${STALL_MS / 1000} s; waiting: ${stuck.slice(0, 10).join(" ")}; container logs in ${logDir}`));
      }, 1000);
      void landed.finally(() => clearInterval(timer)).catch(() => {});
    });
    await Promise.race([landed, watchdog]);
    for (const id of vanished) {
      if (landedAt.has(id)) continue;
      const c = await town.townCall<ConvoyProgress>("gt_convoy_status", { id });
      if (c.status === "open") throw new Error(`convoy ${id} left the live document but is still open`);
      landedAt.set(id, c.landedAt ?? Date.now());
    }
    const t1 = Math.max(...landedAt.values());
    counting = false;
    offView();
    bound?.off("update", onUpdate);
    run.wallS = (t1 - t0) / 1000;
    run.containerCpuS = tree() - c0;
    run.serverCpuS = server.cpuSeconds() - s0;
    run.workerdCpuS = workerd ? processCpuSeconds(workerd) - w0 : 0;
    clearInterval(sampler);
    sampler = null;
    run.beadsPerMin = run.beads / (run.wallS / 60);
    run.cpuPerBeadS = (run.containerCpuS + run.serverCpuS) / run.beads;
    const lands = [...landedAt.values()].map((t) => (t - t0) / 1000).sort((a, b) => a - b);
    run.convoyLandS = { p50: lands[Math.floor(lands.length / 2)]!, max: lands.at(-1)! };
    run.serverRssEndMb = server.memory().groupRss / 2 ** 20;
    run.diskPerRigKb = containers.reduce((s, _c, i) => s + duBytes(join(dir, `workspace-${i}`, "rigs")), 0) / n / 1024;
    run.townDocBytes = Y.encodeStateAsUpdate(view.doc).byteLength;
    const mail = town.replica("main", town.town, town.operator, "mail");
    await mail.whenSynced();
    run.townMailDocBytes = Y.encodeStateAsUpdate(mail.doc).byteLength;
    log(`${label}: ${run.beads} beads landed in ${fmt(run.wallS)} s; container ${fmt(run.containerCpuS)} CPU s, server ${fmt(run.serverCpuS)} CPU s`);

    // At rest: what a town of N idle rigs costs per second (heartbeats, lease renewals, alarms).
    const rw0 = workerd ? processCpuSeconds(workerd) : 0;
    const rc0 = tree();
    const r0 = performance.now();
    await new Promise((resolve) => setTimeout(resolve, REST_MS));
    const restS = (performance.now() - r0) / 1000;
    run.restWorkerdMsPerS = workerd ? (1000 * (processCpuSeconds(workerd) - rw0)) / restS : 0;
    run.restContainerMsPerS = (1000 * (tree() - rc0)) / restS;

    // The overview in Chromium, after the work (the town at rest): navigation → all N rig cards.
    const browser = await chromium.launch({
      executablePath: "/usr/bin/chromium",
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
    });
    try {
      const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
      const page = await context.newPage();
      page.on("websocket", (ws) => run.overviewSockets.push(new URL(ws.url()).pathname));
      const ow0 = workerd ? processCpuSeconds(workerd) : 0;
      const o0 = Date.now();
      await page.goto(`http://${server.host}/t/${town.town}?token=${town.viewer}`);
      await page
        .locator("[data-testid=rig-card]")
        .nth(n - 1)
        .waitFor({ timeout: 120_000 });
      run.overviewMs = Date.now() - o0;
      run.overviewWorkerdCpuS = workerd ? processCpuSeconds(workerd) - ow0 : null;
      const cards = await page.locator("[data-testid=rig-card]").count();
      if (cards !== n) throw new Error(`the overview shows ${cards} rig cards, not ${n}`);
      await context.close();
    } finally {
      await browser.close();
    }
    town.closeAll();
  } catch (error) {
    // With its cause: undici's "fetch failed" says nothing by itself (refused? reset? timed out?).
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    run.error = `${String((error as Error).message ?? error).split("\n")[0]}${cause ? ` (${cause.code ?? ""} ${cause.message ?? ""})` : ""}`.slice(0, 300);
    log(`${label} failed: ${(error as Error).stack}`);
    for (const c of containers) log(`container log (tail):\n${c.log().slice(-2000)}`);
  } finally {
    if (sampler) clearInterval(sampler);
    await Promise.all(containers.map((c) => c.stop()));
    await server.close();
    rmSync(dir, { recursive: true, force: true });
    if (!run.error) rmSync(logDir, { recursive: true, force: true }); // kept only for a run that failed
    run.loadavg.after = loadavg()[0]!;
  }
  return run;
}

export async function runTownScale(options: TownScaleOptions): Promise<{ runs: TownScaleRun[]; markdown: string }> {
  const dist = buildDashboard(options.log);
  const runs: TownScaleRun[] = [];
  const timeout = options.landTimeoutMs ?? 30 * 60_000;
  for (const n of options.sizes) runs.push(await oneRun(`${n} rigs, 1 container`, n, 1, dist, options.log, timeout));
  if (options.shardedSize && options.shards > 1) {
    const n = options.shardedSize;
    runs.push(await oneRun(`${n} rigs, ${options.shards} containers`, n, options.shards, dist, options.log, timeout));
  }
  return { runs, markdown: renderTownScale(runs) };
}

export function renderTownScale(runs: TownScaleRun[], meta: { startedAt?: string; serverCode?: { hash: string; git: string } } = {}): string {
  const rows: Cell[][] = runs.map((r) => [
    r.label,
    r.beads,
    r.error ? `failed: ${r.error}` : fmt(r.wallS),
    fmt(r.beadsPerMin, 1),
    `${fmt(r.convoyLandS.p50)} / ${fmt(r.convoyLandS.max)}`,
    fmt(r.containerCpuS),
    fmt(r.serverCpuS),
    fmt(r.workerdCpuS),
    fmt(r.cpuPerBeadS, 2),
    `${fmt((100 * (r.containerCpuS + r.serverCpuS)) / Math.max(1e-9, r.wallS), 0)}%`,
    Math.round(r.containerRssPeakMb),
    Math.round(r.serverRssEndMb),
    Math.round(r.diskPerRigKb),
    r.townDocBytes,
    r.townMailDocBytes,
    r.overviewMs ?? "–",
    r.overviewWorkerdCpuS === null ? "–" : fmt(r.overviewWorkerdCpuS, 2),
    fmt(r.rigsReadyS),
    fmt(r.convoyCreateS, 2),
  ]);
  const perRig: Cell[][] = runs
    .filter((r) => !r.error)
    .map((r) => [
      r.label,
      fmt((1000 * r.workerdCpuS) / r.wallS, 0),
      fmt((1000 * r.workerdCpuS) / r.wallS / r.rigs, 1),
      fmt(r.serverCpuS / r.beads, 3),
      fmt(r.containerCpuS / r.beads, 3),
      Math.round(r.townDocBytes / r.rigs),
      Math.round(r.townUpdateBytes / r.beads),
      fmt(r.townUpdates / r.beads, 1),
      r.townResyncs,
      fmt(r.restWorkerdMsPerS, 1),
      fmt(r.restContainerMsPerS, 1),
      r.overviewMs === null ? "–" : fmt(r.overviewMs / r.rigs, 1),
      r.overviewSockets.join(" "),
    ]);
  const cores = cpus().length;
  // Growth against the smallest single-container run of the same invocation (the same-run baseline).
  const singles = runs.filter((r) => r.containers === 1 && !r.error);
  const base = singles[0];
  const ratio = (a: number, b: number) => (b > 0 ? `${fmt(a / b, 2)}×` : "–");
  const growth: Cell[][] = base
    ? singles.map((r) => [
        r.label,
        ratio(r.rigs, base.rigs),
        ratio(r.beadsPerMin, base.beadsPerMin),
        ratio(r.cpuPerBeadS, base.cpuPerBeadS),
        ratio(r.serverCpuS / r.beads, base.serverCpuS / base.beads),
        ratio(r.townDocBytes, base.townDocBytes),
        ratio(r.townUpdateBytes / r.beads, base.townUpdateBytes / base.beads),
        ratio(r.restWorkerdMsPerS, base.restWorkerdMsPerS),
        r.overviewMs && base.overviewMs ? ratio(r.overviewMs, base.overviewMs) : "–",
        ratio(r.convoyCreateS, base.convoyCreateS),
        `${fmt((100 * (r.containerCpuS + r.serverCpuS)) / r.wallS / cores, 0)}% of ${cores} cores`,
      ])
    : [];
  const out = [
    "# Town scale",
    "",
    `${meta.startedAt ?? new Date().toISOString()} · ${cores} CPUs · node ${process.version}${meta.serverCode ? ` · server code: party/ snapshot ${meta.serverCode.hash} of ${meta.serverCode.git}` : ""}`,
    "",
    `One town per run on its own \`partykit dev\`; ${POLECATS} polecats per rig, scripted agents, local bare remotes; one convoy of ${BEADS_PER_RIG} beads per rig, each created with its own operator token. Wall = first gt_convoy_create → last convoy seen landed. CPU: container = its process tree (agents run in process groups of their own), live members plus what each reaped (agents, git), summed over containers; RSS the same tree's, sampled every 500 ms; server = partykit dev's process group; workerd = the one process that runs every room (the town room's own share cannot be split from the rig rooms'). Busy = (container + server CPU) ÷ wall, against ${cores * 100}% for ${cores} cores. At rest = a ${REST_MS / 1000} s window after the work, containers still connected (CPU is read in 10 ms ticks: a resolution of ${(1000 / REST_MS) * 10} ms per s). Overview = Chromium navigation until all N rig cards show (the town at rest, after the work), its sockets listed. One attempt per run, nothing retried.`,
    "",
    mdTable(
      [
        "run",
        "beads",
        "wall s",
        "beads/min",
        "convoy landed s p50 / max",
        "container CPU s",
        "server CPU s",
        "workerd CPU s",
        "CPU s per bead",
        "busy",
        "container RSS peak MB",
        "server RSS MB",
        "disk per rig KB",
        "town doc bytes",
        "town mail doc bytes",
        "overview ms",
        "workerd CPU s in overview",
        "rigs ready s",
        "convoys created s",
      ],
      rows,
    ),
    "",
    "## Per rig and per bead",
    "",
    mdTable(
      [
        "run",
        "workerd CPU ms per s",
        "workerd CPU ms per s per rig",
        "server CPU s per bead",
        "container CPU s per bead",
        "town doc bytes per rig",
        "town doc bytes to one subscriber per bead",
        "town doc updates per bead",
        "town doc resyncs (rebuilds)",
        "at rest: workerd CPU ms per s",
        "at rest: container CPU ms per s",
        "overview ms per rig",
        "overview sockets",
      ],
      perRig,
    ),
    "",
    "## Growth against the smallest run",
    "",
    "Linear town-side costs keep the per-bead ratios near 1× and the per-town ones near the rigs ratio; more than that grows faster than linear. Throughput stops growing where the machine is saturated (the last column near 100%).",
    "",
    mdTable(
      [
        "run",
        "rigs",
        "beads/min",
        "CPU s per bead",
        "server CPU s per bead",
        "town doc bytes",
        "town doc bytes per bead (one subscriber)",
        "workerd CPU at rest",
        "overview ms",
        "convoys created s",
        "busy",
      ],
      growth,
    ),
    "",
    ...runs.map((r) => `- ${r.label}: load average ${r.loadavg.before} → ${r.loadavg.after}`),
    "",
  ];
  return out.join("\n");
}

/** `npm run bench -- --town-scale …`: writes bench/results/town-scale.md and .json. */
export async function townScaleMain(
  args: string[],
  log: (line: string) => void,
  meta: { startedAt: string; serverCode: { hash: string; git: string } },
): Promise<void> {
  const value = (name: string) => args.find((a) => a.startsWith(`${name}=`))?.split("=")[1] ?? (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
  const sizes = (value("--town-scale-sizes") ?? "10,30,100").split(",").map(Number);
  if (sizes.some((s) => !Number.isInteger(s) || s < 1)) throw new Error("--town-scale-sizes takes whole numbers ≥ 1, e.g. 3 or 10,30,100");
  const shards = Number(value("--town-scale-shards") ?? "4");
  const largest = Math.max(...sizes);
  const { runs } = await runTownScale({ sizes, shards: Math.min(shards, largest), shardedSize: largest, log });
  const markdown = renderTownScale(runs, meta);
  console.log(markdown);
  const dir = join(ROOT, "bench", "results");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "town-scale.md"), markdown);
  writeFileSync(join(dir, "town-scale.json"), JSON.stringify({ ...meta, sizes, shards, runs }, null, 2) + "\n");
  log(`written to ${join(dir, "town-scale.md")}`);
  if (runs.some((r) => r.error)) process.exitCode = 1;
}
