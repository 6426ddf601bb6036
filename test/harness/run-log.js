'use strict';

/**
 * The run log: everything the engine harness saw the node produce (each run's serialised result,
 * every node error field by field, and every line n8n logged), kept so that one scan at the end of
 * the suite can look for secrets in all of it.
 *
 * Layout: `TERROS_RUN_LOG_DIR` (default `<repo>/.tmp/run-log`) holds one JSON-lines file per
 * process, `runs-<pid>.jsonl`, and beside it `secrets-<pid>.jsonl` with the API keys the runs were
 * given, which are what the scan looks for (that file itself is not scanned). A jest run points
 * `TERROS_RUN_LOG_DIR` at a fresh session folder of its own (see run-log-setup.js).
 */

const fs = require('node:fs');
const path = require('node:path');

const DEFAULT_DIR = path.resolve(__dirname, '../../.tmp/run-log');
const SIGNATURE_MARKERS = ['X-Amz-Signature=', 'X-Amz-Credential='];
/** Output fields whose purpose is to carry a signed URL: a signature there is not a leak. */
const URL_FIELDS = new Set(['uploadUrl', 'signedUrl']);
/** Keys shorter than this are not scanned for: they would match ordinary text. */
const MIN_SECRET_LENGTH = 8;

function runLogDir() {
	return process.env.TERROS_RUN_LOG_DIR || DEFAULT_DIR;
}

function append(prefix, entry) {
	try {
		const dir = runLogDir();
		fs.mkdirSync(dir, { recursive: true });
		fs.appendFileSync(
			path.join(dir, `${prefix}-${process.pid}.jsonl`),
			`${JSON.stringify(entry)}\n`,
		);
	} catch {
		// The log is for the scan; a test run must not fail because it could not be written.
	}
}

/** The jest test that is running, if any, to say where a leak came from. */
function currentTest() {
	try {
		const state = globalThis.expect?.getState?.();
		if (!state) return undefined;
		return `${path.relative(path.resolve(__dirname, '../..'), state.testPath ?? '')} › ${state.currentTestName ?? ''}`;
	} catch {
		return undefined;
	}
}

/** JSON of anything, errors with their message, stack and other fields. */
function safeJson(value) {
	try {
		return JSON.stringify(value ?? null, (_, v) =>
			v instanceof Error ? { ...v, name: v.name, message: v.message, stack: v.stack } : v,
		);
	} catch {
		return String(value);
	}
}

/** The fields of an error a user, a log or an error workflow can see. */
function errorFields(error) {
	return {
		name: error?.name,
		message: String(error?.message ?? ''),
		description: String(error?.description ?? ''),
		stack: String(error?.stack ?? ''),
		context: safeJson(error?.context ?? {}),
		messages: safeJson(error?.messages ?? []),
		cause: String(error?.cause?.message ?? ''),
	};
}

/** Every error of a run: each node's, and the workflow's own. */
function runErrors(run) {
	const errors = [];
	const runData = run?.data?.resultData?.runData ?? {};
	for (const [node, tasks] of Object.entries(runData)) {
		for (const task of tasks ?? [])
			if (task.error) errors.push({ node, ...errorFields(task.error) });
	}
	const workflowError = run?.data?.resultData?.error;
	if (workflowError) errors.push({ node: null, ...errorFields(workflowError) });
	return errors;
}

/** Records one finished run, and the API key it was given (in the secrets file, not the log). */
function recordRun(result, { apiKey } = {}) {
	append('runs', {
		type: 'run',
		test: currentTest(),
		status: result.status,
		serialised: result.serialised(),
		errors: runErrors(result.run),
	});
	if (typeof apiKey === 'string' && apiKey.length >= MIN_SECRET_LENGTH) {
		append('secrets', { apiKey });
	}
}

/** Records one line n8n logged (any level), with its metadata. */
function recordLog(level, message, metadata) {
	append('runs', {
		type: 'log',
		test: currentTest(),
		level,
		message: String(message ?? ''),
		metadata: safeJson(metadata),
	});
}

/** Where in `value` a string holds a signed URL's signature, outside the URL fields. */
function signaturePaths(value, trail = []) {
	if (typeof value === 'string') {
		const found = SIGNATURE_MARKERS.some((marker) => value.includes(marker));
		return found && !URL_FIELDS.has(trail[trail.length - 1]) ? [trail.join('.')] : [];
	}
	if (value && typeof value === 'object') {
		return Object.entries(value).flatMap(([key, child]) => signaturePaths(child, [...trail, key]));
	}
	return [];
}

/**
 * The leaks in one run-log entry: any of `secrets` anywhere in it; a signed URL's signature in an
 * error or a log line, or anywhere in a run's output but the uploadUrl / signedUrl fields.
 */
function findLeaks(entry, secrets) {
	const leaks = [];
	const text = JSON.stringify(entry);
	secrets.forEach((secret, index) => {
		if (secret && text.includes(secret)) {
			leaks.push({ kind: 'apiKey', key: `#${index} (${secret.slice(0, 4)}…)`, test: entry.test });
		}
	});
	const signed = (where) => leaks.push({ kind: 'signedUrl', where, test: entry.test });
	if (entry.type === 'log') {
		if (SIGNATURE_MARKERS.some((marker) => text.includes(marker))) signed('log line');
	} else if (entry.type === 'run') {
		for (const error of entry.errors ?? []) {
			for (const [field, value] of Object.entries(error)) {
				if (SIGNATURE_MARKERS.some((marker) => String(value).includes(marker))) {
					signed(`error of ${error.node ?? 'the workflow'}: ${field}`);
				}
			}
		}
		let run;
		try {
			run = JSON.parse(entry.serialised);
		} catch {
			run = entry.serialised;
		}
		for (const where of signaturePaths(run)) signed(`run output: ${where}`);
	}
	return leaks;
}

function readJsonLines(file) {
	return fs
		.readFileSync(file, 'utf8')
		.split('\n')
		.filter((line) => line.trim() !== '')
		.map((line) => {
			try {
				return JSON.parse(line);
			} catch {
				// A line cut short (a process killed mid-write) is still scanned as text.
				return { type: 'text', text: line };
			}
		});
}

/**
 * Scans a run-log folder for `secrets` (plus every key recorded in its secrets files).
 * Returns the counts and every leak found.
 */
function scanRunLog(dir, secrets = []) {
	const files = fs.existsSync(dir) ? fs.readdirSync(dir) : [];
	const keys = new Set(
		secrets.filter((s) => typeof s === 'string' && s.length >= MIN_SECRET_LENGTH),
	);
	for (const name of files.filter((f) => f.startsWith('secrets-'))) {
		for (const { apiKey } of readJsonLines(path.join(dir, name))) if (apiKey) keys.add(apiKey);
	}
	const summary = { files: 0, runs: 0, logLines: 0, errors: 0, keys: keys.size, leaks: [] };
	for (const name of files.filter((f) => f.startsWith('runs-'))) {
		summary.files++;
		for (const entry of readJsonLines(path.join(dir, name))) {
			if (entry.type === 'run') {
				summary.runs++;
				summary.errors += (entry.errors ?? []).length;
			} else if (entry.type === 'log') summary.logLines++;
			summary.leaks.push(...findLeaks(entry, [...keys]));
		}
	}
	return summary;
}

module.exports = {
	DEFAULT_DIR,
	findLeaks,
	recordLog,
	recordRun,
	runLogDir,
	scanRunLog,
};
