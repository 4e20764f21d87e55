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
import { goneNotice, keptNotice, revokedNotice } from "./notices";
import {
  CallContext,
  liveRetiring,
  Notice,
  Notify,
  refreshedRetiring,
  RotationOverlap,
} from "./overlap";
import { PreviewCheck } from "./preview";
import { rotateAt } from "./rotation";
import { answered } from "./answered";
import { ApiKeyState, kept, stored, StoredState, upgradeState } from "./state";
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
 * they change. `notify` shows a notice to the person running `pulumi` (a key left live by a
 * rotation): each front door has its own channel.
 */
export class ApiKeyLifecycle {
  private readonly connector: Connector;
  private readonly users = new UserDirectory();
  private readonly creation = new KeyCreation(this.users);
  private readonly overlap = new RotationOverlap();
  private readonly preview: PreviewCheck;
  /** The default connection's normalised server URL (undefined: none usable), per ambient array. */
  private defaultServerUrl:
    { for: readonly ConnectionSource[]; url: string | undefined } | undefined;

  constructor(
    readonly ambient: () => readonly ConnectionSource[],
    private readonly notify: Notify = () => undefined,
  ) {
    this.connector = new Connector(ambient);
    this.preview = new PreviewCheck(this.connector, this.users);
  }

  /** Forgets what was derived from the ambient sources: call it when they change. */
  reset(): void {
    this.connector.reset();
  }

  check(olds: Props, news: Props): Promise<{ inputs: Props; failures: Problem[] }> {
    return guard(async () => {
      const failures = inputProblems(news, olds ?? {}, this.ambient());
      // Only valid inputs are worth asking the server about (./preview: bounded, never blocking).
      if (failures.length === 0) failures.push(...(await this.preview.problems(news, olds ?? {})));
      return { inputs: news, failures };
    });
  }

  diff(
    id: string,
    olds: Props,
    inputs: ApiKeyInputs,
    context: CallContext = {},
  ): Promise<{ changes: boolean; replaces: string[]; deleteBeforeReplace: boolean }> {
    return guard(async () => {
      const stored = upgradeState(olds);
      const state = stored.imported ? importedView(stored, inputs) : stored;
      // A key this stack tracks is never another create's lost key: a replacement's create,
      // which follows this diff, must not take the key it replaces for its own.
      this.creation.tracked(state.apiKeyId || id);
      const replaces = replacedProperties(state, inputs, this.serverUrlFor(inputs.connection));
      this.overlap.diffed(id, state, inputs, replaces, context);
      const changes = replaces.length > 0 || updatedInPlace(state, inputs);
      return { changes, replaces, deleteBeforeReplace: false };
    });
  }

  create(
    inputs: ApiKeyInputs,
    context: CallContext = {},
  ): Promise<{ id: string; outs: StoredState }> {
    return guard(async () => {
      const connected = this.connector.forNewKey(inputs.connection);
      const made = await this.creation.create(connected, inputs);
      const state = { ...made, ...this.overlap.claim(inputs, context, made.apiKeyId) };
      return { id: state.apiKeyId, outs: stored(state) };
    });
  }

  read(
    id: string,
    props: Props | undefined,
    context: CallContext = {},
  ): Promise<{ id?: string; props?: StoredState }> {
    return guard(async () => {
      const state = upgradeState(props ?? {});
      const { client, endpoint } = this.pinned(id, state);
      let key: OctopusApiKeyResource;
      try {
        key = await client.getApiKey(requireUserId(state), id);
      } catch (error) {
        // Revoked outside Pulumi, or its user deleted: the resource leaves the state.
        if (error instanceof OctopusError && error.status === 404) {
          const retiring = liveRetiring(state);
          if (retiring.retiringKeyId) await this.say(goneNotice(state, id, retiring), context);
          return { id: undefined };
        }
        throw explainStoredKey(error, id, state.userId, endpoint);
      }
      const refreshed: ApiKeyState = {
        ...state,
        ...answered(key, {
          rotateBefore: state.rotateBefore,
          clockSkewMs: state.clockSkewMs,
          hint: state.hint,
        }),
        ...(await refreshedRetiring(client, state)),
      };
      return { id, props: stored(refreshed) };
    });
  }

  update(_id: string, olds: Props, inputs: ApiKeyInputs): Promise<{ outs: StoredState }> {
    return guard(async () => {
      const state = upgradeState(olds);
      // Only settings that do not touch the key itself change in place; the key, its secret and
      // everything Octopus reported stay as they are.
      const outs: ApiKeyState = { ...state, ...kept(inputs), ...liveRetiring(state) };
      outs.rotateAt = rotateAt(outs.expires, outs.rotateBefore);
      return { outs: stored(outs) };
    });
  }

  delete(id: string, props: Props, context: CallContext = {}): Promise<void> {
    return guard(async () => {
      const state = upgradeState(props);
      const { client, endpoint } = this.pinned(id, state);
      const userId = requireUserId(state);
      // Already revoked, or its user deleted (404), is what a revoke wants: success.
      const revoke = (keyId: string) =>
        client.revokeApiKey(userId, keyId).catch((error: unknown) => {
          throw explainStoredKey(error, keyId, userId, endpoint);
        });
      // A rotation whose new key names this one leaves it live (./overlap); anything else revokes.
      const { kept: left, noted, replacedBy } = this.overlap.release(id);
      if (!left) await revoke(id);
      // The key this one retired: once this key goes, or is retiring itself, nothing names it.
      const retiring = liveRetiring(state);
      if (retiring.retiringKeyId) await revoke(retiring.retiringKeyId);
      this.creation.forget(id);
      if (left) await this.say(keptNotice(state, id, replacedBy), context);
      else if (noted) await this.say(revokedNotice(state, id), context);
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
  retained(): { known: number; groups: number; rotations: number } {
    return { ...this.creation.retained(), rotations: this.overlap.size };
  }

  /** Shows a notice through the front door's channel; a failure to show it fails nothing. */
  private async say(message: string, context: CallContext): Promise<void> {
    const notice: Notice = {
      message: redact(message),
      ...(context.urn ? { urn: context.urn } : {}),
    };
    try {
      await this.notify(notice);
    } catch {
      // Only a notice: the key's fate is decided and in the state.
    }
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
