/** The upstream URL's credentials never reach a log line or a banner. */
import { describe, expect, it } from 'vitest';
import { readConfig } from '../../src/core/config.ts';
import { redactor, redactUrl } from '../../src/core/redact.ts';

describe('redactUrl', () => {
  it.each([
    ['wss://user:s3cret@api.example.com/graphql?token=abc123&x=1', 'wss://<redacted>@api.example.com/graphql?token=<redacted>&x=<redacted>'],
    ['wss://tokenonly@api.example.com:8443/graphql', 'wss://<redacted>@api.example.com:8443/graphql'],
    ['ws://127.0.0.1:4001/graphql', 'ws://127.0.0.1:4001/graphql'],
    ['not a url://u:p@h?token=zzz', 'not a url://<redacted>@h?<redacted>'],
  ])('%s is shown as %s', (url, shown) => {
    expect(redactUrl(url)).toBe(shown);
  });

  it('a redactor removes the URL and each of its secrets from any text', () => {
    const redact = redactor('wss://alice:p%40ss@api.example.com/graphql?token=abc123');
    expect(redact('Invalid URL: wss://alice:p%40ss@api.example.com/graphql?token=abc123')).toBe('Invalid URL: wss://<redacted>@api.example.com/graphql?token=<redacted>');
    expect(redact('auth failed for alice with p@ss, token abc123')).toBe('auth failed for <redacted> with <redacted>, token <redacted>');
    expect(redactor(undefined)('unchanged')).toBe('unchanged');
  });

  it('configuration errors do not quote credentials', () => {
    expect(() => readConfig({ UPSTREAM_URL: 'https://u:secret@a.example/graphql?token=t0ken' })).toThrow(
      'UPSTREAM_URL must start with ws:// or wss:// (graphql-ws), got "https://<redacted>@a.example/graphql?token=<redacted>".',
    );
  });
});
