/**
 * The sandbox's webhook sender keeps the latest deliveries for its dashboard, not
 * every one: a sandbox left running under `npm start` would otherwise grow without
 * end. Delivered to a real local HTTP server that answers 200.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebhookSender } from '../../src/payments/sandbox/sandbox-delivery.js';
import type { SandboxEvent } from '../../src/payments/sandbox/sandbox-objects.js';

describe('the sandbox webhook sender', () => {
  let server: http.Server;
  let url: string;
  const received: string[] = [];

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push((JSON.parse(Buffer.concat(chunks).toString('utf8')) as { id: string }).id);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"received":true}');
      });
    });
    server.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/stripe`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const event = (n: number): SandboxEvent => ({
    id: `evt_kept_${n}`,
    object: 'event',
    api_version: null,
    created: 1_700_000_000 + n,
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type: 'checkout.session.completed',
    data: { object: { id: `cs_kept_${n}` } },
  });

  it('when more events are delivered than it keeps, then every one is sent and its log holds only the latest, oldest first', async () => {
    const sender = new WebhookSender({ webhook: { url, secret: 'whsec_kept' }, keptDeliveries: 5 });
    const events = Array.from({ length: 8 }, (_, i) => event(i + 1));

    const done = await sender.deliver(events);

    expect(done.map((d) => d.status)).toEqual(Array(8).fill(200));
    expect(received.slice(-8)).toEqual(events.map((e) => e.id));
    expect(sender.deliveries.map((d) => d.eventId)).toEqual(['evt_kept_4', 'evt_kept_5', 'evt_kept_6', 'evt_kept_7', 'evt_kept_8']);
  });

  it('when no limit is given, then it keeps the latest 100', async () => {
    const sender = new WebhookSender({ webhook: { url, secret: 'whsec_kept' } });

    await sender.deliver(Array.from({ length: 105 }, (_, i) => event(100 + i)));

    expect(sender.deliveries).toHaveLength(100);
    expect(sender.deliveries[0]!.eventId).toBe('evt_kept_105');
    expect(sender.deliveries.at(-1)!.eventId).toBe('evt_kept_204');
  });
});
