import { childExecArgv } from './supervisor';
import { productCountConsumer } from '../../apps/components';

describe('childExecArgv', () => {
  it("keeps this process's Node options when the part declares no heap cap", () => {
    expect(childExecArgv(undefined)).toEqual(process.execArgv);
  });

  it('adds the cap last, so that it wins over one this process was started with', () => {
    expect(childExecArgv(192)).toEqual([...process.execArgv, '--max-old-space-size=192']);
  });

  it('is declared for the product-count consumer, whose working set is a few fetches of names', () => {
    expect(productCountConsumer.heapMb).toBe(192);
  });
});
