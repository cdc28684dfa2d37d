import { clientErrorOf } from './http-server';

const shown = (code: string, reason?: string) => {
  const e = clientErrorOf(Object.assign(new Error('x'), { code, reason }));
  return e && [e.statusCode, e.code, e.field, e.message];
};

test("node's protocol errors and timeouts become the error model", () => {
  expect(shown('ERR_HTTP_REQUEST_TIMEOUT')).toEqual([408, 'request_timeout', null, 'the request (headers or body) did not arrive in time']);
  expect(shown('HPE_HEADER_OVERFLOW')).toEqual([431, 'headers_too_large', null, 'the request line and headers are larger than 16384 bytes']);
  expect(shown('HPE_INVALID_CONTENT_LENGTH', 'Invalid character in Content-Length')).toEqual([
    400,
    'malformed_request',
    'content-length',
    'Content-Length is not valid: Invalid character in Content-Length',
  ]);
  expect(shown('HPE_UNEXPECTED_CONTENT_LENGTH')?.slice(0, 3)).toEqual([400, 'malformed_request', 'content-length']);
  expect(shown('HPE_INVALID_CHUNK_SIZE')?.slice(0, 3)).toEqual([400, 'malformed_request', 'transfer-encoding']);
  expect(shown('HPE_INVALID_METHOD', 'Invalid method encountered')).toEqual([
    400,
    'malformed_request',
    null,
    'the request is not valid HTTP/1.1: Invalid method encountered',
  ]);
  // bytes after a request that asked to close the connection: no answer of their own
  expect(shown('HPE_CLOSED_CONNECTION')).toBeUndefined();
});
