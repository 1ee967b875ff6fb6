import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { CLOSE, ERROR_STATUS, PROTOCOL_VERSION, callFrame, rigToolArgs, tokenClaims, townToolArgs } from "../../party/protocol.ts";

/** A digest of everything on the wire: a change to it must come with a new PROTOCOL_VERSION. */
function fingerprint(): string {
  const schemas = {
    call: z.toJSONSchema(callFrame),
    token: z.toJSONSchema(tokenClaims),
    town: Object.fromEntries(Object.entries(townToolArgs).map(([k, v]) => [k, z.toJSONSchema(v)])),
    rig: Object.fromEntries(Object.entries(rigToolArgs).map(([k, v]) => [k, z.toJSONSchema(v)])),
    errors: ERROR_STATUS,
    closes: CLOSE,
  };
  return createHash("sha256").update(JSON.stringify(schemas)).digest("hex").slice(0, 16);
}

describe("protocol version", () => {
  it("changes only together with the schemas' fingerprint", () => {
    // If this fails you changed the wire protocol: bump PROTOCOL_VERSION (with a line in the history
    // in party/protocol/version.ts) and put the new fingerprint and version here.
    expect({ version: PROTOCOL_VERSION, fingerprint: fingerprint() }).toEqual({ version: 8, fingerprint: "2caa31fd812aec46" });
  });
});
