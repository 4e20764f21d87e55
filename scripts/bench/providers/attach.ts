/**
 * What every benchmark provider module exports: the serialized stub (see ../texts.ts) calls
 * `attach` from the host's `configure`, exactly as this package's own stub does, so the floors pay
 * the same loading path as ours (a `require` from the host, then methods put on its object).
 */
export type Props = Record<string, unknown>;

export interface BenchProvider {
  check?(olds: Props, news: Props): Promise<{ inputs: Props }>;
  create(inputs: Props): Promise<{ id: string; outs: Props }>;
  delete?(id: string, props: Props): Promise<void>;
}

/** Puts `provider`'s methods on the host's provider object (the one it deserialized). */
export function attachTo(target: object, provider: BenchProvider): void {
  Object.assign(target, provider);
}

/** The emulator the host was pointed at (the same variables our provider reads). */
export function server(): { url: string; apiKey: string } {
  const url = process.env.OCTOPUS_URL;
  const apiKey = process.env.OCTOPUS_API_KEY;
  if (!url || !apiKey) throw new Error("the bench host needs OCTOPUS_URL and OCTOPUS_API_KEY");
  return { url: url.replace(/\/+$/, ""), apiKey };
}

export interface User {
  Id: string;
  Username: string;
}

/** The user named `username` in one page of `GET /api/users?filter=…` (the request ours sends). */
export function pickUser(text: string, username: string): string {
  const page = JSON.parse(text) as { Items?: User[] };
  const wanted = username.toLowerCase();
  const user = page.Items?.find((u) => u.Username?.toLowerCase() === wanted);
  if (!user) throw new Error(`no user named ${username}`);
  return user.Id;
}

export function usersPath(username: string): string {
  return `/api/users?filter=${encodeURIComponent(username)}&take=100`;
}
