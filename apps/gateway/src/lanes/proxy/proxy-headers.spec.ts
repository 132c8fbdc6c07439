import { describe, expect, it } from 'vitest';

import { forwardableHeaders, returnedHeaders } from './proxy-headers';

describe(forwardableHeaders.name, () => {
  it('drops credentials, routing, hop-by-hop and forged client headers', () => {
    const sut = forwardableHeaders({
      Accept: 'application/json',
      'X-Custom': 'ok',
      Cookie: 'a=b',
      Authorization: 'Bearer t',
      'Proxy-Authorization': 'Basic x',
      'X-Forwarded-For': '10.0.0.1',
      'X-Forwarded-Host': 'internal',
      Forwarded: 'for=x',
      Host: 'evil',
      Connection: 'close',
      'Transfer-Encoding': 'chunked',
      'X-Real-IP': '10.0.0.1',
      'X-Split': 'a\r\nInjected: 1',
      'bad name': 'x',
      'X-Number': 1,
    });

    expect(sut).toEqual({ accept: 'application/json', 'x-custom': 'ok' });
  });
});

describe(returnedHeaders.name, () => {
  it('keeps the allowlist only', () => {
    expect(
      returnedHeaders({
        'content-type': 'text/plain',
        'set-cookie': ['a=b'],
        server: 'internal/1.0',
        vary: ['accept', 'origin'],
      }),
    ).toEqual({ 'content-type': 'text/plain', vary: 'accept, origin' });
  });
});
