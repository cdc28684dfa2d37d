import { pathSegments, Router, splitTarget } from './router';
import { ApiError } from './validate';

const router = new Router<string>();
router.add('GET', '/healthz', 'health');
router.add('GET', '/', 'page');
router.add('POST', '/api/push', 'push');
router.add('POST', '/api/push/batch', 'batch');
router.add('GET', '/api/products/:name/stats', 'stats');
router.add('POST', '/api/products/:name/reset', 'reset');
router.add('GET', '/api/catalog/products/:sku', 'sku');
router.add('GET', '/api/catalog/products', 'products');

const found = (method: string, path: string) => {
  const m = router.find(method, path);
  return m && { route: m.route, params: { ...m.params } };
};

test('exact paths match their method only; anything else is no route (a 404)', () => {
  expect(found('POST', '/api/push')).toEqual({ route: 'push', params: {} });
  expect(found('POST', '/api/push/batch')).toEqual({ route: 'batch', params: {} });
  expect(found('GET', '/')).toEqual({ route: 'page', params: {} });
  expect(found('GET', '/api/push')).toBeUndefined();
  expect(found('PUT', '/api/push')).toBeUndefined();
  expect(found('POST', '/api/push/')).toBeUndefined();
  expect(found('POST', '/api//push')).toBeUndefined();
  expect(found('POST', '/API/push')).toBeUndefined();
  expect(found('GET', '//')).toBeUndefined();
  expect(found('GET', '/nope')).toBeUndefined();
  expect(found('OPTIONS', '*')).toBeUndefined();
});

test('HEAD is served by the GET route', () => {
  expect(found('HEAD', '/healthz')).toEqual({ route: 'health', params: {} });
  expect(found('HEAD', '/api/push')).toBeUndefined();
});

test('a parameter is one whole segment, percent-decoded', () => {
  expect(found('GET', '/api/products/Widget/stats')).toEqual({ route: 'stats', params: { name: 'Widget' } });
  expect(found('GET', '/api/products/a%2Fb%20%C3%A9/stats')).toEqual({ route: 'stats', params: { name: 'a/b é' } });
  expect(found('GET', '/api/products/../stats')).toEqual({ route: 'stats', params: { name: '..' } });
  expect(found('POST', '/api/products/x/reset')).toEqual({ route: 'reset', params: { name: 'x' } });
  expect(found('GET', '/api/products//stats')).toEqual({ route: 'stats', params: { name: '' } });
  expect(found('GET', '/api/products/a/b/stats')).toBeUndefined();
  expect(found('GET', '/api/catalog/products/s1')).toEqual({ route: 'sku', params: { sku: 's1' } });
  expect(found('GET', '/api/catalog/products')).toEqual({ route: 'products', params: {} });
  // a literal segment is matched decoded, as the parameters are
  expect(found('POST', '/api/%70ush')).toEqual({ route: 'push', params: {} });
});

test('an absolute-form target is routed by its path', () => {
  expect(found('GET', 'http://example.com/healthz')).toEqual({ route: 'health', params: {} });
  expect(found('GET', 'http://example.com')).toEqual({ route: 'page', params: {} });
  expect(found('GET', 'ftp://example.com/healthz')).toBeUndefined();
});

test('malformed percent-encoding anywhere in the path is a 400 bad_url, route or not', () => {
  for (const path of ['/api/products/%E0%A4%A/stats', '/nope/%FF', '/api/products/%/stats']) {
    let thrown: unknown;
    try {
      pathSegments(path);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(ApiError);
    expect((thrown as ApiError).body()).toEqual({ error: { code: 'bad_url', message: 'the URL is not valid (malformed percent-encoding)', field: null } });
  }
});

test('a target splits at the first ? or # into path and query', () => {
  expect(splitTarget('/api/push')).toEqual({ path: '/api/push', query: '' });
  expect(splitTarget('/a?b=1?c#d')).toEqual({ path: '/a', query: 'b=1?c#d' });
  expect(splitTarget('/a#x?y')).toEqual({ path: '/a', query: 'x?y' });
  expect(splitTarget('/a?')).toEqual({ path: '/a', query: '' });
});
