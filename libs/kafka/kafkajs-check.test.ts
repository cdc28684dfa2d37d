import { assertKafkajsPatched, installedKafkajs, KAFKAJS_PATCH, kafkajsProblem } from './kafkajs-check';

const patched = { DASY_PATCH: KAFKAJS_PATCH };

test('the installed kafkajs is 2.2.4 with every fix of the patch', () => {
  expect(installedKafkajs.version).toBe('2.2.4');
  expect(Object.keys(installedKafkajs.modules)).toHaveLength(7);
  expect(kafkajsProblem(installedKafkajs)).toBeNull();
  expect(() => assertKafkajsPatched()).not.toThrow();
});

test('another kafkajs version fails with one line naming both versions', () => {
  const installed = { version: '2.2.5', modules: { send: patched } };
  expect(() => assertKafkajsPatched(installed)).toThrow(new Error('expected kafkajs 2.2.4, found 2.2.5 (package.json pins it; run npm ci)'));
});

test('a module without the marker (or with an older one) fails, naming every fix missing', () => {
  const installed = {
    version: '2.2.4',
    modules: { grouping: patched, send: {}, encoder: { DASY_PATCH: 'dasy-kafkajs-2.2.4-0' }, other: undefined },
  };
  expect(kafkajsProblem(installed)).toBe(
    'kafkajs is not patched (patches/kafkajs+2.2.4.patch): run npm ci (dasy-kafkajs-2.2.4-5 missing in send, encoder, other)',
  );
  expect(() => assertKafkajsPatched(installed)).toThrow(/^kafkajs is not patched/);
});
