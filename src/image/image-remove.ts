// docker rmi and docker image prune, with dockerd's reference and conflict rules
// (daemon/images/image_delete.go): untag first, delete when nothing references the image,
// hard conflicts (children, running containers) and soft ones (other tags, stopped containers).
import type { ChainId } from '../storage/index.js';
import { BerthError, conflict, type Digest } from '../util/index.js';
import { isTagged, normalizeUsers, type ImageCore, type Signal } from './image-core.js';
import { labelsMatch, parseTimestampFilter } from './image-filters.js';
import { removeIndexLocked } from './image-index.js';
import type { ImageRecord } from './image-store.js';
import { chainOf } from './image-writer.js';
import { familiarString, repositoryOf, shortId, splitImageRef, type ImageRef } from './reference.js';
import type { DeleteItem, PruneFilters, PruneResult } from './types.js';

export async function removeImage(
  core: ImageCore,
  nameOrId: string,
  args: { force?: boolean; noprune?: boolean } = {},
  opts: Signal = {},
): Promise<DeleteItem[]> {
  return core.mutex.run('images', () => removeLocked(core, nameOrId, args.force ?? false, !(args.noprune ?? false), opts));
}

async function removeLocked(core: ImageCore, nameOrId: string, force: boolean, prune: boolean, opts: Signal): Promise<DeleteItem[]> {
  const idx = core.lookupIndex(nameOrId);
  if (idx) return removeIndexLocked(core, idx.index, idx.ref, force, opts);
  const { rec, ref } = core.lookup(nameOrId);
  const id = rec.id;
  const records: DeleteItem[] = [];
  const repoRefs = core.store.refsOf(id);
  const users = normalizeUsers(await core.usageCheck(id));
  const namedById = ref === undefined || core.store.lookupRef(ref) !== id;

  if (!namedById && ref) {
    if (!force && isSingleReference(repoRefs) && users.length > 0) {
      throw conflict(
        `conflict: unable to remove repository reference "${nameOrId}" (must force) - container ${shortId(users[0]!.id)} is using its referenced image ${shortId(id)}`,
      );
    }
    const removed: ImageRef[] = [ref];
    const refRepo = repositoryOf(ref);
    const refIsCanonical = splitImageRef(ref).digest !== undefined;
    const remaining = repoRefs.filter((r) => r !== ref);
    let after = remaining;
    if (!refIsCanonical && !remaining.some((r) => isTagged(r) && repositoryOf(r) === refRepo)) {
      // The last tag of a repository takes the digest references of that repository with it.
      const sameRepoDigests = remaining.filter((r) => !isTagged(r) && repositoryOf(r) === refRepo);
      removed.push(...sameRepoDigests);
      after = remaining.filter((r) => !sameRepoDigests.includes(r));
    }
    await core.store.update((txn) => {
      for (const r of removed) txn.deleteRef(r);
    });
    for (const r of removed) {
      records.push({ untagged: familiarString(r) });
      core.events.publish('image', 'untag', id, { name: familiarString(r) });
    }
    if (after.length > 0) return records;
    // That was the last reference: delete the image too, unless a container still uses it.
    return deleteImage(core, rec, { force, prune, untag: [], users, records, quiet: true }, opts);
  }

  if (isSingleReference(repoRefs)) {
    const hard = hardConflict(core, rec, users);
    if (hard) throw hard;
    if (!force) {
      const stopped = users.find((u) => !u.running);
      if (stopped) throw deleteConflict(id, false, `image is being used by stopped container ${shortId(stopped.id)}`);
    }
    return deleteImage(core, rec, { force, prune, untag: repoRefs, users, records, quiet: false }, opts);
  }
  return deleteImage(core, rec, { force, prune, untag: [], users, records, quiet: false }, opts);
}

function hardConflict(core: ImageCore, rec: ImageRecord, users: Array<{ id: string; running: boolean }>): BerthError | undefined {
  if (core.children(rec.id).length > 0) return deleteConflict(rec.id, true, 'image has dependent child images');
  const running = users.find((u) => u.running);
  if (running) return deleteConflict(rec.id, true, `image is being used by running container ${shortId(running.id)}`);
  return undefined;
}

/** docker's imageDeleteHelper: conflicts, then all references, the record, its layers, then parents. */
async function deleteImage(
  core: ImageCore,
  rec: ImageRecord,
  s: { force: boolean; prune: boolean; untag: ImageRef[]; users: Array<{ id: string; running: boolean }>; records: DeleteItem[]; quiet: boolean },
  opts: { signal?: AbortSignal },
): Promise<DeleteItem[]> {
  const id = rec.id;
  const records = s.records;
  // References other than the ones being untagged are a soft conflict.
  const otherRefs = core.store.refsOf(id).filter((r) => !s.untag.includes(r));
  let c = hardConflict(core, rec, s.users);
  let used = c !== undefined && core.children(id).length === 0;
  if (!c && !s.force) {
    if (otherRefs.length > 0) c = deleteConflict(id, false, 'image is referenced in multiple repositories');
    else {
      const stopped = s.users.find((u) => !u.running);
      if (stopped) {
        c = deleteConflict(id, false, `image is being used by stopped container ${shortId(stopped.id)}`);
        used = true;
      }
    }
  }
  if (c) {
    // Quiet mode (after an untag, or pruning parents): only a dangling image nobody uses reports its
    // conflict; docker counts an image with children as not dangling.
    if (s.quiet && (otherRefs.length > 0 || core.children(id).length > 0 || used)) return records;
    throw c;
  }
  const allRefs = core.store.refsOf(id);
  const chainsBefore = await chainOf(core.storage.layers, rec.topChainId as ChainId | undefined);
  await core.store.update((txn) => {
    for (const r of allRefs) txn.deleteRef(r);
    txn.deleteImage(id);
  });
  for (const r of allRefs) {
    records.push({ untagged: familiarString(r) });
    core.events.publish('image', 'untag', id, { name: familiarString(r) });
  }
  core.forgetConfig(id);
  core.events.publish('image', 'delete', id, { name: id });
  records.push({ deleted: id });
  await core.collectGarbage(opts);
  for (const chain of chainsBefore) {
    if (!(await core.storage.layers.get(chain))) records.push({ deleted: chain });
  }
  if (s.prune && rec.parent) {
    const parent = core.store.get(rec.parent);
    if (parent && core.store.refsOf(parent.id).length === 0) {
      const users = normalizeUsers(await core.usageCheck(parent.id));
      await deleteImage(core, parent, { force: false, prune: true, untag: [], users, records, quiet: true }, opts);
    }
  }
  return records;
}

export async function pruneImages(
  core: ImageCore,
  args: { all?: boolean; filters?: PruneFilters } = {},
  opts: Signal = {},
): Promise<PruneResult> {
  const f = args.filters ?? {};
  const until = f.until ? parseTimestampFilter(f.until, Date.now()) : undefined;
  const danglingOnly = !args.all;
  return core.mutex.run('images', async () => {
    // An index nothing names any more (a multi-platform build with --output) goes first; its
    // images are then dangling like any other.
    const deleted: DeleteItem[] = [];
    for (const idx of core.store.listIndexes()) {
      if (core.store.refsOf(idx.digest).length > 0) continue;
      await core.store.update((txn) => txn.deleteIndex(idx.digest));
      core.events.publish('image', 'delete', idx.digest, { name: idx.digest });
      deleted.push({ deleted: idx.digest });
    }
    const all = core.store.list();
    const sizes = new Map<string, number>();
    for (const rec of all) {
      for (const c of await chainOf(core.storage.layers, rec.topChainId as ChainId | undefined)) {
        sizes.set(c, (await core.storage.layers.get(c))?.contentSize ?? 0);
      }
    }
    const heads = all.filter((r) => (danglingOnly ? core.children(r.id).length === 0 : true));
    for (const rec of heads) {
      if (!core.store.get(rec.id)) continue;
      const refs = core.store.refsOf(rec.id);
      if (refs.length === 0 && core.children(rec.id).length > 0) continue;
      // An image an index lists belongs to that index (rmi of its tag removes it).
      if (refs.length === 0 && core.indexesOf(rec.id).length > 0) continue;
      if (until !== undefined && Date.parse(rec.created) >= until) continue;
      if ((f.label?.length ?? 0) > 0 || (f.labelNot?.length ?? 0) > 0) {
        const labels = rec.labels ?? (await core.readConfig(rec.id)).config?.Labels ?? {};
        if (!labelsMatch(labels, f.label ?? [], f.labelNot ?? [])) continue;
      }
      const targets = refs.length > 0 ? (danglingOnly && refs.some(isTagged) ? [] : refs) : [rec.id as string];
      for (const t of targets) {
        try {
          deleted.push(...(await removeLocked(core, t, false, true, opts)));
        } catch (e) {
          // An image in use or with children is skipped, as dockerd's prune does.
          if (e instanceof BerthError && (e.kind === 'conflict' || e.kind === 'not-found')) continue;
          throw e;
        }
      }
    }
    let spaceReclaimed = 0;
    for (const d of deleted) if ('deleted' in d) spaceReclaimed += sizes.get(d.deleted) ?? 0;
    if (deleted.length > 0) core.events.publish('image', 'prune', '', { reclaimed: String(spaceReclaimed) });
    return { imagesDeleted: deleted, spaceReclaimed };
  });
}

function deleteConflict(id: Digest, hard: boolean, message: string): BerthError {
  return conflict(`conflict: unable to delete ${shortId(id)} (${hard ? 'cannot be forced' : 'must be forced'}) - ${message}`);
}

/** docker's isSingleReference: at most one tag, and every reference in one repository. */
function isSingleReference(refs: ImageRef[]): boolean {
  if (refs.length <= 1) return refs.length === 1;
  let single: ImageRef | undefined;
  const repos = new Set<string>();
  for (const r of refs) {
    if (!isTagged(r)) repos.add(repositoryOf(r));
    else if (single === undefined) {
      repos.add(repositoryOf(r));
      single = r;
    } else return false;
  }
  const first = single ?? refs[0]!;
  return repos.size === 1 && repos.has(repositoryOf(first));
}
