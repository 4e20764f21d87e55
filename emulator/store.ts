import { createHash } from "node:crypto";
import type { AccessLevel } from "./options";
import { MIXED_ALNUM, UPPER_ALNUM, randomString, type RandomSource } from "./random";

/** A user to add through `OctopusEmulator.addUser`. */
export interface NewUser {
  username: string;
  displayName?: string;
  email?: string;
  isService?: boolean;
  isAdmin?: boolean;
  isActive?: boolean;
}

export interface UserRecord {
  id: string;
  username: string;
  displayName: string;
  email: string;
  isService: boolean;
  isAdmin: boolean;
  isActive: boolean;
  /**
   * Octopus keeps an identification token per user, which the user list's `filter` matches (REST
   * reference); a GUID here (its real form is not documented), never shown in the user resource.
   */
  identificationToken: string;
  /** Lower-cased username, display name, email and identification token, for the partial `filter`. */
  search: string;
  avatar: string;
}

export interface KeyRecord {
  id: string;
  userId: string;
  purpose: string;
  /** SHA-256 of the secret; like Octopus, the secret itself is never stored. */
  hash: string;
  hint: string;
  created: Date;
  expires: Date | null;
  seq: number;
  /** 2026.3+ (stored on every profile, shown only where the profile has the field). */
  accessLevel: AccessLevel;
  actorType: "User" | "AiAgent";
  /** When the key last authenticated a request. */
  lastUsed: Date | null;
  /** False for keys that predate last-used tracking (the seeded ones), as the reference puts it. */
  lastUsedKnown: boolean;
  /** Username of whoever made the key. */
  createdBy: string;
}

/** Optional attributes of a new key. */
export interface NewKeyAttributes {
  accessLevel?: AccessLevel;
  actorType?: "User" | "AiAgent";
  lastUsedKnown?: boolean;
  createdBy?: string;
}

export interface TokenRecord {
  userId: string;
  expires: Date | null;
}

export function sha256(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

/** A GUID-shaped string (version 4 layout) from the first 32 hex digits of `hex`. */
function uuidFrom(hex: string): string {
  const h = hex.slice(0, 32).split("");
  h[12] = "4";
  h[16] = "89ab"[parseInt(h[16], 16) % 4];
  const s = h.join("");
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
}

function byUsername(a: UserRecord, b: UserRecord): number {
  const x = a.username.toLowerCase();
  const y = b.username.toLowerCase();
  if (x !== y) return x < y ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * The emulator's data: users, API keys (by id and by secret hash) and bearer tokens. Ids are
 * looked up case-insensitively, as Octopus' database collation does. It knows no API rules.
 */
export class Store {
  private readonly users = new Map<string, UserRecord>(); // by lower-cased id, insertion order
  private readonly keys = new Map<string, KeyRecord>(); // by lower-cased id
  private readonly keysByHash = new Map<string, KeyRecord>();
  private readonly tokensByHash = new Map<string, TokenRecord>();
  /** `allUsers()`'s answer until a user is added or deleted (usernames never change). */
  private sortedUsers: UserRecord[] | undefined;
  private nextUserNumber = 1;
  private nextKeySeq = 1;

  /**
   * `tokenSalt` makes users' identification tokens differ between servers; they are derived from
   * it and the user id, so drawing them takes nothing from `rand` (seeded runs keep their ids).
   */
  constructor(
    private readonly rand: RandomSource,
    private readonly now: () => Date,
    private readonly tokenSalt = "",
  ) {}

  insertUser(u: NewUser): UserRecord {
    const username = u.username.trim();
    if (username === "") throw new Error("A user needs a username");
    for (const existing of this.users.values()) {
      if (existing.username.toLowerCase() === username.toLowerCase()) {
        throw new Error(`A user named ${username} already exists`);
      }
    }
    const id = `Users-${this.nextUserNumber++}`;
    const displayName = u.displayName ?? username;
    const email = u.email ?? (u.isService ? "" : `${username}@example.com`);
    const identificationToken = uuidFrom(sha256(`${this.tokenSalt}\n${id}`));
    const user: UserRecord = {
      id,
      username,
      displayName,
      email,
      isService: u.isService ?? false,
      isAdmin: u.isAdmin ?? false,
      isActive: u.isActive ?? true,
      identificationToken,
      search: `${username}\n${displayName}\n${email}\n${identificationToken}`.toLowerCase(),
      avatar: `https://www.gravatar.com/avatar/${createHash("md5").update(email.toLowerCase()).digest("hex")}?d=blank`,
    };
    this.users.set(id.toLowerCase(), user);
    this.sortedUsers = undefined;
    return user;
  }

  /** Deletes the user and its keys and tokens. */
  deleteUser(user: UserRecord): void {
    this.users.delete(user.id.toLowerCase());
    this.sortedUsers = undefined;
    for (const key of [...this.keys.values()]) {
      if (key.userId === user.id) this.removeKey(key);
    }
    for (const [hash, token] of this.tokensByHash) {
      if (token.userId === user.id) this.tokensByHash.delete(hash);
    }
  }

  /**
   * Every user, sorted by username as Octopus lists them ("sorted alphabetically by username",
   * REST reference): compared case-insensitively, as the database's collation does (inferred),
   * then by id so that the order is total.
   */
  allUsers(): readonly UserRecord[] {
    this.sortedUsers ??= [...this.users.values()].sort(byUsername);
    return this.sortedUsers;
  }

  findUser(id: string | undefined): UserRecord | undefined {
    return id === undefined ? undefined : this.users.get(id.toLowerCase());
  }

  requireUser(id: string): UserRecord {
    const user = this.findUser(id);
    if (!user) throw new Error(`No user ${id}`);
    return user;
  }

  /** Makes a key with a fresh secret; the secret is returned once and only its hash is kept. */
  insertKey(
    user: UserRecord,
    purpose: string,
    expires: Date | null,
    attributes: NewKeyAttributes = {},
  ): { record: KeyRecord; secret: string } {
    let secret: string;
    do {
      secret = `API-${randomString(this.rand, UPPER_ALNUM, 26 + this.rand.int(2))}`;
    } while (this.keysByHash.has(sha256(secret)));
    let id: string;
    do {
      id = `apikeys-${randomString(this.rand, MIXED_ALNUM, 26)}`;
    } while (this.keys.has(id.toLowerCase()));
    const record: KeyRecord = {
      id,
      userId: user.id,
      purpose,
      hash: sha256(secret),
      hint: secret.slice(0, 8),
      created: this.now(),
      expires,
      seq: this.nextKeySeq++,
      accessLevel: attributes.accessLevel ?? "FullAccess",
      actorType: attributes.actorType ?? "User",
      lastUsed: null,
      lastUsedKnown: attributes.lastUsedKnown ?? true,
      createdBy: attributes.createdBy ?? user.username,
    };
    this.keys.set(id.toLowerCase(), record);
    this.keysByHash.set(record.hash, record);
    return { record, secret };
  }

  removeKey(key: KeyRecord): void {
    this.keys.delete(key.id.toLowerCase());
    this.keysByHash.delete(key.hash);
  }

  keyById(id: string): KeyRecord | undefined {
    return this.keys.get(id.toLowerCase());
  }

  keyBySecret(secret: string): KeyRecord | undefined {
    return this.keysByHash.get(sha256(secret));
  }

  /** Keys, newest (most recently created) first, even if a test moved the clock backwards. */
  keysNewestFirst(filter: (key: KeyRecord) => boolean = () => true): KeyRecord[] {
    return [...this.keys.values()].filter(filter).sort((a, b) => b.seq - a.seq);
  }

  /**
   * Mints a JWT-shaped bearer token for `user` (Octopus signs its access tokens with PS256, per
   * its OpenID Connect docs; this one's signature is random); only its hash is kept.
   */
  issueToken(user: UserRecord, issuer: string, expires: Date | null): string {
    const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString("base64url");
    const token = [
      b64({ alg: "PS256", typ: "JWT" }),
      b64({
        sub: user.id,
        iss: issuer,
        exp: expires ? Math.floor(expires.getTime() / 1000) : undefined,
        jti: randomString(this.rand, MIXED_ALNUM, 16),
      }),
      randomString(this.rand, MIXED_ALNUM + "-_", 43),
    ].join(".");
    this.tokensByHash.set(sha256(token), { userId: user.id, expires });
    return token;
  }

  tokenBySecret(token: string): TokenRecord | undefined {
    return this.tokensByHash.get(sha256(token));
  }
}
