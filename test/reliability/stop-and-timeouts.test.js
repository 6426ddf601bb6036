'use strict';

/**
 * Area 4, stopping and timeouts: the stop button (a cancelled execution) during Wait, Upload and
 * error downloads ends the node within a second and leaves no request or socket open; Wait's own
 * timeout names the import, its last status and the time waited; every request has a timeout.
 */

const net = require('node:net');

const { startSimulator } = require('../simulator');
const {
	errorRows,
	SAMPLE_CSV,
	apiCalls,
	bigCsv,
	clientSockets,
	constants,
	errorShape,
	eventually,
	gets,
	importWithErrors,
	input,
	newImport,
	openConnections,
	pause,
	puts,
	run,
	start,
	stuckImport,
	terros,
	useSimulator,
	useTempDir,
} = require('./support');
const { runWorkflow } = require('../harness/engine');

const handle = useSimulator();
const tmp = useTempDir();
let sim;

const DEFAULT_TIMEOUTS = {
	REQUEST_TIMEOUT_MS: constants.REQUEST_TIMEOUT_MS,
	UPLOAD_IDLE_TIMEOUT_MS: constants.UPLOAD_IDLE_TIMEOUT_MS,
	UPLOAD_MIN_BYTES_PER_SECOND: constants.UPLOAD_MIN_BYTES_PER_SECOND,
	DOWNLOAD_TIMEOUT_MS: constants.DOWNLOAD_TIMEOUT_MS,
};

beforeAll(() => {
	sim = handle.sim;
});
beforeEach(() => {
	sim.faults = [];
	sim.requests = [];
});
afterEach(() => {
	sim.faults = [];
	Object.assign(constants, DEFAULT_TIMEOUTS);
});

/**
 * Starts a workflow, presses stop once `ready()` holds (and `settleMs` more passed), and returns
 * the run, when the stop came, how long the workflow took to end after it, and how many sockets
 * n8n had open to `server` ('api' or 's3') at that moment (so that "none after" means something).
 */
async function stopWhen(s, items, nodes, ready, { settleMs = 100, server = 'api' } = {}) {
	const running = start(s, items, nodes);
	expect(await eventually(ready, 5000)).toBe(true);
	await pause(settleMs);
	const openAtStop = clientSockets(server === 's3' ? s.s3Server : s.apiServer).length;
	const stoppedAt = Date.now();
	running.cancel();
	const result = await running.promise;
	return { result, stoppedAt, endedIn: Date.now() - stoppedAt, openAtStop };
}

/**
 * Nothing of the run is left open: n8n's side holds no socket to the server, and (where the
 * server can tell, i.e. it was reading the request) the server has no request in flight and no
 * socket open. A server that stopped reading an upload's body (the `slow` fault) only sees the
 * client's close once it reads again, so for those only the client side is checked.
 */
async function expectNothingOpen(s, server, { serverSide = true } = {}) {
	const target = server === 's3' ? s.s3Server : s.apiServer;
	const check = async () =>
		clientSockets(target).length === 0 &&
		(!serverSide || (s.stats[server].inFlight === 0 && (await openConnections(target)) === 0));
	const clear = await eventually(check, 1000);
	expect({
		clientSockets: clientSockets(target).length,
		...(serverSide
			? { inFlight: s.stats[server].inFlight, serverSockets: await openConnections(target) }
			: {}),
	}).toEqual({
		clientSockets: 0,
		...(serverSide ? { inFlight: 0, serverSockets: 0 } : {}),
	});
	expect(clear).toBe(true);
}

const STOPPED = { name: 'NodeOperationError', message: 'The execution was stopped' };

describe('the stop button', () => {
	it('during Wait for Completion: ends within 1 s, polls no more, leaves nothing open', async () => {
		const importId = await stuckImport(sim);
		const { result, endedIn, stoppedAt } = await stopWhen(
			sim,
			[{ importId }],
			[terros('Wait', 'waitForCompletion', { pollInterval: 0.05, maxPollInterval: 0.1 })],
			() => apiCalls(sim, '/import/get').length >= 2,
		);
		expect(endedIn).toBeLessThan(1000);
		expect(result.status).toBe('canceled');
		expect(errorShape(result.error('Wait'))).toEqual({
			...STOPPED,
			description: `Import ${importId} was Processing when the wait stopped; it goes on in Terros.`,
			httpCode: null,
		});
		// At most one status check already on its way when the stop came (n8n's HTTP client may
		// still send a request whose signal was aborted while it was being prepared), then none.
		await pause(300);
		const late = apiCalls(sim, '/import/get').filter((r) => r.at >= stoppedAt);
		expect(late.length).toBeLessThanOrEqual(1);
		await pause(300);
		expect(apiCalls(sim, '/import/get').filter((r) => r.at >= stoppedAt)).toHaveLength(late.length);
		await expectNothingOpen(sim, 'api');
	});

	it('during a status check Terros is slow to answer: ends within 1 s, the request is dropped', async () => {
		const importId = await stuckImport(sim);
		sim.inject({ route: '/import/get', kind: 'slow', delayMs: 10_000, skip: 1, times: 0 });
		const { result, endedIn, openAtStop } = await stopWhen(
			sim,
			[{ importId }],
			[terros('Wait', 'waitForCompletion', { pollInterval: 0.05 })],
			() => sim.stats.api.inFlight > 0,
		);
		expect(openAtStop).toBe(1);
		expect(endedIn).toBeLessThan(1000);
		expect(result.status).toBe('canceled');
		// The stop came during the second status check: the first one said Processing.
		expect(errorShape(result.error('Wait'))).toEqual({
			...STOPPED,
			description: `Import ${importId} was Processing when the wait stopped; it goes on in Terros.`,
			httpCode: null,
		});
		await expectNothingOpen(sim, 'api');
	});

	it('during Upload File, mid-stream: ends within 1 s, the PUT is dropped, S3 keeps nothing', async () => {
		const file = tmp.file('stop-upload.csv', bigCsv(8_000_000));
		const target = await newImport(sim);
		sim.requests = [];
		sim.inject({ route: 's3:put', kind: 'slow', delayMs: 20_000 });
		const { result, endedIn, openAtStop } = await stopWhen(
			sim,
			[{ ...target, binaryFile: file }],
			[terros('Upload', 'uploadFile')],
			() => puts(sim).length > 0,
			{ settleMs: 200, server: 's3' },
		);
		expect(openAtStop).toBe(1);
		expect(endedIn).toBeLessThan(1000);
		expect(result.status).toBe('canceled');
		expect(result.error('Upload')).toMatchObject(STOPPED);
		expect(puts(sim)).toHaveLength(1);
		await expectNothingOpen(sim, 's3', { serverSide: false });
		expect(sim.imports.get(target.importId)).toMatchObject({ uploads: 0, importStatus: 'New' });
	});

	it('during a slow upload inside Import File: the stop error names the import', async () => {
		const file = tmp.file('stop-import.csv', bigCsv(4_000_000));
		sim.inject({ route: 's3:put', kind: 'slowRead', bytesPerSecond: 500_000 });
		const { result, endedIn, openAtStop } = await stopWhen(
			sim,
			[{ binaryFile: file }],
			[terros('Import', 'importFile')],
			() => puts(sim).length > 0,
			{ settleMs: 200, server: 's3' },
		);
		expect(openAtStop).toBe(1);
		expect(endedIn).toBeLessThan(1000);
		const record = [...sim.imports.values()].pop();
		const error = result.error('Import');
		expect(error.message).toBe(
			`The execution was stopped [import ${record.importId} was created; last status New]`,
		);
		expect(error.context).toMatchObject({ importId: record.importId, importStatus: 'New' });
		await expectNothingOpen(sim, 's3', { serverSide: false });
		expect(record.uploads).toBe(0);
	});

	describe('during error-file downloads', () => {
		const slowS3 = useSimulator({ stepMs: 5, s3GetLatencyMs: 10_000 });

		it('Get Errors: ends within 1 s, every download dropped', async () => {
			const s = slowS3.sim;
			const importId = await importWithErrors(s);
			s.requests = [];
			const { result, endedIn, openAtStop } = await stopWhen(
				s,
				[{ importId }],
				[terros('Errors', 'getErrors', { output: 'rows' })],
				() => gets(s).length === 3,
				{ server: 's3' },
			);
			expect(openAtStop).toBe(3);
			expect(endedIn).toBeLessThan(1000);
			expect(result.status).toBe('canceled');
			expect(result.error('Errors')).toMatchObject(STOPPED);
			expect(gets(s)).toHaveLength(3);
			await expectNothingOpen(s, 's3');
		});

		it('Import File with Include Failed Rows: ends within 1 s, naming the import, Completed', async () => {
			const s = slowS3.sim;
			s.requests = [];
			const { result, endedIn, openAtStop } = await stopWhen(
				s,
				[{ binaryText: SAMPLE_CSV }],
				[terros('Import', 'importFile', { pollInterval: 0.02, includeErrorRows: true })],
				() => gets(s).length === 3,
				{ server: 's3' },
			);
			expect(openAtStop).toBe(3);
			expect(endedIn).toBeLessThan(1000);
			const record = [...s.imports.values()].pop();
			expect(result.error('Import').message).toBe(
				`The execution was stopped [import ${record.importId} was created; last status Completed]`,
			);
			await expectNothingOpen(s, 's3');
		});
	});
});

describe('one item failing ends the waits of the others', () => {
	it('no status check is made for any item after the node has failed', async () => {
		const running = await stuckImport(sim, 'Processing');
		const failing = await stuckImport(sim, 'Queued');
		sim.inject({
			route: '/import/get',
			kind: 'envelope',
			error: 'InvalidRequest',
			message: 'Import not found',
			skip: 3,
		});
		const result = await run(
			sim,
			[{ importId: running }, { importId: failing }],
			[terros('Wait', 'waitForCompletion', { pollInterval: 0.05, maxPollInterval: 0.05 })],
		);
		const endedAt = Date.now();
		expect(result.error('Wait').message).toBe('Get import failed: Import not found');
		// Before the fix, the other item went on polling every 50 ms until its own timeout. Now at
		// most a check already on its way may arrive, then none.
		await pause(300);
		const late = apiCalls(sim, '/import/get').filter((r) => r.at >= endedAt);
		expect(late.length).toBeLessThanOrEqual(1);
		await pause(200);
		expect(apiCalls(sim, '/import/get').filter((r) => r.at >= endedAt)).toHaveLength(late.length);
		await expectNothingOpen(sim, 'api');
	});
});

describe('Wait’s own timeout', () => {
	it('Wait for Completion: an error naming the import, its last status and the time waited', async () => {
		const importId = await stuckImport(sim, 'Queued');
		const started = Date.now();
		const result = await run(
			sim,
			[{ importId }],
			[terros('Wait', 'waitForCompletion', { pollInterval: 0.05, timeout: 0.01 })],
		);
		expect(Date.now() - started).toBeLessThan(2000);
		const error = result.error('Wait');
		const polls = apiCalls(sim, '/import/get').length;
		expect(errorShape(error)).toEqual({
			name: 'NodeOperationError',
			message: `Import ${importId} was still Queued after 1 s`,
			description: `The import goes on in Terros. Raise "Timeout (Minutes)", or check on it later with the Get or Wait for Completion operation (${polls} status checks were made).`,
			httpCode: null,
		});
		expect(error.context).toMatchObject({ importId, importStatus: 'Queued' });
	});

	it('Wait for Completion with Timeout as Item: an item with timedOut true', async () => {
		const importId = await stuckImport(sim, 'PostProcessing');
		const result = await run(
			sim,
			[{ importId }],
			[
				terros('Wait', 'waitForCompletion', {
					pollInterval: 0.05,
					timeout: 0.005,
					waitOptions: { timeoutAsItem: true },
				}),
			],
		);
		const [item] = result.output('Wait');
		expect(item.json).toMatchObject({ importId, importStatus: 'PostProcessing', timedOut: true });
		expect(item.json.waitedSeconds).toBeGreaterThanOrEqual(0.3);
		expect(item.json.waitedSeconds).toBeLessThan(1.5);
	});

	it('Import File: the timeout error names the import, its status and the time', async () => {
		sim.inject({ route: '/import/add', kind: 'stuck', status: 'Processing' });
		const result = await run(
			sim,
			[{ binaryText: SAMPLE_CSV }],
			[terros('Import', 'importFile', { pollInterval: 0.05, timeout: 0.005 })],
		);
		const record = [...sim.imports.values()].pop();
		const error = result.error('Import');
		expect(error.message).toMatch(
			new RegExp(`^Import ${record.importId} was still Processing after [01] s$`),
		);
		expect(error.context).toMatchObject({ importId: record.importId, importStatus: 'Processing' });
	});
});

describe('every request has its own timeout', () => {
	it('the compiled node holds a timeout for each kind of request', () => {
		expect(DEFAULT_TIMEOUTS).toEqual({
			REQUEST_TIMEOUT_MS: 30_000,
			UPLOAD_IDLE_TIMEOUT_MS: 120_000,
			UPLOAD_MIN_BYTES_PER_SECOND: 100_000,
			DOWNLOAD_TIMEOUT_MS: 60_000,
		});
	});

	/** A server that accepts connections and never answers; counts them. */
	async function silentServer() {
		const sockets = new Set();
		const server = net.createServer((socket) => {
			sockets.add(socket);
			socket.resume();
		});
		await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
		return {
			baseUrl: `http://127.0.0.1:${server.address().port}`,
			sockets,
			close: async () => {
				for (const socket of sockets) socket.destroy();
				await new Promise((resolve) => server.close(resolve));
			},
		};
	}

	it('a Terros read that gets no answer times out, and is retried: 4 attempts', async () => {
		constants.REQUEST_TIMEOUT_MS = 150;
		const silent = await silentServer();
		try {
			const started = Date.now();
			const result = await runWorkflow({
				nodes: [input([{ importId: 'Import:abc123' }]), terros('Get', 'get')],
				credentials: { apiKey: 'sim-key-acme', baseUrl: silent.baseUrl },
			});
			expect(errorShape(result.error('Get'))).toEqual({
				name: 'NodeApiError',
				message: 'Get import failed: the request timed out (POST /import/get)',
				description:
					'Check the network and the Base URL of the Terros API credential, then run the node again.',
				httpCode: null,
			});
			expect(silent.sockets.size).toBe(4);
			expect(Date.now() - started).toBeLessThan(3000);
		} finally {
			await silent.close();
		}
	});

	it('Add Import that gets no answer times out once, and says the import may exist', async () => {
		constants.REQUEST_TIMEOUT_MS = 150;
		const silent = await silentServer();
		try {
			const result = await runWorkflow({
				nodes: [input([{}]), terros('Create', 'create')],
				credentials: { apiKey: 'sim-key-acme', baseUrl: silent.baseUrl },
			});
			expect(errorShape(result.error('Create'))).toEqual({
				name: 'NodeApiError',
				message: 'Create import failed: the request timed out (POST /import/add)',
				description:
					'The request may have reached Terros before the connection failed, so the import may exist. Look for it with the Get Many operation (List Imports) before running this node again, or you may create a duplicate.',
				httpCode: null,
			});
			expect(silent.sockets.size).toBe(1);
		} finally {
			await silent.close();
		}
	});

	it('an upload S3 never answers times out, and is retried: 3 attempts', async () => {
		constants.UPLOAD_IDLE_TIMEOUT_MS = 150;
		const target = await newImport(sim);
		sim.requests = [];
		sim.inject({ route: 's3:put', kind: 'slow', delayMs: 5000, times: 0 });
		const started = Date.now();
		const result = await run(
			sim,
			[{ ...target, binaryText: SAMPLE_CSV }],
			[terros('Upload', 'uploadFile')],
		);
		const url = new URL(target.uploadUrl);
		expect(errorShape(result.error('Upload'))).toEqual({
			name: 'NodeApiError',
			message: `Upload file failed: the request timed out (PUT ${url.origin}${url.pathname})`,
			description:
				'Check the network between n8n and the storage service named in the message, then run the node again.',
			httpCode: null,
		});
		expect(puts(sim)).toHaveLength(3);
		expect(Date.now() - started).toBeLessThan(3000);
		await expectNothingOpen(sim, 's3', { serverSide: false });
	});

	it('an upload slower than that allowance still succeeds while it keeps moving', async () => {
		constants.UPLOAD_IDLE_TIMEOUT_MS = 300;
		constants.UPLOAD_MIN_BYTES_PER_SECOND = 200_000;
		const text = bigCsv(300_000);
		const file = tmp.file('slow-link.csv', text);
		const target = await newImport(sim);
		sim.requests = [];
		// About 0.75 s on the wire: more than twice the 300 ms allowance, well inside 300 ms + 1.5 s.
		sim.inject({ route: 's3:put', kind: 'slowRead', bytesPerSecond: 400_000 });
		const result = await run(
			sim,
			[{ ...target, binaryFile: file }],
			[terros('Upload', 'uploadFile')],
		);
		expect(result.error('Upload')).toBeUndefined();
		const [item] = result.output('Upload');
		expect(item.json).toMatchObject({
			uploaded: true,
			attempts: 1,
			bytes: Buffer.byteLength(text),
		});
		expect(item.json.uploadMs).toBeGreaterThan(600);
		expect(puts(sim)).toHaveLength(1);
	});

	it('an error-file download S3 never answers times out, and is retried: 4 attempts', async () => {
		const importId = await importWithErrors(sim);
		constants.DOWNLOAD_TIMEOUT_MS = 100;
		sim.requests = [];
		sim.inject({ route: 's3:get', kind: 'slow', delayMs: 5000, times: 0 });
		const result = await errorRows(sim, importId);
		const error = result.error('Errors');
		expect(error.message).toBe(
			`Download error file failed: the request timed out (GET ${sim.s3Url}/terros-imports/imports/${encodeURIComponent(importId)}/errors/row-3.json)`,
		);
		expect(gets(sim)).toHaveLength(4);
		await expectNothingOpen(sim, 's3', { serverSide: false });
	});
});
