import { Pool } from 'pg';
import { ApiApp } from './app';
import { aggregateOf, aggregateRead, keyFromQuery, rowsPage as rowsPageRequest, singleKey } from './dataset-request';
import { datasetSpec, groupByKey, groupsPage, listDatasets, rowByKey, rowsPage } from './dataset-reads';
import { ApiError } from './validate';

/**
 * The datasets (DESIGN.md §8) read back over HTTP, the built-in products among them:
 * - `GET /api/datasets` → every dataset with its spec and exact row and group counts;
 * - `GET /api/datasets/:name/rows/:key` (a one-column key) or `/api/datasets/:name/row?<key col>=…`
 *   (any key, every key column given) → the row, or 404;
 * - `GET /api/datasets/:name/rows?after=&limit=` → `{"rows","next"}`, keyset pages in key order;
 * - `GET /api/datasets/:name/aggregates/:aggregate?<group col>=…` → that group's row, or 404;
 *   without group columns, `{"groups","next"}` pages by the group key or `order=[-]<measure>`.
 * Values are typed JSON (dataset-json.ts); errors are the api's (`{"error":{"code","message","field"}}`).
 */
export function registerDatasets(app: ApiApp, pool: Pool): void {
  app.get('/api/datasets', () => listDatasets(pool));

  app.get('/api/datasets/:name/rows/:key', async ({ params }) => {
    const spec = await datasetSpec(pool, params.name);
    const key = singleKey(spec, params.key);
    return found(await rowByKey(pool, spec, key), `dataset ${spec.name} has no row with ${described(spec.key, key)}`, 'key');
  });

  app.get('/api/datasets/:name/row', async ({ params, query }) => {
    const spec = await datasetSpec(pool, params.name);
    const key = keyFromQuery(spec, query);
    return found(await rowByKey(pool, spec, key), `dataset ${spec.name} has no row with ${described(spec.key, key)}`, 'key');
  });

  app.get('/api/datasets/:name/rows', async ({ params, query }) => {
    const spec = await datasetSpec(pool, params.name);
    return rowsPage(pool, spec, rowsPageRequest(spec, query));
  });

  app.get('/api/datasets/:name/aggregates/:aggregate', async ({ params, query }) => {
    const spec = await datasetSpec(pool, params.name);
    const aggregate = aggregateOf(spec, params.aggregate);
    const read = aggregateRead(aggregate, query);
    if (read.kind === 'group') {
      const group = await groupByKey(pool, spec, aggregate, read.values);
      return found(group, `aggregate ${aggregate.name} has no group with ${described(aggregate.groupBy, read.values)}`, 'group');
    }
    const page = await groupsPage(pool, spec, aggregate, read);
    return { groups: page.rows, next: page.next };
  });
}

function found<T>(row: T | undefined, message: string, field: string): T {
  if (row === undefined) throw new ApiError(404, 'not_found', message, field);
  return row;
}

/** `a "x", b "y"` */
const described = (columns: string[], values: string[]) => columns.map((c, i) => `${c} ${JSON.stringify(values[i])}`).join(', ');
