import {
  IsBoolean,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  MaxLength,
  Min,
  MinLength,
} from 'class-validator';

/** HTTP methods the proxy lane forwards. */
export const proxyMethods = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

/** One proxy-lane method. */
export type ProxyMethod = (typeof proxyMethods)[number];

/** How a proxy body is carried in JSON. */
export const proxyBodyEncodings = ['utf8', 'base64'] as const;

/** One body encoding. */
export type ProxyBodyEncoding = (typeof proxyBodyEncodings)[number];

/** Longest URL the proxy lane accepts. */
export const PROXY_URL_MAX_LENGTH = 2048;

/**
 * Request of `vivified.v1.proxy.request` and body of `POST /v1/proxy` (ARCHITECTURE §3): an outbound HTTP request
 * a plugin with `external_service` asks the gateway to make to one of its approved domains.
 */
export class ProxyRequest {
  /** HTTP method. */
  @IsIn(proxyMethods)
  method!: ProxyMethod;

  /** Absolute URL; `https` unless an admin approved plain `http` for the host. No credentials in it. */
  @IsString()
  @MinLength(1)
  @MaxLength(PROXY_URL_MAX_LENGTH)
  url!: string;

  /**
   * Request headers. Cookies, `Authorization`, `Host`, `X-Forwarded-*`, `Forwarded`, `Proxy-*`, hop-by-hop
   * headers and `Via` are dropped by the gateway.
   */
  @IsOptional()
  @IsObject()
  headers?: Record<string, string>;

  /** Request body (text, or base64 with `bodyEncoding: "base64"`). */
  @IsOptional()
  @IsString()
  body?: string;

  /** @default "utf8" */
  @IsOptional()
  @IsIn(proxyBodyEncodings)
  bodyEncoding?: ProxyBodyEncoding;

  /**
   * Follow redirects (at most the gateway's limit); every hop is checked like the first request.
   * @default false
   */
  @IsOptional()
  @IsBoolean()
  followRedirects?: boolean;
}

/** Reply of `vivified.v1.proxy.request` and `POST /v1/proxy`: the upstream answer, headers filtered. */
export class ProxyResponse {
  /** Upstream HTTP status. */
  @IsInt()
  @Min(100)
  status!: number;

  /** Upstream response headers on the gateway's allowlist, names lower-case. */
  @IsObject()
  headers!: Record<string, string>;

  /** Response body: text when it decodes as UTF-8 text content, else base64. */
  @IsString()
  body!: string;

  /** How {@link body} is encoded. */
  @IsIn(proxyBodyEncodings)
  bodyEncoding!: ProxyBodyEncoding;

  /** The URL that answered (after redirects when they were followed). */
  @IsString()
  url!: string;
}
