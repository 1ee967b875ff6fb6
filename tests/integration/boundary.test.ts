/**
 * The rig boundary against a hostile agent, on a real container run as root beside the real
 * `partykit dev` of this project: the agent is a command that scans /proc/net/tcp and tcp6 and
 * connects to every listener on this machine (the dev server's V8 inspectors among them, and a
 * stand-in database the test opens), lists /proc and reads every command line it can see, and
 * reaches for a peer beyond the machine (a network namespace of the test's own, over a veth pair).
 * Only the rooms, what --agent-allow names and the peer beyond the machine may answer; with
 * --agent-egress naming other networks, the peer is refused too. Two containers run at once (each
 * with its own rule), and one is SIGKILLed and restarted: its rule holds again, and a stopped
 * container leaves no rule behind.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { Bead, Rig } from "../../party/protocol.ts";
import { isolating } from "../../container/rig-user.ts";
import { sandboxTable } from "../../container/sandbox.ts";
import { spawnContainer, type ContainerProcess } from "../helpers/container.ts";
import { makeBareRepo, showFile } from "../helpers/git.ts";
import { makeTown, untilReplica, type TestTown } from "../helpers/town.ts";

const host = inject("partykitHost");
const secret = inject("gtSecret");
const roomsPort = Number(host.split(":")[1]);

/**
 * The hostile agent (CommonJS, run with the agents' node): every listener it can find, tried on
 * loopback and on each of the machine's own addresses; what it sees of processes; the peer.
 */
const HOSTILE = String.raw`
const fs = require("node:fs"), net = require("node:net"), os = require("node:os");
const [peerHost, peerPort] = process.argv.slice(2);
const listeners = new Set();
for (const [file, v6] of [["/proc/net/tcp", false], ["/proc/net/tcp6", true]]) {
  for (const line of fs.readFileSync(file, "utf8").split("\n").slice(1)) {
    const [, local, , state] = line.trim().split(/\s+/);
    if (state !== "0A") continue; // LISTEN
    const [addr, port] = local.split(":");
    listeners.add(JSON.stringify([v6, /^0+$/.test(addr), parseInt(port, 16), addr]));
  }
}
const own = Object.values(os.networkInterfaces()).flat().filter((a) => !a.internal && !a.address.startsWith("fe80")).map((a) => a.address);
const targets = new Set();
for (const text of listeners) {
  const [v6, any, port, addr] = JSON.parse(text);
  if (!v6 && addr.endsWith("7F")) targets.add("127.0.0.1:" + port); // 127.x, little-endian hex
  if (v6 && addr === "00000000000000000000000001000000") targets.add("[::1]:" + port);
  if (any) for (const a of ["127.0.0.1", ...(v6 ? ["::1"] : []), ...own]) targets.add((a.includes(":") ? "[" + a + "]" : a) + ":" + port);
}
const attempt = (host, port) => new Promise((done) => {
  const s = net.connect({ host, port: Number(port), timeout: 4000 });
  s.once("connect", () => (s.destroy(), done("connected")));
  s.once("timeout", () => (s.destroy(), done("timeout")));
  s.once("error", (e) => done(e.code || "error"));
});
(async () => {
  const reached = {};
  await Promise.all([...targets].map(async (t) => {
    const cut = t.lastIndexOf(":");
    reached[t] = await attempt(t.slice(0, cut).replace(/^\[|\]$/g, ""), t.slice(cut + 1));
  }));
  const pids = fs.readdirSync("/proc").filter((n) => /^\d+$/.test(n));
  const cmdlines = pids.map((p) => { try { return fs.readFileSync("/proc/" + p + "/cmdline", "utf8").split("\0").join(" "); } catch { return ""; } });
  const peer = await attempt(peerHost, peerPort);
  process.stdout.write(JSON.stringify({ reached, processes: pids.length, cmdlines, peer }, null, 1));
})();
`;

/** A TCP service that greets whoever connects: a stand-in for whatever an operator runs locally. */
function standIn(bind = "127.0.0.1"): Promise<{ server: Server; port: number }> {
  // Whoever connects may be gone at once (a scan): a reset is no error here.
  const server = createServer((socket) => socket.on("error", () => {}).end("stand-in database: hello\n"));
  return new Promise((resolve) => server.listen(0, bind, () => resolve({ server, port: (server.address() as { port: number }).port })));
}

/** The V8 inspector port of this project's `partykit dev`: workerd's, found by its entry port. */
function inspectorPort(): number {
  for (const pid of readdirSync("/proc").filter((n) => /^\d+$/.test(n))) {
    let cmdline = "";
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ");
    } catch {
      continue;
    }
    if (!cmdline.includes(`entry=0.0.0.0:${roomsPort}`)) continue;
    const port = /--inspector-addr=\S+:(\d+)/.exec(cmdline)?.[1];
    if (port) return Number(port);
  }
  throw new Error("the dev server's workerd was not found");
}

/** A peer beyond this machine: a TCP service in a network namespace of its own, over a veth pair. */
function peerBeyond(): { address: string; port: number; close: () => void } {
  const name = `thpeer${process.pid % 10000}`;
  const [outside, inside] = [`th${process.pid % 10000}a`, `th${process.pid % 10000}b`];
  const octet = 16 + (process.pid % 200);
  const ip = (...args: string[]) => execFileSync("ip", args, { stdio: "ignore" });
  ip("netns", "add", name);
  ip("link", "add", outside, "type", "veth", "peer", "name", inside, "netns", name);
  ip("addr", "add", `10.213.${octet}.1/30`, "dev", outside);
  ip("link", "set", outside, "up");
  ip("netns", "exec", name, "ip", "addr", "add", `10.213.${octet}.2/30`, "dev", inside);
  ip("netns", "exec", name, "ip", "link", "set", inside, "up");
  const server: ChildProcess = spawn(
    "ip",
    [
      "netns",
      "exec",
      name,
      process.execPath,
      "-e",
      `require("net").createServer((s) => s.on("error", () => {}).end("peer\\n")).listen(7000, "10.213.${octet}.2", () => console.log("up"))`,
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  return {
    address: `10.213.${octet}.2`,
    port: 7000,
    close: () => {
      server.kill("SIGKILL");
      try {
        ip("netns", "del", name);
      } catch {
        // gone
      }
    },
  };
}

type Findings = { reached: Record<string, string>; processes: number; cmdlines: string[]; peer: string };

describe.runIf(isolating())("the rig boundary against a hostile agent (root, nftables)", () => {
  let dir: string;
  let town: TestTown;
  let peer: ReturnType<typeof peerBeyond>;
  const services: Server[] = [];
  const containers: ContainerProcess[] = [];

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "townhall-boundary-"));
    writeFileSync(join(dir, "hostile.cjs"), HOSTILE, { mode: 0o644 });
    peer = peerBeyond();
  });
  afterAll(async () => {
    await Promise.all(containers.splice(0).map((c) => c.stop()));
    town?.closeAll();
    for (const server of services) server.close();
    peer?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Runs one bead of `rig` through `container` and returns what its agent found (committed to the remote). */
  async function findingsOf(rig: Rig, remote: string, file: string): Promise<Findings> {
    const replica = town.replica("rig", town.rigRoom(rig));
    const bead = await town.rigCall<Bead>(rig, "gt_bead_create", { title: `look around (${file})`, body: file });
    await untilReplica(replica, (doc) => doc.getMap<Bead>("beads").get(bead.id)?.status === "closed", 45_000, `bead ${file} closed`);
    return JSON.parse(showFile(remote, file)!) as Findings;
  }

  const agentCommand = (file: string) =>
    `node ${join(dir, "hostile.cjs")} ${peer.address} ${peer.port} > ${file} && git add -A && git commit -q -m "${file}" && gt done`;

  it("reaches only the rooms, what the operator allows and the world; sees only its own processes; holds across a restart and beside another container", async () => {
    const database = await standIn();
    const gateway = await standIn(); // a local model gateway, say: allowed explicitly
    services.push(database.server, gateway.server);
    const inspector = inspectorPort();
    town = await makeTown(host, secret, "wall");
    const [openRemote, closedRemote] = [makeBareRepo(dir, "open"), makeBareRepo(dir, "closed")];
    const open = await town.addRig("open", { git_url: openRemote });
    const closed = await town.addRig("closed", { git_url: closedRemote });
    const [wsA, wsB] = [join(dir, "a"), join(dir, "b")];
    const a = spawnContainer({
      host,
      town: town.town,
      token: town.container,
      workspace: wsA,
      extra: ["--rigs", "open", "--runtime", "command", "--command", agentCommand("found.json"), "--agent-allow", `127.0.0.1:${gateway.port}`],
    });
    const b = spawnContainer({
      host,
      town: town.town,
      token: town.container,
      workspace: wsB,
      extra: ["--rigs", "closed", "--runtime", "command", "--command", agentCommand("found.json"), "--agent-egress", "198.51.100.0/24"],
    });
    containers.push(a, b);
    await Promise.all([a.waitFor(/\[open\] ready/), b.waitFor(/\[closed\] ready/)]);
    expect(a.output()).toMatch(/agents run in their own PID namespaces/);
    // The container says so with the rig's readiness: the town's summary of the rig carries it.
    const townDoc = town.replica("main", town.town, town.operator, "town");
    await untilReplica(
      townDoc,
      (doc) => doc.getMap<Rig>("rigs").get(open.id)?.summary.boundary?.network === true,
      15_000,
      "the rig's boundary in the town document",
    );
    expect(townDoc.doc.getMap<Rig>("rigs").get(open.id)!.summary.boundary).toEqual({ processes: true, network: true, missing: [] });

    const [found, foundClosed] = await Promise.all([findingsOf(open, openRemote, "found.json"), findingsOf(closed, closedRemote, "found.json")]);
    const connected = Object.entries(found.reached)
      .filter(([, how]) => how === "connected")
      .map(([target]) => target)
      .sort();
    // It found the listeners: the inspector, the stand-in database, the rooms, the gateway.
    for (const port of [inspector, database.port, roomsPort, gateway.port]) expect(found.reached[`127.0.0.1:${port}`], `127.0.0.1:${port}`).toBeDefined();
    expect(Object.keys(found.reached).length).toBeGreaterThan(4);
    expect(connected).toEqual([`127.0.0.1:${gateway.port}`, `127.0.0.1:${roomsPort}`].sort());
    expect(found.reached[`127.0.0.1:${inspector}`]).toBe("ECONNREFUSED");
    expect(found.peer).toBe("connected"); // beyond the machine: open by default
    // Its own run's processes only: no supervisor, no dev server, no other rig.
    expect(found.processes).toBeLessThanOrEqual(4);
    expect(found.cmdlines.join("\n")).not.toMatch(/container\/main\.ts|partykit|workerd/);

    // --agent-egress names other networks: the peer is refused, the rooms still answer (gt done went through).
    expect(foundClosed.peer).toBe("ECONNREFUSED");
    expect(
      Object.entries(foundClosed.reached)
        .filter(([, how]) => how === "connected")
        .map(([t]) => t),
    ).toEqual([`127.0.0.1:${roomsPort}`]);

    // A SIGKILLed container leaves its rule (its agents may still run); restarted, it holds again.
    const table = sandboxTable(readFileSync(join(wsA, "container-id"), "utf8").trim());
    await a.kill();
    const again = spawnContainer({
      host,
      town: town.town,
      token: town.container,
      workspace: wsA,
      extra: ["--rigs", "open", "--runtime", "command", "--command", agentCommand("again.json"), "--agent-allow", `127.0.0.1:${gateway.port}`],
    });
    containers.push(again);
    await again.waitFor(/\[open\] ready/);
    const foundAgain = await findingsOf(open, openRemote, "again.json");
    expect(
      Object.entries(foundAgain.reached)
        .filter(([, how]) => how === "connected")
        .map(([t]) => t)
        .sort(),
    ).toEqual([`127.0.0.1:${gateway.port}`, `127.0.0.1:${roomsPort}`].sort());
    expect(execFileSync("nft", ["list", "tables"], { encoding: "utf8" })).toContain(table);
    // Stopped, it takes its rule with it.
    await again.stop();
    expect(execFileSync("nft", ["list", "tables"], { encoding: "utf8" })).not.toContain(table);
  });
});
