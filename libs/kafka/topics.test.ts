import { allTopicNames, deadLetterTopic, groupId, topicName, TOPICS, totalLag } from './topics';

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

test('totalLag: the messages each partition still has beyond the offsets reached', () => {
  const end = new Map([
    [0, 10n],
    [1, 5n],
    [2, 7n],
  ]);
  // partition 0 is 4 behind, partition 1 is past its end (counts nothing), partition 2 has no offset yet (all 7)
  expect(
    totalLag(
      end,
      new Map([
        [0, 6n],
        [1, 9n],
      ]),
    ),
  ).toBe(11n);
  expect(
    totalLag(
      end,
      new Map([
        [0, 10n],
        [1, 5n],
        [2, 7n],
      ]),
    ),
  ).toBe(0n);
  expect(totalLag(new Map(), new Map([[0, 3n]]))).toBe(0n);
});
