import type { Exchange } from "./transport";
import type { Page } from "./answers";
import { badAnswer } from "./failures";

/**
 * Pages read at most for one listing: 100 pages of 100 items. A user lookup or a key listing
 * needs one or two; a server whose `Page.Next` never ends is stopped here.
 */
export const MAX_PAGES = 100;

/**
 * Reads a paged list from `first` (a request: path and query) on, handing each item to `each`
 * until it returns true.
 * It follows `Page.Next` and stops at the end: no next link, an empty page, or as many items as
 * `TotalResults` says there are. A next link that leads back to a page already read, or more
 * than {@link MAX_PAGES} pages, is a BAD_RESPONSE: Octopus's paging always ends.
 *
 * `fetch(request)` reads one page; `resolve(link)` is the request a server-given link stands for
 * (throwing for a link that leaves the server), so that pages are told apart as requests.
 */
export async function readPages(
  first: string,
  exchange: Exchange,
  fetch: (request: string) => Promise<Page>,
  resolve: (link: string) => string,
  each: (item: unknown) => boolean,
): Promise<void> {
  const read = new Set<string>([first]);
  let page = await fetch(first);
  let items = 0;
  for (let pages = 1; ; pages++) {
    for (const item of page.items) if (each(item)) return;
    items += page.items.length;
    if (!page.next || page.items.length === 0) return;
    if (page.total !== undefined && items >= page.total) return;
    if (page.self) {
      try {
        read.add(resolve(page.self));
      } catch {
        // A Self link elsewhere tells nothing about which pages were read.
      }
    }
    const next = resolve(page.next);
    if (read.has(next)) {
      throw badAnswer(
        exchange,
        `its Page.Next link leads back to a page already read (after ${pages} pages, ${items} items), so its paging would never end; stopped there`,
      );
    }
    if (pages >= MAX_PAGES) {
      throw badAnswer(
        exchange,
        `its paging goes on past ${MAX_PAGES} pages (${items} items read${page.total !== undefined ? ` of ${page.total} announced` : ""}), far more than this lookup needs; stopped there`,
      );
    }
    read.add(next);
    page = await fetch(next);
  }
}
