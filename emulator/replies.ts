/**
 * What the emulator answers with: the reply type, Octopus' messages and bodies, and the HTML pages
 * a proxy or the web portal would send. Shared by the routes and the fault layer.
 */

export interface Reply {
  status: number;
  body: string;
  /** Default JSON; null sends no Content-Type at all (an empty answer, as some servers send). */
  contentType?: string | null;
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

/** How 401/403 bodies look: see `EmulatorOptions.errorBodies`. */
export type ErrorStyle = "errors" | "helpText";

/** What a 401/403 says beyond its `ErrorMessage`. */
export interface SecurityDetail {
  /** The reasons: `Errors` in the "errors" style, joined into `HelpText` in the "helpText" style. */
  reasons?: string[];
  /** `Details` in the "helpText" style (structured; its real content is undocumented). */
  details?: Record<string, unknown>;
}

/** `HelpText` when a refusal has no specific reason. The real wording is not documented. */
const DEFAULT_HELP: Record<number, string> = {
  401: "The API key or access token was not recognised, has expired or has been revoked. Sign in again or use a valid API key.",
  403: "None of your teams grant the permission this action needs. Ask your Octopus administrator for it.",
};

/** Every fake stack trace has this line, so tests can check a client never shows one. */
export const FULL_EXCEPTION_FRAME =
  "   at Octopus.Server.Web.Middleware.ErrorHandlingMiddleware.InvokeAsync(HttpContext context)";

/**
 * A 401/403 in the configured style. "helpText" mimics what Octopus.Client's
 * OctopusExceptionFactory reads from a security error: `ErrorMessage` and `HelpText`, with
 * `Details` and `FullException` (a server stack trace, fake here) and no `Errors`.
 */
export function securityFail(
  style: ErrorStyle,
  status: 401 | 403,
  message: string,
  detail: SecurityDetail = {},
): Reply {
  if (style === "errors") return fail(status, message, detail.reasons);
  const exception = status === 401 ? "OctopusUnauthorizedException" : "OctopusSecurityException";
  return json(status, {
    ErrorMessage: message,
    HelpText: detail.reasons?.join(" ") ?? DEFAULT_HELP[status],
    Details: detail.details ?? {},
    FullException:
      `Octopus.Server.Web.Infrastructure.${exception}: ${message}\r\n` +
      "   at Octopus.Server.Web.Infrastructure.Authorization.PermissionChecker.Demand(Permission permission)\r\n" +
      `${FULL_EXCEPTION_FRAME}\r\n` +
      "   at Microsoft.AspNetCore.Routing.EndpointMiddleware.Invoke(HttpContext httpContext)",
  });
}

/** Octopus' 403 for a missing permission, e.g. "… Missing permission: UserEdit". */
export function forbidden(style: ErrorStyle, permission: string): Reply {
  return securityFail(style, 403, `${MSG_NO_PERMISSION} Missing permission: ${permission}`, {
    details: { MissingPermission: permission },
  });
}

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
