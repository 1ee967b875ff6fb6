import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import type {} from "vitest";
import { startPartykit } from "../helpers/partykit.ts";

export const TEST_SECRET = "integration-secret-0123456789";

declare module "vitest" {
  export interface ProvidedContext {
    partykitHost: string;
    gtSecret: string;
  }
}

/** One real `partykit dev` for the integration project, on a free port with throwaway storage. */
export default async function setup(project: TestProject) {
  const persistDir = mkdtempSync(join(tmpdir(), "townhall-it-"));
  const server = await startPartykit({
    persistDir,
    vars: {
      GT_SECRET: TEST_SECRET,
      GT_TEST_HOOKS: "1",
      GT_WITNESS_TIMEOUT_MS: "3000",
      GT_RECONCILE_MS: "1000",
      GT_REBUILD_AFTER: "100",
      GT_RETAIN_CLOSED: "5",
      GT_TOWN_FEED_WINDOW_MS: "4000",
    },
  });
  project.provide("partykitHost", server.host);
  project.provide("gtSecret", TEST_SECRET);
  return async () => {
    await server.stop();
    rmSync(persistDir, { recursive: true, force: true });
  };
}
