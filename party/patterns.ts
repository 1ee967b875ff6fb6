/**
 * The patterns of names and ids, apart from protocol.ts's zod schemas: code that only checks a name
 * (the agents' `gt`, which must start without loading zod) imports them from here.
 */

export const SLUG_RE = /^[a-z0-9][a-z0-9-]{0,39}$/;
/** Generated ids: ULIDs (sortable by time, collision-free). */
export const ULID_RE = /^[0-9A-HJKMNP-TV-Z]{26}$/;
