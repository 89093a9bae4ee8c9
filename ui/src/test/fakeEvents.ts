/** The billing API's event stream, faked: a test opens it, sends events, breaks it. */
export interface FakeEvents {
  /** How many times the page opened the stream. */
  opened: () => number;
  open: () => Response;
  send: (event: string, data: unknown) => void;
  /** Ends the open stream with an error, and refuses new ones (503) until `restore`. */
  fail: () => void;
  restore: () => void;
}

export function fakeEvents(): FakeEvents {
  const encoder = new TextEncoder();
  let controller: ReadableStreamDefaultController<Uint8Array> | null = null;
  let count = 0;
  let down = false;
  return {
    opened: () => count,
    open: () => {
      if (down) return new Response(JSON.stringify({ success: false, error: 'too many event streams' }), { status: 503 });
      count += 1;
      const body = new ReadableStream<Uint8Array>({
        start(c) {
          controller = c;
          c.enqueue(encoder.encode(': ping\r\n\r\n'));
        },
      });
      return new Response(body, { status: 200, headers: { 'Content-Type': 'text/event-stream; charset=utf-8' } });
    },
    send: (event, data) => {
      controller?.enqueue(encoder.encode(`event: ${event}\r\ndata: ${JSON.stringify(data)}\r\n\r\n`));
    },
    fail: () => {
      down = true;
      controller?.error(new TypeError('network error'));
      controller = null;
    },
    restore: () => {
      down = false;
    },
  };
}
