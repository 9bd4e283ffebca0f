import { matchCommand, runScript, splitCommands } from '../shell-commands.js';
import { berthUrl, finalStage, type LintRule } from '../rule.js';

/** Toolchain images that are big because they hold compilers. */
const TOOLCHAIN = /^(?:.*\/)?(?:golang|rust|maven|gradle|gcc|openjdk|eclipse-temurin|mcr\.microsoft\.com\/dotnet\/sdk|dotnet\/sdk)(?::|$)/i;
const BUILDS: [string | RegExp, (string | RegExp)?][] = [
  ['go', 'build'],
  ['cargo', 'build'],
  [/^(?:mvn|mvnw)$/, /^(?:package|install|verify)$/],
  [/^(?:gradle|gradlew)$/, /^(?:build|assemble|bootJar|jar|installDist)$/],
  [/^(?:gcc|g\+\+|cc|clang)$/],
  ['make'],
  ['dotnet', /^(?:publish|build)$/],
];

export const buildToolsInFinalImage: LintRule = {
  id: 'BuildToolsInFinalImage',
  description: 'Compile in a build stage and copy only the result into a small runtime stage',
  url: berthUrl('BuildToolsInFinalImage'),
  severity: 'info',
  message: (image) => `the final image is built on the toolchain image ${JSON.stringify(image)} and compiles in it: use a multi-stage build and COPY --from the artifact into a slim runtime image`,
  check({ df }, report) {
    const s = finalStage(df);
    if (df.stages.some((p) => p.index < s.index && p.name === s.base.toLowerCase())) return; // based on a stage: judged there
    if (!TOOLCHAIN.test(s.base)) return;
    const compiles = s.instructions.some(
      (i) => i.kind === 'run' && splitCommands(runScript(i)).some((c) => BUILDS.some(([tool, sub]) => matchCommand(c, tool, sub))),
    );
    if (compiles) report(s.from.startLine, s.base);
  },
};
