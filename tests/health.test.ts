import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './support/test-app.js';

describe('health and the API description', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app.close());

  it('answers /healthz and /readyz when the database answers', async () => {
    expect((await app.request('GET', '/healthz')).status).toBe(200);
    const ready = await app.request('GET', '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.headers.get('x-request-id')).toBeTruthy();
  });

  it('serves the OpenAPI 3.1 description generated from the route schemas', async () => {
    const res = await app.request('GET', '/api/openapi.json');
    expect(res.status).toBe(200);
    expect(res.body.openapi).toBe('3.1.0');
  });

  it('answers an unknown route with the contract error body', async () => {
    const res = await app.request('GET', '/no-such-thing');
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: { code: 'not_found', message: expect.any(String) } });
  });

  it('answers malformed JSON with 400 malformed_json', async () => {
    const res = await app.request('POST', '/api/anything', { body: '{"amount": ', headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('malformed_json');
  });
});

describe('a dead link followed by a person', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app.close());

  it('when a browser asks for a page that does not exist, then it gets a 404 page with the ways on, not JSON', async () => {
    const res = await app.request('GET', '/no-such-page', { headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } });
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(res.text).toContain('We could not find that page');
    expect(res.text).toContain('href="/donate"');
  });

  it('when an API client asks for an unknown API path, then it still gets the contract error body', async () => {
    const res = await app.request('GET', '/api/no-such-thing', { headers: { accept: 'text/html' } });
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('not_found');
  });
});
