import { DasyConfig } from '../../libs/config';
import { Logger } from '../../libs/log';
import { checkDatasetHeader, produceDataset } from './producer';
import { runDatasetPipeline } from './pipeline';
import { loadDatasetSpec } from '../../libs/dataset/spec';
import { deleteAbsentDatasetKeys } from './sync';

export interface DatasetIngestSummary {
  file: string;
  dataset: string;
  records: number;
  accepted: number;
  rejected: number;
  /** with sync: the keys of the table the file did not contain, deleted */
  deleted?: number;
  rows: number;
  aggregates: Record<string, number>;
  seconds: number;
}

/**
 * `make ingest DATASET=...`: a declared dataset's whole pipeline, start to finish, streaming the
 * file (as `ingest` does products'). With `sync`, the file is the whole dataset: once its records
 * are applied, every key of the table it does not contain is deleted through tombstones.
 */
export async function ingestDataset(options: {
  config: DasyConfig;
  logger: Logger;
  specFile: string;
  file: string;
  rejectsFile?: string;
  consumers: number;
  sync?: boolean;
}): Promise<DatasetIngestSummary> {
  const { config, logger, file } = options;
  await checkDatasetHeader(loadDatasetSpec(options.specFile), file);
  const run = await runDatasetPipeline({
    config,
    logger,
    specFile: options.specFile,
    consumers: options.consumers,
    work: async ({ spec, caughtUp, onRead }) => {
      const produced = await produceDataset({ config, logger, spec, file, rejectsFile: options.rejectsFile, onRead });
      const deleted = options.sync ? await deleteAbsentDatasetKeys({ config, logger, spec, file, caughtUp }) : undefined;
      return { produced, deleted };
    },
  });
  const { produced, deleted } = run.result;
  return {
    file,
    dataset: options.specFile,
    records: produced.records,
    accepted: produced.accepted,
    rejected: produced.rejected,
    ...(deleted === undefined ? {} : { deleted }),
    rows: run.rows,
    aggregates: run.aggregates,
    seconds: run.seconds,
  };
}
