// What every console view receives: the request, who is looking (and may they act), and the admin
// API to ask. The console is a client of the admin API, in-process: it shows what the API answers
// and acts only through it, so both are checked, shaped and audited in one place.
import type { IncomingMessage, ServerResponse } from 'node:http';

export type Role = 'viewer' | 'operator';

export interface Viewer {
  /** Who acts, as the audit records it: `admin:<token name>` or `console:<email>`. */
  actor: string;
  /** Who is shown as signed in. */
  label: string;
  role: Role;
  /** The CSRF token every form of this viewer carries. */
  csrf: string;
  /** Where the sign-out form posts (null: the gateway's own sign-out page handles it). */
  signOut: string | null;
}

export interface ApiAnswer {
  status: number;
  body: Record<string, unknown>;
}

/** The admin API in-process (AdminRouter.call); actions are recorded with the console page's request id. */
export type AdminApi = (method: string, target: string, actor: string, req: IncomingMessage, body?: unknown, requestId?: string) => Promise<ApiAnswer>;

export interface ConsoleRequest {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  requestId: string;
  viewer: Viewer;
  /** The urlencoded body of a POST, read and CSRF-checked before the view runs. */
  form: URLSearchParams;
  /** Asks the admin API as this viewer; an error answer throws ConsoleError with the API's message. */
  ask(method: string, target: string, body?: unknown): Promise<Record<string, unknown>>;
}

/** An answer the view wants to give instead of a page: a redirect, or an error page. */
export class ConsoleError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** A candidate file's problems (line:col message), when the API listed them. */
    readonly problems?: string[],
  ) {
    super(message);
  }
}
