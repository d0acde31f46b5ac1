/**
 * Development without PUBLIC_URL: the service is reached as http://localhost:3000,
 * but also as http://127.0.0.1:3000 or through the machine's LAN address (a phone
 * on the same network). Links and redirects then stay on the address the reader's
 * browser used, instead of sending a phone to its own "localhost". With PUBLIC_URL
 * set (always in production) that address is the only one.
 */
import type { Request } from 'express';
import type { Config } from '../config.js';

const HOST = /^(?:[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/** The origin the reader's browser used, when links may follow it (development, no PUBLIC_URL); else PUBLIC_URL's. */
export function readersOrigin(config: Pick<Config, 'publicUrl' | 'publicUrlGiven'>, req: Request): string {
  if (config.publicUrlGiven) return new URL(config.publicUrl).origin;
  return requestOrigin(req) ?? new URL(config.publicUrl).origin;
}

/** The base URL for links and return URLs made while answering `req` (PUBLIC_URL, or the reader's own address in development). */
export function readersBaseUrl(config: Pick<Config, 'publicUrl' | 'publicUrlGiven'>, req: Request): string {
  if (config.publicUrlGiven) return config.publicUrl;
  const origin = requestOrigin(req);
  return origin ? origin + new URL(config.publicUrl).pathname.replace(/\/+$/, '') : config.publicUrl;
}

/** `url` moved onto the reader's address when it points at PUBLIC_URL's default origin (development without PUBLIC_URL). */
export function onReadersHost(config: Pick<Config, 'publicUrl' | 'publicUrlGiven'>, req: Request, url: string): string {
  if (config.publicUrlGiven) return url;
  return moveToRequestOrigin(req, new URL(config.publicUrl).origin, url);
}

/** Replaces `fromOrigin` at the start of `url` with the origin of `req` (for the sandbox, which knows only its pages' URL). */
export function moveToRequestOrigin(req: Request, fromOrigin: string, url: string): string {
  const origin = requestOrigin(req);
  if (!origin || origin === fromOrigin) return url;
  return url === fromOrigin || url.startsWith(`${fromOrigin}/`) || url.startsWith(`${fromOrigin}?`) ? origin + url.slice(fromOrigin.length) : url;
}

function requestOrigin(req: Request): string | undefined {
  const host = req.get('host');
  if (!host || !HOST.test(host)) return undefined;
  return `${req.protocol === 'https' ? 'https' : 'http'}://${host.toLowerCase()}`;
}
