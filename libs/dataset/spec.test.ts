import { parseDatasetSpec, SpecError } from './spec';

describe('parseDatasetSpec', () => {
  test('an alias is refused as a spec error naming the file, not a crash', () => {
    const yaml =
      'name: al\nkey: id\ncolumns: &c {id: text}\naggregates:\n  x:\n    group_by: id\n    measures: &m {c: count}\n  y:\n    group_by: id\n    measures: *m\n';
    const parse = () => parseDatasetSpec(yaml, 'al.yaml');
    expect(parse).toThrow(SpecError);
    expect(parse).toThrow(/^al\.yaml: an alias \(\*name\) is not taken; write the value out \(/);
  });
});
