/** One server-sent event, as the wire has it (https://html.spec.whatwg.org/multipage/server-sent-events.html). */
export interface SSEMessage {
  event: string;
  data: string;
  id: string | undefined;
  retry: number | undefined;
}

/**
 * Parse a text/event-stream body into messages. Handles CRLF/CR/LF line ends,
 * chunks split anywhere (even inside a UTF-8 sequence), comment lines (`:`),
 * multi-line `data:` and a last event without its trailing blank line (dropped,
 * per the spec: an unterminated event is incomplete).
 */
export async function* parseSSE(body: AsyncIterable<Uint8Array | string>): AsyncGenerator<SSEMessage> {
  const decoder = new TextDecoder();
  let buffer = '';
  let event = '';
  let data: string[] = [];
  let id: string | undefined;
  let retry: number | undefined;

  /** Take the complete lines off the buffer; at the end of the stream a trailing lone \r ends a line too. */
  function* lines(final: boolean): Generator<string> {
    for (;;) {
      const m = /\r\n|\r|\n/.exec(buffer);
      // A lone trailing \r may be the first half of \r\n: wait for the next chunk.
      if (!m || (!final && m[0] === '\r' && m.index === buffer.length - 1)) return;
      yield buffer.slice(0, m.index);
      buffer = buffer.slice(m.index + m[0].length);
    }
  }

  function* feed(final: boolean): Generator<SSEMessage> {
    for (const line of lines(final)) {
      if (line === '') {
        if (data.length > 0 || event !== '') yield { event: event || 'message', data: data.join('\n'), id, retry };
        event = '';
        data = [];
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon === -1 ? line : line.slice(0, colon);
      let value = colon === -1 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
      else if (field === 'id') id = value;
      else if (field === 'retry' && /^\d+$/.test(value)) retry = Number(value);
    }
  }

  for await (const chunk of body) {
    buffer += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    yield* feed(false);
  }
  buffer += decoder.decode();
  yield* feed(true);
}
