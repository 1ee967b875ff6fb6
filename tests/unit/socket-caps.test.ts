/** Socket caps per room and per principal (party/socket-caps.ts), as pure decisions over open sockets. */
import { describe, expect, it } from "vitest";
import { LIMITS, type TokenPayload } from "../../party/protocol.ts";
import { socketCapProblem, socketCaps } from "../../party/socket-caps.ts";

let serial = 0;
function token(fields: Partial<TokenPayload>): TokenPayload {
  return { sub: "x", town: "demo", iat: 1, exp: 2, jti: `j${++serial}`, role: "operator", ...fields };
}
const link = () => token({ role: "viewer", view: { kind: "town" } });
const viewer = () => token({ role: "viewer" });
const caps = socketCaps({});
const times = <T>(n: number, t: T): T[] => Array.from({ length: n }, () => t);

describe("socket caps", () => {
  it("default to 2,000 a room, 16 a viewer token and 64 a share link; the environment sets each", () => {
    expect(caps).toEqual({ room: 2_000, perViewer: 16, perLink: 64 });
    expect(socketCaps({ GT_MAX_CONNECTIONS: "100", GT_MAX_VIEWER_CONNECTIONS: "3", GT_MAX_LINK_CONNECTIONS: "7" })).toEqual({
      room: 100,
      perViewer: 3,
      perLink: 7,
    });
    // Nonsense is the default, not zero or a fraction.
    expect(socketCaps({ GT_MAX_VIEWER_CONNECTIONS: "0", GT_MAX_LINK_CONNECTIONS: "2.5", GT_MAX_CONNECTIONS: "lots" })).toEqual(caps);
  });

  it.each([
    ["share link", link, 64],
    ["viewer token", viewer, 16],
  ] as const)("a %s holds %i sockets of a room; one more is refused, naming the cap, while another link and a viewer still get in", (what, make, cap) => {
    const mine = make();
    expect(socketCapProblem(times(cap - 1, mine), mine, caps)).toBeNull();
    expect(socketCapProblem(times(cap, mine), mine, caps)).toBe(`this ${what} holds ${cap} sockets here already; at most ${cap} per ${what}`);
    expect(socketCapProblem(times(cap, mine), link(), caps)).toBeNull();
    expect(socketCapProblem(times(cap, mine), viewer(), caps)).toBeNull();
  });

  it("count by principal: an agent's fresh token is the same agent; operators and the container are not capped but by the room", () => {
    const agent = token({ role: "agent", agent: "a/polecats/toast", rig: "r", run: "run-1" });
    const again = { ...agent, jti: "another" };
    expect(socketCapProblem(times(LIMITS.socketsPerAgent, agent), again, caps)).toMatch(/^this agent holds 16 sockets/);
    const operator = token({ role: "operator" });
    expect(socketCapProblem(times(500, operator), operator, caps)).toBeNull();
    expect(socketCapProblem(times(2_000, operator), token({ role: "container" }), caps)).toBe("room full");
  });

  it("viewers hold half of the room together, agents and viewers nine tenths", () => {
    const small = { room: 20, perViewer: 16, perLink: 64 };
    expect(socketCapProblem(Array.from({ length: 10 }, viewer), viewer(), small)).toBe("room full for viewers");
    const crowd = [...Array.from({ length: 9 }, viewer), ...Array.from({ length: 9 }, (_, i) => token({ role: "agent", agent: `a/polecats/p${i}` }))];
    expect(socketCapProblem(crowd, token({ role: "agent", agent: "a/polecats/late" }), small)).toBe(
      "room full: the rest is kept for the container and operators",
    );
    expect(socketCapProblem(crowd, token({ role: "operator" }), small)).toBeNull();
  });
});
