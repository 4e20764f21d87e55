import type { Problem } from "../connection";
import type { Connections } from "../connections";
import { OctopusError } from "../errors";
import { isUnknown } from "../inputs";
import { ListKeysArgs, listArgsProblems, listKeys } from "../core/list-keys";
import { functionToken } from "./schema";
import { fromWire } from "./wire";

/**
 * The plugin's functions (Invoke). One today: `getApiKeys`, a user's keys for audits. It reads
 * with the provider's configuration (then the environment), as an import does.
 */

type Props = Record<string, unknown>;

export const GET_API_KEYS = functionToken("getApiKeys");

export async function invoke(
  connections: Connections,
  token: string,
  args: Props | undefined,
): Promise<{ outputs: Props; failures: Problem[] }> {
  if (token !== GET_API_KEYS) {
    throw new OctopusError(
      "CONFIGURATION",
      `${token} is not a function of this package; it has ${GET_API_KEYS}`,
    );
  }
  const given = fromWire(args).props;
  const failures = listArgsProblems(given);
  if (Object.values(given).some(isUnknown)) {
    failures.push({ property: "", reason: "getApiKeys needs every argument known" });
  }
  if (failures.length > 0) return { outputs: {}, failures };
  const listing = await listKeys(connections.forCreate(undefined), given as ListKeysArgs);
  return { outputs: { ...listing }, failures: [] };
}
