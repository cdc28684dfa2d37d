import { Socket } from 'net';
import { Duplex } from 'stream';

/** How long and how much a lingering close reads before it closes anyway. */
export interface LingerLimits {
  /** bytes read (and thrown away) at most */
  bytes: number;
  /** at most this long in all */
  totalMs: number;
  /** closes once the client sent nothing for this long */
  idleMs: number;
}

/** Enough for a client that writes a body of a few MiB before it reads (a 2 MiB push answered 413). */
export const LINGER: LingerLimits = { bytes: 8 * 1024 * 1024, totalMs: 10_000, idleMs: 2_000 };

/**
 * Close a connection whose answer went out before its request was read to the end (413, 431, 400):
 * send the answer and FIN, then keep reading and discarding what the client still sends, and close
 * once it closed its side or a bound is reached (RFC 9112 §9.6, Apache's and nginx's lingering
 * close). Closing at once with unread bytes in the kernel's buffer makes it send a reset, and a
 * client still writing its body (Python's urllib) gets `Broken pipe` and never reads the answer.
 */
export function lingeringClose(socket: Duplex, limits: LingerLimits = LINGER): void {
  if (socket.destroyed) return;
  // Node's http parser may read the socket's handle directly (no 'data' events): bytesRead counts those too.
  const read = () => (socket as Socket).bytesRead ?? 0;
  const start = read();
  let last = start;
  let lastAt = Date.now();
  const close = () => {
    clearTimeout(total);
    clearInterval(watch);
    socket.destroy();
  };
  const total = setTimeout(close, limits.totalMs);
  const watch = setInterval(
    () => {
      const now = read();
      if (now - start > limits.bytes) return close();
      if (now !== last) [last, lastAt] = [now, Date.now()];
      else if (Date.now() - lastAt >= limits.idleMs) close();
    },
    Math.min(100, limits.idleMs),
  );
  total.unref();
  watch.unref();
  socket.once('end', close);
  socket.once('close', close);
  socket.on('error', close);
  socket.on('data', () => undefined); // discard (when the http parser does not consume the socket)
  socket.resume();
  socket.end();
}
