import type { OctopusApiKeyResource } from "../octopus/client";
import { normalizeServerUrl } from "../octopus/endpoint";
import { OctopusError } from "../octopus/errors";
import { redact } from "../octopus/redaction";
import { explainStoredKey } from "./advice";
import { inputProblems, isUnknown } from "./check";
import { Connected, Connector } from "./connection/connector";
import type { Problem } from "./connection/settings";
import { assemble, ConnectionSource } from "./connection/sources";
import { KeyCreation } from "./create";
import { importedView, importKey } from "./import";
import { KeyListing, listKeys, ListKeysArgs } from "./list-keys";
import { replacedProperties, updatedInPlace } from "./diff";
import type { ApiKeyInputs } from "./fields";
import { rotateAt } from "./rotation";
import { answered, ApiKeyState, kept, stored, StoredState, upgradeState } from "./state";
import { UserDirectory } from "./users";

type Props = Record<string, unknown>;

/**
 * The lifecycle of an Octopus API key, as every front door drives it (the dynamic resource's
 * provider host, the resource plugin): check, diff, create, read, update, delete, on plain
 * values. One instance serves every resource in a process, so connections and user lookups are
 * shared (and de-duplicated) across resources for the length of one `pulumi` run.
 *
 * `ambient` gives the connection's sources besides a resource's own `connection` input: the
 * front door's configuration, then the environment. It returns the same array for as long as
 * they hold, so that what is derived from them is cached by identity; call {@link reset} when
 * they change.
 */
export class ApiKeyLifecycle {
  private readonly connector: Connector;
  private readonly users = new UserDirectory();
  private readonly creation = new KeyCreation(this.users);
  /** The default connection's normalised server URL (undefined: none usable), per ambient array. */
  private defaultServerUrl:
    { for: readonly ConnectionSource[]; url: string | undefined } | undefined;

  constructor(readonly ambient: () => readonly ConnectionSource[]) {
    this.connector = new Connector(ambient);
  }

  /** Forgets what was derived from the ambient sources: call it when they change. */
  reset(): void {
    this.connector.reset();
  }

  check(olds: Props, news: Props): Promise<{ inputs: Props; failures: Problem[] }> {
    return guard(async () => {
      const failures = inputProblems(news, olds ?? {}, this.ambient());
      if (failures.length === 0) this.lookUpEarly(news, olds);
      return { inputs: news, failures };
    });
  }

  diff(
    id: string,
    olds: Props,
    inputs: ApiKeyInputs,
  ): Promise<{ changes: boolean; replaces: string[]; deleteBeforeReplace: boolean }> {
    return guard(async () => {
      const stored = upgradeState(olds);
      const state = stored.imported ? importedView(stored, inputs) : stored;
      // A key this stack tracks is never another create's lost key: a replacement's create,
      // which follows this diff, must not take the key it replaces for its own.
      this.creation.tracked(state.apiKeyId || id);
      const replaces = replacedProperties(state, inputs, this.serverUrlFor(inputs.connection));
      const changes = replaces.length > 0 || updatedInPlace(state, inputs);
      return { changes, replaces, deleteBeforeReplace: false };
    });
  }

  create(inputs: ApiKeyInputs): Promise<{ id: string; outs: StoredState }> {
    return guard(async () => {
      const connected = this.connector.forNewKey(inputs.connection);
      const state = await this.creation.create(connected, inputs);
      return { id: state.apiKeyId, outs: stored(state) };
    });
  }

  read(id: string, props: Props | undefined): Promise<{ id?: string; props?: StoredState }> {
    return guard(async () => {
      const state = upgradeState(props ?? {});
      const { client, endpoint } = this.pinned(id, state);
      let key: OctopusApiKeyResource;
      try {
        key = await client.getApiKey(requireUserId(state), id);
      } catch (error) {
        // Revoked outside Pulumi, or its user deleted: the resource leaves the state.
        if (error instanceof OctopusError && error.status === 404) return { id: undefined };
        throw explainStoredKey(error, id, state.userId, endpoint);
      }
      const refreshed: ApiKeyState = {
        ...state,
        ...answered(key, {
          rotateBefore: state.rotateBefore,
          clockSkewMs: state.clockSkewMs,
          hint: state.hint,
        }),
      };
      return { id, props: stored(refreshed) };
    });
  }

  update(_id: string, olds: Props, inputs: ApiKeyInputs): Promise<{ outs: StoredState }> {
    return guard(async () => {
      const state = upgradeState(olds);
      // Only settings that do not touch the key itself change in place; the key, its secret and
      // everything Octopus reported stay as they are.
      const outs: ApiKeyState = { ...state, ...kept(inputs) };
      outs.rotateAt = rotateAt(outs.expires, outs.rotateBefore);
      return { outs: stored(outs) };
    });
  }

  delete(id: string, props: Props): Promise<void> {
    return guard(async () => {
      const state = upgradeState(props);
      const { client, endpoint } = this.pinned(id, state);
      // Already revoked, or its user deleted (404), is what a revoke wants: success.
      await client.revokeApiKey(requireUserId(state), id).catch((error: unknown) => {
        throw explainStoredKey(error, id, state.userId, endpoint);
      });
      this.creation.forget(id);
    });
  }

  /**
   * `pulumi import`: the key an import id names (./import), with the inputs a program would
   * declare for it, through the configured connection. Its state has no secret.
   */
  import(importId: string): Promise<{ id: string; outs: StoredState; inputs: Props }> {
    return guard(async () => {
      const found = await importKey(this.connector.forNewKey(undefined), importId);
      return { id: found.id, outs: stored(found.state), inputs: found.inputs };
    });
  }

  /** A user's keys (the caller's by default), through the configured connection. */
  listKeys(args: ListKeysArgs): Promise<KeyListing> {
    return guard(() => listKeys(this.connector.forNewKey(undefined), this.users, args));
  }

  /** What the process holds on to, for tests and benchmarks of a long run's memory. */
  retained(): { known: number; groups: number } {
    return this.creation.retained();
  }

  /** The connection to the server a stored key lives on: its `serverUrl`, never another. */
  private pinned(id: string, state: ApiKeyState): Connected {
    return this.connector.forStoredKey(state.apiKeyId || id, state.serverUrl, state.connection);
  }

  /** The server a resource's inputs name (for diff: a change of server replaces the key). */
  private serverUrlFor(connection: ApiKeyInputs["connection"]): string | undefined {
    if (connection === undefined || connection === null) {
      const ambient = this.ambient();
      if (this.defaultServerUrl?.for !== ambient) {
        this.defaultServerUrl = { for: ambient, url: this.resolveServerUrl(undefined) };
      }
      return this.defaultServerUrl.url;
    }
    return this.resolveServerUrl(connection);
  }

  private resolveServerUrl(connection: ApiKeyInputs["connection"]): string | undefined {
    const address = assemble(this.connector.sources(connection)).settings.address;
    if (typeof address !== "string" || isUnknown(address)) return undefined;
    return normalizeServerUrl(address).url;
  }

  /**
   * Starts the user lookup a create of a new resource will need, while the engine is still between
   * check and create, so the first key does not wait for it. Only for valid inputs with no value
   * unknown (preview sends those as the unknown marker), and only for a new resource (no old
   * inputs): an existing one is created again only on replacement. The lookup is a read-only GET
   * to the configured server with the credential that may go there, which the create would send
   * moments later. Its failure is not reported here: the create reports it (./users).
   */
  private lookUpEarly(news: Props, olds: Props | undefined): void {
    if (olds && Object.keys(olds).length > 0) return;
    if (hasUnknown(news)) return;
    const inputs = news as ApiKeyInputs;
    try {
      void this.users.find(this.connector.forNewKey(inputs.connection), inputs, true);
    } catch {
      // The create meets the same problem and reports it.
    }
  }
}

/** Whether `value` holds the engine's unknown marker anywhere (preview's not-yet-known values). */
function hasUnknown(value: unknown, depth = 0): boolean {
  if (isUnknown(value)) return true;
  if (typeof value !== "object" || value === null) return false;
  if (depth > 4) return true;
  return Object.values(value).some((item) => hasUnknown(item, depth + 1));
}

function requireUserId(state: ApiKeyState): string {
  if (!state.userId) {
    throw new OctopusError(
      "CONFIGURATION",
      "The stored state has no userId; it was not written by this package",
    );
  }
  return state.userId;
}

/**
 * Runs a lifecycle method so that whatever it throws is an OctopusError that carries no secret:
 * hosts print errors and their stacks, and the engine shows and logs their messages.
 */
async function guard<T>(body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (error) {
    if (error instanceof OctopusError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    // The original error is dropped on purpose: its message, stack or cause may hold a secret.
    throw new OctopusError("INTERNAL", redact(message));
  }
}
