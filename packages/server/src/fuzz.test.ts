/**
 * A property-based fuzz of every route through Fastify's inject (no sockets), on a real
 * redis-server: no input gives a 5xx, every error is the one envelope with a code from
 * the catalogue (and that code's status), and valid inputs get a 2xx. The seed and run
 * counts are fixed and printed, so a failure replays exactly.
 */
import { ERROR_CATALOGUE, ErrorBody, Job, type Quality } from '@clickvid/contracts';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testApp } from './internal/app.testkit.js';

const SEED = 20261129;
const RUNS_ANY = 1500;
const RUNS_VALID = 150;
/**
 * A public unicast webhook target. Submit only classifies the address (nothing connects in
 * these tests: no webhook sender runs); 203.0.113.0/24 (TEST-NET-3) is reserved, so refused.
 */
const PUBLIC_HOOK = 'https://93.184.216.34/hook';

let t: Awaited<ReturnType<typeof testApp>>;
/** Finished jobs of team alpha and one of team beta (finished, so their event streams end at once). */
let done: Job[];
let jobB: Job;
beforeAll(async () => {
  t = await testApp({ CLICKVID_RATE_LIMIT_PER_MIN: '1000000' });
  const make = async (key: string, body: object) =>
    Job.parse((await t.app.inject({ method: 'POST', url: '/v1/generate', headers: t.auth(key), payload: body })).json());
  done = [];
  for (let i = 0; i < 3; i++) {
    const j = await make(t.keyA, { prompt: 'a red circle moving right', seed: i });
    done.push(Job.parse((await t.app.inject({ method: 'POST', url: `/v1/jobs/${j.id}/cancel`, headers: t.auth(t.keyA) })).json()));
  }
  jobB = await make(t.keyB, { prompt: 'a blue square moving left' });
  // Ended too: a stream on a queued job stays open, and inject() would wait for it.
  jobB = Job.parse((await t.app.inject({ method: 'POST', url: `/v1/jobs/${jobB.id}/cancel`, headers: t.auth(t.keyB) })).json());
  console.log(`fuzz: fast-check seed ${SEED}, ${RUNS_ANY} arbitrary requests, ${RUNS_VALID} valid ones`);
});
afterAll(async () => t?.close());

type Res = Awaited<ReturnType<typeof t.app.inject>>;

/** The checks every response must pass, valid input or not. */
function checkResponse(res: Res, what: unknown): void {
  const ctx = JSON.stringify(what).slice(0, 400);
  expect(res.statusCode, `${ctx} → ${res.statusCode} ${res.body.slice(0, 300)}`).toBeLessThan(500);
  expect(res.headers['x-request-id'], ctx).toMatch(/^req_/);
  if (res.statusCode < 400) return;
  const body = ErrorBody.safeParse(res.json());
  expect(body.success, `${ctx} → not the envelope: ${res.body.slice(0, 300)}`).toBe(true);
  const err = body.data!.error;
  expect(Object.hasOwn(ERROR_CATALOGUE, err.code), `${ctx} → unknown code ${err.code}`).toBe(true);
  expect(res.statusCode, `${ctx} → ${err.code}`).toBe(ERROR_CATALOGUE[err.code as keyof typeof ERROR_CATALOGUE].status);
  expect(err.request_id).toBe(res.headers['x-request-id']);
}

// ---- arbitrary (mostly invalid) requests ----

const printable = (max: number) => fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: max });
const segment = fc.oneof(
  printable(20).map(encodeURIComponent),
  fc.string({ maxLength: 12 }).map(encodeURIComponent), // any unicode, encoded
  fc.constantFrom('%', '%zz', '%E0%A4%A', '%00', '%2F', '..', '', 'job_', 'job_0000000000', 'a'.repeat(101), '%C0%AF', '%ff%fe'),
  fc.constant(null).map(() => done[0]!.id),
  fc.constant(null).map(() => jobB.id),
);
const path = fc.oneof(
  fc.constantFrom('/v1/generate', '/v1/jobs', '/v1/usage', '/v1/models', '/healthz', '/readyz', '/openapi.json', '/metrics', '/', '/v1', '/v1/'),
  segment.map((s) => `/v1/jobs/${s}`),
  fc.tuple(segment, fc.constantFrom('cancel', 'promote', 'events', 'nope')).map(([s, v]) => `/v1/jobs/${s}/${v}`),
  segment.map((s) => `/v1/assets/${s}`),
  segment.map((s) => `/v1/assets/${s}/content`),
  fc.array(segment, { maxLength: 4 }).map((ss) => `/${ss.join('/')}`),
);
const queryKey = fc.constantFrom('status', 'quality', 'campaign', 'limit', 'cursor', 'from', 'to', 'expires', 'sig', 'x');
const queryValue = fc.oneof(segment, fc.constantFrom('queued', 'draft', '5', '-1', '1000', 'abc', '2026-11-29', '2026-13-40', '1e9'));
const query = fc
  .array(fc.tuple(queryKey, queryValue), { maxLength: 4 })
  .map((kv) => (kv.length ? `?${kv.map(([k, v]) => `${k}=${v}`).join('&')}` : ''));
const auth = fc.constantFrom<'A' | 'B' | 'none' | 'garbage' | 'empty'>('A', 'B', 'none', 'garbage', 'empty');
const contentType = fc.constantFrom(undefined, 'application/json', 'application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded', 'application/xml', 'multipart/form-data; boundary=x', 'application/jsonx', '');
const anyValue = fc.oneof(fc.string({ maxLength: 30 }), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.array(fc.integer(), { maxLength: 3 }));
/** Mostly a valid value, sometimes a near miss or anything at all: so many bodies get past validation into the service. */
const usually = <T,>(valid: fc.Arbitrary<T>, ...misses: unknown[]) =>
  fc.oneof({ weight: 6, arbitrary: valid }, { weight: 1, arbitrary: misses.length ? fc.oneof(fc.constantFrom(...misses), anyValue) : anyValue });
const generateish = fc.record(
  {
    prompt: usually(
      fc.constantFrom('a red circle moving right', 'two blue squares bouncing on a black background', 'a green triangle spinning', 'constructor toString __proto__ red circle'),
      '', '   ', 'nude red circle', 'a lovely sunset', 'x'.repeat(600), 'constructor', '\u0000\u001f',
    ),
    quality: usually(fc.constantFrom('draft', 'standard', 'final'), 'ultra', 'DRAFT'),
    duration_s: usually(fc.double({ min: 0.25, max: 6, noNaN: true }), 0, 0.1, 29, 31, -1, 1e308),
    fps: usually(fc.integer({ min: 1, max: 30 }), 0, 31, 60, 61, 2.5),
    aspect_ratio: usually(fc.constant('1:1'), '16:9', '2:1', ''),
    seed: usually(fc.integer({ min: 0, max: 2 ** 32 - 1 }), -1, 2 ** 32, 1.5),
    from_job: usually(fc.oneof(fc.constant(null).map(() => done[1]!.id), fc.constant(null).map(() => jobB.id)), 'job_0000000000', 'nope', `job_${'z'.repeat(40)}`),
    webhook_url: usually(fc.constant(PUBLIC_HOOK), 'http://127.0.0.1/x', 'ftp://x/y', 'not a url', 'http://[::1]/', 'http://[::ffff:127.0.0.1]/x', 'http://169.254.169.254/', 'https://203.0.113.7/hook'),
    metadata: usually(fc.dictionary(fc.string({ minLength: 1, maxLength: 40 }), fc.string({ maxLength: 30 }), { maxKeys: 16 }), { a: 'x\u001fy' }, Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v']))),
  },
  { requiredKeys: [] },
).chain((o) =>
  fc.oneof({ weight: 9, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: anyValue }).map((extra) => (extra === undefined ? o : { ...o, surprise: extra })),
);
const body = fc.oneof(
  fc.constant(undefined),
  generateish.map((o) => JSON.stringify(o)),
  fc.json({ maxDepth: 3 }),
  fc.string({ maxLength: 60 }),
  fc.constantFrom('{"prompt":', '{"__proto__":{"a":1}}', '{"constructor":{"prototype":{}}}', 'null', '[]', '""', '{}', 'x'.repeat(70_000)),
);
/** Mostly the right method for the path, with a key, so requests get past routing and auth to the handlers. */
const routed = fc.oneof(
  fc.tuple(fc.constant('POST'), fc.constant('/v1/generate'), fc.constant('')),
  fc.tuple(fc.constant('GET'), segment.map((x) => `/v1/jobs/${x}`), fc.constant('')),
  fc.tuple(fc.constant('GET'), fc.constant('/v1/jobs'), query),
  fc.tuple(fc.constant('POST'), segment.map((x) => `/v1/jobs/${x}/cancel`), fc.constant('')),
  fc.tuple(fc.constant('POST'), segment.map((x) => `/v1/jobs/${x}/promote`), fc.constant('')),
  fc.tuple(fc.constant('GET'), segment.map((x) => `/v1/jobs/${x}/events`), fc.constant('')),
  fc.tuple(fc.constant('GET'), segment.map((x) => `/v1/assets/${x}`), fc.constant('')),
  fc.tuple(fc.constant('GET'), segment.map((x) => `/v1/assets/${x}/content`), query),
  fc.tuple(fc.constant('GET'), fc.constant('/v1/usage'), query),
  fc.tuple(fc.constant('GET'), fc.constant('/v1/models'), query),
);
const anywhere = fc.tuple(fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS'), path, query);
const request = fc.record({
  target: fc.oneof({ weight: 4, arbitrary: routed }, { weight: 1, arbitrary: anywhere }),
  auth: fc.oneof({ weight: 6, arbitrary: fc.constant<'A'>('A') }, { weight: 2, arbitrary: auth }),
  contentType: fc.oneof({ weight: 4, arbitrary: fc.constant('application/json') }, { weight: 1, arbitrary: contentType }),
  body: fc.oneof({ weight: 4, arbitrary: generateish.map((o) => JSON.stringify(o)) }, { weight: 2, arbitrary: body }),
  idempotencyKey: fc.option(fc.oneof({ weight: 4, arbitrary: printable(40) }, { weight: 1, arbitrary: printable(300) }), { nil: undefined }),
  lastEventId: fc.option(printable(40), { nil: undefined }),
}).map(({ target, ...rest }) => {
  const [method, path, q] = target as [string, string, string];
  return { method, path, query: q, ...rest };
});

function headersOf(r: { auth: string; contentType?: string; idempotencyKey?: string; lastEventId?: string }): Record<string, string> {
  const h: Record<string, string> = {};
  if (r.auth === 'A') h.authorization = `Bearer ${t.keyA}`;
  if (r.auth === 'B') h.authorization = `Bearer ${t.keyB}`;
  if (r.auth === 'garbage') h.authorization = 'Bearer cv_live_garbage';
  if (r.auth === 'empty') h.authorization = '';
  if (r.contentType !== undefined) h['content-type'] = r.contentType;
  if (r.idempotencyKey !== undefined) h['idempotency-key'] = r.idempotencyKey;
  if (r.lastEventId !== undefined) h['last-event-id'] = r.lastEventId;
  return h;
}

// ---- valid requests ----

const COLORS = ['red', 'blue', 'green', 'yellow'];
const SHAPES = ['circle', 'square', 'triangle'];
const MOTIONS = ['moving right', 'moving left', 'bouncing', 'spinning'];
const validPrompt = fc.tuple(fc.constantFrom(...COLORS), fc.constantFrom(...SHAPES), fc.constantFrom(...MOTIONS), fc.constantFrom(...COLORS))
  .map(([c, s, m, bg]) => `a ${c} ${s} ${m} on a ${bg} background`);
const metaText = (min: number, max: number) => fc.string({ minLength: min, maxLength: max }).filter((s) => !/\p{Cc}/u.test(s));
const validGenerate = fc.record(
  {
    prompt: validPrompt,
    quality: fc.constantFrom<Quality>('draft', 'standard', 'final'),
    duration_s: fc.double({ min: 0.25, max: 4, noNaN: true }),
    fps: fc.integer({ min: 1, max: 30 }),
    seed: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
    webhook_url: fc.constant(PUBLIC_HOOK),
    metadata: fc.dictionary(metaText(1, 40), metaText(0, 500), { maxKeys: 16 }),
  },
  { requiredKeys: ['prompt'] },
);
const validOther = fc.oneof(
  fc.constant({ method: 'GET', url: '/v1/jobs' }),
  fc.record({ status: fc.constantFrom('queued', 'canceled'), limit: fc.integer({ min: 1, max: 100 }), campaign: metaText(0, 20) }, { requiredKeys: [] })
    .map((q) => ({ method: 'GET', url: `/v1/jobs?${new URLSearchParams(Object.entries(q).map(([k, v]): [string, string] => [k, String(v)]))}` })),
  fc.constant(null).map(() => ({ method: 'GET', url: `/v1/jobs/${done[2]!.id}` })),
  fc.constant(null).map(() => ({ method: 'GET', url: `/v1/jobs/${done[2]!.id}/events` })),
  fc.constant(null).map(() => ({ method: 'POST', url: `/v1/jobs/${done[2]!.id}/cancel` })),
  fc.constant({ method: 'GET', url: '/v1/usage' }),
  fc.constant({ method: 'GET', url: '/v1/usage?from=2026-11-01&to=2026-11-29' }),
  fc.constant({ method: 'GET', url: '/v1/models' }),
  fc.constantFrom({ method: 'GET', url: '/healthz' }, { method: 'GET', url: '/openapi.json' }, { method: 'GET', url: '/metrics' }),
);

describe('route fuzz (fast-check)', () => {
  it('arbitrary requests: never a 5xx; every error in the envelope with a catalogue code and its status', async () => {
    const codes = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const res = await t.app.inject({
          method: r.method as 'GET',
          url: r.path + r.query,
          headers: headersOf(r),
          ...(r.body !== undefined && !['GET', 'HEAD'].includes(r.method) ? { payload: r.body } : {}),
        });
        if (r.method === 'HEAD') {
          expect(res.statusCode).toBeLessThan(500);
          return;
        }
        if (r.method === 'GET' && r.path === '/readyz') {
          // The readiness probe: 503 with its checks by design here (no worker runs in this test).
          expect(res.json()).toMatchObject({ status: 'not_ready', checks: { redis: 'ok', workers: 'none' } });
          return;
        }
        checkResponse(res, r);
        const key = res.statusCode >= 400 ? `${res.statusCode} ${res.json().error.code}` : String(res.statusCode);
        codes.set(key, (codes.get(key) ?? 0) + 1);
      }),
      { seed: SEED, numRuns: RUNS_ANY },
    );
    console.log(`fuzz outcomes: ${[...codes].sort().map(([k, n]) => `${k} ×${n}`).join(', ')}`);
  });

  it('valid submits get 202, and a valid job id gets 2xx on every route', async () => {
    await fc.assert(
      fc.asyncProperty(validGenerate, async (b) => {
        const res = await t.app.inject({ method: 'POST', url: '/v1/generate', headers: t.auth(t.keyA), payload: b });
        checkResponse(res, b);
        expect(res.statusCode, `${JSON.stringify(b)} → ${res.body.slice(0, 300)}`).toBe(202);
        const job = Job.parse(res.json());
        const got = await t.app.inject({ url: `/v1/jobs/${job.id}`, headers: t.auth(t.keyA) });
        expect(got.statusCode).toBe(200);
        const child = await t.app.inject({ method: 'POST', url: '/v1/generate', headers: t.auth(t.keyA), payload: { from_job: job.id } });
        expect(child.statusCode, child.body.slice(0, 300)).toBe(202);
        if (job.quality !== 'final') {
          const p = await t.app.inject({ method: 'POST', url: `/v1/jobs/${job.id}/promote`, headers: t.auth(t.keyA), payload: { quality: 'final' } });
          expect(p.statusCode, p.body.slice(0, 300)).toBe(202);
        }
        const c = await t.app.inject({ method: 'POST', url: `/v1/jobs/${job.id}/cancel`, headers: t.auth(t.keyA) });
        expect(c.statusCode).toBe(200);
      }),
      { seed: SEED, numRuns: RUNS_VALID },
    );
    await fc.assert(
      fc.asyncProperty(validOther, async (r) => {
        const res = await t.app.inject({ ...(r as { method: 'GET'; url: string }), headers: t.auth(t.keyA) });
        checkResponse(res, r);
        expect(res.statusCode, `${r.method} ${r.url} → ${res.body.slice(0, 300)}`).toBeGreaterThanOrEqual(200);
        expect(res.statusCode).toBeLessThan(300);
      }),
      { seed: SEED, numRuns: RUNS_VALID },
    );
  });
});
