/**
 * The Townhall wire protocol: every frame, tool argument list, record and error code that crosses a
 * socket or an HTTP boundary, in one module to import from. Its parts are in party/protocol/, each
 * importing only zod and its siblings, with no circle (tests/unit/layers.test.ts checks), so the
 * protocol stays a leaf: the rooms, the dashboard, the container and the tests all share one
 * definition. Parse once at the boundary with these schemas; code behind the boundary only ever
 * sees the parsed types.
 *
 *   version.ts   PROTOCOL_VERSION and its history: a change to the wire bumps it
 *   limits.ts    LIMITS and the tokens' lifetimes: every bound
 *   patterns.ts  the patterns of slugs, ids, mail addresses and model names, and parseAddress
 *   names.ts     slugs, ids and addresses as schemas; identities; git URLs
 *   tokens.ts    the tokens' claims, roles and share views
 *   errors.ts    error codes with their HTTP statuses, ToolError, close codes
 *   records.ts   the live documents' records: rigs, beads, agents, mail, escalations, convoys, feeds
 *   tools.ts     every tool's arguments, and the results clients depend on
 *   frames.ts    the frames on a socket, both ways
 *
 * version, limits, patterns and errors load no zod: code that must start without it (the agents'
 * `gt`) imports values from them directly, and only types from here.
 */
export * from "./protocol/version.ts";
export * from "./protocol/limits.ts";
export { AGENT_ROLES, MODEL_RE, parseAddress, POLECAT_NAME_RE, SLUG_RE, ULID_RE, type Address, type AgentRole } from "./protocol/patterns.ts";
export * from "./protocol/names.ts";
export * from "./protocol/tokens.ts";
export * from "./protocol/errors.ts";
export * from "./protocol/records.ts";
export * from "./protocol/tools.ts";
export * from "./protocol/frames.ts";
