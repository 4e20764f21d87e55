/**
 * What the emulator answers with: the reply type, Octopus' messages and bodies, and the HTML pages
 * a proxy or the web portal would send. Shared by the routes and the fault layer.
 */

export interface Reply {
  status: number;
  body: string;
  contentType?: string;
  headers?: Record<string, string>;
  /** Set on a successful key creation, so the `noApiKey` fault can strip the secret. */
  createdKey?: Record<string, unknown>;
}

export const JSON_TYPE = "application/json; charset=utf-8";
export const HTML_TYPE = "text/html; charset=utf-8";

export const MSG_UNAUTHENTICATED =
  "You must be logged in to perform this action. Please provide a valid API key or log in again.";
export const MSG_NOT_FOUND = "The resource you requested was not found.";
export const MSG_BAD_REQUEST = "There was a problem with your request.";
export const MSG_UNAVAILABLE =
  "The server is temporarily unable to handle the request. Please try again later.";
export const MSG_NO_PERMISSION =
  "You do not have permission to perform this action. Please contact your Octopus administrator.";

/** Bodies for `status` faults, so an injected 401/403/404 reads like the real thing. */
export const STATUS_MESSAGES: Record<number, string> = {
  401: MSG_UNAUTHENTICATED,
  403: MSG_NO_PERMISSION,
  404: MSG_NOT_FOUND,
  409: "The request conflicts with the current state of the resource.",
  500: "An unexpected error occurred on the Octopus Server.",
};

/** Octopus prints timestamps with milliseconds and an explicit offset. */
export function formatOctopusDate(date: Date): string {
  return date.toISOString().replace("Z", "+00:00");
}

export function errorBody(message: string, errors: string[] = [message]): string {
  return JSON.stringify({ ErrorMessage: message, Errors: errors }, null, 2);
}

export function json(status: number, value: unknown): Reply {
  // Octopus indents its JSON; keeping that makes byte counts comparable with a real server.
  return { status, body: JSON.stringify(value, null, 2) };
}

export function fail(status: number, message: string, errors?: string[]): Reply {
  return { status, body: errorBody(message, errors) };
}

export const notFound = (): Reply => fail(404, MSG_NOT_FOUND);
export const forbidden = (permission: string): Reply =>
  fail(403, `${MSG_NO_PERMISSION} Missing permission: ${permission}`);

/** Reads a JSON property the way Octopus' (case-insensitive) model binding does. */
export function prop(
  body: Record<string, unknown>,
  name: string,
): { present: boolean; value: unknown } {
  const key = Object.keys(body).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined
    ? { present: false, value: undefined }
    : { present: true, value: body[key] };
}

export function loginPage(): string {
  return [
    "<!DOCTYPE html>",
    '<html lang="en">',
    '<head><meta charset="utf-8"><title>Sign in - Octopus Deploy</title></head>',
    "<body>",
    '<div id="root"><h1>Octopus Deploy</h1><form method="post" action="/api/users/login">',
    '<label>Username <input name="username"></label>',
    '<label>Password <input name="password" type="password"></label>',
    '<button type="submit">Sign in</button></form></div>',
    "</body>",
    "</html>",
    "",
  ].join("\n");
}

export function proxyErrorPage(status: number): string {
  const reason = status === 502 ? "Bad Gateway" : status === 504 ? "Gateway Time-out" : "Error";
  return (
    `<html>\r\n<head><title>${status} ${reason}</title></head>\r\n<body>\r\n` +
    `<center><h1>${status} ${reason}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`
  );
}
