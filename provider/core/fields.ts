/**
 * The one declaration of what an API key resource takes and gives: every input, output and
 * connection setting, with its type, description, and whether it is secret or replaces the key.
 * Everything else derives from it: the input check's list of properties, the TypeScript types
 * the provider works with, the dynamic resource's `OctopusApiKeyArgs` and outputs
 * (dynamic/args.ts, generated), the plugin's schema, and the README's tables
 * (`npm run generate` rewrites the generated files; a test checks they are current).
 */

import type {
  Declaration,
  Field,
  FunctionDeclaration,
  InputValues,
  OutputValues,
  SettingField,
  ValueOf,
} from "./field-types";

export type { Declaration, Field, FieldType, OutputValues, SettingField } from "./field-types";

/** The access levels a key may be asked for (Octopus's `Custom` is made in its UI, not here). */
export const ACCESS_LEVELS = ["FullAccess", "ReadOnly"] as const;
export type AccessLevel = (typeof ACCESS_LEVELS)[number];

/** Who a key is for, as Octopus labels it in its audit log (a label, not a permission). */
export const ACTOR_TYPES = ["User", "AiAgent"] as const;
export type ActorType = (typeof ACTOR_TYPES)[number];

/** What becomes of a key replaced because its rotation came due. */
export const ON_ROTATION = ["revoke", "expire"] as const;
export type OnRotation = (typeof ON_ROTATION)[number];

export const INPUTS = {
  purpose: {
    type: { kind: "string" },
    required: true,
    replaces: true,
    description: "What the key is for; Octopus shows it next to the key.",
  },
  userId: {
    type: { kind: "string" },
    replaces: true,
    description:
      "Id of the user who will own the key, such as `Users-42`. Default: the caller's own user. Not with `username`.",
  },
  username: {
    type: { kind: "string" },
    replaces: true,
    description:
      "Username of the user who will own the key: the exact name, or the one user whose name differs from it only in letter case (a look-alike such as the Kelvin sign `K` for `k` names another user; a change of letter case alone keeps the key). Default: the caller's own user. Not with `userId`.",
  },
  expiresAt: {
    type: { kind: "string" },
    replaces: true,
    description:
      "When the key expires: an ISO 8601 timestamp with a time zone, such as `2027-01-31T00:00:00Z`. Default: the server's default (180 days on Octopus 2025.4 and later). Not with `expiresIn`.",
  },
  expiresIn: {
    type: { kind: "string" },
    replaces: true,
    description:
      "Lifetime counted from creation, such as `90d`, `12h` or `1d12h` (units `w d h m s`); later runs see no diff as time passes. Default: the server's default. Not with `expiresAt`.",
  },
  rotateBefore: {
    type: { kind: "string" },
    description:
      "Rotate the key this long before it expires, such as `30d`: the first `pulumi up` in that window creates a new key, then revokes the old one. Needs `expiresIn` or the server's default expiry. Default: never rotate.",
  },
  onRotation: {
    type: { kind: "string", values: ON_ROTATION },
    description:
      '`"expire"` leaves a key that `rotateBefore` replaced live until its own expiry (at most `rotateBefore` later) or the next rotation, whichever comes first, so that what read it only at start-up keeps working until it picks up the new one; the run names it, and `retiringKeyId` shows it. `"revoke"` revokes it once the new key is in place. Any other replacement, and destroy, revoke at once. Default: `"revoke"`.',
  },
  rotationTriggers: {
    type: { kind: "stringMap" },
    replaces: true,
    description:
      "Any change to this map of strings replaces the key, so that rotation can follow your own schedule or a leak. Default: none.",
  },
  accessLevel: {
    type: { kind: "string", values: ACCESS_LEVELS },
    replaces: true,
    description:
      '`"ReadOnly"` for a key that can read what its user can and change nothing (Octopus 2026.3 and later: an older server fails the create and leaves no key), or `"FullAccess"`. Default: the server\'s, full access.',
  },
  actorType: {
    type: { kind: "string", values: ACTOR_TYPES },
    replaces: true,
    description:
      '`"AiAgent"` marks a key an AI agent uses, so that Octopus\'s audit log tells its actions from a person\'s, or `"User"`. A label, not a permission: a server that ignores it (before 2026.3) still makes the key, and `actorType` says what it reported. Default: the server\'s, `"User"`.',
  },
  connection: {
    type: { kind: "object", ref: "connection" },
    secret: true,
    description:
      "Where to reach Octopus and how to authenticate; stored in state as a secret. A change of server replaces the key; a change of credentials does not. Default: the provider's configuration, then the environment.",
  },
} as const satisfies Record<string, Field>;

export const OUTPUTS = {
  apiKey: {
    type: { kind: "string" },
    secret: true,
    optional: true,
    description:
      "The API key itself (`API-…`). Secret: Octopus shows it only once, at creation, so an imported key has none.",
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
    description: "When the key was created (ISO 8601, by the server's clock).",
  },
  expires: {
    type: { kind: "string" },
    nullable: true,
    description: "When the key expires (ISO 8601), or null for a key that never expires.",
  },
  hint: {
    type: { kind: "string" },
    description: "The first 8 characters of the key, as Octopus shows them: safe to display.",
  },
  serverUrl: {
    type: { kind: "string" },
    description:
      "The server the key lives on (normalised: lower-case host, no trailing slash or `/api`).",
  },
  expired: {
    type: { kind: "boolean" },
    description: "True when the last create or refresh found the key past its expiry.",
  },
  rotateAt: {
    type: { kind: "string" },
    nullable: true,
    description:
      "When the next `pulumi up` will rotate the key; null without `rotateBefore` or without an expiry.",
  },
  accessLevel: {
    type: { kind: "string" },
    nullable: true,
    description:
      "The access level Octopus reports for the key (`FullAccess`, `ReadOnly`, `Custom`); null when the server reports none (before 2026.3).",
  },
  lastUsed: {
    type: { kind: "string" },
    nullable: true,
    description:
      "When the key last authenticated (ISO 8601), as of the last create or refresh; null if never used, or when the server does not track it (before 2026.3). A change alone causes no diff.",
  },
  actorType: {
    type: { kind: "string" },
    nullable: true,
    description:
      "The actor type Octopus reports for the key (`User`, `AiAgent`); null when the server reports none (before 2026.3).",
  },
  retiringKeyId: {
    type: { kind: "string" },
    nullable: true,
    description:
      'With `onRotation: "expire"`: the id of the key the last rotation replaced, still live until `retiringKeyExpires`; null when there is none, or once it has expired or is gone (as of the last create, update or refresh).',
  },
  retiringKeyExpires: {
    type: { kind: "string" },
    nullable: true,
    description:
      "When the retiring key (`retiringKeyId`) expires (ISO 8601); null when there is none.",
  },
} as const satisfies Record<string, Field>;

export const CONNECTION_SETTINGS = {
  address: {
    type: { kind: "string" },
    env: ["OCTOPUS_URL"],
    stackConfig: "octopusdeploy:address",
    description:
      "Server URL such as `https://octopus.example.com`; a path prefix (`/octopus`) is kept, and the API root (`…/api`) means the server.",
  },
  apiKey: {
    type: { kind: "string" },
    secret: true,
    env: ["OCTOPUS_API_KEY", "OCTOPUS_APIKEY"],
    stackConfig: "octopusdeploy:apiKey",
    description:
      "API key (`API-…`) used to create and revoke keys, sent as `X-Octopus-ApiKey`. Wins over `accessToken` from the same place.",
  },
  accessToken: {
    type: { kind: "string" },
    secret: true,
    env: ["OCTOPUS_ACCESS_TOKEN"],
    stackConfig: "octopusdeploy:accessToken",
    description:
      "OIDC access token of a service account, sent as a bearer token (it lives about an hour).",
  },
  requestTimeout: {
    type: { kind: "stringOrNumber" },
    env: ["OCTOPUS_REQUEST_TIMEOUT"],
    description:
      "Per-request timeout: milliseconds, or a duration such as `30s`. Default: 30 seconds.",
  },
  caCertificate: {
    type: { kind: "string" },
    env: ["OCTOPUS_CA_CERTIFICATE"],
    description:
      "PEM text (not a file name) of a private certificate authority to trust. Default: Node's trust store, plus `NODE_EXTRA_CA_CERTS`.",
  },
  allowInsecureHttp: {
    type: { kind: "boolean" },
    env: ["OCTOPUS_ALLOW_INSECURE_HTTP"],
    description:
      "Allow plain `http://` to a host that is not loopback, which sends the credential unencrypted. Default: false.",
  },
} as const satisfies Record<string, SettingField>;

/** What `getApiKeys` tells of each key: never a secret (a listing carries none). */
export const KEY_SUMMARY = {
  id: { type: { kind: "string" }, description: "Octopus id of the key (`apikeys-…`)." },
  purpose: { type: { kind: "string" }, description: "What the key is for." },
  created: { type: { kind: "string" }, description: OUTPUTS.created.description },
  expires: { type: { kind: "string" }, nullable: true, description: OUTPUTS.expires.description },
  lastUsed: {
    type: { kind: "string" },
    nullable: true,
    description:
      "When the key last authenticated (ISO 8601); null if never used, or when the server does not track it (before 2026.3).",
  },
  accessLevel: {
    type: { kind: "string" },
    nullable: true,
    description: OUTPUTS.accessLevel.description,
  },
  hint: {
    type: { kind: "string" },
    nullable: true,
    description: "The first characters of the key, as Octopus shows them: safe to display.",
  },
} as const satisfies Record<string, Field>;

/** `getApiKeys`: a user's keys, for audits (unused or soon-expiring keys). */
export const GET_API_KEYS = {
  description:
    "Lists a user's API keys for audits (unused or soon-expiring keys): ids, purposes, dates, access levels and hints, never a secret. Reads at most 100 pages of 100 keys.",
  inputs: {
    userId: {
      type: { kind: "string" },
      description:
        "Id of the user whose keys to list. Default: the caller's own user. Not with `username`.",
    },
    username: {
      type: { kind: "string" },
      description:
        "Username of the user whose keys to list: the exact name, or the one user whose name differs from it only in letter case. Default: the caller's own user. Not with `userId`.",
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
      description: "The user's keys, in the order Octopus lists them (newest first).",
    },
  },
} as const satisfies FunctionDeclaration;

/** Everything in one: what the plugin's schema is built from. */
export const DECLARATION: Declaration = {
  inputs: INPUTS,
  outputs: OUTPUTS,
  config: CONNECTION_SETTINGS,
  types: { connection: CONNECTION_SETTINGS, apiKeySummary: KEY_SUMMARY },
  functions: { getApiKeys: GET_API_KEYS },
};

/** How to reach Octopus (all optional); from the `connection` input, configuration or the environment. */
export type ConnectionSettings = {
  -readonly [K in keyof typeof CONNECTION_SETTINGS]?: ValueOf<
    (typeof CONNECTION_SETTINGS)[K]["type"]
  >;
};

/** The resource's inputs as the provider receives them (plain values, after check). */
export type ApiKeyInputs = Omit<InputValues<typeof INPUTS>, "connection"> & {
  connection?: ConnectionSettings;
};

/** Whose key it is: by id, by username, or (neither) the caller's own user. */
export interface Owner {
  userId?: string;
  username?: string;
}

/** The resource's declared outputs. */
export type ApiKeyOutputs = OutputValues<typeof OUTPUTS>;

export type InputName = keyof typeof INPUTS;
/** The outputs Octopus reports as kept (an `octopus` field name): ./plain-fields maps them. */
export type PlainOutputName = {
  [K in keyof typeof OUTPUTS]: (typeof OUTPUTS)[K] extends { octopus: string } ? K : never;
}[keyof typeof OUTPUTS];
export type OutputName = keyof typeof OUTPUTS;
export type SettingName = keyof typeof CONNECTION_SETTINGS;

export const INPUT_NAMES = Object.keys(INPUTS) as InputName[];
export const OUTPUT_NAMES = Object.keys(OUTPUTS) as OutputName[];
export const SETTING_NAMES = Object.keys(CONNECTION_SETTINGS) as SettingName[];
