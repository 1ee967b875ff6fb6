/**
 * Revoked token ids (share links), kept in storage (`revoked:<jti>`) until the token would have
 * expired anyway: refused from then on, and every open socket with one closed (4401).
 */
import type * as Party from "partykit/server";
import { CLOSE } from "../protocol.ts";
import type { Sockets } from "./sockets.ts";

export class Revocations {
  private readonly revoked = new Map<string, number>();

  constructor(
    private readonly storage: Party.Storage,
    private readonly sockets: Sockets,
  ) {}

  /** Reads the revocations stored (at start). */
  async load(): Promise<void> {
    for (const [jti, exp] of await this.storage.list<number>({ prefix: "revoked:" })) this.revoked.set(jti.slice("revoked:".length), exp);
  }

  has(jti: string): boolean {
    return this.revoked.has(jti);
  }

  /** Revokes a token id: refused from now on, and every open socket with it closed (4401). */
  async revoke(jti: string, exp: number): Promise<void> {
    if (!this.revoked.has(jti)) {
      this.revoked.set(jti, exp);
      await this.storage.put({ [`revoked:${jti}`]: exp });
    }
    for (const [id, info] of [...this.sockets.entries()]) if (info.token.jti === jti) this.sockets.closeConnection(id, CLOSE.UNAUTHORIZED, "token revoked");
    // Entries past their token's expiry are of no use any more.
    const now = Date.now() / 1000;
    const stale = [...this.revoked].filter(([, e]) => e < now).map(([j]) => j);
    if (stale.length) {
      for (const j of stale) this.revoked.delete(j);
      await this.storage.delete(stale.map((j) => `revoked:${j}`));
    }
  }
}
