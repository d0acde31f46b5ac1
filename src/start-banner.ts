/**
 * The few lines `npm start` prints once the service is ready: where it is, that
 * payments are simulated and where to pay, where emails go, who is an admin.
 */
import os from 'node:os';
import type { Config } from './config.js';

export function startBanner(config: Config, port: number): string {
  const url = config.publicUrl;
  const lines = [`reader-coop is ready: ${url}`];
  const lan = lanUrls(config, port);
  if (lan.length > 0) lines.push(`  from another device on this network: ${lan.join(', ')}`);
  if (config.stripe.sandbox) {
    lines.push(
      `Payments: SANDBOX (no Stripe keys set; no real money moves). Give at ${url}/donate and pay on the test payment page; every payment is listed at ${url}/sandbox`,
    );
  } else {
    lines.push(`Payments: Stripe (${config.stripe.secretKey?.includes('_live_') ? 'LIVE keys: real money' : 'test mode'})`);
  }
  if (config.mail.smtpUrl) {
    lines.push(`Emails: sent through ${smtpHost(config.mail.smtpUrl)}`);
  } else {
    lines.push(`Emails: not sent (SMTP_URL is not set); written to ${config.mail.outboxDir} and readable at ${url}/sandbox/emails`);
  }
  const admins = config.auth.adminEmails;
  lines.push(
    admins.length > 0
      ? `Admin addresses: ${admins.join(', ')} (sign in at ${url}/account)`
      : 'Admin addresses: none set (start with ADMIN_EMAILS=you@example.org to administer)',
  );
  return lines.join('\n');
}

/** The machine's LAN addresses, when PUBLIC_URL is the default localhost one (a phone on the same network can use them). */
function lanUrls(config: Config, port: number): string[] {
  if (!/^http:\/\/localhost(:\d+)?$/.test(config.publicUrl)) return [];
  return Object.values(os.networkInterfaces())
    .flat()
    .filter((a) => a && a.family === 'IPv4' && !a.internal)
    .map((a) => `http://${a!.address}:${port}`);
}

function smtpHost(smtpUrl: string): string {
  try {
    const u = new URL(smtpUrl);
    return `${u.protocol}//${u.host}`;
  } catch {
    return 'SMTP_URL';
  }
}
