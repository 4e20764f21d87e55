import type { KeyPolicy, OctopusUser } from "../octopus/client";
import { isUnknown } from "./check";
import type { Connected, Connector } from "./connection/connector";
import type { Problem } from "./connection/settings";
import type { ApiKeyInputs } from "./fields";
import { applies, policyProblems } from "./policy-rules";
import type { UserDirectory } from "./users";

/**
 * What check asks the server, for inputs that are valid (preview sends values not known yet as the
 * unknown marker: a rule that needs one waits for `pulumi up`, and nothing is asked without a
 * known connection):
 * - the user lookup a create will need, started here for a new resource or a new owner, so that
 *   the first key does not wait for it (./users). A read-only GET to the configured server with
 *   the credential that may go there, which the create would send moments later;
 * - the server's key policy (`GET /api/authentication`, sent without a credential: it needs
 *   none), once per server and run, when a rule of ./policy-rules applies: an expiry or rotation
 *   window that is new or changed, or an owner who turns out not to be a service account.
 *
 * Check waits for what it asked at most the connection's request timeout, and never more than
 * {@link PREVIEW_WAIT_MS}: a server that does not answer in time, lacks the route or the fields,
 * or refuses the request, changes nothing (the create meets Octopus's own refusal, as without
 * this). A failed lookup is not reported here either: the create reports it.
 */

type Props = Record<string, unknown>;

/** The longest check waits for the policy and the owner, together. */
export const PREVIEW_WAIT_MS = 5_000;

export class PreviewCheck {
  /** Policies by server, one request per run, each settled within its wait. */
  private readonly policies = new Map<string, Promise<KeyPolicy | undefined>>();

  constructor(
    private readonly connector: Connector,
    private readonly users: UserDirectory,
  ) {}

  /** The problems of checked inputs (`olds` empty for a new resource) that the server's rules show. */
  async problems(news: Props, olds: Props): Promise<Problem[]> {
    if (hasUnknown(news.connection)) return [];
    const inputs = news as ApiKeyInputs;
    let connected: Connected;
    try {
      connected = this.connector.forNewKey(inputs.connection);
    } catch {
      return []; // The create meets the same problem and reports it.
    }
    const lookup = hasUnknown(news) ? undefined : this.lookUpEarly(connected, news, olds);
    const rules = applies(news, olds);
    if (!lookup && !rules.expiry && !rules.rotation) return [];

    const wait = Math.min(connected.endpoint.timeoutMs, PREVIEW_WAIT_MS);
    const started = Date.now();
    const left = () => Math.max(0, wait - (Date.now() - started));
    const asked = rules.expiry || rules.rotation ? this.policy(connected, wait) : undefined;
    const owner = lookup ? await within(lookup, left()) : undefined;
    let policy = asked ? await within(asked, left()) : undefined;
    if (!policy && owner?.IsService === false) {
      policy = await within(this.policy(connected, wait), left());
    }
    return policyProblems(news, rules, {
      policy,
      serverUrl: connected.endpoint.serverUrl,
      owner,
    });
  }

  /**
   * Starts the user lookup a create will need, for a new resource or one whose owner changed (a
   * replacement): an unchanged one is created again only on rotation.
   */
  private lookUpEarly(
    connected: Connected,
    news: Props,
    olds: Props,
  ): Promise<OctopusUser> | undefined {
    const fresh = Object.keys(olds).length === 0;
    const moved = ["userId", "username"].some(
      (p) => JSON.stringify(news[p] ?? null) !== JSON.stringify(olds[p] ?? null),
    );
    if (!fresh && !moved) return undefined;
    try {
      return this.users.find(connected, news as ApiKeyInputs, true);
    } catch {
      return undefined; // The create meets the same problem and reports it.
    }
  }

  /** The server's policy, asked once per run; undefined when not had within `wait`. */
  private policy(connected: Connected, wait: number): Promise<KeyPolicy | undefined> {
    const server = connected.endpoint.serverUrl;
    let found = this.policies.get(server);
    if (!found) {
      found = within(connected.client.keyPolicy(), wait);
      this.policies.set(server, found);
    }
    return found;
  }
}

/** `promise`'s value, or undefined when it fails or takes longer than `ms`. */
function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(undefined), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      () => {
        clearTimeout(timer);
        resolve(undefined);
      },
    );
  });
}

/** Whether `value` holds the engine's unknown marker anywhere (preview's not-yet-known values). */
export function hasUnknown(value: unknown, depth = 0): boolean {
  if (isUnknown(value)) return true;
  if (typeof value !== "object" || value === null) return false;
  if (depth > 4) return true;
  return Object.values(value).some((item) => hasUnknown(item, depth + 1));
}
