/**
 * The V8 flags the service's process runs with, wherever it is started: `npm start`
 * (package.json), the systemd unit (deploy/reader-coop@.service) and the benchmarks,
 * which measure the service as it runs in production. tests/node-flags.test.ts
 * keeps the three the same. V8 reads these when the process starts; they cannot be
 * set from inside it.
 *
 * The service's live heap is about 35 MB, but under a burst of webhooks V8's
 * defaults let the heap swell with garbage: the webhook benchmark's peak RSS was
 * about 195 MB (issue 7 caps it at 150 MB).
 *
 * --max-semi-space-size=4: the young generation's semi-spaces at 4 MB instead of
 *   16 MB (alone: peak RSS about 170 MB, same speed).
 * --max-old-space-size=128: a ceiling on the old generation, which also makes V8
 *   collect it before it swells (with the first: peak RSS about 120 MB, and the
 *   benchmark a little faster, the collector having less to walk). 128 MB is over
 *   three times the live heap; every export streams, so nothing the service does
 *   holds more than a few MB at once. An instance that needs more (a very large
 *   upload, say) can raise it in the systemd unit and package.json together.
 *
 * Measured side by side in README, "Figures".
 */
export const SERVICE_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4', '--max-old-space-size=128'];
