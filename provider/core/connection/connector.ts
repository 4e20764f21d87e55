import { OctopusClient } from "../../octopus/client";
import {
  CONNECTION_FIELDS,
  ConnectionSettings,
  ConnectionSources,
  mergeLabelled,
  normalizeServerUrl,
  ResolvedConnection,
  resolveConnection,
} from "./settings";
import { OctopusError } from "../../octopus/errors";

/** A resolved connection and the client built from it, shared by every call that uses it. */
export interface Connected {
  connection: ResolvedConnection;
  client: OctopusClient;
  /** Small and unique per credential and server within the process: a cache key without a hash. */
  id: number;
}

/**
 * The connections of one provider process: each distinct set of settings is checked, normalised
 * and given a client once, not on every call. Settings come from the resource's `connection`
 * argument, then stack config, then the environment.
 */
export class Connections {
  private readonly cache = new Map<string, Connected>();
  private next = 0;
  /**
   * Checked connections by the call's own settings (the `connection` argument as JSON, and for a
   * stored key its serverUrl), so that a call with settings seen before skips merging, checking
   * and normalising. Valid while the defaults hold: {@link reset} empties it. Failures are not
   * kept: their messages name the key.
   */
  private readonly checked = new Map<string, Connected>();

  constructor(private readonly defaults: () => ConnectionSettings[]) {}

  /** Forgets checked connections: call it when the defaults (stack config, environment) change. */
  reset(): void {
    this.checked.clear();
  }

  /** The connection a new key is created through. */
  forCreate(argument: ConnectionSettings | undefined): Connected {
    // Most resources give no connection argument: their memo needs no serialising.
    const memo = argument ? JSON.stringify(["create", argument]) : "create";
    let connected = this.checked.get(memo);
    if (!connected) {
      const { merged, sources } = mergeLabelled([argument, ...this.defaults()]);
      connected = this.connect(merged, sources);
      this.checked.set(memo, connected);
    }
    return connected;
  }

  /**
   * The connection to the server a stored key lives on (its `serverUrl`), for refresh and delete.
   * A credential goes only to the server it was configured for: the settings' address (the
   * stored `connection` argument's, else stack config's, else the environment's) must be that
   * server. Otherwise this fails before any request, saying how to reach the key's server.
   */
  forStoredKey(
    keyId: string,
    serverUrl: string,
    argument: ConnectionSettings | null | undefined,
  ): Connected {
    const memo = argument
      ? JSON.stringify(["stored", serverUrl, argument])
      : `stored\n${serverUrl}`;
    let connected = this.checked.get(memo);
    if (!connected) {
      connected = this.checkStored(keyId, serverUrl, argument);
      this.checked.set(memo, connected);
    }
    return connected;
  }

  private checkStored(
    keyId: string,
    serverUrl: string,
    argument: ConnectionSettings | null | undefined,
  ): Connected {
    const { url: stored, reason } = serverUrl ? normalizeServerUrl(serverUrl) : {};
    if (!stored) {
      throw new OctopusError(
        "CONFIGURATION",
        `The stored state of ${keyId} has ${reason ? `a serverUrl that ${reason}` : "no serverUrl"}, so which server holds the key is unknown and nothing was sent; if the key no longer matters, remove the resource from state (pulumi state delete)`,
      );
    }
    const { merged, sources } = mergeLabelled([argument ?? undefined, ...this.defaults()]);
    const address = typeof merged.address === "string" ? merged.address : undefined;
    const configured = address === undefined ? undefined : normalizeServerUrl(address).url;
    if (configured !== stored) {
      const now =
        address === undefined
          ? "no server address is configured"
          : `the configured address is ${configured ?? "unusable"} (from ${sources.address})`;
      throw new OctopusError(
        "CONFIGURATION",
        `The API key ${keyId} lives on ${stored} (the serverUrl in state), but ${now}. Credentials are only sent to the server they are configured for, so nothing was sent. To refresh or delete this key, set OCTOPUS_URL or stack config octopusdeploy:address to ${stored} together with an API key for that server (octopusdeploy:apiKey or OCTOPUS_API_KEY), or give the resource a connection argument with address ${stored} and its apiKey; if the key no longer matters, remove it from state with pulumi state delete`,
      );
    }
    return this.connect(merged, sources);
  }

  private connect(merged: Merged, sources: ConnectionSources): Connected {
    const key = [
      ...CONNECTION_FIELDS.map((field) => String(merged[field] ?? "")),
      sources.address,
      sources.credential,
    ].join("\n");
    let connected = this.cache.get(key);
    if (!connected) {
      const connection = resolveConnection(merged, sources);
      connected = { connection, client: new OctopusClient(connection), id: this.next++ };
      this.cache.set(key, connected);
    }
    return connected;
  }
}

type Merged = ReturnType<typeof mergeLabelled>["merged"];
