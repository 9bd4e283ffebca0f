// Every lint rule, in the order findings are grouped for display.
import type { LintRule } from '../rule.js';
import { addInsteadOfCopy } from './add-instead-of-copy.js';
import { buildToolsInFinalImage } from './build-tools-in-final-image.js';
import { consecutiveInstalls } from './consecutive-installs.js';
import { missingHealthcheck } from './missing-healthcheck.js';
import { aptGetInstallRecommends } from './apt-get-install-recommends.js';
import { aptGetUpdateAlone } from './apt-get-update-alone.js';
import { aptListsNotCleaned } from './apt-lists-not-cleaned.js';
import { cdInsteadOfWorkdir } from './cd-instead-of-workdir.js';
import { consistentInstructionCasing } from './consistent-instruction-casing.js';
import { copyAllBeforeInstall } from './copy-all-before-install.js';
import { copyIgnoredFile } from './copy-ignored-file.js';
import { duplicateStageName } from './duplicate-stage-name.js';
import { exposeInvalidFormat } from './expose-invalid-format.js';
import { exposeProtoCasing } from './expose-proto-casing.js';
import { fromAsCasing } from './from-as-casing.js';
import { fromPlatformFlagConstDisallowed } from './from-platform-flag-const-disallowed.js';
import { inlineComment } from './inline-comment.js';
import { invalidDefaultArgInFrom } from './invalid-default-arg-in-from.js';
import { jsonArgsRecommended } from './json-args-recommended.js';
import { legacyKeyValueFormat } from './legacy-key-value-format.js';
import { maintainerDeprecated } from './maintainer-deprecated.js';
import { multipleInstructionsDisallowed } from './multiple-instructions-disallowed.js';
import { noEmptyContinuation } from './no-empty-continuation.js';
import { pipNoCacheDir } from './pip-no-cache-dir.js';
import { redundantTargetPlatform } from './redundant-target-platform.js';
import { reservedStageName } from './reserved-stage-name.js';
import { runsAsRoot } from './runs-as-root.js';
import { secretFileCopied } from './secret-file-copied.js';
import { secretsUsedInArgOrEnv } from './secrets-used-in-arg-or-env.js';
import { stageNameCasing } from './stage-name-casing.js';
import { undefinedArgInFrom } from './undefined-arg-in-from.js';
import { undefinedVar } from './undefined-var.js';
import { unpinnedBaseImage } from './unpinned-base-image.js';
import { workdirRelativePath } from './workdir-relative-path.js';

/** BuildKit's own checks (same ids, messages and docs links). */
export const BUILDKIT_RULES: readonly LintRule[] = [
  stageNameCasing, fromAsCasing, noEmptyContinuation, consistentInstructionCasing, duplicateStageName,
  reservedStageName, jsonArgsRecommended, maintainerDeprecated, undefinedArgInFrom, workdirRelativePath,
  undefinedVar, multipleInstructionsDisallowed, legacyKeyValueFormat, redundantTargetPlatform,
  secretsUsedInArgOrEnv, invalidDefaultArgInFrom, fromPlatformFlagConstDisallowed, copyIgnoredFile,
  exposeProtoCasing, exposeInvalidFormat,
];

/** berth's checks for the classic mistakes (layer caching, image size, security). */
export const BERTH_RULES: readonly LintRule[] = [
  aptGetInstallRecommends, aptListsNotCleaned, aptGetUpdateAlone, copyAllBeforeInstall, unpinnedBaseImage,
  runsAsRoot, addInsteadOfCopy, cdInsteadOfWorkdir, pipNoCacheDir, secretFileCopied, inlineComment,
  consecutiveInstalls, buildToolsInFinalImage, missingHealthcheck,
];

export const ALL_RULES: readonly LintRule[] = [...BUILDKIT_RULES, ...BERTH_RULES];
