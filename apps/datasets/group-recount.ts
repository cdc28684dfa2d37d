import { PoolClient } from 'pg';
import { BatchApp } from '../../libs/consumer';
import { PoisonMessageError } from '../../libs/errors';
import { KafkaMessage } from '../../libs/kafka/port';
import { AggregateSpec, DatasetSpec } from '../../libs/dataset/spec';
import { list, measureExpression, q } from '../../libs/dataset/sql';
import { groupColumnsOfKey } from './group-key';

/**
 * AggregateRecount: each `<ns>.<dataset>.<aggregate>` message says "recount this group" (its
 * key, group-key.ts). A batch recomputes its distinct groups' measures from the dataset's rows
 * (a probe of the aggregate's group index per group) and sets each row, deleting a group with no
 * rows left. A recount is idempotent, as product_count's: duplicates or late messages can never
 * make a measure wrong.
 */
export function aggregateRecount(spec: DatasetSpec, aggregate: AggregateSpec): BatchApp<string> {
  const sql = recountSql(spec, aggregate);
  return {
    decode: decodeGroupKey,
    async apply(client: PoolClient, keys: string[]) {
      await client.query({ name: `dasy-recount-${aggregate.name}`, text: sql, values: [[...new Set(keys)].sort()] });
    },
  };
}

export function decodeGroupKey(message: KafkaMessage): string {
  const key = message.key?.toString('utf8');
  if (!key) throw new PoisonMessageError('message key (the group to recount) is missing or empty');
  if (key.includes('\u0000')) throw new PoisonMessageError('message key (the group to recount) holds a NUL character');
  return key;
}

/**
 * One statement per batch: the distinct groups' measures, each from a probe of the group index
 * (LATERAL), groups with no rows deleted, the rest set (an unchanged row is not written). A key
 * that is not a value of the group's types fails its cast (SQLSTATE class 22): the consumer base
 * dead-letters that message alone. The parts' names start with dasy_, which no dataset can take:
 * a part never hides the dataset's table.
 */
export function recountSql(spec: DatasetSpec, aggregate: AggregateSpec): string {
  const g = aggregate.groupBy;
  const m = aggregate.measures.map((x) => x.name);
  const match = g.map((c) => `t.${q(c)} = k.${q(c)}`).join(' AND ');
  const join = (a: string, b: string) => g.map((c) => `${a}.${q(c)} = ${b}.${q(c)}`).join(' AND ');
  const measures = aggregate.measures.map((x) => `${measureExpression(x, 't')} AS ${q(x.name)}`).join(', ');
  return `
WITH dasy_keys AS (
  SELECT DISTINCT ${groupColumnsOfKey(spec, aggregate, 'm.k')} FROM unnest($1::text[]) AS m(k)
), dasy_measured AS MATERIALIZED (
  SELECT ${list(g, 'k.')}, s.* FROM dasy_keys k CROSS JOIN LATERAL (
    SELECT count(*) AS "dasy rows", ${measures} FROM ${q(spec.name)} t WHERE ${match}
  ) s
), dasy_gone AS (
  DELETE FROM ${q(aggregate.name)} a USING dasy_measured c WHERE ${join('a', 'c')} AND c."dasy rows" = 0
)
INSERT INTO ${q(aggregate.name)} AS a (${list([...g, ...m])})
SELECT ${list([...g, ...m])} FROM dasy_measured WHERE "dasy rows" > 0
ON CONFLICT (${list(g)}) DO UPDATE SET ${m.map((x) => `${q(x)} = excluded.${q(x)}`).join(', ')}
  WHERE (${list(m, 'a.')}) IS DISTINCT FROM (${list(m, 'excluded.')})`;
}
