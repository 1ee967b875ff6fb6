/**
 * npm run token -- --role <operator|viewer|agent|container> --town <town> [--rig <rigId>]
 *                  [--rigs <rigId,rigId>] [--agent <identity>] [--ttl <seconds, 1 day unless given, 30 days at most>]
 * Prints a token (an HS256 JWT) signed with GT_SECRET from the environment, or from the state file
 * `npm start` wrote. `--agent mayor` (no --rig) is the Mayor's token.
 */
import { parseArgs } from "node:util";
import { signToken } from "../party/auth.ts";
import { MAX_TOKEN_LIFETIME_S, TOKEN_ROLES, tokenClaims, type TokenInput } from "../party/protocol.ts";
import { readLocalState } from "../container/local-state.ts";

function fail(message: string): never {
  console.error(`token: ${message}`);
  process.exit(2);
}

const { values } = parseArgs({
  options: {
    role: { type: "string" },
    town: { type: "string" },
    rig: { type: "string" },
    rigs: { type: "string" },
    agent: { type: "string" },
    ttl: { type: "string", default: String(24 * 3600) },
  },
  strict: true,
});

const state = readLocalState();
const secret = process.env.GT_SECRET ?? state?.secret;
if (!secret) fail("no secret: set GT_SECRET, or run npm start once to create .townhall/state.json");
if (!values.role || !(TOKEN_ROLES as readonly string[]).includes(values.role)) fail(`--role must be one of ${TOKEN_ROLES.join(", ")}`);
const ttl = Number(values.ttl);
if (!Number.isInteger(ttl) || ttl <= 0) fail("--ttl must be a positive number of seconds");
if (ttl > MAX_TOKEN_LIFETIME_S)
  fail(`--ttl may be at most ${MAX_TOKEN_LIFETIME_S} seconds (${MAX_TOKEN_LIFETIME_S / 86_400} days): the rooms refuse longer-lived tokens`);
const now = Math.floor(Date.now() / 1000);
const input = {
  iat: now,
  role: values.role,
  town: values.town ?? state?.town,
  ...(values.rig ? { rig: values.rig } : {}),
  ...(values.rigs ? { rigs: values.rigs.split(",").map((r) => r.trim()) } : {}),
  ...(values.agent ? { agent: values.agent } : {}),
  exp: now + ttl,
} as TokenInput;
// Checked here with the claims' own schema, so a mistake is named by its option.
const { town: aud, ...claims } = input;
const checked = tokenClaims.safeParse({ ...claims, aud, sub: "x", iat: now, jti: "x" });
if (!checked.success) fail(checked.error.issues.map((i) => `--${String(i.path[0]) === "aud" ? "town" : String(i.path[0])}: ${i.message}`).join("; "));
if (input.role === "agent" && input.agent !== "mayor" && (!input.agent || !input.rig))
  fail("agent tokens need --rig <rigId> and --agent <identity> (or --agent mayor, the Mayor's token, with no --rig)");
if (input.role === "agent" && input.agent === "mayor" && input.rig) fail("the Mayor's token (--agent mayor) takes no --rig");
console.log(await signToken(input, secret));
