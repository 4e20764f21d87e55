import { lookup } from "node:dns/promises";
import { BlockList, isIP } from "node:net";

/** 127.0.0.0/8 and ::1; `BlockList` also matches IPv4-mapped IPv6 (`::ffff:127.0.0.1`). */
const LOOPBACK = new BlockList();
LOOPBACK.addSubnet("127.0.0.0", 8, "ipv4");
LOOPBACK.addAddress("::1", "ipv6");

/** Whether `address` (an IP literal) is a loopback address. */
export function isLoopbackAddress(address: string): boolean {
  const bare = address.replace(/^\[(.*)\]$/, "$1");
  const family = isIP(bare);
  return family !== 0 && LOOPBACK.check(bare, family === 6 ? "ipv6" : "ipv4");
}

/**
 * Whether listening on `host` can only be reached from this machine: an IP literal must be a
 * loopback address; a name must resolve to loopback addresses only (all of them are checked, not
 * just the one `listen` would take). The unspecified addresses (`0.0.0.0`, `::`) are not loopback.
 */
export async function isLoopbackHost(host: string): Promise<boolean> {
  const bare = host.trim().replace(/^\[(.*)\]$/, "$1");
  if (isIP(bare) !== 0) return isLoopbackAddress(bare);
  try {
    const addresses = await lookup(bare, { all: true });
    return addresses.length > 0 && addresses.every((a) => isLoopbackAddress(a.address));
  } catch {
    return false;
  }
}
