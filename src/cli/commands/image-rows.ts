// The rows `berth images` prints, computed the way docker's image formatter does: one
// row per repository:tag (and per digest with --digests), `<none>` for dangling images.
import { createdSince, goTimeString, humanSize, humanSizeWithPrecision } from '../format/units.js';

/** The fields of /images/json this command reads (Docker's ImageSummary). */
export interface ImageSummaryView {
  Id: string;
  ParentId?: string;
  RepoTags?: string[] | null;
  RepoDigests?: string[] | null;
  Created: number;
  Size: number;
  SharedSize?: number;
  VirtualSize?: number;
  Containers?: number;
  Labels?: Record<string, string> | null;
}

export interface ImageRow {
  Containers: string;
  CreatedAt: string;
  CreatedSince: string;
  Digest: string;
  ID: string;
  Repository: string;
  SharedSize: string;
  Size: string;
  Tag: string;
  UniqueSize: string;
  VirtualSize: string;
}

export const IMAGE_HEADERS: Record<string, string> = {
  Containers: 'CONTAINERS',
  CreatedAt: 'CREATED AT',
  CreatedSince: 'CREATED',
  Digest: 'DIGEST',
  ID: 'IMAGE ID',
  Repository: 'REPOSITORY',
  SharedSize: 'SHARED SIZE',
  Size: 'SIZE',
  Tag: 'TAG',
  UniqueSize: 'UNIQUE SIZE',
  VirtualSize: 'VIRTUAL SIZE',
};

/** `sha256:abc…` → the first 12 hex digits, as docker's stringid.TruncateID. */
export function truncateId(id: string): string {
  const hex = id.includes(':') ? id.slice(id.indexOf(':') + 1) : id;
  return hex.slice(0, 12);
}

/** Splits `name:tag` / `name@digest` (the name may hold a registry port). */
export function splitReference(ref: string): { name: string; tag?: string; digest?: string } {
  const at = ref.indexOf('@');
  if (at >= 0) return { name: ref.slice(0, at), digest: ref.slice(at + 1) };
  const colon = ref.lastIndexOf(':');
  if (colon > ref.lastIndexOf('/')) return { name: ref.slice(0, colon), tag: ref.slice(colon + 1) };
  return { name: ref };
}

function isDangling(img: ImageSummaryView): boolean {
  const tags = img.RepoTags ?? [];
  const digests = img.RepoDigests ?? [];
  if (tags.length === 0 && digests.length === 0) return true;
  return tags.length === 1 && tags[0] === '<none>:<none>' && digests.length === 1 && digests[0] === '<none>@<none>';
}

function sizeOrNA(n: number | undefined): string {
  return n === undefined || n === -1 ? 'N/A' : humanSize(n);
}

export function imageRows(images: ImageSummaryView[], opts: { digests: boolean; noTrunc: boolean; now?: number }): ImageRow[] {
  const rows: ImageRow[] = [];
  for (const img of images) {
    const base = (repo: string, tag: string, digest: string): ImageRow => ({
      Containers: img.Containers === undefined || img.Containers === -1 ? 'N/A' : String(img.Containers),
      CreatedAt: goTimeString(img.Created),
      CreatedSince: createdSince(img.Created, opts.now),
      Digest: digest,
      ID: opts.noTrunc ? img.Id : truncateId(img.Id),
      Repository: repo,
      SharedSize: sizeOrNA(img.SharedSize),
      Size: humanSizeWithPrecision(img.Size, 3),
      Tag: tag,
      UniqueSize:
        img.SharedSize === undefined || img.SharedSize === -1 ? 'N/A' : humanSize(img.Size - img.SharedSize),
      VirtualSize: humanSize(img.VirtualSize ?? img.Size),
    });
    if (isDangling(img)) {
      rows.push(base('<none>', '<none>', '<none>'));
      continue;
    }
    const repoTags = new Map<string, string[]>();
    const repoDigests = new Map<string, string[]>();
    for (const ref of img.RepoTags ?? []) {
      const r = splitReference(ref);
      if (r.tag === undefined || r.name === '<none>') continue;
      repoTags.set(r.name, [...(repoTags.get(r.name) ?? []), r.tag]);
    }
    for (const ref of img.RepoDigests ?? []) {
      const r = splitReference(ref);
      if (r.digest === undefined || r.name === '<none>') continue;
      repoDigests.set(r.name, [...(repoDigests.get(r.name) ?? []), r.digest]);
    }
    for (const [repo, tags] of repoTags) {
      const digests = opts.digests ? (repoDigests.get(repo) ?? []) : [];
      repoDigests.delete(repo);
      for (const tag of tags) {
        if (digests.length === 0) rows.push(base(repo, tag, '<none>'));
        else for (const d of digests) rows.push(base(repo, tag, d));
      }
    }
    for (const [repo, digests] of repoDigests) {
      if (opts.digests) for (const d of digests) rows.push(base(repo, '<none>', d));
      else rows.push(base(repo, '<none>', ''));
    }
  }
  return rows;
}
