import type http from "node:http";

/** A request and its answer, as the transport sends them and messages describe them. */

export type Method = "GET" | "DELETE" | "POST";

/** One request, as messages describe it. */
export interface Exchange {
  method: Method;
  /** Path after the server URL, without the query string. */
  path: string;
  /** Server URL and path, for messages: never the query or credentials. */
  where: string;
  /** Where the server address came from, for advice (`OCTOPUS_URL`, `connection.address`…). */
  address: string;
}

/** What came back: any status (redirects are not followed), the body parsed as JSON. */
export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** The body as JSON; `undefined` when it was empty or is not JSON. */
  body: unknown;
  /** Whether the body had any bytes. */
  empty: boolean;
}
