/** The Worker's vars as settings: the same text Node reads, whichever way wrangler.toml wrote them. */
import { describe, expect, it } from 'vitest';
import { readGatewayConfig } from '../../src/core/config.ts';
import { workerSettings, workerSharing } from '../../src/worker/app.ts';

describe('workerSettings', () => {
  it('reads quoted and unquoted vars as text, and ignores other bindings', () => {
    const env = { UPSTREAM_URL: 'wss://a.example/graphql', HEARTBEAT_MS: 0, OPERATIONS_LIST: false, RETRY_MS: '500', KV: { get() {} }, PORT: '1' };
    expect(workerSettings(env)).toEqual({ UPSTREAM_URL: 'wss://a.example/graphql', HEARTBEAT_MS: '0', OPERATIONS_LIST: 'false', RETRY_MS: '500' });
    expect(readGatewayConfig(workerSettings(env))).toMatchObject({ heartbeatMs: 0, listOperations: false, retryMs: 500 });
  });

  it('refuses a setting bound to something that is not text, naming it', () => {
    expect(() => workerSettings({ OTHER: 1, UPSTREAM_PROTOCOL: { auto: true } } as never)).toThrow('UPSTREAM_PROTOCOL must be a text var, got object.');
  });
});

describe('UPSTREAM_SHARING on a Worker', () => {
  it('serves `off`, and says so in the log when asked for more', () => {
    const lines: string[] = [];
    const config = readGatewayConfig({ UPSTREAM_URL: 'wss://a.example/graphql', UPSTREAM_SHARING: 'subscription' });
    expect(workerSharing(config, (line) => lines.push(line)).upstreamSharing).toBe('off');
    expect(lines).toEqual([
      '[subway] UPSTREAM_SHARING=subscription is not available on Workers yet (it needs a Durable Object): each request opens its own upstream socket, as with UPSTREAM_SHARING=off.',
    ]);
    expect(workerSharing(readGatewayConfig({ UPSTREAM_SHARING: 'off' }), (line) => lines.push(line)).upstreamSharing).toBe('off');
    expect(lines).toHaveLength(1);
  });
});
