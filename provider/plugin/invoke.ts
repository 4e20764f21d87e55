import { isUnknown } from "../core/check";
import type { Problem } from "../core/connection/settings";
import type { ApiKeyLifecycle } from "../core/lifecycle";
import { ListKeysArgs, listArgsProblems } from "../core/list-keys";
import { OctopusError } from "../octopus/errors";
import { functionToken } from "./schema";
import { fromWire } from "./wire";

/**
 * The plugin's functions (Invoke). One today: `getApiKeys`, a user's keys for audits. It reads
 * with the provider's configuration (then the environment), as an import does.
 */

type Props = Record<string, unknown>;

export const GET_API_KEYS = functionToken("getApiKeys");

export async function invoke(
  lifecycle: ApiKeyLifecycle,
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
  const listing = await lifecycle.listKeys(given as ListKeysArgs);
  return { outputs: { ...listing }, failures: [] };
}
