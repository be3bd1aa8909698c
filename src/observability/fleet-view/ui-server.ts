/**
 * The dashboard's routes on the metrics port: `/ui` (the page), `/ui/app.js` and `/ui/app.css`
 * (the bundle), `/ui/stream` (server-sent events: `hello`, then `fleet` every second,
 * `decisions`, `control`), `/ui/login` and `/ui/logout`. With authentication on, the page and the
 * stream follow the control API's: a bearer token of role viewer or above, sent as
 * `Authorization: Bearer`, or kept in an HttpOnly cookie that the login form or `/ui?token=` sets
 * (EventSource cannot send headers). Read-only: nothing here changes the mesh.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { MeshError } from '../../core/errors.ts';
import type { UiBundle } from './bundle.ts';
import type { FleetHub, StreamClient } from './fleet-hub.ts';
import { loginPage } from './login-page.ts';

/** Checks a caller: resolves when it may view, throws `unauthenticated` / `permission_denied` otherwise. */
export type UiAuthorize = (authorization: string | null, remoteAddress: string | undefined) => Promise<void>;

export interface UiHandlerOptions {
  hub: FleetHub;
  bundle: UiBundle;
  /** Absent: the dashboard is open, as `/metrics` is. */
  authorize?: UiAuthorize;
}

/** The cookie that carries the token for the page and its stream. */
export const UI_TOKEN_COOKIE = 'mesh_ui_token';
/** A viewer that falls this far behind (bytes queued) is dropped; its browser reconnects. */
const MAX_QUEUED_BYTES = 8 * 1024 * 1024;

/** Returns a handler that answers the `/ui` paths and returns false for any other. */
export function createUiHandler(
  options: UiHandlerOptions,
): (req: IncomingMessage, res: ServerResponse) => boolean {
  const { hub, bundle, authorize } = options;

  /** Undefined when the caller may view; else the refusal. */
  const check = async (req: IncomingMessage, token?: string): Promise<MeshError | undefined> => {
    if (!authorize) return undefined;
    const cookie = token ?? cookieValue(req.headers.cookie, UI_TOKEN_COOKIE);
    const authorization = req.headers.authorization ?? (cookie ? `Bearer ${cookie}` : null);
    try {
      await authorize(authorization, req.socket.remoteAddress);
      return undefined;
    } catch (err) {
      return MeshError.from(err, 'unauthenticated');
    }
  };

  const send = (
    res: ServerResponse,
    status: number,
    type: string,
    body: string,
    extra: Record<string, string> = {},
  ) => {
    res.writeHead(status, {
      'content-type': type,
      'content-length': Buffer.byteLength(body),
      'cache-control': 'no-store',
      ...extra,
    });
    res.end(body);
  };
  const refuse = (res: ServerResponse, error: MeshError, html: boolean) =>
    html
      ? send(res, error.httpStatus, 'text/html; charset=utf-8', loginPage(error.message))
      : send(
          res,
          error.httpStatus,
          'application/json',
          JSON.stringify({ error: { code: error.code, message: error.message } }),
        );
  const withCookie = (token: string) => ({
    'set-cookie': `${UI_TOKEN_COOKIE}=${encodeURIComponent(token)}; Path=/ui; HttpOnly; SameSite=Strict`,
    location: '/ui',
  });

  const serve = async (req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams) => {
    if (path === '/ui/app.js' || path === '/ui/app.css') {
      // The bundle is code, not data: served without a token so the login page has its style.
      const assets = await bundle.get();
      const js = path.endsWith('.js');
      return send(
        res,
        200,
        js ? 'text/javascript; charset=utf-8' : 'text/css; charset=utf-8',
        js ? assets.js : assets.css,
      );
    }
    if (path === '/ui/logout') {
      return send(res, 303, 'text/plain', 'logged out\n', {
        'set-cookie': `${UI_TOKEN_COOKIE}=; Path=/ui; HttpOnly; SameSite=Strict; Max-Age=0`,
        location: '/ui',
      });
    }
    if (path === '/ui/login' && req.method === 'POST') {
      const token = new URLSearchParams(await readSmallBody(req)).get('token')?.trim() ?? '';
      const refused = await check(req, token);
      if (refused) return refuse(res, refused, true);
      // With authentication off there is nothing to keep: just back to the page.
      return send(res, 303, 'text/plain', 'signed in\n', authorize ? withCookie(token) : { location: '/ui' });
    }
    if (path === '/ui' || path === '/ui/') {
      // `?token=` (a link from a script): kept in the cookie, then dropped from the address bar.
      const token = query.get('token');
      const refused = await check(req, token ?? undefined);
      if (refused) return refuse(res, refused, true);
      if (token && authorize) return send(res, 303, 'text/plain', 'signed in\n', withCookie(token));
      return send(res, 200, 'text/html; charset=utf-8', (await bundle.get()).html);
    }
    if (path === '/ui/stream') {
      const refused = await check(req);
      if (refused) return refuse(res, refused, false);
      return stream(req, res);
    }
    throw new MeshError('not_found', `no dashboard route ${path}`);
  };

  const stream = (req: IncomingMessage, res: ServerResponse) => {
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write('retry: 2000\n\n');
    const client: StreamClient = {
      send(event, data) {
        if (res.destroyed || res.writableLength > MAX_QUEUED_BYTES) return false;
        res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
        return true;
      },
      close: () => res.end(),
    };
    const disconnect = hub.connect(client);
    req.socket.setNoDelay(true);
    res.on('close', disconnect);
  };

  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://ui');
    if (url.pathname !== '/ui' && !url.pathname.startsWith('/ui/')) return false;
    serve(req, res, url.pathname, url.searchParams).catch((err: unknown) => {
      const error = MeshError.from(err);
      if (res.headersSent) res.end();
      else refuse(res, error, false);
    });
    return true;
  };
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
}

/** A login form's body (a token is a few KiB at most). */
async function readSmallBody(req: IncomingMessage): Promise<string> {
  let body = '';
  for await (const chunk of req as AsyncIterable<Buffer>) {
    body += chunk.toString('utf8');
    if (body.length > 64 * 1024) throw new MeshError('payload_too_large', 'the login form is too large');
  }
  return body;
}
