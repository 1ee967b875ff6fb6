/**
 * `npm start`'s links across starts (scripts/town-link.ts): the earlier start's links are printed
 * again while they are good, a new one only when needed, and the terminal says which; and what its
 * Ctrl-C says (scripts/terminal.ts).
 */
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { ShareLink } from "../../party/protocol.ts";
import { REUSE_MIN_LEFT_MS, linkNote, operatorVerdict, readKeptLinks, shareVerdict, writeKeptLinks, type KeptLinks } from "../../scripts/town-link.ts";
import { stoppedMessage } from "../../scripts/terminal.ts";

const NOW = 1_800_000_000_000;
const DAY = 86_400_000;
const kept: KeptLinks = {
  town: "demo",
  operator: { token: "op.token.x", expiresAt: NOW + 20 * DAY },
  share: { id: "L1", path: "/t/demo?token=abc", expiresAt: NOW + 5 * DAY },
};
const listed = (extra: Partial<ShareLink> = {}): ShareLink[] => [
  { id: "L0", path: "/t/demo", view: { kind: "town" } as ShareLink["view"], createdAt: NOW - DAY, expiresAt: NOW + DAY * 6 },
  { id: "L1", path: "/t/demo", view: { kind: "town" } as ShareLink["view"], createdAt: NOW - 2 * DAY, expiresAt: NOW + 5 * DAY, ...extra },
];

describe("the read-only link across starts", () => {
  it("is reused while the town lists it unrevoked with a day or more left", () => {
    expect(shareVerdict(kept, "demo", listed(), NOW)).toEqual({ reuse: true });
    expect(shareVerdict(kept, "demo", listed({ expiresAt: NOW + REUSE_MIN_LEFT_MS }), NOW)).toEqual({ reuse: true });
  });

  it("is minted anew, with why, when none is kept, it is another town's, gone, revoked, expired or nearly so", () => {
    expect(shareVerdict(null, "demo", listed(), NOW)).toEqual({ reuse: false, why: "none kept from an earlier start" });
    expect(shareVerdict({ ...kept, share: undefined }, "demo", listed(), NOW)).toMatchObject({ reuse: false });
    expect(shareVerdict(kept, "other", listed(), NOW)).toEqual({ reuse: false, why: "none kept from an earlier start" });
    expect(shareVerdict(kept, "demo", [listed()[0]!], NOW)).toEqual({ reuse: false, why: "the town no longer has the earlier one" });
    expect(shareVerdict(kept, "demo", listed({ revokedAt: NOW - 1 }), NOW)).toEqual({ reuse: false, why: "the earlier one was revoked" });
    expect(shareVerdict(kept, "demo", listed({ expiresAt: NOW - 1 }), NOW)).toEqual({ reuse: false, why: "the earlier one expired" });
    expect(shareVerdict(kept, "demo", listed({ expiresAt: NOW + REUSE_MIN_LEFT_MS - 1 }), NOW)).toEqual({
      reuse: false,
      why: "the earlier one expires within a day",
    });
  });
});

describe("the operator's dashboard link across starts", () => {
  it("is reused while this secret accepts it and a day or more is left", () => {
    expect(operatorVerdict(kept, "demo", true, NOW)).toEqual({ reuse: true });
    expect(operatorVerdict(kept, "demo", false, NOW)).toEqual({ reuse: false, why: "the earlier one is not accepted any more" });
    expect(operatorVerdict(kept, "other", true, NOW)).toMatchObject({ reuse: false });
    expect(operatorVerdict(kept, "demo", true, NOW + 20 * DAY - REUSE_MIN_LEFT_MS + 1)).toEqual({ reuse: false, why: "the earlier one expires within a day" });
  });

  it("says which on the terminal", () => {
    const when = (ms: number) => new Date(ms).toISOString();
    expect(linkNote({ reuse: true }, NOW, when)).toBe(`reused from an earlier start, valid until ${when(NOW)}`);
    expect(linkNote({ reuse: false, why: "the earlier one was revoked" }, NOW, when)).toBe(`new, valid until ${when(NOW)} (the earlier one was revoked)`);
  });
});

describe("the kept links file", () => {
  it("is written 0600 and read back; a file that is not one reads as none", () => {
    const dir = mkdtempSync(join(tmpdir(), "town-link-"));
    try {
      expect(readKeptLinks(dir)).toBeNull();
      writeKeptLinks(dir, kept);
      expect(statSync(join(dir, "links.json")).mode & 0o777).toBe(0o600);
      expect(readKeptLinks(dir)).toEqual(kept);
      writeKeptLinks(dir, { town: "demo" });
      expect(readKeptLinks(dir)).toEqual({ town: "demo" });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("what Ctrl-C says", () => {
  it("names what it stopped, where the town is kept and how to start again or over", () => {
    const text = stoppedMessage(
      [
        { name: "the container", detail: "and the agents it ran", pid: 12, exited: true },
        { name: "partykit dev", detail: "on port 1999", pid: 11, exited: false },
      ],
      { stateDir: "/w/.townhall" },
    );
    expect(text).toContain("stopped: the container and the agents it ran (pid 12)");
    expect(text).toContain("still stopping (sent SIGTERM): partykit dev on port 1999 (pid 11)");
    expect(text).toContain("The town is kept in /w/.townhall");
    expect(text).toContain("npm start resumes it");
    expect(text).toContain("delete /w/.townhall");
    expect(stoppedMessage([], { stateDir: "/s", sharedDir: "/var/lib/townhall/x" })).toMatch(/nothing was running yet[\s\S]*\/var\/lib\/townhall\/x/);
  });
});
