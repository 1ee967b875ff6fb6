/**
 * npm run token -- --role <operator|viewer|agent|container> --town <town> [--rig <rigId>]
 *                  [--agent <identity>] [--ttl <seconds>]
 * Prints a token signed with GT_SECRET from the environment, or from the state file `npm start` wrote.
 */
import { parseArgs } from "node:util";
import { signToken } from "../party/auth.ts";
import { TOKEN_ROLES, tokenPayload } from "../party/protocol.ts";
import { readLocalState } from "./local-state.ts";

function fail(message: string): never {
  console.error(`token: ${message}`);
  process.exit(2);
}

const { values } = parseArgs({
  options: {
    role: { type: "string" },
    town: { type: "string" },
    rig: { type: "string" },
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
const payload = tokenPayload.safeParse({
  role: values.role,
  town: values.town ?? state?.town,
  ...(values.rig ? { rig: values.rig } : {}),
  ...(values.agent ? { agent: values.agent } : {}),
  exp: Math.floor(Date.now() / 1000) + ttl,
});
if (!payload.success) fail(payload.error.issues.map((i) => `--${String(i.path[0])}: ${i.message}`).join("; "));
if (payload.data.role === "agent" && (!payload.data.agent || !payload.data.rig)) fail("agent tokens need --rig <rigId> and --agent <identity>");
console.log(await signToken(payload.data, secret));
