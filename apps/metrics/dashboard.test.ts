import * as fs from 'fs';
import * as path from 'path';
import { createRegistry, observeConsumers } from '../../libs/metrics';
import { apiMetrics } from '../api/ops';
import { clusterMetrics } from './exporter';

/** infra/grafana/dasy.json, as a user imports it into Grafana. */
const DASHBOARD = path.join(__dirname, '..', '..', 'infra', 'grafana', 'dasy.json');

interface Target {
  expr: string;
  datasource: { type: string; uid: string };
}
interface Panel {
  id: number;
  type: string;
  datasource?: { type: string; uid: string };
  targets?: Target[];
}
interface Dashboard {
  __inputs: { name: string; type: string; pluginId: string }[];
  panels: Panel[];
  templating: { list: { query: { query: string }; datasource: { uid: string } }[] };
  uid: string;
  title: string;
}

const dashboard = JSON.parse(fs.readFileSync(DASHBOARD, 'utf8')) as Dashboard;
const queries = [...dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)), ...dashboard.templating.list.map((v) => v.query.query)];

/** Every series name an exporter of dasy registers: the api's (cluster, consumers, requests) and every process's defaults. */
function registeredNames(): Set<string> {
  const registry = createRegistry('dasy');
  clusterMetrics(registry, { groups: [], sample: async () => ({}) });
  observeConsumers(registry, []);
  apiMetrics(registry);
  const names = new Set<string>();
  for (const m of registry.getMetricsAsArray()) {
    names.add(m.name);
    // a histogram's series
    if (m.type.toString() === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(m.name + suffix);
  }
  return names;
}

test('the dashboard asks for a Prometheus data source when imported, and every panel uses it', () => {
  expect(dashboard.__inputs).toEqual([expect.objectContaining({ name: 'DS_PROMETHEUS', type: 'datasource', pluginId: 'prometheus' })]);
  const sources = [
    ...dashboard.panels.filter((p) => p.type !== 'row').map((p) => p.datasource?.uid),
    ...dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.datasource.uid)),
    ...dashboard.templating.list.map((v) => v.datasource.uid),
  ];
  expect(new Set(sources)).toEqual(new Set(['${DS_PROMETHEUS}']));
  const ids = dashboard.panels.map((p) => p.id);
  expect(new Set(ids).size).toBe(ids.length);
  expect([dashboard.uid, dashboard.title]).toEqual(['dasy', 'dasy']);
});

test("the dashboard's PromQL asks only for series the exporter registers", () => {
  const registered = registeredNames();
  const asked = new Set(queries.flatMap((q) => q.match(/\b(?:dasy|nodejs|process)_[a-z0-9_]+/g) ?? []));
  expect(asked.size).toBeGreaterThan(10);
  expect([...asked].filter((name) => !registered.has(name))).toEqual([]);
});

test('the dashboard shows the ingest rate, lag per group, dead letters and push latency p50/p99', () => {
  expect(queries).toEqual(
    expect.arrayContaining([
      'sum by (group) (rate(dasy_consumer_stored_offset{namespace="$namespace", job="$job"}[1m]))',
      'sum by (group) (dasy_consumer_lag{namespace="$namespace", job="$job"})',
      'sum by (topic) (increase(dasy_dead_letters_total{namespace="$namespace", job="$job"}[5m]))',
      'histogram_quantile(0.5, sum by (le) (rate(dasy_api_request_duration_seconds_bucket{namespace="$namespace", route="/api/push"}[1m])))',
      'histogram_quantile(0.99, sum by (le) (rate(dasy_api_request_duration_seconds_bucket{namespace="$namespace", route="/api/push"}[1m])))',
    ]),
  );
});
