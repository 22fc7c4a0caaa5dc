// Tracing off vs on, side by side in one run: two private stacks, one without OTEL_* (the SDK is
// never loaded) and one exporting every span over OTLP/HTTP to a sink in this process. Jobs
// alternate between them, one at a time, so load on the machine falls on both alike. Reports the
// submit (POST /v1/generate) and the draft's end-to-end latency per stack, and the spans received.
//   node bench/tracing-overhead.mjs [--n 60]
import { createServer } from 'node:http';
import { api, machine, mean, ms, pct, startPrivateStack, waitDone } from './lib.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const N = Number(arg('n', 60));

// The OTLP sink: counts the spans it is sent and answers at once.
let spans = 0;
const sink = createServer((req, res) => {
  let body = '';
  req.on('data', (d) => (body += d));
  req.on('end', () => {
    for (const rs of JSON.parse(body).resourceSpans ?? []) for (const ss of rs.scopeSpans ?? []) spans += (ss.spans ?? []).length;
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
});
await new Promise((r) => sink.listen(0, '127.0.0.1', r));
const otlp = `http://127.0.0.1:${sink.address().port}`;

const stacks = {
  off: await startPrivateStack(),
  on: await startPrivateStack({ env: { OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_ENDPOINT: otlp } }),
};
console.log(`tracing off vs on (OTLP/HTTP to a local sink), ${N} drafts each, alternating; ${machine()}`);

const prompts = ['two red circles moving right on a blue background', 'a yellow triangle spinning on a black background', 'three green squares bouncing on a white background'];
const seedBase = Date.now() % 1_000_000_000;
const rows = { off: [], on: [] };
try {
  // Warm-up: first-use costs (sessions, encoder pool, the exporter's first connection) are not overhead.
  for (const s of Object.values(stacks)) for (let i = 0; i < 3; i++) await waitDone(s, (await api(s, 'POST', '/v1/generate', { prompt: prompts[i], seed: seedBase + 900 + i })).id);
  for (let i = 0; i < N; i++) {
    // Alternate which goes first, so neither always runs right after the other.
    for (const name of i % 2 ? ['on', 'off'] : ['off', 'on']) {
      const s = stacks[name];
      const t0 = performance.now();
      const job = await api(s, 'POST', '/v1/generate', { prompt: prompts[i % prompts.length], seed: seedBase + i });
      const submit = performance.now() - t0;
      const done = await waitDone(s, job.id);
      if (done.status !== 'succeeded') throw new Error(`job ${job.id} ${done.status}`);
      rows[name].push({ submit, total: performance.now() - t0 });
    }
  }
  await new Promise((r) => setTimeout(r, 6000)); // the batch span processor exports every 5 s
  for (const name of ['off', 'on']) {
    const col = (k) => rows[name].map((r) => r[k]);
    console.log(
      `${name.padEnd(3)}  submit p50 ${ms(pct(col('submit'), 50))} p99 ${ms(pct(col('submit'), 99))} mean ${ms(mean(col('submit')))}` +
        `  ·  draft end-to-end p50 ${ms(pct(col('total'), 50))} p90 ${ms(pct(col('total'), 90))} p99 ${ms(pct(col('total'), 99))} mean ${ms(mean(col('total')))}`,
    );
  }
  console.log(`spans received from the traced stack: ${spans} (${(spans / (N + 3)).toFixed(1)} per job)`);
} finally {
  await Promise.all(Object.values(stacks).map((s) => s.stop()));
  sink.close();
}
