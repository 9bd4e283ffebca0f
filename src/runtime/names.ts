// Container names: Docker's `adjective_surname` generator and name validation.
import { randomInt } from 'node:crypto';
import { invalidArgument } from '../util/index.js';

// Our own short word lists in Docker's style (not Docker's lists).
const ADJECTIVES = [
  'agile', 'bold', 'brave', 'bright', 'calm', 'clever', 'cool', 'crisp', 'daring', 'eager', 'fair', 'fancy',
  'fervent', 'gallant', 'gentle', 'happy', 'hardy', 'jolly', 'keen', 'kind', 'lively', 'lucid', 'merry',
  'modest', 'nimble', 'noble', 'patient', 'placid', 'proud', 'quick', 'quiet', 'rapid', 'serene', 'sharp',
  'sleepy', 'smart', 'steady', 'sunny', 'swift', 'tender', 'vivid', 'wise', 'witty', 'zealous',
];
const SURNAMES = [
  'babbage', 'banach', 'bohr', 'boole', 'cantor', 'curie', 'darwin', 'dijkstra', 'euclid', 'euler', 'faraday',
  'fermat', 'feynman', 'gauss', 'germain', 'goldberg', 'hamilton', 'hopper', 'hypatia', 'johnson', 'kepler',
  'knuth', 'lamarr', 'lovelace', 'maxwell', 'meitner', 'mirzakhani', 'noether', 'pascal', 'poincare', 'ritchie',
  'shannon', 'thompson', 'turing', 'volta', 'wiles', 'wozniak', 'yalow',
];

export function generateName(isTaken: (name: string) => boolean): string {
  for (let attempt = 0; attempt < 10; attempt++) {
    const n = `${ADJECTIVES[randomInt(ADJECTIVES.length)]}_${SURNAMES[randomInt(SURNAMES.length)]}`;
    const candidate = attempt === 0 ? n : `${n}${randomInt(10)}`;
    if (!isTaken(candidate)) return candidate;
  }
  return `berth_${randomInt(1e9)}`;
}

const NAME_RE = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/** Validates a user-given name; returns it without a leading slash. */
export function validateName(name: string): string {
  if (!NAME_RE.test(name)) {
    throw invalidArgument(`Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  }
  return name.replace(/^\//, '');
}
