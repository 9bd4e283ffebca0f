import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyAllBeforeInstall } from './copy-all-before-install.js';
import { ruleFindings as findings, ruleLines as lines } from '../lint.js';

test('CopyAllBeforeInstall flags COPY . before the dependency install', () => {
  assert.deepEqual(findings(copyAllBeforeInstall, 'FROM python:3.12\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n'), [[3, 'the whole build context is copied before the dependency install on line 4: any file change re-runs the install; copy the manifest files first']]);
  assert.deepEqual(lines(copyAllBeforeInstall, 'FROM node:20\nCOPY package*.json ./\nRUN npm ci\nCOPY . .\nRUN npm run build\n'), []);
});
