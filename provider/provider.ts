import type * as pulumi from "@pulumi/pulumi";
import { accessLevelOption, reportedAccess, requestedAccess, verifiedAccess } from "./access";
import { explainCommon, explainLookup } from "./advice";
import { preloadHttp } from "./client";
import type { OctopusApiKeyResource, OctopusUser } from "./client";
import {
  ConnectionSettings,
  fromConfig,
  fromEnvironment,
  mergeSources,
  normalizeServerUrl,
} from "./connection";
import { Connected, Connections } from "./connections";
import { OctopusError, redact } from "./errors";
import { ApiKeyInputs, inputProblems, isUnknown } from "./inputs";
import { replacedProperties, updatedInPlace, userSelector } from "./diff";
import { AT_SLACK_MS, IN_SLACK_MS, RequestedLifetime } from "./marker";
import { KeyCreator } from "./reconcile";
import { isExpired, rotateAt } from "./rotation";
import { ApiKeyState, STATE_VERSION, stored, StoredState, upgradeState } from "./state";
import { now, parseDuration, parseTimestamp } from "./time";

type Props = Record<string, unknown>;

/** The methods the dynamic provider host calls, besides `configure`. */
const LIFECYCLE = ["check", "diff", "create", "read", "update", "delete"] as const;

/**
 * The lifecycle of an Octopus API key, as the Pulumi engine drives it through the dynamic provider
 * host. One instance serves every resource in the host process, so connections and user lookups
 * are shared (and de-duplicated) across resources for the length of one `pulumi` run.
 */
export class ApiKeyProvider implements pulumi.dynamic.ResourceProvider {
  private config: ConnectionSettings = {};
  /**
   * Stack config and the environment, read once per configuration (the environment at first use):
   * one array for as long as they hold, so that what is derived from them is cached by identity.
   */
  private sources: ConnectionSettings[] | undefined;
  /** The default connection's normalised server URL (undefined: none usable), per `sources`. */
  private defaultServerUrl: { for: ConnectionSettings[]; url: string | undefined } | undefined;
  private readonly connections = new Connections(() => this.defaults());
  private readonly users = new Map<string, Promise<OctopusUser>>();
  private readonly creator = new KeyCreator();
  /** Lookups check started (see {@link lookUpEarly}) that no create has shared yet. */
  private readonly unclaimed = new WeakSet<Promise<OctopusUser>>();
  /** Failed early lookups no create shared, for the next create of that user (once). */
  private readonly failedEarly = new Map<string, Promise<OctopusUser>>();

  /**
   * Called by the serialized stub (stub.ts) when the host configures it: puts this provider's
   * lifecycle methods on the host's provider object, then configures.
   */
  attach(target: object, req: pulumi.dynamic.ConfigureRequest): Promise<void> {
    for (const method of LIFECYCLE) {
      Object.assign(target, { [method]: this[method].bind(this) });
    }
    return this.configure(req);
  }

  async configure(req: pulumi.dynamic.ConfigureRequest): Promise<void> {
    this.useConfiguration(
      fromConfig((key) => {
        const value: unknown = req.config.get(key);
        return typeof value === "string" ? value : undefined;
      }),
    );
  }

  /**
   * Takes the connection settings of a configuration directly, in place of the stack config that
   * {@link configure} reads: the resource plugin passes its provider configuration here. The
   * environment stays the fallback, as for stack config.
   */
  useConfiguration(settings: ConnectionSettings): void {
    this.config = settings;
    // A new configuration: the environment is read again, and what came from the old one goes.
    this.sources = undefined;
    this.connections.reset();
    // The first request will need got: load it while the engine is still busy elsewhere.
    preloadHttp();
  }

  async check(olds: Props, news: Props): Promise<pulumi.dynamic.CheckResult<ApiKeyInputs>> {
    return guard(async () => {
      const failures = inputProblems(news, olds ?? {}, this.defaults());
      if (failures.length === 0) this.lookUpEarly(news, olds);
      return { inputs: news as unknown as ApiKeyInputs, failures };
    });
  }

  async diff(id: string, olds: Props, news: Props): Promise<pulumi.dynamic.DiffResult> {
    return guard(async () => {
      const state = upgradeState(olds);
      const inputs = news as unknown as ApiKeyInputs;
      // A key this stack tracks is never another create's lost key: a replacement's create,
      // which follows this diff, must not take the key it replaces for its own.
      this.creator.tracked(state.apiKeyId || id);
      const replaces = replacedProperties(state, inputs, this.serverUrlFor(inputs.connection));
      const changes = replaces.length > 0 || updatedInPlace(state, inputs);
      return { changes, replaces, deleteBeforeReplace: false };
    });
  }

  async create(inputs: ApiKeyInputs): Promise<pulumi.dynamic.CreateResult<StoredState>> {
    return guard(async () => {
      const connected = this.connections.forCreate(inputs.connection);
      const { connection } = connected;
      const user = await this.findUser(connected, inputs);

      const self = !inputs.userId && !inputs.username;
      // The skew is measured against the provider's clock, which rotation decisions use.
      const before = now();
      const lifetime = requestedLifetime(inputs);
      const key = await this.creator.create(connected, user, {
        purpose: inputs.purpose,
        lifetime,
        self,
        ...accessLevelOption(inputs),
      });
      const clockSkewMs = Date.parse(key.Created) - (before + now()) / 2;
      const access = await verifiedAccess(connected.client, user, key, inputs);

      const state: ApiKeyState = {
        stateVersion: STATE_VERSION,
        apiKey: key.ApiKey as string,
        apiKeyId: key.Id,
        userId: user.Id,
        username: user.Username,
        purpose: inputs.purpose,
        created: key.Created,
        expires: key.Expires ?? null,
        hint: (key.ApiKey as string).slice(0, 8),
        serverUrl: connection.serverUrl,
        expired: false,
        rotateAt: rotateAt(key.Expires ?? null, inputs.rotateBefore ?? null),
        ...access,
        userSelector: userSelector(inputs),
        expiresAt: inputs.expiresAt ?? null,
        expiresIn: inputs.expiresIn ?? null,
        rotateBefore: inputs.rotateBefore ?? null,
        rotationTriggers: inputs.rotationTriggers ?? null,
        connection: inputs.connection ?? null,
        clockSkewMs: Number.isFinite(clockSkewMs) ? Math.round(clockSkewMs) : 0,
      };
      return { id: key.Id, outs: stored(state) };
    });
  }

  async read(id: string, props?: Props): Promise<pulumi.dynamic.ReadResult<StoredState>> {
    return guard(async () => {
      const state = upgradeState(props ?? {});
      const { client, connection } = this.pinned(id, state);
      let key: OctopusApiKeyResource;
      try {
        key = await client.getApiKey(requireUserId(state), id);
      } catch (error) {
        // Revoked outside Pulumi, or its user deleted: the resource leaves the state.
        if (error instanceof OctopusError && error.status === 404) return { id: undefined };
        throw explainCommon(error, connection);
      }
      const expires = key.Expires ?? null;
      const hint = typeof key.ApiKey === "object" ? key.ApiKey?.Hint : undefined;
      const refreshed: ApiKeyState = {
        ...state,
        apiKeyId: key.Id ?? id,
        created: key.Created ?? state.created,
        expires,
        hint: hint || state.hint,
        expired: isExpired(expires, now(), state.clockSkewMs),
        rotateAt: rotateAt(expires, state.rotateBefore),
        ...reportedAccess(key),
      };
      return { id, props: stored(refreshed) };
    });
  }

  async update(
    _id: string,
    olds: Props,
    news: Props,
  ): Promise<pulumi.dynamic.UpdateResult<StoredState>> {
    return guard(async () => {
      const state = upgradeState(olds);
      const inputs = news as unknown as ApiKeyInputs;
      // Only settings that do not touch the key itself change in place; the key, its secret and
      // everything Octopus reported stay as they are.
      const rotateBefore = inputs.rotateBefore ?? null;
      const outs: ApiKeyState = {
        ...state,
        userSelector: userSelector(inputs),
        expiresAt: inputs.expiresAt ?? null,
        expiresIn: inputs.expiresIn ?? null,
        rotateBefore,
        rotateAt: rotateAt(state.expires, rotateBefore),
        connection: inputs.connection ?? null,
        ...requestedAccess(inputs),
      };
      return { outs: stored(outs) };
    });
  }

  async delete(id: string, props: Props): Promise<void> {
    return guard(async () => {
      const state = upgradeState(props);
      const { client, connection } = this.pinned(id, state);
      // Already revoked, or its user deleted (404), is what a revoke wants: success.
      await client.revokeApiKey(requireUserId(state), id).catch((error: unknown) => {
        throw explainCommon(error, connection);
      });
      this.creator.forget(id);
    });
  }

  /** Connection fields from stack config, then the environment (read once, at first use). */
  private defaults(): ConnectionSettings[] {
    this.sources ??= [this.config, fromEnvironment()];
    return this.sources;
  }

  /** The connection to the server a stored key lives on: its `serverUrl`, never another. */
  private pinned(id: string, state: ApiKeyState): Connected {
    return this.connections.forStoredKey(state.apiKeyId || id, state.serverUrl, state.connection);
  }

  private serverUrlFor(connection: ConnectionSettings | undefined): string | undefined {
    if (connection === undefined || connection === null) {
      const defaults = this.defaults();
      if (this.defaultServerUrl?.for !== defaults) {
        this.defaultServerUrl = { for: defaults, url: this.resolveServerUrl(undefined) };
      }
      return this.defaultServerUrl.url;
    }
    return this.resolveServerUrl(connection);
  }

  private resolveServerUrl(connection: ConnectionSettings | undefined): string | undefined {
    const address = mergeSources(connection, ...this.defaults()).address;
    if (typeof address !== "string" || isUnknown(address)) return undefined;
    return normalizeServerUrl(address).url;
  }

  /**
   * Starts the user lookup a create of a new resource will need, while the engine is still between
   * check and create, so the first key does not wait for it. Only for valid inputs with no value
   * unknown (preview sends those as {@link UNKNOWN}), and only for a new resource (no old inputs):
   * an existing one is created again only on replacement. The lookup is a read-only GET to the
   * configured server with its configured credential, which the create would send moments later.
   * Its failure is not reported here; see {@link findUser} for where it goes.
   */
  private lookUpEarly(news: Props, olds: Props | undefined): void {
    if (olds && Object.keys(olds).length > 0) return;
    if (hasUnknown(news)) return;
    const inputs = news as unknown as ApiKeyInputs;
    try {
      void this.findUser(this.connections.forCreate(inputs.connection), inputs, true);
    } catch {
      // The create meets the same problem and reports it.
    }
  }

  /**
   * The user the key is for, looked up once per server and user for the whole run: concurrent
   * resources share one request. Failed lookups are not cached. A lookup check started early
   * (`early`) that failed before any create shared it is handed to the next create for the same
   * user, once, so that create reports the answer its own request would have had instead of
   * asking again; any other create, or a later check, looks again.
   */
  private findUser(
    { client, connection, id }: Connected,
    inputs: ApiKeyInputs,
    early = false,
  ): Promise<OctopusUser> {
    const who = inputs.userId
      ? `id:${inputs.userId.toLowerCase()}`
      : inputs.username
        ? // As given: `CI-Bot` and `ci-bot` may be two users, each matched exactly.
          `name:${inputs.username}`
        : `me:${id}`;
    const cacheKey = `${connection.serverUrl}\n${who}`;
    let lookup = this.users.get(cacheKey);
    if (lookup) {
      if (!early) this.unclaimed.delete(lookup);
      return lookup;
    }
    const failed = this.failedEarly.get(cacheKey);
    this.failedEarly.delete(cacheKey);
    if (failed && !early) return failed;
    const started: Promise<OctopusUser> = (async () => {
      if (inputs.userId) return client.getUser(inputs.userId);
      if (!inputs.username) return client.currentUser();
      const user = await client.findUserByUsername(inputs.username);
      if (!user) {
        throw new OctopusError(
          "USER_NOT_FOUND",
          `No Octopus user at ${connection.serverUrl} has the username "${inputs.username}"; check the spelling, or give userId instead`,
        );
      }
      return user;
    })().catch((error: unknown) => {
      this.users.delete(cacheKey);
      const explained = explainLookup(error, inputs, connection);
      if (this.unclaimed.has(started)) {
        const handed = Promise.reject(explained);
        handed.catch(() => undefined);
        this.failedEarly.set(cacheKey, handed);
      }
      throw explained;
    });
    // A lookup started early may fail before any create awaits it: not an unhandled rejection.
    started.catch(() => undefined);
    lookup = started;
    if (early) this.unclaimed.add(lookup);
    this.users.set(cacheKey, lookup);
    return lookup;
  }
}

/**
 * The lifetime to ask for: explicit, relative to now (resolved once, here), or undefined for the
 * server default. The create marks the exact instant it sends (see marker.ts).
 */
function requestedLifetime(inputs: ApiKeyInputs): RequestedLifetime | undefined {
  if (inputs.expiresAt) {
    return { latest: parseTimestamp(inputs.expiresAt) as number, slackMs: AT_SLACK_MS };
  }
  if (inputs.expiresIn) {
    return { latest: now() + (parseDuration(inputs.expiresIn) as number), slackMs: IN_SLACK_MS };
  }
  return undefined;
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
 * Runs a lifecycle method so that whatever it throws carries no secret: the host prints errors
 * and their stacks, and the engine shows and logs their messages.
 */
async function guard<T>(body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (error) {
    if (error instanceof OctopusError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    // The original error is dropped on purpose: its message, stack or cause may hold a secret.
    // eslint-disable-next-line preserve-caught-error
    throw new Error(redact(message));
  }
}
