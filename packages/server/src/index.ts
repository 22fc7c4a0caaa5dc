/** @clickvid/server: the HTTP API. Started by `node dist/main.js`; tests use buildApp + inject. */
export { buildApp } from './app.js';
export { createDeps, type Deps } from './deps.js';
export { ApiError } from './errors.js';
export { startWebhookSender } from './webhook-sender.js';
export { isPublicAddress, WebhookTargets, type Resolve } from './internal/webhook-url.js';
