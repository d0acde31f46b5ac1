/**
 * `npm run bench`: every speed and memory figure the issues ask for, measured
 * side by side in one run and printed with the target each must meet. Never part
 * of `npm test` (these machines are noisy; figures go in the closing notes).
 */
import { benchFundLatency } from './fund-latency.js';
import { benchFundThroughput } from './fund-throughput.js';
import { benchRegisterExport } from './register-export.js';
import { benchStartup } from './startup.js';
import { createScratchDatabase, printFigure, startBenchPostgres } from './support.js';
import { benchWebhookIngestion } from './webhook-ingestion.js';
import { benchWebhookRecordingCeiling } from './webhook-recording-ceiling.js';

const only = new Set(process.argv.slice(2));
const wanted = (name: string) => only.size === 0 || only.has(name);
let allMet = true;

const server = await startBenchPostgres();
try {
  if (wanted('fund')) {
    const database = await createScratchDatabase(server.url);
    try {
      const r = await benchFundThroughput(database);
      const met = r.ratio >= 0.8 && r.serviceErrors === 0 && r.entriesCounted === r.entries;
      allMet &&= met;
      printFigure('GET /api/fighting-fund (100,000 entries)', `${r.serviceRps.toFixed(0)} req/s`);
      printFigure('bare Express, constant JSON of same size', `${r.baselineRps.toFixed(0)} req/s (${r.bodyBytes} bytes)`);
      printFigure('fund API / bare Express (target >= 0.8)', r.ratio.toFixed(2), met);
    } finally {
      await database.drop();
    }
  }
  if (wanted('fund-latency')) {
    const database = await createScratchDatabase(server.url);
    try {
      const r = await benchFundLatency(database);
      const met = r.ratio <= 1.2;
      allMet &&= met;
      printFigure('GET /api/fighting-fund uncached, 10,000 entries', `${r.smallMs.toFixed(2)} ms (median)`);
      printFigure('GET /api/fighting-fund uncached, 1,000,000 entries', `${r.largeMs.toFixed(2)} ms (median)`);
      printFigure('1,000,000 / 10,000 entries (target <= 1.2)', r.ratio.toFixed(2), met);
    } finally {
      await database.drop();
    }
  }
  if (wanted('webhooks')) {
    const database = await createScratchDatabase(server.url);
    try {
      const r = await benchWebhookIngestion(database);
      const recordingMet = r.ratio >= 0.25 && r.failures === 0;
      const endToEndMet = r.endToEndRatio >= 0.15 && r.exact && r.applied === r.events;
      const rssMet = r.peakRssMb <= 150;
      allMet &&= recordingMet && endToEndMet && rssMet;
      printFigure('single-row insert transactions (16 at a time)', `${r.baselineInsertsPerSecond.toFixed(0)} tx/s`);
      printFigure('webhooks recorded (2,000 events, 16 at a time)', `${r.eventsPerSecond.toFixed(0)} events/s`);
      printFigure('recorded / single-row inserts (target >= 0.25)', r.ratio.toFixed(2), recordingMet);
      printFigure('applied end to end (last one in the fund)', `${r.endToEndSeconds.toFixed(2)} s (${r.appliedPerSecond.toFixed(0)} events/s)`);
      printFigure('end to end / single-row inserts (target >= 0.15)', r.endToEndRatio.toFixed(2), endToEndMet);
      printFigure('campaign total afterwards', `${r.bookedSum} of ${r.expectedSum} pence booked${r.exact ? ' (exact)' : ' (MISMATCH)'}`, r.exact);
      printFigure('peak RSS of the service (target <= 150 MB)', `${r.peakRssMb.toFixed(0)} MB`, rssMet);
    } finally {
      await database.drop();
    }
    // No target of its own: the most the recording figure above can be on this machine.
    const alone = await createScratchDatabase(server.url);
    try {
      const r = await benchWebhookRecordingCeiling(alone);
      printFigure('recorded with no job worker running', `${r.eventsPerSecond.toFixed(0)} events/s (inserts ${r.baselineInsertsPerSecond.toFixed(0)} tx/s)`);
      printFigure('  / single-row inserts (recording ceiling)', `${r.ratio.toFixed(2)}${r.failures > 0 ? ` (${r.failures} not answered 200)` : ''}`);
    } finally {
      await alone.drop();
    }
  }
  if (wanted('register')) {
    const database = await createScratchDatabase(server.url);
    try {
      const r = await benchRegisterExport(database);
      // Streaming means the memory an export keeps does not grow with the register.
      const met = r.rows === r.members + 1 && r.liveHeapGrowthMb <= r.small.liveHeapGrowthMb + 5;
      allMet &&= met;
      printFigure(`register.csv, ${r.members.toLocaleString('en-GB')} members`, `${r.seconds.toFixed(2)} s, ${(r.bytes / 1e6).toFixed(1)} MB`);
      printFigure('register/duplicate.csv', `${r.duplicateSeconds.toFixed(2)} s`);
      printFigure('peak RSS during the exports', `${r.peakRssMb.toFixed(0)} MB (baseline ${r.baselineRssMb.toFixed(0)} MB)`);
      printFigure(
        `heap kept: ${r.members.toLocaleString('en-GB')} vs ${r.small.members} members`,
        `${r.liveHeapGrowthMb.toFixed(1)} MB vs ${r.small.liveHeapGrowthMb.toFixed(1)} MB (target: within 5 MB)`,
        met,
      );
    } finally {
      await database.drop();
    }
  }
  if (wanted('startup')) {
    const r = await benchStartup();
    printFigure('install to ready: fresh clone in a 0700 folder, npm install, npm start -> /readyz 200', `${r.installToReadySeconds.toFixed(1)} s (npm install ${r.installSeconds.toFixed(1)} s)`);
    const met = r.coldSeconds <= 5;
    allMet &&= met;
    printFigure('ready: npm start -> /readyz 200 (first start: initdb, migrations)', `${r.coldSeconds.toFixed(2)} s (target: within 5 s)`, met);
    printFigure('ready again: a second npm start', `${r.warmSeconds.toFixed(2)} s`);
  }
} finally {
  await server.stop();
}
if (!allMet) {
  console.log('\nAt least one figure is below its target.');
  process.exitCode = 1;
}
