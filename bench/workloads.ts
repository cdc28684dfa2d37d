/** The workloads of `dasy bench`, by name (`--only`): a leaf, read by the command (index.ts) and the run (context.ts). */
export const WORKLOADS = ['ingest', 'scale', 'stages', 'dataset', 'api'] as const;
export type Workload = (typeof WORKLOADS)[number];
