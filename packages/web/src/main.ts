// zod must not compile parsers with `new Function`: the page's CSP has no 'unsafe-eval' and
// requires Trusted Types. This import runs before the SDK's (and so the contract's) schemas exist.
import './zod-jitless.js';
import { AuthenticationError, Clickvid, type ModelInfo } from '@clickvid/sdk/browser';
import { $, fill } from './dom.js';
import { errorView } from './errors.js';
import { createFeed } from './live.js';
import { History } from './history.js';
import { renderSpend } from './spend.js';
import { Studio } from './studio.js';

const KEY = 'clickvid.apiKey';

/**
 * The API key: from the link `npm start` prints (`/#key=…`, a fragment, so it never reaches a
 * server or a log), else from this tab's session storage. The fragment is removed at once.
 */
function takeKey(): string | null {
  const m = /(?:^|[#&])key=([^&]+)/.exec(location.hash);
  if (m) {
    sessionStorage.setItem(KEY, decodeURIComponent(m[1]!));
    history.replaceState(null, '', location.pathname + location.search);
  }
  return sessionStorage.getItem(KEY);
}

async function signIn(key: string): Promise<void> {
  const client = new Clickvid({ apiKey: key });
  let model: ModelInfo;
  try {
    const models = await client.models.list();
    model = models.data[0]!;
  } catch (err) {
    if (err instanceof AuthenticationError) sessionStorage.removeItem(KEY);
    showSignIn(err);
    return;
  }
  $('signin').hidden = true;
  $('app').hidden = false;
  $('signout').hidden = false;
  $('team').textContent = `${model.id} ${model.version}`;
  const feed = createFeed(client);
  const history = new History(client);
  const studio = new Studio(client, model, feed, () => {
    history.reload();
    void renderSpend(client);
  });
  history.onOpen = (job) => studio.open(job);
  history.reload();
  void renderSpend(client);
  document.body.dataset.ready = 'true';
  $<HTMLTextAreaElement>('prompt').focus();
}

function showSignIn(err?: unknown): void {
  $('signin').hidden = false;
  $('app').hidden = true;
  $('signout').hidden = true;
  const form = $('signin-form');
  form.querySelector('.err')?.remove();
  if (err) form.append(errorView(err));
  document.body.dataset.ready = 'signin';
}

$('signin-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const key = $<HTMLInputElement>('apikey').value.trim();
  if (!key) return;
  sessionStorage.setItem(KEY, key);
  void signIn(key);
});
$('signout').addEventListener('click', () => {
  sessionStorage.removeItem(KEY);
  location.reload();
});

// A studio link opened in a tab that already shows the page changes only the fragment.
addEventListener('hashchange', () => {
  if (/(?:^|[#&])key=/.test(location.hash)) location.reload();
});

const key = takeKey();
if (key) void signIn(key);
else {
  fill($('error'));
  showSignIn();
}
