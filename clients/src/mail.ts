// The PIN of a registration, read from the .eml files the server's file mail back end
// writes (MAIL_DIR) — what a developer does by hand after `dev.py serve`.
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';

function decodeBody(raw: string): string {
  const [head = '', ...rest] = raw.split(/\r?\n\r?\n/);
  const body = rest.join('\n\n');
  if (/content-transfer-encoding:\s*base64/i.test(head)) {
    return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  }
  if (/content-transfer-encoding:\s*quoted-printable/i.test(head)) {
    const bytes = body
      .replace(/=\r?\n/g, '')
      .replace(/=([0-9A-F]{2})/gi, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
    return Buffer.from(bytes, 'latin1').toString('utf8');
  }
  return body;
}

export async function waitForPin(mailDir: string, email: string, seen: Set<string>): Promise<string> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const names = (await readdir(mailDir).catch(() => [] as string[])).filter(
      (name) => name.endsWith('.eml') && !seen.has(name),
    );
    for (const name of names.sort()) {
      const raw = await readFile(join(mailDir, name), 'utf8');
      if (!raw.toLowerCase().includes(`to: ${email}`.toLowerCase())) continue;
      const pin = /\b(\d{6})\b/.exec(decodeBody(raw))?.[1];
      if (pin !== undefined) return pin;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`no PIN mail to ${email} arrived in ${mailDir}`);
}

export async function mailsNow(mailDir: string): Promise<Set<string>> {
  return new Set(await readdir(mailDir).catch(() => [] as string[]));
}
