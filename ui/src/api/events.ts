/**
 * Server-Sent Events read from a fetch body: the billing API's stream needs the bearer token in a
 * header, which the browser's EventSource cannot send. Only what the API sends is handled: `event:`
 * and `data:` fields, comments (the heartbeat) skipped, any line ending.
 */
export interface ServerEvent {
  event: string;
  data: string;
}

const LINE_END = /\r\n|\r|\n/;

/** Reads `body` until it ends, passing each complete event to `onEvent`. */
export async function readEvents(body: ReadableStream<Uint8Array>, onEvent: (e: ServerEvent) => void): Promise<void> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let event = 'message';
  let data: string[] = [];
  const take = (line: string) => {
    if (line === '') {
      if (data.length > 0) onEvent({ event, data: data.join('\n') });
      event = 'message';
      data = [];
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  };
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    for (let m = LINE_END.exec(buffer); m; m = LINE_END.exec(buffer)) {
      if (m[0] === '\r' && m.index === buffer.length - 1) break; // perhaps the first half of \r\n: wait for more
      take(buffer.slice(0, m.index));
      buffer = buffer.slice(m.index + m[0].length);
    }
  }
}
