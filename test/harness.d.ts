import { ROOT } from '../scripts/stack.mjs';
export { ROOT };
export interface RedisHandle {
    url: string;
    port: number;
    stop(): Promise<void>;
}
export declare function startRedis(): Promise<RedisHandle>;
export interface Stack {
    url: string;
    apiKey: string;
    webhookSecret: string;
    redisUrl: string;
    dataDir: string;
    env: Record<string, string>;
    /** Restarts the worker (e.g. to change batching knobs). */
    restartWorker(extraEnv?: Record<string, string>): Promise<void>;
    stop(): Promise<void>;
}
export declare function startStack(opts?: {
    env?: Record<string, string>;
    workers?: number;
    logs?: boolean;
}): Promise<Stack>;
/** Small JSON-over-HTTP helper for tests that speak plain HTTP, as curl would. */
export declare function api(stack: Pick<Stack, 'url' | 'apiKey'>, method: string, route: string, body?: unknown, headers?: Record<string, string>): Promise<{
    status: number;
    headers: Headers;
    body: any;
}>;
/** Polls a job until it reaches a terminal state. */
export declare function waitJob(stack: Pick<Stack, 'url' | 'apiKey'>, id: string, timeoutMs?: number): Promise<any>;
