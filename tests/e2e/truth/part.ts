/**
 * One seeded town for the "nothing false" rows (tests/e2e/truth.test.ts): each part seeds what its
 * rows need into the shared town once, before any row runs, and registers its rows. Parts must not
 * disturb each other's rigs: each seeds its own rig(s), named after the part.
 */
import type { Page } from "playwright-core";
import type { E2ETown } from "../fixtures.ts";

export type TruthContext<S> = {
  /** The shared town (sockets stay open for the whole file). */
  t: E2ETown;
  /** What this part's seed returned. */
  s: S;
  /** A fresh Chromium page (closed after the row, its page errors asserted empty). */
  page(url: string, options?: { width?: number; height?: number; dark?: boolean }): Promise<Page>;
  /** Runs `fn` after the whole file (stops stand-ins, timers). */
  later(fn: () => void): void;
};

export type TruthPart<S = unknown> = {
  name: string;
  /** Seeds this part's rigs and work in the shared town; runs once, parts in turn. */
  seed(t: E2ETown, later: (fn: () => void) => void): Promise<S>;
  /** Registers this part's rows (vitest `it`s) as a describe block; `get` is valid inside a row. */
  rows(get: () => TruthContext<S>): void;
};

export const part = <S>(p: TruthPart<S>): TruthPart<S> => p;
