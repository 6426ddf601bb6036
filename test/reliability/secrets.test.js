'use strict';

/**
 * Area 7, secrets: the API key never appears in an output item, an error (message, description,
 * stack, context) or a log line, and never goes to an upload or error-file URL; signed URLs'
 * query strings appear only in the uploadUrl / signedUrl fields made to carry them.
 *
 * Every workflow run of the whole suite is recorded by the engine harness (test/harness/run-log.js)
 * and scanned once the suite is done (test/harness/run-log-teardown.js), which fails the jest run
 * on a hit. The first tests here prove that scan can fail; the others run the failures most likely
 * to leak and check them at once, as well as leaving them for the final scan.
 */

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const { DEFAULT_KEYS } = require('../simulator');
const runLog = require('../harness/run-log');
const teardown = require('../harness/run-log-teardown');
const {
	errorRows,
	SAMPLE_CSV,
	constants,
	errorShape,
	gets,
	importWithErrors,
	newImport,
	puts,
	requests,
	run,
	terros,
	useSimulator,
} = require('./support');

const handle = useSimulator();
let sim;

/** A key the simulator does not know (HTTP 403), distinctive enough to scan for. */
const LEAKY_KEY = 'tk_live_5ecret-KEY-of-a-terros-admin-0123456789';
const GOOD_KEY = 'sim-key-acme';
const KEYS = [...Object.keys(DEFAULT_KEYS), LEAKY_KEY];
const SIGNATURE = /X-Amz-(Signature|Credential)=/;

beforeAll(() => {
	sim = handle.sim;
});
beforeEach(() => {
	sim.faults = [];
	sim.requests = [];
});
afterEach(() => {
	sim.faults = [];
	Object.assign(constants, {
		DOWNLOAD_TIMEOUT_MS: 60_000,
		REQUEST_TIMEOUT_MS: 30_000,
		UPLOAD_IDLE_TIMEOUT_MS: 120_000,
	});
});

describe('the suite-wide scan', () => {
	let dir;
	beforeEach(() => {
		dir = fs.mkdtempSync(path.join(os.tmpdir(), 'terros-run-log-test-'));
	});
	afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

	const write = (name, entries) =>
		fs.writeFileSync(
			path.join(dir, name),
			entries.map((e) => `${typeof e === 'string' ? e : JSON.stringify(e)}\n`).join(''),
		);
	const runEntry = (output, errors = []) => ({
		type: 'run',
		test: 'planted',
		serialised: JSON.stringify({ data: { resultData: { runData: { Node: [output] } } } }),
		errors,
	});
	const signedUrl = 'http://127.0.0.1:1/b/k?X-Amz-Credential=a&X-Amz-Signature=abc123';

	it('finds a planted key in an output, an error field and a log line, and a key a run was given', () => {
		write('runs-1.jsonl', [
			runEntry({ data: { main: [[{ json: { note: `ApiKey ${GOOD_KEY}` } }]] } }),
			runEntry({}, [{ node: 'Node', message: 'm', description: 'd', stack: `at ${LEAKY_KEY}` }]),
			{ type: 'log', level: 'error', message: 'failed', metadata: `{"auth":"sim-key-globex"}` },
			{ type: 'log', level: 'debug', message: 'token custom-key-from-a-run-999' },
			'{"type":"log","message":"cut short sim-key-acme-readonly',
		]);
		write('secrets-1.jsonl', [{ apiKey: 'custom-key-from-a-run-999' }]);
		const summary = runLog.scanRunLog(dir, KEYS);
		expect(summary).toMatchObject({ files: 1, runs: 2, logLines: 2, errors: 1 });
		// Keys by index: the simulator's three, LEAKY_KEY, then the one from the secrets file. The
		// line cut short holds sim-key-acme-readonly, which holds sim-key-acme as well.
		expect(summary.leaks.map((l) => [l.kind, l.key.split(' ')[0]])).toEqual([
			['apiKey', '#0'],
			['apiKey', '#3'],
			['apiKey', '#2'],
			['apiKey', '#4'],
			['apiKey', '#0'],
			['apiKey', '#1'],
		]);
		// The secrets file itself is not scanned: it holds the keys to look for.
		expect(summary.keys).toBe(KEYS.length + 1);
	});

	it('finds a signed URL’s signature in an error, a log line or an output field not made for it', () => {
		write('runs-2.jsonl', [
			runEntry({}, [{ node: 'Upload', message: `PUT ${signedUrl} failed`, description: '' }]),
			{ type: 'log', level: 'info', message: `GET ${signedUrl}` },
			runEntry({ data: { main: [[{ json: { link: signedUrl } }]] } }),
		]);
		const { leaks } = runLog.scanRunLog(dir, KEYS);
		expect(leaks.map((l) => [l.kind, l.where])).toEqual([
			['signedUrl', 'error of Upload: message'],
			['signedUrl', 'log line'],
			['signedUrl', 'run output: data.resultData.runData.Node.0.data.main.0.0.json.link'],
		]);
	});

	it('lets a signed URL through in the uploadUrl and signedUrl fields', () => {
		write('runs-3.jsonl', [
			runEntry({
				data: { main: [[{ json: { uploadUrl: signedUrl } }, { json: { signedUrl } }]] },
			}),
		]);
		expect(runLog.scanRunLog(dir, KEYS).leaks).toEqual([]);
	});

	it('the teardown fails the jest run on a leak, and passes a clean log', async () => {
		const previous = process.env.TERROS_RUN_LOG_DIR;
		process.env.TERROS_RUN_LOG_DIR = dir;
		const stdout = process.stdout.write;
		process.stdout.write = () => true;
		try {
			fs.writeFileSync(path.join(dir, 'runs-4.jsonl'), `${JSON.stringify(runEntry({}))}\n`);
			await expect(teardown()).resolves.toBeUndefined();
			fs.appendFileSync(
				path.join(dir, 'runs-4.jsonl'),
				`${JSON.stringify({ type: 'log', message: GOOD_KEY })}\n`,
			);
			await expect(teardown()).rejects.toThrow(/^Secret scan: 1 leak\(s\) in 1 runs/);
		} finally {
			process.stdout.write = stdout;
			if (previous === undefined) delete process.env.TERROS_RUN_LOG_DIR;
			else process.env.TERROS_RUN_LOG_DIR = previous;
		}
	});

	it('records this file’s runs: outputs, errors and n8n’s log lines', async () => {
		const result = await run(sim, [{ importId: 'Import:abc' }], [terros('Get', 'get')], LEAKY_KEY);
		const message = result.error('Get').message;
		const file = path.join(runLog.runLogDir(), `runs-${process.pid}.jsonl`);
		const entries = fs
			.readFileSync(file, 'utf8')
			.trim()
			.split('\n')
			.map((line) => JSON.parse(line));
		const last = entries.filter((e) => e.type === 'run').pop();
		expect(last.errors[0]).toMatchObject({ node: 'Get', message });
		expect(last.serialised).toContain(message);
		// n8n logged the node's failure; the log holds that line too.
		expect(entries.some((e) => e.type === 'log' && e.message.includes(message))).toBe(true);
		// The key this run was given is one the final scan looks for.
		const secrets = fs.readFileSync(
			path.join(runLog.runLogDir(), `secrets-${process.pid}.jsonl`),
			'utf8',
		);
		expect(secrets).toContain(LEAKY_KEY);
	});
});

/** The run, serialised, and each of its errors field by field: no key, no signature. */
function expectClean(result) {
	const entry = {
		type: 'run',
		serialised: result.serialised(),
		errors: Object.entries(result.runData).flatMap(([node, tasks]) =>
			tasks
				.filter((t) => t.error)
				.map((t) => ({
					node,
					message: t.error.message,
					description: String(t.error.description ?? ''),
					stack: t.error.stack,
					context: JSON.stringify(t.error.context ?? {}),
				})),
		),
	};
	expect(runLog.findLeaks(entry, KEYS)).toEqual([]);
	return entry;
}

/** No request to S3 carried a key or an Authorization header, in its headers or its URL. */
function expectNothingSentToS3() {
	const s3 = requests(sim, 's3');
	for (const request of s3) {
		expect(request.headers.authorization).toBeUndefined();
		const sent = JSON.stringify(request.headers) + request.url;
		for (const key of KEYS) expect(sent).not.toContain(key);
	}
	return s3.length;
}

describe('failures that could leak, checked one by one', () => {
	it('a refused key: Create, Get, Get Many and Import File, thrown and as error items', async () => {
		for (const operation of ['create', 'get', 'getAll', 'importFile']) {
			for (const extra of [{}, { onError: 'continueRegularOutput' }]) {
				const result = await run(
					sim,
					[{ importId: 'Import:abc', binaryText: SAMPLE_CSV }],
					[terros('Node', operation, {}, extra)],
					LEAKY_KEY,
				);
				const error = result.error('Node') ?? result.output('Node')[0].json;
				expect(error.message ?? error.error).toMatch(/Terros refused the API key \(HTTP 403\)$/);
				expectClean(result);
			}
		}
	});

	it('a read-only key refused by Terros (NotAuthorized)', async () => {
		const result = await run(sim, [{}], [terros('Node', 'create')], 'sim-key-acme-readonly');
		expect(errorShape(result.error('Node')).description).toMatch(/NotAuthorized/);
		expectClean(result);
	});

	it.each([
		['HTML from a proxy', { kind: 'html', status: 502 }],
		['a truncated answer', { kind: 'truncated' }],
		['a dropped connection', { kind: 'drop' }],
		['an error envelope', { kind: 'envelope', error: 'InvalidRequest', message: 'bad' }],
	])('Terros answering with %s', async (_, fault) => {
		sim.inject({ route: '/import/add', ...fault });
		const result = await run(sim, [{}], [terros('Node', 'create')]);
		expect(result.error('Node')).toBeDefined();
		expectClean(result);
	});

	it('an expired upload URL inside Import File: the error names the URL without its query', async () => {
		sim.inject({ route: '/import/add', kind: 'shortUploadUrl', ttlSec: 0 });
		const result = await run(
			sim,
			[{ binaryText: SAMPLE_CSV }],
			[terros('Node', 'importFile', {}, { onError: 'continueRegularOutput' })],
		);
		expect(result.output('Node')[0].json.error).toMatch(/the upload URL expired/);
		expectClean(result);
		expect(expectNothingSentToS3()).toBe(1);
	});

	it.each([
		['dropped', { kind: 'drop', times: 0 }],
		['timed out', { kind: 'slow', delayMs: 3000, times: 0 }],
		['refused', { kind: 's3Error', status: 403, code: 'SignatureDoesNotMatch', times: 0 }],
	])('an upload %s: the URL in the error has no signature', async (_, fault) => {
		constants.UPLOAD_IDLE_TIMEOUT_MS = 100;
		const target = await newImport(sim);
		sim.requests = [];
		sim.inject({ route: 's3:put', ...fault });
		const result = await run(
			sim,
			[{ ...target, binaryText: SAMPLE_CSV }],
			[terros('Node', 'uploadFile')],
		);
		expect(result.error('Node')).toBeDefined();
		expectClean(result);
		expect(expectNothingSentToS3()).toBe(puts(sim).length);
	});

	it.each([
		['dropped', { kind: 'drop', times: 0 }],
		['timed out', { kind: 'slow', delayMs: 3000, times: 0 }],
		['refused', { kind: 's3Error', status: 403, code: 'AccessDenied', times: 0 }],
	])('an error-file download %s: the URL in the error has no signature', async (_, fault) => {
		const importId = await importWithErrors(sim);
		constants.DOWNLOAD_TIMEOUT_MS = 100;
		sim.requests = [];
		sim.inject({ route: 's3:get', ...fault });
		const result = await errorRows(sim, importId, 'Node');
		expect(result.error('Node')).toBeDefined();
		expectClean(result);
		expect(gets(sim).length).toBeGreaterThan(0);
		expectNothingSentToS3();
	});
});

describe('success paths', () => {
	it('Import File with failed rows, then Get Errors as records, rows and files: the key never reaches S3', async () => {
		const result = await run(
			sim,
			[{ binaryText: SAMPLE_CSV }],
			[
				terros('Import', 'importFile', { pollInterval: 0.02, includeErrorRows: true }),
				terros('Records', 'getErrors'),
			],
		);
		expect(result.output('Import')[0].json.failedRows).toHaveLength(3);
		const { importId } = result.output('Import')[0].json;
		for (const output of ['rows', 'files']) {
			const more = await run(sim, [{ importId }], [terros('Errors', 'getErrors', { output })]);
			expect(more.output('Errors')).toHaveLength(3);
			expectClean(more);
		}
		// The records carry their signed links in signedUrl, the field made for them, only.
		const records = result.output('Records');
		expect(records.every((r) => SIGNATURE.test(r.json.signedUrl))).toBe(true);
		expectClean(result);
		// 1 upload, 3 + 3 + 3 downloads, all without the key.
		expect(expectNothingSentToS3()).toBe(10);
	});

	it('Create puts its signed URL in uploadUrl only', async () => {
		const result = await run(sim, [{}], [terros('Create', 'create')]);
		expect(SIGNATURE.test(result.output('Create')[0].json.uploadUrl)).toBe(true);
		expectClean(result);
	});
});
