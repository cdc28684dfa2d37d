import { ApiError } from './validate';

/** The built-in answer of `GET /ad` when no AD_UPSTREAM_URL is set: a minimal valid VAST 4.0 inline ad. */
export const SAMPLE_VAST = `<?xml version="1.0" encoding="UTF-8"?>
<VAST version="4.0">
  <Ad id="dasy-sample">
    <InLine>
      <AdSystem version="1.0">dasy</AdSystem>
      <AdTitle>dasy sample ad</AdTitle>
      <Impression id="dasy"><![CDATA[http://127.0.0.1/impression]]></Impression>
      <Creatives>
        <Creative id="dasy-sample-creative" sequence="1">
          <Linear>
            <Duration>00:00:15</Duration>
            <MediaFiles>
              <MediaFile delivery="progressive" type="video/mp4" width="640" height="360"><![CDATA[https://example.com/dasy-sample.mp4]]></MediaFile>
            </MediaFiles>
          </Linear>
        </Creative>
      </Creatives>
    </InLine>
  </Ad>
</VAST>
`;

export interface Vast {
  contentType: string;
  body: Buffer;
}

/**
 * The upstream's VAST, byte for byte, with its content type. Anything but a 2xx answer within
 * `timeoutMs` (connect, headers and body) is a 502.
 */
export async function fetchUpstreamVast(url: string, timeoutMs: number): Promise<Vast> {
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    const res = await fetch(url, { signal, headers: { accept: 'application/xml, text/xml;q=0.9, */*;q=0.1' }, redirect: 'follow' });
    const body = Buffer.from(await res.arrayBuffer());
    if (!res.ok) throw new ApiError(502, 'upstream_error', `the ad upstream answered HTTP ${res.status}`);
    return { contentType: res.headers.get('content-type') ?? 'application/xml', body };
  } catch (err) {
    if (err instanceof ApiError) throw err;
    if (signal.aborted) throw new ApiError(502, 'upstream_timeout', `the ad upstream did not answer within ${timeoutMs / 1000} s`);
    throw new ApiError(502, 'upstream_error', 'the ad upstream could not be reached');
  }
}
