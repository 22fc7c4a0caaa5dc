import { describe, expect, it } from 'vitest';
import { apiError, makeJob, sse, useFakeApi } from '../../test/fake-api.js';
import { AuthenticationError, APIUserAbortError } from '../index.js';

const api = useFakeApi();

const event = (id: string, type: string, progress = 0) => ({ id, type, created_at: new Date().toISOString(), job: makeJob({ status: 'running', progress }) });

describe('events.stream', () => {
  it('resumes after a dropped connection with Last-Event-ID set to the last event, so nothing repeats', async () => {
    const cv = await api.client((_req, res, n) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(': connected\n\n');
      if (n === 1) {
        sse(res, 'job.running', event('10-0', 'job.running'), '10-0');
        sse(res, 'job.progress', event('11-0', 'job.progress', 0.5), '11-0');
        // The connection dies mid-event: the half-sent one must not count.
        // (Destroyed once the bytes are written: destroying at once would discard them unsent.)
        return void res.write('id: 12-0\nevent: job.progress\ndata: {"id":"12', () => res.socket!.destroy());
      }
      sse(res, 'job.new.kind', { id: '12-0', type: 'job.new.kind', created_at: 'x', job: makeJob() }, '12-0');
      sse(res, 'job.succeeded', event('13-0', 'job.succeeded', 1), '13-0');
    });
    const got: string[] = [];
    for await (const e of cv.events.stream({ lastEventId: '9-0' })) {
      got.push(`${e.id} ${e.type}`);
      if (got.length === 3) break;
    }
    // An event type this SDK does not know is skipped, not an error.
    expect(got).toEqual(['10-0 job.running', '11-0 job.progress', '13-0 job.succeeded']);
    expect(api.requests.map((r) => r.headers['last-event-id'])).toEqual(['9-0', '11-0']);
  });

  it('throws at once what another try cannot fix (401)', async () => {
    const cv = await api.client((_req, res) => apiError(res, 401, 'invalid_api_key'));
    await expect(cv.events.stream().next()).rejects.toBeInstanceOf(AuthenticationError);
    expect(api.requests).toHaveLength(1);
  });

  it('throws APIUserAbortError when its signal aborts', async () => {
    const cv = await api.client((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(': connected\n\n');
    });
    const ctl = new AbortController();
    const it = cv.events.stream({ signal: ctl.signal });
    setTimeout(() => ctl.abort(), 100);
    await expect(it.next()).rejects.toBeInstanceOf(APIUserAbortError);
  });
});
