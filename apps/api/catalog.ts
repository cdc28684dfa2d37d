import { Pool } from 'pg';
import { ApiApp } from './app';
import { catalogText, prefixUpperBound, ProductsPage, validateProductsPage } from './catalog-request';
import { ApiError } from './validate';

/**
 * The catalogue: `products` and `product_count` read back over HTTP.
 * - `GET /api/catalog/products/:sku` → `{"sku","name","description"}` or 404;
 * - `GET /api/catalog/products?name=N` or `?q=prefix` → a page of products in sku order,
 *   `{"filter","value","products","next"}`: `next` is the `after` of the next page, null on the last;
 * - `GET /api/catalog/names/:name` → `{"name","no_of_products"}` or 404.
 * Pages are keyset pages (`sku > after`, never OFFSET): each costs its own rows, however deep.
 * The statements are unnamed: planned with the request's values, a rare name or a narrow prefix
 * always gets its index (a generic plan of a prepared statement could not tell them apart).
 */

export interface Product {
  sku: string;
  name: string;
  description: string;
}

export interface ProductsReply {
  filter: 'name' | 'q';
  value: string;
  products: Product[];
  next: string | null;
}

export function registerCatalog(app: ApiApp, pool: Pool): void {
  app.get('/api/catalog/products/:sku', async ({ params }) => {
    const sku = catalogText(params.sku, 'sku', { trim: true });
    const product = await productBySku(pool, sku);
    if (!product) throw new ApiError(404, 'not_found', `no product with sku ${JSON.stringify(sku)}`, 'sku');
    return product;
  });

  app.get('/api/catalog/products', async ({ query }): Promise<ProductsReply> => productsPage(pool, validateProductsPage(query)));

  app.get('/api/catalog/names/:name', async ({ params }) => {
    const name = catalogText(params.name, 'name', { trim: true });
    const count = await nameCount(pool, name);
    if (!count) throw new ApiError(404, 'not_found', `no product is named ${JSON.stringify(name)}`, 'name');
    return count;
  });
}

export async function productBySku(pool: Pool, sku: string): Promise<Product | undefined> {
  const { rows } = await pool.query<Product>('SELECT sku, name, description FROM products WHERE sku = $1', [sku]);
  return rows[0];
}

export async function nameCount(pool: Pool, name: string): Promise<{ name: string; no_of_products: number } | undefined> {
  const { rows } = await pool.query<{ name: string; no_of_products: number }>('SELECT name, no_of_products FROM product_count WHERE name = $1', [name]);
  return rows[0];
}

/** Products of one name, in sku order: products_name_idx finds them, the page sorts them. */
export const BY_NAME_SQL = `SELECT sku, name, description FROM products WHERE name = $1 AND sku > $2 ORDER BY sku LIMIT $3`;
/** Skus in [prefix, upper) after the cursor: one range of the primary key, read in its order (sku is in the "C" collation). */
export const BY_PREFIX_SQL = `SELECT sku, name, description FROM products WHERE sku >= $1 AND sku < $2 AND sku > $3 ORDER BY sku LIMIT $4`;
/** The same for a prefix of U+10FFFF characters only: no string is above its range. */
export const BY_PREFIX_UNBOUNDED_SQL = `SELECT sku, name, description FROM products WHERE sku >= $1 AND sku > $2 ORDER BY sku LIMIT $3`;

/** One page; one row more than asked tells whether another page follows. */
export async function productsPage(pool: Pool, page: ProductsPage): Promise<ProductsReply> {
  const { filter, limit, after } = page;
  let rows: Product[];
  if (filter.filter === 'name') {
    rows = (await pool.query<Product>(BY_NAME_SQL, [filter.value, after, limit + 1])).rows;
  } else {
    const upper = prefixUpperBound(filter.value);
    const r =
      upper === null
        ? await pool.query<Product>(BY_PREFIX_UNBOUNDED_SQL, [filter.value, after, limit + 1])
        : await pool.query<Product>(BY_PREFIX_SQL, [filter.value, upper, after, limit + 1]);
    rows = r.rows;
  }
  const more = rows.length > limit;
  const products = more ? rows.slice(0, limit) : rows;
  return { filter: filter.filter, value: filter.value, products, next: more ? products[products.length - 1].sku : null };
}
