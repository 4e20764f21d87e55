import type { EmulatorOptions } from "./options";
import type { ProfileRules } from "./profiles";
import type { KeyRecord, Store, UserRecord } from "./store";

/** Who is calling, once authenticated. */
export interface Caller {
  user: UserRecord;
  /** Expiry of the API key the caller authenticated with; null for never-expiring keys and tokens. */
  keyExpires: Date | null;
  /** The key used, when the caller authenticated with one (not with a bearer token). */
  key?: KeyRecord;
}

/** Server settings an administrator (or a test) can change while the server runs. */
export interface ServerSettings {
  /** Configuration ➜ Settings ➜ Authentication ➜ User API Keys (2023.2+). */
  userApiKeysEnabled: boolean;
}

/** What every route handler may use: the data, the options, the clock and link building. */
export interface ApiContext {
  readonly store: Store;
  readonly options: EmulatorOptions;
  /** The profile's rules with the options' overrides applied. */
  readonly rules: ProfileRules;
  readonly settings: ServerSettings;
  readonly installationId: string;
  now(): Date;
  /** A server-root-relative link, base path included, as Octopus writes them. */
  link(path: string): string;
}
