import { describe, expect, it } from 'vitest';
import { parseSSE, type SSEMessage } from './sse.js';

async function collect(chunks: (string | Uint8Array)[]): Promise<SSEMessage[]> {
  const out: SSEMessage[] = [];
  for await (const m of parseSSE((async function* () { yield* chunks; })())) out.push(m);
  return out;
}

describe('parseSSE', () => {
  it('joins multi-line data, keeps id and retry, skips comments and drops an unterminated last event', async () => {
    const msgs = await collect([': comment\n', 'id: 7\nretry: 3000\nevent: progress\ndata: {"a":\ndata: 1}\n\n', 'data: no event name\n\n', 'event: done\ndata: {}']);
    expect(msgs).toEqual([
      { event: 'progress', data: '{"a":\n1}', id: '7', retry: 3000 },
      { event: 'message', data: 'no event name', id: '7', retry: 3000 },
    ]);
  });

  it('handles CR, CRLF split across chunks, and UTF-8 split inside a character', async () => {
    const bytes = Buffer.from('event: status\r\ndata: "é"\r\n\r\nevent: x\rdata: y\r\r');
    const cut = bytes.indexOf(0xc3) + 1; // between the two bytes of é
    const crlf = bytes.indexOf('\r\n\r\n') + 1; // between \r and \n
    const msgs = await collect([bytes.subarray(0, cut), bytes.subarray(cut, crlf), bytes.subarray(crlf)]);
    expect(msgs.map((m) => [m.event, m.data])).toEqual([['status', '"é"'], ['x', 'y']]);
  });
});
