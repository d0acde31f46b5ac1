/**
 * The V8 flags the service's process runs with, wherever it is started: `npm start`
 * (package.json), the systemd unit (deploy/reader-coop@.service) and the benchmarks,
 * which measure the service as it runs in production. tests/node-flags.test.ts
 * keeps the three the same. V8 reads these when the process starts; they cannot be
 * set from inside it.
 *
 * --max-semi-space-size=4: the young generation's semi-spaces at 4 MB instead of
 * V8's 16 MB. The service's live heap is about 35 MB; under a burst of webhooks
 * V8's default young generation alone took some 50 MB more, for no gain: the
 * webhook benchmark's peak RSS went from about 195 MB to about 138 MB with the same
 * CPU per event (README, "Figures").
 */
export const SERVICE_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4'];
