import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPublicAddress, WebhookTargets, type Resolve } from './webhook-url.js';

describe('isPublicAddress', () => {
  it('refuses every spelling of loopback, private, link-local, metadata and transition ranges', () => {
    const refused = [
      '127.0.0.1', '10.0.0.1', '172.16.5.4', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '255.255.255.255', '224.0.0.1',
      '192.0.0.8', '198.18.0.1', '240.0.0.1',
      '::1', '::', '::ffff:127.0.0.1', '::ffff:7f00:1', '0:0:0:0:0:ffff:7f00:1', '::ffff:a9fe:a9fe', '::7f00:1', '::127.0.0.1',
      'fe80::1', 'febf:ffff::1', 'fec0::1', 'fc00::1', 'fd00:ec2::254', 'ff02::1', '64:ff9b::7f00:1', '64:ff9b::808:808', '64:ff9b:1::1',
      '2002:7f00:1::', '2001::1', '2001:db8::1', 'not-an-ip', '',
    ];
    expect(refused.filter(isPublicAddress)).toEqual([]);
    expect(['8.8.8.8', '1.1.1.1', '172.32.0.1', '2606:4700::1111', '::ffff:8.8.8.8'].every(isPublicAddress)).toBe(true);
  });
});

/** A loopback HTTP listener that counts the connections it accepts. */
let listener: Server;
let port = 0;
let connections = 0;
beforeAll(async () => {
  listener = createServer((req, res) => res.end('ok'));
  listener.on('connection', () => connections++);
  await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
  port = (listener.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((r) => listener.close(() => r())));

describe('WebhookTargets', () => {
  it('refuses literal private targets at submit and at delivery, and the listener sees no connection', async () => {
    const targets = new WebhookTargets({ allowPrivate: false, resolve: async () => ['127.0.0.1'] });
    const before = connections;
    for (const host of ['127.0.0.1', '[::ffff:127.0.0.1]', '[::ffff:7f00:1]', '[0:0:0:0:0:ffff:7f00:1]', 'hooks.example']) {
      const url = `http://${host}:${port}/x`;
      await expect(targets.check(url), url).rejects.toMatchObject({ code: 'invalid_webhook_url' });
      await expect(targets.post(url, '{}', {}), url).rejects.toThrow();
    }
    expect(connections - before).toBe(0);
    await targets.close();
  });

  it('checks the address it connects to: a DNS answer that turns private after the submit check (rebinding) gets no connection', async () => {
    const answers = [['93.184.216.34'], ['127.0.0.1']];
    const resolve: Resolve = async () => answers.shift() ?? ['127.0.0.1'];
    const targets = new WebhookTargets({ allowPrivate: false, resolve });
    const url = `http://rebind.example:${port}/hook`;
    await expect(targets.check(url)).resolves.toBeUndefined(); // first answer: public
    const before = connections;
    await expect(targets.post(url, '{}', {})).rejects.toMatchObject({ code: 'ENOTPUBLIC' });
    expect(connections - before).toBe(0);
    await targets.close();
  });

  it('delivers to a name that resolves to loopback only when private targets are allowed (development)', async () => {
    const targets = new WebhookTargets({ allowPrivate: true, resolve: async () => ['127.0.0.1'] });
    const before = connections;
    expect(await targets.post(`http://dev.example:${port}/hook`, '{}', { 'content-type': 'application/json' })).toBe(200);
    expect(connections - before).toBe(1);
    await targets.close();
  });

  it('refuses URLs that are not plain http(s) without credentials', async () => {
    const targets = new WebhookTargets({ allowPrivate: true });
    for (const url of ['ftp://example.com/x', 'http://user:pw@example.com/x', 'not a url', 'file:///etc/passwd']) {
      await expect(targets.check(url), url).rejects.toMatchObject({ code: 'invalid_webhook_url' });
    }
    await targets.close();
  });
});
