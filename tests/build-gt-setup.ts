/**
 * Global setup of the test projects that run `gt` or the scripted agent: builds their bundles
 * (container/dist, scripts/build-gt.ts) unless they are up to date, so the tests run what the
 * container runs, built from the sources under test (a stale bundle would not be used, but the
 * tests would then run the sources through tsx instead of the bundle).
 */
import { buildGtIfStale } from "../scripts/build-gt.ts";

export default async function setup(): Promise<void> {
  await buildGtIfStale();
}
