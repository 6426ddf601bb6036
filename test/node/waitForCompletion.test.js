'use strict';

const { startSimulator } = require('../simulator');
const {
	SAMPLE_CSV,
	createImportDirectly,
	errorShape,
	run,
	settle,
	start,
	terros,
	uploadDirectly,
	useSimulator,
} = require('./helpers');

const handle = useSimulator();
let sim;

beforeAll(() => {
	sim = handle.sim;
});
beforeEach(() => sim.reset());

const FAILED_DESCRIPTION =
	'Terros could not process the file. Fix what the reason names and import the file again; turn on "Failed Import as Item" to handle failures in the workflow instead.';
const BAD_KEY_DESCRIPTION =
	'The key is wrong, revoked or belongs to another environment. Create a new key under Company Settings → API Keys in Terros and update the Terros API credential.';

const gets = (s = sim) => s.requests.filter((r) => r.path === '/import/get');

/** Creates an import on `s` and uploads `csv` to it; `fault` is injected on its /import/add. */
async function startedImport(csv = SAMPLE_CSV, { s = sim, entity = 'Account', fault } = {}) {
	if (fault) s.inject({ route: '/import/add', ...fault });
	const created = await createImportDirectly(s, { entity });
	await uploadDirectly(created.url, csv);
	s.requests = [];
	return created.importData.importId;
}

function wait(items, parameters = {}, extra = {}, s = sim, apiKey) {
	return run(
		s,
		items,
		[
			terros(
				'Wait',
				'waitForCompletion',
				{ pollInterval: 0.02, maxPollInterval: 0.1, ...parameters },
				extra,
			),
		],
		apiKey,
	);
}

describe('Wait for Completion: outcomes', () => {
	it('waits for a running import to complete and outputs its counts', async () => {
		const importId = await startedImport();
		const result = await wait([{ importId }]);
		expect(result.status).toBe('success');
		const [item] = result.output('Wait');
		expect(item.pairedItem).toEqual({ item: 0 });
		const { completedAt, waitedSeconds, polls, ...json } = item.json;
		expect(json).toEqual({
			importId,
			entity: 'Account',
			importStatus: 'Completed',
			successes: 2,
			errors: 3,
			totalMessages: 5,
			timedOut: false,
		});
		expect(completedAt).toBe(sim.imports.get(importId).completedAt);
		expect(polls).toBe(gets().length);
		expect(polls).toBeGreaterThanOrEqual(2);
		expect(waitedSeconds).toBeGreaterThanOrEqual(0);
		expect(waitedSeconds).toBeLessThan(1);
		// Every poll went to /import/get with the key, and none after Completed.
		expect(gets().every((r) => r.headers.authorization === 'ApiKey sim-key-acme')).toBe(true);
	});

	it('answers at once, after one poll, for an import that is already finished', async () => {
		const importId = await startedImport();
		await settle(sim, importId);
		sim.requests = [];
		const result = await wait([{ importId }], { pollInterval: 5 });
		const { completedAt, ...json } = result.output('Wait')[0].json;
		expect(json).toEqual({
			importId,
			entity: 'Account',
			importStatus: 'Completed',
			successes: 2,
			errors: 3,
			totalMessages: 5,
			timedOut: false,
			waitedSeconds: 0,
			polls: 1,
		});
		expect(typeof completedAt).toBe('number');
		expect(gets()).toHaveLength(1);
	});

	it('stops with an error naming the import and the reason when the import fails', async () => {
		const importId = await startedImport('email,phone\r\nops@acme.example,+1 555 0100\r\n');
		const result = await wait([{ importId }]);
		expect(result.status).toBe('error');
		const error = result.error('Wait');
		expect(errorShape(error)).toEqual({
			name: 'NodeOperationError',
			message: `Import ${importId} failed: Missing required column(s) for Account: name`,
			description: FAILED_DESCRIPTION,
			httpCode: null,
		});
		expect(error.context).toMatchObject({ importId, importStatus: 'Failed', itemIndex: 0 });
	});

	it('outputs a failed import as an item with failedAsItem', async () => {
		const importId = await startedImport('firstName\r\nAda\r\n', { entity: 'Contact' });
		const result = await wait([{ importId }], { waitOptions: { failedAsItem: true } });
		expect(result.status).toBe('success');
		const { completedAt, waitedSeconds, polls, ...json } = result.output('Wait')[0].json;
		expect(json).toEqual({
			importId,
			entity: 'Contact',
			importStatus: 'Failed',
			successes: 0,
			errors: 0,
			totalMessages: 0,
			reason: 'Missing required column(s) for Contact: lastName',
			timedOut: false,
		});
		expect(typeof completedAt).toBe('number');
		expect(polls).toBe(gets().length);
	});

	it('gives up at the timeout with an error naming the import, its last status and the time waited', async () => {
		const importId = await startedImport(SAMPLE_CSV, {
			fault: { kind: 'stuck', status: 'Processing' },
		});
		const started = Date.now();
		const result = await wait([{ importId }], {
			pollInterval: 0.05,
			maxPollInterval: 0.2,
			timeout: 0.01,
		});
		const elapsed = Date.now() - started;
		const error = result.error('Wait');
		const polls = gets().length;
		expect(errorShape(error)).toEqual({
			name: 'NodeOperationError',
			message: `Import ${importId} was still Processing after 1 s`,
			description: `The import goes on in Terros. Raise "Timeout (Minutes)", or check on it later with the Get or Wait for Completion operation (${polls} status checks were made).`,
			httpCode: null,
		});
		expect(error.context).toMatchObject({ importId, importStatus: 'Processing' });
		// 600 ms of waiting: a handful of polls, and the deadline is kept.
		expect(polls).toBeGreaterThanOrEqual(4);
		expect(polls).toBeLessThanOrEqual(8);
		expect(elapsed).toBeGreaterThanOrEqual(600);
		expect(elapsed).toBeLessThan(3000);
	});

	it('outputs a timed-out import as an item with timeoutAsItem', async () => {
		const importId = await startedImport(SAMPLE_CSV, {
			fault: { kind: 'stuck', status: 'Queued' },
		});
		const result = await wait([{ importId }], {
			pollInterval: 0.05,
			maxPollInterval: 0.2,
			timeout: 0.01,
			waitOptions: { timeoutAsItem: true },
		});
		expect(result.status).toBe('success');
		const { waitedSeconds, polls, ...json } = result.output('Wait')[0].json;
		expect(json).toEqual({
			importId,
			entity: 'Account',
			importStatus: 'Queued',
			successes: 0,
			errors: 0,
			totalMessages: 0,
			completedAt: null,
			timedOut: true,
		});
		expect(polls).toBe(gets().length);
		expect(waitedSeconds).toBeGreaterThanOrEqual(0.6);
		expect(waitedSeconds).toBeLessThan(1.5);
	});
});

describe('Wait for Completion: polling', () => {
	it('backs off: the interval doubles from Poll Interval up to Max Poll Interval', async () => {
		const importId = await startedImport(SAMPLE_CSV, {
			fault: { kind: 'stuck', status: 'Processing' },
		});
		const result = await wait([{ importId }], {
			pollInterval: 0.05,
			maxPollInterval: 0.2,
			timeout: 0.02, // 1.2 s
			waitOptions: { timeoutAsItem: true },
		});
		const times = gets().map((r) => r.at);
		expect(result.output('Wait')[0].json).toMatchObject({ timedOut: true, polls: times.length });
		// Polls near 0, 50, 150, 350, 550, 750, 950, 1150 and the deadline: about 9, where a
		// poller at a fixed 50 ms would make 25.
		expect(times.length).toBeGreaterThanOrEqual(7);
		expect(times.length).toBeLessThanOrEqual(10);
		const gaps = times.slice(1).map((t, i) => t - times[i]);
		const expected = [50, 100, 200, 200, 200];
		expected.forEach((ms, i) => {
			expect(gaps[i]).toBeGreaterThanOrEqual(ms - 10);
			expect(gaps[i]).toBeLessThanOrEqual(ms + 100);
		});
		// Never longer than the cap (plus the request's own time).
		expect(Math.max(...gaps)).toBeLessThanOrEqual(320);
	});

	it('stops promptly when the execution is stopped, and polls no more', async () => {
		const importId = await startedImport(SAMPLE_CSV, {
			fault: { kind: 'stuck', status: 'Processing' },
		});
		const running = start(
			sim,
			[{ importId }],
			[
				terros('Wait', 'waitForCompletion', {
					pollInterval: 0.05,
					maxPollInterval: 0.2,
					timeout: 1,
				}),
			],
		);
		// Stop once the wait is well under way (a few status checks made), however loaded the machine.
		for (let i = 0; i < 200 && gets().length < 3; i++) {
			await new Promise((resolve) => setTimeout(resolve, 25));
		}
		const cancelledAt = Date.now();
		const polledBeforeCancel = gets().length;
		running.cancel();
		const result = await running.promise;
		const settledIn = Date.now() - cancelledAt;
		expect(settledIn).toBeLessThan(1000);
		expect(result.status).toBe('canceled');
		expect(errorShape(result.error('Wait'))).toEqual({
			name: 'NodeOperationError',
			message: 'The execution was stopped',
			description: `Import ${importId} was Processing when the wait stopped; it goes on in Terros.`,
			httpCode: null,
		});
		const polled = gets().length;
		expect(polled).toBeGreaterThanOrEqual(3);
		// At most a check already on its way when the stop came.
		expect(polled - polledBeforeCancel).toBeLessThanOrEqual(1);
		await new Promise((resolve) => setTimeout(resolve, 500));
		expect(gets()).toHaveLength(polled);
	});

	describe('many items', () => {
		// Each import takes about 300 ms from upload to Completed.
		const STEPS = { Queued: 60, Processing: 80, PostProcessing: 80, Completed: 80, Failed: 80 };
		let slowSim;
		beforeAll(async () => {
			slowSim = await startSimulator({ stepMs: STEPS });
		});
		afterAll(() => slowSim.stop());
		beforeEach(() => slowSim.reset());

		it('waits for all items at once', async () => {
			const ids = [];
			for (let i = 0; i < 5; i++) ids.push(await startedImport(SAMPLE_CSV, { s: slowSim }));
			const result = await wait(
				ids.map((importId) => ({ importId })),
				{ pollInterval: 0.02, maxPollInterval: 0.05 },
				{},
				slowSim,
			);
			expect(result.status).toBe('success');
			const items = result.output('Wait');
			expect(items.map((i) => [i.json.importId, i.json.importStatus, i.pairedItem])).toEqual(
				ids.map((id, index) => [id, 'Completed', { item: index }]),
			);
			const executionTime = result.runData.Wait[0].executionTime;
			expect(executionTime).toBeGreaterThanOrEqual(150);
			expect(executionTime).toBeLessThan(1200); // one after another would take 5 × 300 ms
			// The first status check of every item went out together, before any second one.
			const times = gets(slowSim).map((r) => r.at);
			expect(times[4] - times[0]).toBeLessThan(150); // in order: ≥ 300 ms
		});

		it('keeps slow status checks in flight together', async () => {
			const ids = [];
			for (let i = 0; i < 5; i++) ids.push(await startedImport(SAMPLE_CSV, { s: slowSim }));
			await Promise.all(ids.map((id) => settle(slowSim, id)));
			slowSim.requests = [];
			slowSim.stats.api.peakInFlight = slowSim.stats.api.inFlight;
			slowSim.inject({ route: '/import/get', kind: 'slow', delayMs: 300, times: 5 });
			const started = Date.now();
			const result = await wait(
				ids.map((importId) => ({ importId })),
				{},
				{},
				slowSim,
			);
			const elapsed = Date.now() - started;
			expect(result.status).toBe('success');
			expect(result.output('Wait').map((i) => i.json.polls)).toEqual([1, 1, 1, 1, 1]);
			expect(slowSim.stats.api.peakInFlight).toBe(5);
			expect(elapsed).toBeLessThan(1200); // in order: 5 × 300 ms
		});
	});
});

describe('Wait for Completion: bad input', () => {
	it.each([
		[
			'missing from the item',
			{},
			{},
			'The import ID is empty',
			'Set "Import ID" to an ID such as Import:abc123. By default it is read from the incoming item’s importId field, which this item does not have.',
		],
		[
			'blank',
			{},
			{ importId: '   ' },
			'The import ID is empty',
			'Set "Import ID" to an ID such as Import:abc123. By default it is read from the incoming item’s importId field, which this item does not have.',
		],
		[
			'malformed',
			{ importId: 'abc123' },
			{},
			'"abc123" is not an import ID',
			'Import IDs look like Import:abc123, as returned by the Create operation.',
		],
		[
			'with a space',
			{ importId: 'Import:abc 123' },
			{},
			'"Import:abc 123" is not an import ID',
			'Import IDs look like Import:abc123, as returned by the Create operation.',
		],
		[
			'very long',
			{ importId: `x${'y'.repeat(100)}` },
			{},
			`"x${'y'.repeat(59)}" is not an import ID`,
			'Import IDs look like Import:abc123, as returned by the Create operation.',
		],
	])(
		'refuses an import ID that is %s, before any request',
		async (_, item, parameters, message, description) => {
			const result = await wait([item], parameters);
			expect(errorShape(result.error('Wait'))).toEqual({
				name: 'NodeOperationError',
				message,
				description,
				httpCode: null,
			});
			expect(sim.requests).toEqual([]);
		},
	);

	it('refuses a poll interval of zero', async () => {
		const result = await wait([{ importId: 'Import:abc123' }], { pollInterval: 0 });
		expect(errorShape(result.error('Wait'))).toEqual({
			name: 'NodeOperationError',
			message: '"Poll Interval (Seconds)" must be a number above zero',
			description: 'It is 0.',
			httpCode: null,
		});
		expect(sim.requests).toEqual([]);
	});
});

describe('Wait for Completion: API errors', () => {
	it('retries a 503 and a 429 on /import/get', async () => {
		const importId = await startedImport();
		await settle(sim, importId);
		sim.requests = [];
		sim.inject({ route: '/import/get', kind: 'unavailable', times: 1 });
		sim.inject({ route: '/import/get', kind: 'throttle', retryAfter: 0, times: 1 });
		const result = await wait([{ importId }]);
		expect(result.status).toBe('success');
		expect(result.output('Wait')[0].json).toMatchObject({
			importId,
			importStatus: 'Completed',
			polls: 1,
		});
		expect(gets().map((r) => r.status)).toEqual([503, 429, 200]);
	});

	it('retries an HTML 502 page and a Server envelope', async () => {
		const importId = await startedImport();
		await settle(sim, importId);
		sim.requests = [];
		sim.inject({ route: '/import/get', kind: 'html', times: 1 });
		sim.inject({ route: '/import/get', kind: 'envelope', error: 'Server', times: 1 });
		const result = await wait([{ importId }]);
		expect(result.output('Wait')[0].json).toMatchObject({ importStatus: 'Completed', polls: 1 });
		expect(gets().map((r) => r.status)).toEqual([502, 200, 200]);
	});

	it('gives up after 4 attempts when Terros stays unavailable', async () => {
		sim.inject({ route: '/import/get', kind: 'unavailable', times: 0 });
		const result = await wait([{ importId: 'Import:abc123' }]);
		const error = result.error('Wait');
		expect(errorShape(error)).toEqual({
			name: 'NodeApiError',
			message: 'Get import failed: Terros is unavailable (HTTP 503)',
			description:
				'Terros or a proxy in front of it failed to answer. This is usually temporary: run the node again later.',
			httpCode: '503',
		});
		expect(error.context.importId).toBe('Import:abc123');
		expect(gets().map((r) => r.status)).toEqual([503, 503, 503, 503]);
	});

	it('reports a refused key as HTTP 403, without retrying', async () => {
		const result = await wait([{ importId: 'Import:abc123' }], {}, {}, sim, 'sim-key-revoked');
		const error = result.error('Wait');
		expect(errorShape(error)).toEqual({
			name: 'NodeApiError',
			message: 'Get import failed: Terros refused the API key (HTTP 403)',
			description: BAD_KEY_DESCRIPTION,
			httpCode: '403',
		});
		expect(error.context.importId).toBe('Import:abc123');
		expect(gets().map((r) => r.status)).toEqual([403]);
	});

	it('does not find another company’s import', async () => {
		const importId = await startedImport();
		const result = await wait([{ importId }], {}, {}, sim, 'sim-key-globex');
		expect(errorShape(result.error('Wait'))).toEqual({
			name: 'NodeApiError',
			message: `Get import failed: Import not found: ${importId}`,
			description:
				'Terros error InvalidRequest. Terros rejected the request as sent. Check the parameters named in the message.',
			httpCode: '200',
		});
		expect(gets()).toHaveLength(1);
	});

	it('with continueOnFail, outputs the failure as an item and waits for the others', async () => {
		const good = await startedImport();
		const failed = await startedImport('email\r\nops@acme.example\r\n');
		const result = await wait(
			[{ importId: good }, { importId: failed }, { importId: 'nope' }],
			{},
			{ onError: 'continueRegularOutput' },
		);
		expect(result.status).toBe('success');
		const items = result.output('Wait');
		expect(items.map((i) => i.pairedItem)).toEqual([{ item: 0 }, { item: 1 }, { item: 2 }]);
		expect(items[0].json).toMatchObject({ importId: good, importStatus: 'Completed' });
		expect(items[1].json).toEqual({
			error: `Import ${failed} failed: Missing required column(s) for Account: name`,
			description: FAILED_DESCRIPTION,
			importId: failed,
			importStatus: 'Failed',
		});
		expect(items[2].json).toEqual({
			error: '"nope" is not an import ID',
			description: 'Import IDs look like Import:abc123, as returned by the Create operation.',
		});
	});
});
