import type { Declaration, Field, FunctionDeclaration } from "./schema";

/**
 * TEMPORARY: the declaration the schema is built from, until the core's single declaration of
 * every input, output and setting exists; then the plugin builds its schema from that one and this
 * file goes. Descriptions are the dynamic resource's (provider/resource.ts), without the
 * "Default: …" clauses that name environment variables, which the schema adds from `env`.
 * `getApiKeys` is the plugin's own function; its fields belong to the core's listing.
 */

const INPUTS = {
  purpose: {
    type: { kind: "string" },
    required: true,
    replaces: true,
    description:
      "What the key is for; shown in Octopus next to the key. Changing it replaces the key.",
  },
  userId: {
    type: { kind: "string" },
    replaces: true,
    description:
      "Id of the user who will own the key, e.g. `Users-42`. Default: the caller's own user. Not with `username`.",
  },
  username: {
    type: { kind: "string" },
    replaces: true,
    description:
      "Username of the user who will own the key (exact match, ignoring case). Default: the caller's own user. Not with `userId`.",
  },
  expiresAt: {
    type: { kind: "string" },
    replaces: true,
    description:
      "When the key expires: an ISO 8601 timestamp with a time zone. Default: the server's default (180 days on current servers). Not with `expiresIn`.",
  },
  expiresIn: {
    type: { kind: "string" },
    replaces: true,
    description:
      "Lifetime such as `90d`, `12h` or `30m`, counted from creation (later runs see no diff as time passes). Default: the server's default. Not with `expiresAt`.",
  },
  rotateBefore: {
    type: { kind: "string" },
    description:
      "Rotate the key this long before it expires, such as `14d`: the first `pulumi up` in that window creates a new key, then revokes the old one. Default: never rotate. Needs `expiresIn` or the server's default expiry.",
  },
  rotationTriggers: {
    type: { kind: "stringMap" },
    replaces: true,
    description:
      "Any change to this map of strings replaces the key, so rotation can follow your own schedule. Default: none.",
  },
  accessLevel: {
    type: { kind: "string", values: ["FullAccess", "ReadOnly"] },
    replaces: true,
    description:
      '`"ReadOnly"` for a key that can read what its user can and change nothing (Octopus 2026.3+: an older server fails the create, leaving no key), or `"FullAccess"`. Default: the server\'s, full access. Changing it replaces the key.',
  },
  connection: {
    type: { kind: "object", ref: "connection" },
    secret: true,
    description:
      "Where to reach Octopus and how to authenticate; stored in state as a secret. Default: the provider's configuration, then the environment.",
  },
} satisfies Record<string, Field>;

const OUTPUTS = {
  apiKey: {
    type: { kind: "string" },
    secret: true,
    // Absent for an imported key: Octopus keeps only a hash of the secret.
    required: false,
    description:
      "The API key itself (`API-…`). Secret; Octopus shows it only once, at creation, so an imported key has none.",
  },
  apiKeyId: {
    type: { kind: "string" },
    description: "Octopus id of the key (`apikeys-…`), also the resource's id.",
  },
  userId: { type: { kind: "string" }, description: "Id of the user who owns the key." },
  username: { type: { kind: "string" }, description: "Username of the user who owns the key." },
  purpose: { type: { kind: "string" }, description: "What the key is for." },
  created: {
    type: { kind: "string" },
    description: "When the key was created (ISO 8601, server time).",
  },
  expires: {
    type: { kind: "string" },
    nullable: true,
    description: "When the key expires (ISO 8601), or null when it never does.",
  },
  hint: {
    type: { kind: "string" },
    description: "The first 8 characters of the key, as Octopus shows them: safe to display.",
  },
  serverUrl: {
    type: { kind: "string" },
    description: "The server the key lives on (normalised URL).",
  },
  expired: {
    type: { kind: "boolean" },
    description: "True when the last create or refresh found the key past its expiry.",
  },
  rotateAt: {
    type: { kind: "string" },
    nullable: true,
    description:
      "When the next `pulumi up` will rotate the key; null without `rotateBefore` or an expiry.",
  },
  accessLevel: {
    type: { kind: "string" },
    nullable: true,
    description:
      "The access level Octopus reports for the key (`FullAccess`, `ReadOnly`), or null when the server reports none (before 2026.3).",
  },
  lastUsed: {
    type: { kind: "string" },
    nullable: true,
    description:
      "When the key last authenticated (ISO 8601), as of the last `pulumi refresh`; null if never used, or the server does not track it (before 2026.3).",
  },
} satisfies Record<string, Field>;

const CONNECTION = {
  address: {
    type: { kind: "string" },
    env: ["OCTOPUS_URL"],
    description:
      "Server URL, e.g. `https://octopus.example.com` (a path prefix such as `/octopus` is kept).",
  },
  apiKey: {
    type: { kind: "string" },
    secret: true,
    env: ["OCTOPUS_API_KEY", "OCTOPUS_APIKEY"],
    description: "API key (`API-…`) used to create and revoke the key. Wins over `accessToken`.",
  },
  accessToken: {
    type: { kind: "string" },
    secret: true,
    env: ["OCTOPUS_ACCESS_TOKEN"],
    description: "OIDC access token for a service account, sent as a bearer token.",
  },
  requestTimeout: {
    type: { kind: "stringOrNumber" },
    env: ["OCTOPUS_REQUEST_TIMEOUT"],
    description: "Per-request timeout: milliseconds, or a duration such as `30s`. Default: 30 s.",
  },
  caCertificate: {
    type: { kind: "string" },
    env: ["OCTOPUS_CA_CERTIFICATE"],
    description:
      "PEM certificate of a private certificate authority to trust. Default: Node's trust store (plus `NODE_EXTRA_CA_CERTS`).",
  },
  allowInsecureHttp: {
    type: { kind: "boolean" },
    env: ["OCTOPUS_ALLOW_INSECURE_HTTP"],
    description:
      "Allow plain `http://` to a host that is not loopback (the API key would travel unencrypted). Default: false.",
  },
} satisfies Record<string, Field>;

const KEY_SUMMARY = {
  id: { type: { kind: "string" }, description: "Octopus id of the key (`apikeys-…`)." },
  purpose: { type: { kind: "string" }, description: "What the key is for." },
  created: { type: { kind: "string" }, description: "When the key was created (ISO 8601)." },
  expires: {
    type: { kind: "string" },
    nullable: true,
    description: "When the key expires (ISO 8601), or null when it never does.",
  },
  lastUsed: {
    type: { kind: "string" },
    nullable: true,
    description:
      "When the key last authenticated (ISO 8601); null if never used, or the server does not track it (before 2026.3).",
  },
  accessLevel: {
    type: { kind: "string" },
    nullable: true,
    description:
      "The access level Octopus reports (`FullAccess`, `ReadOnly`, `Custom`), or null before 2026.3.",
  },
  hint: {
    type: { kind: "string" },
    nullable: true,
    description: "The first characters of the key, as Octopus shows them: safe to display.",
  },
} satisfies Record<string, Field>;

const GET_API_KEYS = {
  description:
    "Lists a user's API keys, newest first, for audits (unused or soon-expiring keys): ids, purposes, dates, access levels and hints, never a secret. Reads at most 100 pages of 100 keys.",
  inputs: {
    userId: {
      type: { kind: "string" },
      description:
        "Id of the user whose keys to list. Default: the caller's own user. Not with `username`.",
    },
    username: {
      type: { kind: "string" },
      description:
        "Username of the user whose keys to list (exact match, ignoring case). Default: the caller's own user. Not with `userId`.",
    },
    purpose: {
      type: { kind: "string" },
      description: "Only keys whose purpose contains this text, ignoring case. Default: every key.",
    },
  },
  outputs: {
    userId: { type: { kind: "string" }, description: "Id of the user whose keys these are." },
    username: { type: { kind: "string" }, description: "Username of that user." },
    keys: {
      type: { kind: "list", of: { kind: "object", ref: "apiKeySummary" } },
      description: "The user's keys, newest first.",
    },
  },
} satisfies FunctionDeclaration;

export const FIELDS_DRAFT: Declaration = {
  inputs: INPUTS,
  outputs: OUTPUTS,
  config: CONNECTION,
  types: { connection: CONNECTION, apiKeySummary: KEY_SUMMARY },
  functions: { getApiKeys: GET_API_KEYS },
};
