import type { DatasetSpec } from './spec';

/** A spec the unit tests share (the CSV rules, the wire format): one text key, every kind of column, one aggregate. */
export const ORDERS_SPEC: DatasetSpec = {
  name: 'orders',
  key: ['order_id'],
  columns: [
    { name: 'order_id', type: 'text', optional: false },
    { name: 'customer', type: 'text', optional: false },
    { name: 'amount', type: 'numeric', optional: false },
    { name: 'placed_at', type: 'timestamp', optional: false },
    { name: 'note', type: 'text', optional: true },
  ],
  aggregates: [{ name: 'customer_totals', groupBy: ['customer'], measures: [{ name: 'orders', fn: 'count' }] }],
};
