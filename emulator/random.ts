import { randomBytes, randomInt } from "node:crypto";

/** A source of uniform randomness; seeded for deterministic tests, crypto-backed otherwise. */
export interface RandomSource {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [0, n). */
  int(n: number): number;
}

/** mulberry32: tiny, fast and good enough to make emulator runs reproducible (not for real secrets). */
export function seededRandom(seed: number): RandomSource {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (n) => Math.floor(next() * n) };
}

export function secureRandom(): RandomSource {
  return {
    next: () => randomBytes(6).readUIntBE(0, 6) / 2 ** 48,
    int: (n) => randomInt(n),
  };
}

export const UPPER_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
export const MIXED_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

export function randomString(source: RandomSource, alphabet: string, length: number): string {
  let out = "";
  for (let i = 0; i < length; i++) out += alphabet[source.int(alphabet.length)];
  return out;
}

/** A UUID-shaped string (version 4 layout) drawn from `source`, so seeded runs stay reproducible. */
export function randomUuid(source: RandomSource): string {
  const hex = randomString(source, "0123456789abcdef", 32).split("");
  hex[12] = "4";
  hex[16] = "89ab"[source.int(4)];
  const s = hex.join("");
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
}
