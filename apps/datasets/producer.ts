import { DasyConfig } from '../../libs/config';
import { DatasetCsv, DatasetRow } from '../../libs/csv/dataset';
import { checkHeader, readCsvFile } from '../../libs/csv/reader';
import { DatasetSpec } from '../../libs/dataset/spec';
import { rejectsTopic, rowsTopic } from '../../libs/dataset/topics';
import { messageKey, messageValue } from '../../libs/dataset/wire';
import { Logger } from '../../libs/log';
import { ReadSample } from '../../libs/progress/pipeline-line';
import { ProduceSummary, streamFile } from '../products-producer/stream';

/** Check that the file exists and its header names the dataset's columns, reading only its header. */
export async function checkDatasetHeader(spec: DatasetSpec, file: string): Promise<void> {
  await checkHeader(file, new DatasetCsv(spec, { row: () => undefined, reject: () => undefined }));
}

/**
 * Stream a dataset's file into `<ns>.<dataset>`, keyed by its key, each accepted record as its
 * canonical values (libs/dataset/wire.ts), each rejected one to the rejects file and topic with
 * its line and `column: reason`: the products producer's writer (per-key order, no loss or
 * duplicate across broker restarts), with the dataset's topics.
 */
export async function produceDataset(options: {
  config: DasyConfig;
  logger: Logger;
  spec: DatasetSpec;
  file: string;
  rejectsFile?: string;
  onRead?: (r: ReadSample) => void;
}): Promise<ProduceSummary> {
  const { config, spec } = options;
  return streamFile<DatasetRow>(
    {
      ...options,
      producer: { name: `${spec.name}-producer`, topics: { changelog: rowsTopic(config.namespace, spec), rejects: rejectsTopic(config.namespace, spec) } },
    },
    {
      label: '',
      read: (file, sink, onChunk) => readCsvFile(file, new DatasetCsv(spec, { row: sink.accept, reject: sink.reject }), onChunk),
      message: (r) => [messageKey(spec, r.values), messageValue(spec, r.values)],
    },
  );
}
