/**
 * Server profiles: what differs between the Octopus versions the emulator stands in for. Each
 * row cites its public source; emulator/README.md has the same table with links.
 */

/** "2025.3" stands for every version from 2020.6 (API key expiry added) to 2025.3. */
export type ProfileName = "2025.3" | "2025.4" | "2026.3";

/** Every profile, oldest first, so tests can run a suite against each. */
export const PROFILES: readonly ProfileName[] = ["2025.3", "2025.4", "2026.3"];

/** The profile used when none is given: the newest. */
export const DEFAULT_PROFILE: ProfileName = "2026.3";

export interface ProfileRules {
  name: ProfileName;
  /** `Version` at `GET /api`. */
  version: string;
  /**
   * Days until a key made with `Expires` omitted expires; null: it never expires.
   * Source: docs "Create an API Key" (2020.6 page: "By default, keys have no expiry date";
   * current page: "The ability to control the default … was added in 2025.4", default 180 days;
   * REST reference `CreateUserApiKeyCommand.Expires`: "If unspecified … 180 days").
   */
  defaultExpiryDays: number | null;
  /**
   * What `Expires: null` means: never expire (before 2025.4), or the maximum (REST reference:
   * "Provide a null value to create an API key with the maximum allowable expiry").
   */
  nullExpiry: "never" | "maximum";
  /** Latest expiry allowed, in days from now; null: no maximum (docs: "2025.4 and newer … 366 days"). */
  maxExpiryDays: number | null;
  /**
   * What a defaulted (omitted/null) expiry later than the caller's own key's expiry does ("cannot
   * be after the expiry of the key being used to create it", docs). "refuse": 400, always. Before
   * 2025.4 the default never expired, and a caller whose key expires could not create a key
   * without an expiry at all (go-octopusdeploy issue #109, 2022: "Octopus Deploy doesn't allow you
   * to create an API key for longer than your current key is valid, it means you can't create API
   * Keys using an API that expires"). "option": refused or shortened as `defaultExpiryVsCaller`
   * says, since what 2025.4+ does with its 180-day default is not documented.
   */
  defaultVsCallerKey: "refuse" | "option";
  /**
   * `ApiKeyDefaultExpiryDays` / `ApiKeyMaxExpiryDays` at `GET /api/authentication`
   * (REST reference `AuthenticationResource`; the settings arrived in 2025.4).
   */
  expirySettings: boolean;
  /**
   * Key fields `AccessLevel`, `ActorType`, `IsLastUsedTimestampKnown`, `LastUsedTimeStamp`,
   * `LastModifiedBy`, `LastModifiedOn`, and `AccessLevel`/`ActorType` honoured in the create body
   * (REST reference api-keys, dated 2026-08; OctopusDeploy/Issues #10131; docs: read-only keys
   * reach self-hosted servers in 2026.3). Older servers ignore unknown body fields.
   */
  keyAccessFields: boolean;
}

const RULES: Record<ProfileName, ProfileRules> = {
  "2025.3": {
    name: "2025.3",
    version: "2025.3.5000",
    defaultExpiryDays: null,
    nullExpiry: "never",
    maxExpiryDays: null,
    defaultVsCallerKey: "refuse",
    expirySettings: false,
    keyAccessFields: false,
  },
  "2025.4": {
    name: "2025.4",
    version: "2025.4.5000",
    defaultExpiryDays: 180,
    nullExpiry: "maximum",
    maxExpiryDays: 366,
    defaultVsCallerKey: "option",
    expirySettings: true,
    keyAccessFields: false,
  },
  "2026.3": {
    name: "2026.3",
    version: "2026.3.5000",
    defaultExpiryDays: 180,
    nullExpiry: "maximum",
    maxExpiryDays: 366,
    defaultVsCallerKey: "option",
    expirySettings: true,
    keyAccessFields: true,
  },
};

export function isProfileName(value: unknown): value is ProfileName {
  return typeof value === "string" && (PROFILES as readonly string[]).includes(value);
}

/** The rules of `name`; throws on an unknown profile, naming the known ones. */
export function profileRules(name: string): ProfileRules {
  if (!isProfileName(name)) {
    throw new Error(`Unknown emulator profile "${name}"; known: ${PROFILES.join(", ")}`);
  }
  return RULES[name];
}
