#!/usr/bin/env node
// A webhook receiver that verifies clickvid's Standard Webhooks signatures before
// trusting a byte of the body. Answers 204 when verified, 400 otherwise.
//
//   CLICKVID_WEBHOOK_SECRET=whsec_… node examples/webhook-receiver.mjs [--port 3000]
//
// With `npm start`, the dev team's secret is `webhookSecret` in .clickvid/dev.json.
// Then: npx clickvid generate "a red circle bouncing on a blue background" --webhook-url http://127.0.0.1:3000/hooks
import http from 'node:http';
import { existsSync, readFileSync } from 'node:fs';
import { Webhooks } from '@clickvid/sdk';

const i = process.argv.indexOf('--port');
const port = i > 0 ? Number(process.argv[i + 1]) : 3000;
let secret = process.env.CLICKVID_WEBHOOK_SECRET;
if (!secret && existsSync('.clickvid/dev.json')) secret = JSON.parse(readFileSync('.clickvid/dev.json', 'utf8')).webhookSecret;
if (!secret) {
  console.error('set CLICKVID_WEBHOOK_SECRET (whsec_…), or run `npm start` first');
  process.exit(2);
}
const webhooks = new Webhooks(secret);
const seen = new Set(); // delivery is at least once: dedupe on webhook-id

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    try {
      const event = webhooks.unwrap(body, req.headers);
      const id = req.headers['webhook-id'];
      if (!seen.has(id)) {
        seen.add(id);
        console.log(JSON.stringify({ verified: true, id, type: event.type, job: event.data.id, status: event.data.status }));
      }
      res.writeHead(204).end();
    } catch (err) {
      console.log(JSON.stringify({ verified: false, error: err.message }));
      res.writeHead(400, { 'content-type': 'text/plain' }).end('bad signature\n');
    }
  });
});
server.listen(port, '127.0.0.1', () => console.log(JSON.stringify({ listening: `http://127.0.0.1:${server.address().port}` })));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
process.on('SIGINT', () => server.close(() => process.exit(0)));
