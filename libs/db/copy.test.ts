import { BinaryCopy } from './copy';

test('the binary COPY payload: signature, rows of counted fields, NULLs, the trailer', () => {
  const copy = new BinaryCopy(3, 8); // a tiny first buffer: growing is exercised too
  copy.row().int4(7).text('sku-1').text(null);
  copy.row().int4(-1).text(Buffer.from('é')).text('naïve ☃');
  const bytes = copy.finish();
  const expected = Buffer.concat([
    Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'),
    Buffer.from([0, 0, 0, 0, 0, 0, 0, 0]),
    Buffer.from([0, 3, 0, 0, 0, 4, 0, 0, 0, 7, 0, 0, 0, 5]),
    Buffer.from('sku-1'),
    Buffer.from([0xff, 0xff, 0xff, 0xff]),
    Buffer.from([0, 3, 0, 0, 0, 4, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 2]),
    Buffer.from('é'),
    Buffer.from([0, 0, 0, Buffer.byteLength('naïve ☃')]),
    Buffer.from('naïve ☃'),
    Buffer.from([0xff, 0xff]),
  ]);
  expect(bytes.equals(expected)).toBe(true);
  expect(copy.rowCount).toBe(2);
});
