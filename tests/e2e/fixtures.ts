/** Towns for the e2e tests: ready rigs, a stand-in container that makes agents work, URLs with tokens. */
import type { Rig } from "../../party/protocol.ts";
import { makeTown } from "../helpers/town.ts";

export async function e2eTown(host: string, secret: string, prefix = "e2e") {
  const town = await makeTown(host, secret, prefix);
  return {
    ...town,
    url: (path = "", token = town.operator) => `http://${host}/t/${town.town}${path}?token=${token}`,
    /** A rig the container has cloned (status ready), so the Mayor may sling to it. */
    async readyRig(name: string, extra: Record<string, unknown> = {}): Promise<Rig> {
      const rig = await town.addRig(name, extra);
      await town.markReady(rig, 12_345_678);
      return rig;
    },
  };
}
export type E2ETown = Awaited<ReturnType<typeof e2eTown>>;

export { workingAgent } from "../helpers/town.ts";
