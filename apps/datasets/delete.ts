import { DasyConfig } from '../../libs/config';
import { DatasetRow } from '../../libs/csv/dataset';
import { checkHeader } from '../../libs/csv/reader';
import { DatasetCsv } from '../../libs/csv/dataset';
import { loadDatasetSpec } from '../../libs/dataset/spec';
import { rejectsTopic, rowsTopic } from '../../libs/dataset/topics';
import { messageKey } from '../../libs/dataset/wire';
import { Logger } from '../../libs/log';
import { streamFile } from '../products-producer/stream';
import { keysSpec, readKeysFile } from './keys-file';
import { runDatasetPipeline } from './pipeline';

export interface DatasetDeleteSummary {
  file: string;
  dataset: string;
  records: number;
  accepted: number;
  rejected: number;
  rows: number;
  aggregates: Record<string, number>;
  seconds: number;
}

/**
 * `make delete FILE=keys.csv DATASET=...`: a tombstone on `<ns>.<dataset>` for each key of the
 * file, through the pipeline, until applied (the aggregates recounted too).
 */
export async function deleteDatasetKeys(options: {
  config: DasyConfig;
  logger: Logger;
  specFile: string;
  file: string;
  rejectsFile?: string;
  consumers: number;
}): Promise<DatasetDeleteSummary> {
  const { config, logger, file } = options;
  await checkHeader(file, new DatasetCsv(keysSpec(loadDatasetSpec(options.specFile)), { row: () => undefined, reject: () => undefined }));
  const run = await runDatasetPipeline({
    config,
    logger,
    specFile: options.specFile,
    consumers: options.consumers,
    work: ({ spec, onRead }) => {
      const keys = keysSpec(spec);
      return streamFile<DatasetRow>(
        {
          config,
          logger,
          file,
          rejectsFile: options.rejectsFile,
          onRead,
          producer: { name: `${spec.name}-producer`, topics: { changelog: rowsTopic(config.namespace, spec), rejects: rejectsTopic(config.namespace, spec) } },
        },
        {
          label: ' (tombstones)',
          read: (f, sink, onChunk) => readKeysFile(spec, f, { row: sink.accept, reject: sink.reject }, onChunk),
          message: (r) => [messageKey(keys, r.values), null],
        },
      );
    },
  });
  const s = run.result;
  return {
    file,
    dataset: options.specFile,
    records: s.records,
    accepted: s.accepted,
    rejected: s.rejected,
    rows: run.rows,
    aggregates: run.aggregates,
    seconds: run.seconds,
  };
}
