import { PoolClient } from 'pg';
import { KEY_MAX_BYTES } from '../db/key-limit';
import { AggregateSpec, DatasetSpec, SpecError } from './spec';
import { list, q } from './sql';
import { trimmedColumns } from './values';

/**
 * A value that starts or ends with a character String.prototype.trim removes (what values.ts trims
 * a group_by text by), as a PostgreSQL regular expression of literal characters. Made on first
 * use: testing all 65,536 characters cost every dasy process 40 ms of CPU at start.
 */
let untrimmed: string | undefined;
function untrimmedPattern(): string {
  if (untrimmed === undefined) {
    const trimmed = [...Array(0x10000).keys()].map((c) => String.fromCharCode(c)).filter((ch) => ch.trim() === '');
    untrimmed = `^[${trimmed.join('')}]|[${trimmed.join('')}]$`;
  }
  return untrimmed;
}

/**
 * A new aggregate of an existing dataset groups the rows already stored; a text column that was
 * neither key nor group_by before was stored as written (values.ts), and a group_by value is
 * trimmed, non-empty and within the key limit. A stored value that breaks those rules would make
 * a group no new record can reach, and a row a rebuild from the topic reads otherwise (trimmed,
 * or refused as empty): the change is refused, naming the first such row, before anything is made.
 */
export async function checkNewGroups(client: PoolClient, stored: DatasetSpec, spec: DatasetSpec, aggregate: AggregateSpec, source: string): Promise<void> {
  const wasTrimmed = trimmedColumns(stored);
  const newlyTrimmed = aggregate.groupBy.filter((g) => {
    // (a column new in this change is optional, never a group_by: specChanges and spec.ts see to it)
    const at = stored.columns.findIndex((c) => c.name === g);
    return at >= 0 && stored.columns[at].type === 'text' && !wasTrimmed[at];
  });
  const bytes = aggregate.groupBy.map((g) => `octet_length(${q(g)}::text)`).join(' + ');
  const untrimmed = newlyTrimmed.map((g) => `${q(g)} = '' OR ${q(g)} ~ $2`);
  const { rows } = await client.query<{ key: string }>(
    `SELECT json_build_array(${spec.key.map((k) => `${q(k)}::text`).join(', ')})::text AS key FROM ${q(spec.name)}
      WHERE ${[`${bytes} > $1`, ...untrimmed].join(' OR ')} ORDER BY ${list(spec.key)} LIMIT 1`,
    newlyTrimmed.length ? [KEY_MAX_BYTES, untrimmedPattern()] : [KEY_MAX_BYTES],
  );
  if (rows.length)
    throw new SpecError(
      `${source}: new aggregate ${aggregate.name}: the row of key ${rows[0].key} has a group_by value (${aggregate.groupBy.join(', ')}) that is empty, not trimmed, or longer than ${KEY_MAX_BYTES} bytes, as stored before the column was grouped by; correct such rows first, or declare a dataset of another name`,
    );
}
