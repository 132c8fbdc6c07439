import { ErrorCode, VivifiedError } from '@vivified/contracts';
import { describe, expect, it } from 'vitest';

import { parseProxyUrl, proxyDomainOf } from './proxy-url';

const reasonOf = (url: string): string | undefined => {
  try {
    parseProxyUrl(url);

    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(VivifiedError);

    return `${(error as VivifiedError).code}:${(error as VivifiedError).reason ?? ''}`;
  }
};

describe(parseProxyUrl.name, () => {
  it('normalizes an approved-looking URL: lower case, punycode, one trailing dot dropped', () => {
    const sut = parseProxyUrl('https://API.Example.org./v1/x?y=1');

    expect(sut).toMatchObject({ host: 'api.example.org', port: 443, scheme: 'https' });
    expect(sut.url.href).toBe('https://api.example.org/v1/x?y=1');
    expect(parseProxyUrl('https://bücher.example.org/').host).toBe('xn--bcher-kva.example.org');
    expect(parseProxyUrl('http://api.example.org:8080/').port).toBe(8080);
  });

  it.each([
    ['https://127.0.0.1/', 'ip_literal_not_allowed'],
    ['https://0x7f000001/', 'ip_literal_not_allowed'],
    ['https://2130706433/', 'ip_literal_not_allowed'],
    ['https://0177.0.0.1/', 'ip_literal_not_allowed'],
    ['https://127.1/', 'ip_literal_not_allowed'],
    ['https://[::1]/', 'ip_literal_not_allowed'],
    ['https://[::ffff:127.0.0.1]/', 'ip_literal_not_allowed'],
    ['https://169.254.169.254/', 'ip_literal_not_allowed'],
    ['https://api.example.org@127.0.0.1/', 'userinfo_not_allowed'],
    ['https://user:pw@api.example.org/', 'userinfo_not_allowed'],
    ['https://@api.example.org/', 'userinfo_not_allowed'],
    ['https://localhost/', 'invalid_host'],
    ['https://metadata.google.internal/', 'invalid_host'],
    ['https://metadata/', 'invalid_host'],
    ['https://api.example.org../', 'invalid_host'],
    ['ftp://api.example.org/', 'scheme_not_allowed'],
    ['javascript:alert(1)', 'scheme_not_allowed'],
  ])('refuses %s (%s)', (url, reason) => {
    expect(reasonOf(url)).toBe(`${ErrorCode.PolicyDenied}:${reason}`);
  });

  it.each([
    '',
    'not a url',
    'https://api.example.org\\@127.0.0.1/',
    'https://api.example.org/\r\nx',
    'https://a b.org/',
  ])('answers BAD_REQUEST for %j', (url) => {
    expect(reasonOf(url)).toBe(`${ErrorCode.BadRequest}:invalid_url`);
  });
});

describe(proxyDomainOf.name, () => {
  it('gives the policy the host the connection would use, or what the URL names when it is refused', () => {
    expect(proxyDomainOf({ url: 'https://API.example.org./' })).toBe('api.example.org');
    expect(proxyDomainOf({ url: 'https://0x7f000001/' })).toBe('127.0.0.1');
    expect(proxyDomainOf({ url: 42 })).toBe('');
    expect(proxyDomainOf(undefined)).toBe('');
  });
});
