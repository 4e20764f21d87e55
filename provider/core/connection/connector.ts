import { normalizeServerUrl } from "../../octopus/endpoint";
import { OctopusClient } from "../../octopus/client";
import type { Endpoint } from "../../octopus/endpoint";
import { OctopusError } from "../../octopus/errors";
import type { ConnectionSettings } from "../fields";
import { REPORTED_KEY_FIELDS } from "../plain-fields";
import { resolveEndpoint } from "./settings";
import { argumentSource, assemble, Assembled, ConnectionSource } from "./sources";

/** An endpoint and the client built for it, shared by every call that uses it. */
export interface Connected {
  endpoint: Endpoint;
  client: OctopusClient;
  /** Small and unique per credential and server within the process: a cache key without a hash. */
  id: number;
}

/**
 * The connections of one provider process: each distinct set of settings is assembled (a
 * credential goes only where its own source sends it: ./sources), checked, normalised and given
 * a client once, not on every call. `ambient` are the provider's configuration, then the
 * environment; the same array for as long as they hold.
 */
export class Connector {
  private readonly clients = new Map<string, Connected>();
  private next = 0;
  /**
   * Checked connections by the call's own settings (the `connection` argument as JSON, and for a
   * stored key its serverUrl), valid while the ambient sources hold: {@link reset} empties it.
   * Failures are not kept: their messages name the key.
   */
  private readonly checked = new Map<string, Connected>();

  constructor(readonly ambient: () => readonly ConnectionSource[]) {}

  /** Forgets checked connections: call it when the ambient sources change. */
  reset(): void {
    this.checked.clear();
  }

  /**
   * The sources of a call with this `connection` argument, argument first (also when there is
   * none: messages then still name it as a place to set what is missing).
   */
  sources(argument: ConnectionSettings | null | undefined): ConnectionSource[] {
    return [argumentSource(argument), ...this.ambient()];
  }

  /** The connection a new key is created through. */
  forNewKey(argument: ConnectionSettings | null | undefined): Connected {
    // Most resources give no connection argument: their memo needs no serialising.
    const memo = argument ? JSON.stringify(["create", argument]) : "create";
    let connected = this.checked.get(memo);
    if (!connected) {
      connected = this.connect(assemble(this.sources(argument)));
      this.checked.set(memo, connected);
    }
    return connected;
  }

  /**
   * The connection to the server a stored key lives on (its `serverUrl`), for refresh and delete.
   * The address the settings name (the stored `connection` argument's, else the configuration's,
   * else the environment's) must be that server, and the credential must be one that may go
   * there. Otherwise this fails before any request, saying how to reach the key's server.
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
    const assembled = assemble(this.sources(argument));
    const address = assembled.settings.address;
    const configured = typeof address === "string" ? normalizeServerUrl(address).url : undefined;
    if (configured !== stored || assembled.conflict) {
      const now =
        address === undefined
          ? "no server address is configured"
          : configured !== stored
            ? `the configured address is ${configured ?? "unusable"} (from ${assembled.labels.address})`
            : assembled.conflict;
      const addressNames = assembled.where.address
        .filter((n) => !n.startsWith("connection."))
        .reverse();
      throw new OctopusError(
        "CONFIGURATION",
        `The API key ${keyId} lives on ${stored} (the serverUrl in state), but ${now}. Credentials are only sent to the server they are configured for, so nothing was sent. To refresh or delete this key, set ${addressNames.join(" or ")} to ${stored} together with an API key for that server, or give the resource a connection argument with address ${stored} and its apiKey; if the key no longer matters, remove it from state with pulumi state delete`,
      );
    }
    return this.connect(assembled);
  }

  private connect(assembled: Assembled): Connected {
    const { settings, labels } = assembled;
    const key = JSON.stringify([settings, labels, assembled.conflict ?? ""]);
    let connected = this.clients.get(key);
    if (!connected) {
      const endpoint = resolveEndpoint(assembled);
      const client = new OctopusClient(endpoint, {}, REPORTED_KEY_FIELDS);
      connected = { endpoint, client, id: this.next++ };
      this.clients.set(key, connected);
    }
    return connected;
  }
}
