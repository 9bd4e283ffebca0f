// Character classes as Go's `unicode` package defines them; the Dockerfile grammar is
// specified by Go code, so whitespace and letters must mean exactly what they mean there.

/** Go's unicode.IsSpace. */
export function goIsSpace(cp: number): boolean {
  if (cp <= 0xff) return cp === 0x20 || (cp >= 0x09 && cp <= 0x0d) || cp === 0x85 || cp === 0xa0;
  return (
    cp === 0x1680 || (cp >= 0x2000 && cp <= 0x200a) || cp === 0x2028 || cp === 0x2029 || cp === 0x202f || cp === 0x205f || cp === 0x3000
  );
}

const LETTER = /\p{L}/u;
const DIGIT = /\p{Nd}/u;

/** Go's unicode.IsLetter. */
export function isGoLetter(cp: number): boolean {
  if (cp < 0x80) return (cp >= 0x41 && cp <= 0x5a) || (cp >= 0x61 && cp <= 0x7a);
  return LETTER.test(String.fromCodePoint(cp));
}

/** Go's unicode.IsDigit. */
export function isGoDigit(cp: number): boolean {
  if (cp < 0x80) return cp >= 0x30 && cp <= 0x39;
  return DIGIT.test(String.fromCodePoint(cp));
}

/** strings.TrimSpace / TrimLeftFunc(IsSpace) equivalents. */
export function trimLeftSpace(s: string): string {
  let i = 0;
  while (i < s.length) {
    const cp = s.codePointAt(i)!;
    if (!goIsSpace(cp)) break;
    i += cp > 0xffff ? 2 : 1;
  }
  return i === 0 ? s : s.slice(i);
}

export function trimRightSpace(s: string): string {
  let j = s.length;
  while (j > 0) {
    const c = s.charCodeAt(j - 1);
    // none of Go's space characters are astral, so checking single code units is enough
    if (!goIsSpace(c)) break;
    j--;
  }
  return j === s.length ? s : s.slice(0, j);
}

export function trimSpace(s: string): string {
  return trimRightSpace(trimLeftSpace(s));
}
