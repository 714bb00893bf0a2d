import * as fs from 'fs';

export interface TarEntry {
  name: string;
  offset: number; // of the data in the file
  size: number;
  link?: string;
}

/**
 * Lists the entries of an uncompressed tar file (what `docker save` writes) without reading the
 * data: only the 512-byte headers are read, so multi-gigabyte layers stay on disk.
 */
export function listTar(path: string): Map<string, TarEntry> {
  const fd = fs.openSync(path, 'r');
  const entries = new Map<string, TarEntry>();
  const header = Buffer.alloc(512);
  try {
    let pos = 0;
    let longName: string | undefined;
    for (;;) {
      if (fs.readSync(fd, header, 0, 512, pos) < 512 || header.every((b) => b === 0)) break;
      const str = (start: number, len: number) => header.toString('utf8', start, start + len).replace(/\0.*$/s, '');
      const size = parseInt(str(124, 12).trim() || '0', 8);
      const type = str(156, 1) || '0';
      const prefix = str(345, 155);
      const name = longName ?? (prefix ? `${prefix}/${str(0, 100)}` : str(0, 100));
      longName = undefined;
      const data = pos + 512;
      if (type === 'x') {
        // PAX extended header: only `path` matters here
        const pax = Buffer.alloc(size);
        fs.readSync(fd, pax, 0, size, data);
        longName = /\d+ path=([^\n]*)\n/.exec(pax.toString('utf8'))?.[1];
      } else if (type === 'L') {
        const gnu = Buffer.alloc(size);
        fs.readSync(fd, gnu, 0, size, data);
        longName = gnu.toString('utf8').replace(/\0.*$/s, '');
      } else if (type === '0' || type === '2' || type === '1') {
        entries.set(name.replace(/^\.\//, ''), { name, offset: data, size, link: type === '0' ? undefined : str(157, 100) });
      }
      pos = data + Math.ceil(size / 512) * 512;
    }
  } finally {
    fs.closeSync(fd);
  }
  return entries;
}

export function readEntry(path: string, e: TarEntry): Buffer {
  const fd = fs.openSync(path, 'r');
  try {
    const b = Buffer.alloc(e.size);
    fs.readSync(fd, b, 0, e.size, e.offset);
    return b;
  } finally {
    fs.closeSync(fd);
  }
}
