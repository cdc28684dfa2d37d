import { DatasetCsv, DatasetRow } from '../../libs/csv/dataset';
import { Reject } from '../../libs/csv/headered';
import { ReadProgress, readCsvFile } from '../../libs/csv/reader';
import { DatasetSpec } from '../../libs/dataset/spec';

/**
 * A file of a dataset's keys (`make delete`, and the file's keys for `SYNC=1`): a CSV whose
 * header names the key columns (others ignored), each read by the dataset's rules for them. Its
 * rows' values are the key's, in the key's order, as messageKey takes them.
 */
export function keysSpec(spec: DatasetSpec): DatasetSpec {
  return { name: spec.name, key: spec.key, columns: spec.key.map((k) => spec.columns.find((c) => c.name === k)!), aggregates: [] };
}

export async function readKeysFile(
  spec: DatasetSpec,
  file: string,
  sink: { row: (r: DatasetRow) => void; reject: (r: Reject) => void },
  onChunk: (p: ReadProgress) => Promise<void> | void = () => undefined,
): Promise<{ records: number }> {
  return readCsvFile(file, new DatasetCsv(keysSpec(spec), sink), onChunk);
}
