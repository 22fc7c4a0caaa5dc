import { APIError, ClickvidError } from '@clickvid/sdk/browser';
import { h } from './dom.js';

/** An error as the page shows it: the API's code, message and hint (and the vocabulary, when it gives one). */
export function errorView(err: unknown): HTMLElement {
  if (err instanceof APIError) {
    const details = err.details ?? {};
    const hint = typeof details.hint === 'string' ? details.hint : null;
    const vocabulary = Array.isArray(details.vocabulary) ? details.vocabulary.filter((w): w is string => typeof w === 'string') : [];
    return h(
      'div',
      { class: 'err' },
      h('p', {}, h('code', { class: 'err-code', text: err.code ?? `http_${err.status}` }), ' ', h('span', { class: 'err-message', text: serverMessage(err) })),
      hint && h('p', { class: 'err-hint', text: hint }),
      vocabulary.length > 0 && h('p', { class: 'err-vocab' }, 'Words it knows: ', vocabulary.join(', ')),
      err.status === 429 && h('p', { class: 'muted', text: 'Rate limited: wait a moment and try again.' }),
      err.requestId && h('p', { class: 'muted' }, 'Request ', err.requestId),
    );
  }
  const message = err instanceof ClickvidError || err instanceof Error ? err.message : String(err);
  return h('div', { class: 'err' }, h('p', {}, h('code', { class: 'err-code', text: 'connection' }), ' ', h('span', { class: 'err-message', text: message })));
}

/** The server's own message: the SDK's `message` starts with the status and the code. */
function serverMessage(err: APIError): string {
  const prefix = `${err.status} ${err.code}: `;
  return err.message.startsWith(prefix) ? err.message.slice(prefix.length) : err.message;
}
