import { crc32 } from 'node:zlib';

/** One message of AWS's binary event-stream framing (application/vnd.amazon.eventstream). */
export function eventStreamMessage(headers: Record<string, string>, payload: Buffer | string): Buffer {
  const headerParts = Object.entries(headers).map(([name, value]) => {
    const nameBytes = Buffer.from(name, 'utf8');
    const valueBytes = Buffer.from(value, 'utf8');
    const out = Buffer.alloc(1 + nameBytes.length + 1 + 2 + valueBytes.length);
    out.writeUInt8(nameBytes.length, 0);
    nameBytes.copy(out, 1);
    out.writeUInt8(7, 1 + nameBytes.length); // 7: string value
    out.writeUInt16BE(valueBytes.length, 2 + nameBytes.length);
    valueBytes.copy(out, 4 + nameBytes.length);
    return out;
  });
  const headerBytes = Buffer.concat(headerParts);
  const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  const total = 12 + headerBytes.length + body.length + 4;
  const prelude = Buffer.alloc(8);
  prelude.writeUInt32BE(total, 0);
  prelude.writeUInt32BE(headerBytes.length, 4);
  const preludeCrc = Buffer.alloc(4);
  preludeCrc.writeUInt32BE(crc32(prelude), 0);
  const withoutCrc = Buffer.concat([prelude, preludeCrc, headerBytes, body]);
  const messageCrc = Buffer.alloc(4);
  messageCrc.writeUInt32BE(crc32(withoutCrc), 0);
  return Buffer.concat([withoutCrc, messageCrc]);
}

export function awsEvent(type: string, body: unknown): Buffer {
  return eventStreamMessage(
    { ':event-type': type, ':content-type': 'application/json', ':message-type': 'event' },
    JSON.stringify(body),
  );
}

export function awsException(type: string, message: string): Buffer {
  return eventStreamMessage(
    { ':exception-type': type, ':content-type': 'application/json', ':message-type': 'exception' },
    JSON.stringify({ message }),
  );
}
