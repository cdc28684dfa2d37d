import { checkProductsHeader } from '../../libs/csv/reader';
import { DasyConfig } from '../../libs/config';
import { Logger } from '../../libs/log';
import { PhaseTimings, runPipeline } from '../pipeline';
import { produceProducts } from '../products-producer';
import { deleteAbsentSkus } from '../sync';

export interface IngestSummary {
  file: string;
  records: number;
  accepted: number;
  rejected: number;
  /** with sync: the skus of `products` the file did not contain, deleted */
  deleted?: number;
  products: number;
  names: number;
  seconds: number;
}

/**
 * `make ingest`: the whole pipeline, start to finish (runPipeline, apps/pipeline), streaming the file. With
 * `sync`, the file is the whole catalogue: once its records are applied, every sku of `products`
 * that it does not contain is deleted through tombstones (apps/sync), and those are applied too.
 */
export async function ingest(options: {
  config: DasyConfig;
  logger: Logger;
  file: string;
  rejectsFile?: string;
  consumers: number;
  sync?: boolean;
  /** told the time of each phase once the run is done (the development entry point's `ingest --phases-file`, for the bench) */
  onPhases?: (phases: PhaseTimings) => void;
}): Promise<IngestSummary> {
  const { config, logger, file } = options;
  await checkProductsHeader(file);
  const run = await runPipeline({
    config,
    logger,
    consumers: options.consumers,
    work: async ({ caughtUp, onRead }) => {
      const produced = await produceProducts({ config, logger, file, rejectsFile: options.rejectsFile, onRead });
      const deleted = options.sync ? await deleteAbsentSkus({ config, logger, file, caughtUp }) : undefined;
      return { produced, deleted };
    },
  });
  options.onPhases?.(run.phases);
  const { produced, deleted } = run.result;
  return {
    file,
    records: produced.records,
    accepted: produced.accepted,
    rejected: produced.rejected,
    ...(deleted === undefined ? {} : { deleted }),
    products: run.products,
    names: run.names,
    seconds: run.seconds,
  };
}
