/**
 * Searches text for private key material. A key can leak as its PEM, as the
 * PEM with escaped newlines (JSON), or base64-encoded whole (as nodectl
 * configs carry it), so each key yields needles for all three: every line of
 * its base64 body, and slices of base64(PEM) taken at 3-byte-aligned offsets
 * (so they appear verbatim in any base64 encoding of the whole PEM).
 */
export class KeyMaterial {
  private readonly needles: { name: string; needle: string }[] = [];

  add(name: string, pem: string): void {
    const body = pem.split(/\r?\n/).filter((l) => l.length >= 40 && !l.startsWith("-----"));
    if (body.length < 3) throw new Error(`${name} does not look like a PEM private key`);
    for (const line of body) this.needles.push({ name, needle: line });
    for (let off = 300; off + 60 < pem.length; off += 300) {
      this.needles.push({ name, needle: Buffer.from(pem.slice(off, off + 60), "utf8").toString("base64") });
    }
  }

  /** Names of the keys found in `text` (empty when none), plus whether a PEM private-key header appears at all. */
  findIn(text: string): string[] {
    const found = new Set<string>();
    for (const { name, needle } of this.needles) if (text.includes(needle)) found.add(name);
    if (/PRIVATE KEY-----/.test(text)) found.add("a PEM private key header");
    return [...found];
  }
}
