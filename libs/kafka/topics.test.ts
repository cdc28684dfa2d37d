import { allTopicNames, deadLetterTopic, groupId, topicName, TOPICS } from './topics';

test('every topic is prefixed by the namespace', () => {
  expect(topicName('ns', 'products')).toBe('ns.products');
  expect(topicName('ns', 'productCount')).toBe('ns.product-count');
  expect(deadLetterTopic('ns.products')).toBe('ns.products.dlq');
  expect(groupId('ns', 'products-consumer')).toBe('ns.products-consumer');
});

test('the namespace owns exactly these topics', () => {
  expect(allTopicNames('x')).toEqual([
    'x.products',
    'x.products.dlq',
    'x.products.rejects',
    'x.product-count',
    'x.product-count.dlq',
    'x.scores',
    'x.scores.dlq',
    'x.ad-events',
    'x.ad-events.dlq',
  ]);
});

test('two namespaces share no topic', () => {
  const a = new Set(allTopicNames('a'));
  expect(allTopicNames('b').filter((t) => a.has(t))).toEqual([]);
});

test('keys are declared for every topic', () => {
  expect(Object.fromEntries(Object.entries(TOPICS).map(([id, s]) => [id, s.key]))).toEqual({
    products: 'sku',
    productsRejects: 'file:line',
    productCount: 'name',
    scores: 'product name',
    adEvents: 'username',
  });
});
