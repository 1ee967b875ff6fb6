/**
 * The operator's prices (`--prices <file>`): for a run whose CLI reports no cost (or only a guess),
 * its cost from its tokens. The file is JSON, model name → USD per million tokens:
 *
 *   { "claude-sonnet-4-5": { "input": 3, "output": 15, "cacheRead": 0.3, "cacheWrite": 3.75 } }
 *
 * None ships with Townhall: prices change, and cannot be checked from here. A run is priced by its
 * main model (the usage's `model`) at that model's rates for all its tokens; a model the file does
 * not name leaves the cost unknown.
 */
import { readFileSync } from "node:fs";
import { z } from "zod";
import type { Usage } from "../../party/protocol.ts";
import { modelName } from "../../party/protocol.ts";

const rate = z.number().min(0).max(1_000_000);
const pricesSchema = z.record(modelName, z.strictObject({ input: rate, output: rate, cacheRead: rate.optional(), cacheWrite: rate.optional() }));
export type Prices = z.infer<typeof pricesSchema>;

/** Reads and checks a prices file; throws an Error whose message says what is wrong, in one line. */
export function readPrices(file: string): Prices {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new Error(`--prices ${file}: ${error instanceof SyntaxError ? `not JSON (${error.message})` : (error as Error).message}`);
  }
  const parsed = pricesSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(
      `--prices ${file}: ${issue.path.join(".") || "the file"}: ${issue.message} (model → {"input", "output", "cacheRead"?, "cacheWrite"?} in USD per million tokens)`,
    );
  }
  return parsed.data;
}

/** `usage` with its cost from `prices` when it has none and its model is priced there; else as it is. */
export function priced(usage: Usage, prices: Prices | null): Usage {
  if (usage.costUsd !== null || !prices || !usage.model || !Object.hasOwn(prices, usage.model)) return usage;
  const p = prices[usage.model]!;
  const cost =
    (usage.inputTokens * p.input +
      usage.outputTokens * p.output +
      usage.cacheReadTokens * (p.cacheRead ?? p.input) +
      usage.cacheWriteTokens * (p.cacheWrite ?? p.input)) /
    1_000_000;
  return { ...usage, costUsd: Math.min(1_000_000, Math.round(cost * 1e8) / 1e8) };
}
