import * as pulumi from "@pulumi/pulumi";
import { serializedProvider } from "./stub";

/**
 * Where to reach Octopus and how to authenticate. Every field is optional: each is taken from
 * here, else from stack config (`octopusdeploy:address`, `octopusdeploy:apiKey`,
 * `octopusdeploy:accessToken`), else from the environment (`OCTOPUS_URL`, `OCTOPUS_API_KEY` or
 * `OCTOPUS_APIKEY`, `OCTOPUS_ACCESS_TOKEN`). The names match the `octopusdeploy` provider's.
 * A connection given here is stored in state, encrypted as a secret (refresh and destroy need it);
 * credentials from config or the environment are never stored.
 */
export interface OctopusConnectionArgs {
  /** Server URL, e.g. `https://octopus.example.com` (a path prefix such as `/octopus` is kept). Default: config, then `OCTOPUS_URL`. */
  address?: pulumi.Input<string>;
  /** API key (`API-…`) used to create and revoke the key. Wins over `accessToken`. Default: config, then `OCTOPUS_API_KEY`. */
  apiKey?: pulumi.Input<string>;
  /** OIDC access token for a service account, sent as a bearer token. Default: config, then `OCTOPUS_ACCESS_TOKEN`. */
  accessToken?: pulumi.Input<string>;
  /** Per-request timeout: milliseconds, or a duration such as `30s`. Default: `OCTOPUS_REQUEST_TIMEOUT`, else 30 s. */
  requestTimeout?: pulumi.Input<number | string>;
  /** PEM certificate of a private certificate authority to trust. Default: `OCTOPUS_CA_CERTIFICATE`, else Node's trust store (plus `NODE_EXTRA_CA_CERTS`). */
  caCertificate?: pulumi.Input<string>;
  /** Allow plain `http://` to a host that is not loopback (the API key would travel unencrypted). Default: false (`OCTOPUS_ALLOW_INSECURE_HTTP=1` also allows it). */
  allowInsecureHttp?: pulumi.Input<boolean>;
}

/** The inputs of an {@link OctopusApiKey}. */
export interface OctopusApiKeyArgs {
  /** What the key is for; shown in Octopus next to the key. Required. Changing it replaces the key. */
  purpose: pulumi.Input<string>;
  /** Id of the user who will own the key, e.g. `Users-42`. Default: the caller's own user. Not with `username`. */
  userId?: pulumi.Input<string>;
  /** Username of the user who will own the key (exact match, ignoring case). Default: the caller's own user. Not with `userId`. */
  username?: pulumi.Input<string>;
  /** When the key expires: an ISO 8601 timestamp with a time zone. Default: the server's default (180 days on current servers). Not with `expiresIn`. */
  expiresAt?: pulumi.Input<string>;
  /** Lifetime such as `90d`, `12h` or `30m`, counted from creation (later runs see no diff as time passes). Default: the server's default. Not with `expiresAt`. */
  expiresIn?: pulumi.Input<string>;
  /** Rotate the key this long before it expires, such as `14d`: the first `pulumi up` in that window creates a new key, then revokes the old one. Default: never rotate. Needs `expiresIn` or the server's default expiry. */
  rotateBefore?: pulumi.Input<string>;
  /** Any change to this map of strings replaces the key, so rotation can follow your own schedule. Default: none. */
  rotationTriggers?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** `"ReadOnly"` for a key that can read what its user can and change nothing (Octopus 2026.3+: an older server fails the create, leaving no key), or `"FullAccess"`. Default: the server's, full access. Changing it replaces the key. */
  accessLevel?: pulumi.Input<"FullAccess" | "ReadOnly">;
  /** Where to reach Octopus and how to authenticate. Default: stack config, then the environment. */
  connection?: pulumi.Input<OctopusConnectionArgs>;
}

/** Outputs that hold secrets: the engine encrypts them in state. */
const SECRET_OUTPUTS = ["apiKey", "connection"];

/**
 * An Octopus Deploy API key, managed by Pulumi: `pulumi up` creates it (its secret is the output
 * `apiKey`), a change of purpose, owner, expiry, access level or server replaces it (new key first, then the old
 * one is revoked), and `pulumi destroy` revokes it.
 *
 * ```ts
 * const key = new OctopusApiKey("deployer", { purpose: "CI deployments", username: "ci-bot" });
 * export const deployerKey = key.apiKey; // secret
 * ```
 */
export class OctopusApiKey extends pulumi.dynamic.Resource {
  /** The API key itself (`API-…`). Secret; Octopus shows it only once, at creation. */
  declare readonly apiKey: pulumi.Output<string>;
  /** Octopus id of the key (`apikeys-…`), also the resource's id. */
  declare readonly apiKeyId: pulumi.Output<string>;
  /** Id of the user who owns the key. */
  declare readonly userId: pulumi.Output<string>;
  /** Username of the user who owns the key. */
  declare readonly username: pulumi.Output<string>;
  /** What the key is for. */
  declare readonly purpose: pulumi.Output<string>;
  /** When the key was created (ISO 8601, server time). */
  declare readonly created: pulumi.Output<string>;
  /** When the key expires (ISO 8601), or null when it never does. */
  declare readonly expires: pulumi.Output<string | null>;
  /** The first 8 characters of the key, as Octopus shows them: safe to display. */
  declare readonly hint: pulumi.Output<string>;
  /** The server the key lives on (normalised URL). */
  declare readonly serverUrl: pulumi.Output<string>;
  /** True when the last create or refresh found the key past its expiry. */
  declare readonly expired: pulumi.Output<boolean>;
  /** When the next `pulumi up` will rotate the key; null without `rotateBefore` or an expiry. */
  declare readonly rotateAt: pulumi.Output<string | null>;
  /** The access level Octopus reports for the key (`FullAccess`, `ReadOnly`), or null when the server reports none (before 2026.3). */
  declare readonly accessLevel: pulumi.Output<string | null>;
  /** When the key last authenticated (ISO 8601), as of the last `pulumi refresh`; null if never used, or the server does not track it (before 2026.3). */
  declare readonly lastUsed: pulumi.Output<string | null>;

  constructor(name: string, args: OctopusApiKeyArgs, opts?: pulumi.CustomResourceOptions) {
    const { connection, ...rest } = args;
    const props: Record<string, unknown> = {
      ...rest,
      // A connection given here holds credentials: keep it secret in the stored inputs too.
      connection: connection === undefined ? undefined : pulumi.secret(connection),
      apiKey: undefined,
      apiKeyId: undefined,
      created: undefined,
      expires: undefined,
      hint: undefined,
      serverUrl: undefined,
      expired: undefined,
      rotateAt: undefined,
      lastUsed: undefined,
      // Outputs that are also inputs keep the value given, if any.
      userId: args.userId,
      username: args.username,
      accessLevel: args.accessLevel,
    };
    super(
      serializedProvider,
      name,
      props,
      pulumi.mergeOptions(opts, {
        additionalSecretOutputs: [
          ...new Set([...(opts?.additionalSecretOutputs ?? []), ...SECRET_OUTPUTS]),
        ],
      }),
      "octopusdeploy",
      "ApiKey",
    );
  }
}
