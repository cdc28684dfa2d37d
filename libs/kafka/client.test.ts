import { logLevel } from 'kafkajs';
import { kafkaLogRoute } from './client';

describe("kafkajs's log lines, routed by their structure", () => {
  const entry = (namespace: string, level: number, log: Record<string, unknown>) => ({ namespace, level, log: { message: 'text is not read', ...log } });

  test('attempts kafkajs retries, and connections failing, are an outage', () => {
    expect(kafkaLogRoute(entry('Producer', logLevel.ERROR, { retryCount: 2, retryTime: 400 }))).toBe('outage');
    expect(kafkaLogRoute(entry('Admin', logLevel.WARN, { error: 'x', retryCount: 0, retryTime: 300 }))).toBe('outage');
    expect(kafkaLogRoute(entry('Connection', logLevel.ERROR, { stack: '...' }))).toBe('outage');
    expect(kafkaLogRoute(entry('BrokerPool', logLevel.ERROR, {}))).toBe('outage');
  });

  test("a broker's error answer, and what the consumer base handles itself, are detail", () => {
    expect(kafkaLogRoute(entry('Connection', logLevel.ERROR, { error: 'x', correlationId: 7, size: 10 }))).toBe('debug');
    expect(kafkaLogRoute(entry('Runner', logLevel.ERROR, { error: 'x' }))).toBe('debug');
    expect(kafkaLogRoute(entry('ConsumerGroup', logLevel.WARN, {}))).toBe('debug');
    expect(kafkaLogRoute(entry('Consumer', logLevel.ERROR, { stack: '...' }))).toBe('debug');
    expect(kafkaLogRoute(entry('Cluster', logLevel.INFO, {}))).toBe('debug');
  });

  test('anything else kafkajs warns about (how it is used) stays a warning or an error', () => {
    expect(kafkaLogRoute(entry('Producer', logLevel.WARN, {}))).toBe('warn');
    expect(kafkaLogRoute(entry('Admin', logLevel.ERROR, { error: 'x' }))).toBe('error');
  });
});
