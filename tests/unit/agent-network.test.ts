/** The agents' network rule as text (what nft is given), and the parsing around it: pure functions. */
import { describe, expect, it } from "vitest";
import { parseCidr, parseHostPort, remoteHostPort, resolverEndpoints, rulesetFor } from "../../container/agent-network.ts";
import { leadingProgram } from "../../container/runtimes.ts";
import { exitThroughInit } from "../../container/sandbox.ts";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const base = {
  table: "townhall_0123456789",
  cgroup: { path: "unified/townhall_0123456789", level: 1 },
  allowed: [{ address: "127.0.0.1", port: 1999, protocols: ["tcp"] as const }],
  rigs: [{ cgroup: "th-abc", allowed: [{ address: "::1", port: 9418, protocols: ["tcp"] as const }] }],
  egress: null,
  owner: "townhall container pid 1",
};

describe("rulesetFor", () => {
  it("replaces the table in one script, jumps agents' sockets by cgroup, and refuses the machine's own addresses after the allowed ones", () => {
    const script = rulesetFor(base);
    const lines = script.split("\n").map((l) => l.trim());
    // Declared, deleted, made again: one transaction, whether or not the table was there.
    expect(lines.slice(0, 3)).toEqual(["table inet townhall_0123456789", "delete table inet townhall_0123456789", "table inet townhall_0123456789 {"]);
    expect(lines).toContain('socket cgroupv2 level 1 "unified/townhall_0123456789" jump agents');
    const allowRig = lines.indexOf('socket cgroupv2 level 2 "unified/townhall_0123456789/th-abc" ip6 daddr ::1 tcp dport 9418 accept');
    const allowRooms = lines.indexOf("ip daddr 127.0.0.1 tcp dport 1999 accept");
    const refuseLocal = lines.indexOf("fib daddr type local reject");
    expect(allowRig).toBeGreaterThan(0);
    expect(allowRooms).toBeGreaterThan(allowRig);
    expect(refuseLocal).toBeGreaterThan(allowRooms);
    expect(lines).toContain("ip daddr 169.254.0.0/16 reject"); // instance metadata: the machine's credentials
    expect(script).not.toContain("!="); // beyond the machine: open
  });

  it("with an egress allowlist, refuses every other network of each family", () => {
    const lines = rulesetFor({ ...base, egress: ["203.0.113.0/24"] })
      .split("\n")
      .map((l) => l.trim());
    expect(lines).toContain("meta nfproto ipv4 ip daddr != { 203.0.113.0/24 } reject");
    expect(lines).toContain("meta nfproto ipv6 reject");
  });
});

describe("parsing", () => {
  it("host:port, CIDRs, git remotes", () => {
    expect(parseHostPort("127.0.0.1:8080")).toEqual({ host: "127.0.0.1", port: 8080 });
    expect(parseHostPort("[::1]:11434")).toEqual({ host: "::1", port: 11434 });
    expect(parseHostPort("localhost:1999")).toEqual({ host: "localhost", port: 1999 });
    for (const bad of ["8080", "host:", "host:0", "host:70000", "a b:1", "::1:80"]) expect(parseHostPort(bad), bad).toBeNull();
    expect(parseCidr("10.0.0.0/8")).toBe("10.0.0.0/8");
    expect(parseCidr("2001:db8::/32")).toBe("2001:db8::/32");
    expect(parseCidr("192.0.2.7")).toBe("192.0.2.7");
    for (const bad of ["10.0.0.0/33", "example.com/8", "10.0.0.0/8/1", "", "1.2.3.4/x"]) expect(parseCidr(bad), bad).toBeNull();
    expect(remoteHostPort("https://127.0.0.1:8443/r.git")).toEqual({ host: "127.0.0.1", port: 8443 });
    expect(remoteHostPort("https://git.example.com/r.git")).toEqual({ host: "git.example.com", port: 443 });
    expect(remoteHostPort("ssh://git@[::1]:2222/r.git")).toEqual({ host: "::1", port: 2222 });
    expect(remoteHostPort("git@github.com:me/r.git")).toEqual({ host: "github.com", port: 22 });
    expect(remoteHostPort("/srv/git/r.git")).toBeNull();
    expect(remoteHostPort("file:///srv/git/r.git")).toBeNull();
  });

  it("the resolvers of resolv.conf", () => {
    const file = join(mkdtempSync(join(tmpdir(), "resolv-")), "resolv.conf");
    writeFileSync(file, "# comment\nnameserver 127.0.0.53\nnameserver fe80::1%eth0\nsearch example\nnameserver not-an-ip\n");
    expect(resolverEndpoints(file)).toEqual([
      { address: "127.0.0.53", port: 53, protocols: ["udp", "tcp"] },
      { address: "fe80::1", port: 53, protocols: ["udp", "tcp"] },
    ]);
    expect(resolverEndpoints(join(file, "missing"))).toEqual([]);
  });

  it("the program a command runtime starts first", () => {
    expect(leadingProgram("claude -p hi")).toBe("claude");
    expect(leadingProgram("FOO=1 BAR=x /opt/bin/codex exec")).toBe("/opt/bin/codex");
    expect(leadingProgram("  gt prime && do-work")).toBe("gt");
    for (const unjudged of ["(cd x && y)", "exec claude", 'sh -c "x"', "", "$CLI run", "if true; then x; fi"])
      expect(leadingProgram(unjudged), unjudged).toBeNull();
  });
});

describe("exitThroughInit", () => {
  it("reads 128+n as signal n only when the container sent that signal", () => {
    expect(exitThroughInit(143, null, new Set(["SIGTERM"]))).toEqual({ code: null, signal: "SIGTERM" });
    expect(exitThroughInit(143, null, new Set())).toEqual({ code: 143, signal: null });
    expect(exitThroughInit(137, null, new Set(["SIGTERM"]))).toEqual({ code: 137, signal: null });
    expect(exitThroughInit(4, null, new Set(["SIGTERM"]))).toEqual({ code: 4, signal: null });
    expect(exitThroughInit(null, "SIGKILL", new Set(["SIGKILL"]))).toEqual({ code: null, signal: "SIGKILL" });
  });
});
