/**
 * The network rule of agent processes, in the kernel: an nftables table per container whose rules
 * match sockets by the cgroup (v2) their process was in when it opened them. Agent processes, and
 * everything they start, live in this container's cgroup (container/sandbox.ts puts them there
 * before they run); the container's own git work for a rig does not, so clones, fetches and pushes
 * reach the rig's remote wherever it is.
 *
 * On the machine itself (any of its own addresses: loopback and the rest, `fib daddr type local`)
 * an agent may connect only to the rooms, the resolver of /etc/resolv.conf when it is local, what
 * the operator allows (`--agent-allow host:port`) and, per rig, that rig's git remote. Link-local
 * addresses (a cloud's instance-metadata service hands out the machine's credentials there) are
 * refused too. Beyond the machine everything stays open, unless the operator gives an allowlist of
 * networks (`--agent-egress`). Refusals are resets and ICMP errors, so a refused connect fails at
 * once instead of hanging.
 *
 * The ruleset is a pure function of its spec (rulesetFor); applying it replaces the whole table in
 * one nft transaction, so a restarted container, or a rig added, never leaves a moment without rules.
 */
import { execFile } from "node:child_process";
import { lookup } from "node:dns/promises";
import { existsSync, readFileSync } from "node:fs";
import { isIP } from "node:net";
import { promisify } from "node:util";

const run = promisify(execFile);

/** One address and port on the machine that agents may reach. */
export type Endpoint = { address: string; port: number; protocols: readonly ("tcp" | "udp")[] };

export type RulesetSpec = {
  /** nftables table name (inet family). */
  table: string;
  /** The container's cgroup, as nft names it (relative to /sys/fs/cgroup) and its level in the hierarchy. */
  cgroup: { path: string; level: number };
  /** Endpoints every agent of this container may reach on the machine (rooms, resolver, --agent-allow). */
  allowed: readonly Endpoint[];
  /** Per rig: its cgroup's name (a child of the container's) and the endpoints only its agents may reach (its git remote). */
  rigs: readonly { cgroup: string; allowed: readonly Endpoint[] }[];
  /** Networks beyond the machine agents may reach (CIDRs); null: all of them. */
  egress: readonly string[] | null;
  /** Written into the table's comment: who installed it (a sweep tells live tables from left-over ones). */
  owner: string;
};

/** The nft script that replaces the table `spec.table` with the agents' rule. */
export function rulesetFor(spec: RulesetSpec): string {
  const q = (text: string) => JSON.stringify(text); // nft quotes strings as JSON does
  const accept = (e: Endpoint) => e.protocols.map((p) => `${family(e.address)} daddr ${e.address} ${p} dport ${e.port} accept`);
  const lines: string[] = [];
  for (const rig of spec.rigs) {
    for (const rule of rig.allowed.flatMap(accept))
      lines.push(`socket cgroupv2 level ${spec.cgroup.level + 1} ${q(`${spec.cgroup.path}/${rig.cgroup}`)} ${rule}`);
  }
  lines.push(...spec.allowed.flatMap(accept));
  lines.push(
    "fib daddr type local meta l4proto tcp reject with tcp reset",
    "fib daddr type local reject",
    "ip daddr 169.254.0.0/16 reject",
    "ip6 daddr fe80::/10 reject",
  );
  if (spec.egress) {
    const v4 = spec.egress.filter((c) => family(c) === "ip");
    const v6 = spec.egress.filter((c) => family(c) === "ip6");
    lines.push(v4.length ? `meta nfproto ipv4 ip daddr != { ${v4.join(", ")} } reject` : "meta nfproto ipv4 reject");
    lines.push(v6.length ? `meta nfproto ipv6 ip6 daddr != { ${v6.join(", ")} } reject` : "meta nfproto ipv6 reject");
  }
  return [
    // Declaring the table first makes the delete safe when it does not exist yet: one transaction.
    `table inet ${spec.table}`,
    `delete table inet ${spec.table}`,
    `table inet ${spec.table} {`,
    `  comment ${q(spec.owner)}`,
    "  chain output {",
    "    type filter hook output priority filter; policy accept;",
    `    socket cgroupv2 level ${spec.cgroup.level} ${q(spec.cgroup.path)} jump agents`,
    "  }",
    "  chain agents {",
    ...lines.map((line) => `    ${line}`),
    "  }",
    "}",
    "",
  ].join("\n");
}

function family(address: string): "ip" | "ip6" {
  return address.includes(":") ? "ip6" : "ip";
}

/** `host:port` (a name, an IPv4 address, or `[v6]`) → its parts; null when it is not one. */
export function parseHostPort(text: string): { host: string; port: number } | null {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s/]+)):(\d{1,5})$/.exec(text.trim());
  const port = Number(match?.[3]);
  if (!match || !Number.isInteger(port) || port < 1 || port > 65535) return null;
  return { host: (match[1] ?? match[2])!, port };
}

/** A CIDR (or a bare address) as nft takes it; null when it is not one. */
export function parseCidr(text: string): string | null {
  const [address, bits, ...rest] = text.trim().split("/");
  if (!address || rest.length) return null;
  const version = isIP(address);
  if (!version) return null;
  if (bits === undefined) return address;
  const n = Number(bits);
  return /^\d{1,3}$/.test(bits) && n <= (version === 4 ? 32 : 128) ? `${address}/${n}` : null;
}

/** The addresses a host name stands for (an address stands for itself); none when it does not resolve. */
export async function addressesOf(host: string): Promise<string[]> {
  if (isIP(host)) return [host];
  try {
    return [...new Set((await lookup(host, { all: true })).map((a) => a.address))];
  } catch {
    return [];
  }
}

/** Endpoints of `host:port` for tcp: one per address it resolves to. */
export async function tcpEndpoints(host: string, port: number): Promise<Endpoint[]> {
  return (await addressesOf(host)).map((address) => ({ address, port, protocols: ["tcp"] }));
}

/** The resolvers of /etc/resolv.conf (tcp and udp 53); the rule only needs the local ones, but more is harmless. */
export function resolverEndpoints(resolvConf = "/etc/resolv.conf"): Endpoint[] {
  let text = "";
  try {
    text = readFileSync(resolvConf, "utf8");
  } catch {
    return [];
  }
  const servers = [...text.matchAll(/^\s*nameserver\s+(\S+)/gm)].map((m) => m[1]!.replace(/%.*$/, "")).filter((a) => isIP(a));
  return servers.map((address) => ({ address, port: 53, protocols: ["udp", "tcp"] }));
}

/**
 * Where a rig's git remote listens, when it is reached over the network: https, http, ssh and git
 * URLs and scp-like `user@host:path`. Local paths and file:// URLs need no network (none).
 */
export function remoteHostPort(gitUrl: string): { host: string; port: number } | null {
  const scp = /^(?:[^@/\s]+@)?([^:/\s]+):(?!\/\/)/.exec(gitUrl);
  if (scp && !gitUrl.includes("://")) return { host: scp[1]!, port: 22 };
  let url: URL;
  try {
    url = new URL(gitUrl);
  } catch {
    return null;
  }
  const defaults: Record<string, number> = { "https:": 443, "http:": 80, "ssh:": 22, "git:": 9418 };
  const port = url.port ? Number(url.port) : defaults[url.protocol];
  if (!port || !url.hostname) return null;
  return { host: url.hostname.replace(/^\[|\]$/g, ""), port };
}

/** The cgroup v2 hierarchy's mount point, from /proc/self/mountinfo; null when there is none. */
export function cgroup2Mount(mountinfo = "/proc/self/mountinfo"): string | null {
  let text: string;
  try {
    text = readFileSync(mountinfo, "utf8");
  } catch {
    return null;
  }
  for (const line of text.split("\n")) {
    const [left, right] = line.split(" - ");
    if (right?.startsWith("cgroup2 ")) return left!.split(" ")[4] ?? null;
  }
  return null;
}

/** Whether nft can be run here (the binary, and the right to change the ruleset: root). */
export async function nftUsable(): Promise<string | null> {
  const nft = ["/usr/sbin/nft", "/sbin/nft", "/usr/bin/nft"].find((path) => existsSync(path));
  if (!nft) return "nftables is not installed (apt-get install nftables)";
  try {
    await run(nft, ["list", "tables"]);
    return null;
  } catch (error) {
    return `nft cannot read the ruleset: ${firstLine(error)}`;
  }
}

/** Runs an nft script (the whole of it one transaction). */
export async function applyNft(script: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const child = execFile("nft", ["-f", "-"], { env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" } }, (error, _stdout, stderr) =>
      error ? reject(new Error(stderr.trim() || error.message)) : resolve(),
    );
    child.stdin!.end(script);
  });
}

/** Deletes a table if it is there. */
export async function deleteTable(table: string): Promise<void> {
  await applyNft(`table inet ${table}\ndelete table inet ${table}\n`);
}

/** Tables of the inet family whose name starts with `prefix`, with their comments (nft's JSON listing leaves comments out). */
export async function tablesWithPrefix(prefix: string): Promise<{ name: string; comment: string }[]> {
  const env = { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" };
  let names: string[];
  try {
    const { stdout } = await run("nft", ["list", "tables", "inet"], { env });
    names = [...stdout.matchAll(/^table inet (\S+)$/gm)].map((m) => m[1]!).filter((name) => name.startsWith(prefix));
  } catch {
    return [];
  }
  const tables: { name: string; comment: string }[] = [];
  for (const name of names) {
    const listing = await run("nft", ["-t", "list", "table", "inet", name], { env }).then(
      (r) => r.stdout,
      () => "",
    );
    tables.push({ name, comment: /^\s*comment "([^"]*)"/m.exec(listing)?.[1] ?? "" });
  }
  return tables;
}

export function firstLine(error: unknown): string {
  const text = (error as { stderr?: string }).stderr?.trim() || (error instanceof Error ? error.message : String(error));
  return text.split("\n")[0]!.slice(0, 200);
}
