'use strict';

const { API_KEY, SAMPLE_CSV, run, terros, useSimulator } = require('./helpers');

const handle = useSimulator();
let sim;

beforeAll(() => {
	sim = handle.sim;
});

const REASONS = {
	3: '"bad-email" is not a valid email address',
	4: 'name is required',
	5: '"not-a-phone" is not a valid phone number',
};

function chain() {
	return run(
		sim,
		[{ binaryText: SAMPLE_CSV }],
		[
			terros('Create', 'create', { entity: 'Account', name: 'Chain' }),
			terros('Upload', 'uploadFile', { binaryPropertyName: 'data' }),
			terros('Wait', 'waitForCompletion', { pollInterval: 0.02, maxPollInterval: 0.1 }),
			terros('Errors', 'getErrors', { output: 'rows' }),
			terros('Clean Up', 'cleanUp', {}, { executeOnce: true }),
		],
	);
}

describe('Create → Upload File → Wait for Completion → Get Errors → Clean Up', () => {
	let result;
	let importId;

	beforeAll(async () => {
		sim.reset();
		result = await chain();
		importId = result.output('Create')[0]?.json.importId;
	});

	it('runs every step to success', () => {
		expect(result.status).toBe('success');
		expect(importId).toMatch(/^Import:[0-9a-f]{12}$/);
		expect(sim.imports.size).toBe(1);
	});

	it('carries the binary from the input through Create to Upload File', () => {
		const created = result.output('Create')[0];
		expect(created.binary.data.id).toBe(result.output('Input')[0].binary.data.id);
		expect(result.output('Upload')[0].json).toMatchObject({
			importId,
			uploaded: true,
			bytes: Buffer.byteLength(SAMPLE_CSV),
			attempts: 1,
		});
	});

	it('waits until 2 rows succeed and 3 fail', () => {
		expect(result.output('Wait')[0].json).toMatchObject({
			importId,
			entity: 'Account',
			importStatus: 'Completed',
			successes: 2,
			errors: 3,
			totalMessages: 5,
			timedOut: false,
		});
	});

	it('lists the failed rows 3, 4 and 5 in order with the simulator’s reasons', () => {
		const rows = result.output('Errors');
		expect(
			rows.map((r) => [r.json.row, r.json.reason, r.json.errorCount, r.json.importId]),
		).toEqual([
			[3, REASONS[3], 3, importId],
			[4, REASONS[4], 3, importId],
			[5, REASONS[5], 3, importId],
		]);
		expect(rows.map((r) => r.json.key)).toEqual(
			[3, 4, 5].map((n) => `imports/${importId}/errors/row-${n}.json`),
		);
		expect(rows.map((r) => r.json.details.line)).toEqual([4, 6, 7]);
		expect(rows.map((r) => r.pairedItem)).toEqual([{ item: 0 }, { item: 0 }, { item: 0 }]);
	});

	it('cleans the import up once, although three rows reach Clean Up', () => {
		expect(result.output('Clean Up')).toEqual([
			{ json: { importId, importStatus: 'Completed', cleanedUp: true }, pairedItem: { item: 0 } },
		]);
		expect(sim.imports.get(importId).cleanedUp).toBe(true);
		expect(sim.requests.filter((r) => r.path === '/import/cleanup')).toHaveLength(1);
	});

	it('sends the API key on every Terros call and never to S3', () => {
		const api = sim.requests.filter((r) => r.server === 'api');
		const s3 = sim.requests.filter((r) => r.server === 's3');
		expect(api.map((r) => r.path.split('/').pop())).toEqual([
			'add',
			...Array(api.length - 4).fill('get'),
			'errors',
			'get',
			'cleanup',
		]);
		expect(api.filter((r) => r.headers.authorization !== `ApiKey ${API_KEY}`)).toEqual([]);
		expect(s3.map((r) => `${r.method} ${r.status}`)).toEqual([
			'PUT 200',
			'GET 200',
			'GET 200',
			'GET 200',
		]);
		for (const request of s3) {
			expect(
				Object.keys(request.headers).filter((h) => /authorization|api-?key|cookie/i.test(h)),
			).toEqual([]);
			expect(JSON.stringify(request.headers)).not.toContain(API_KEY);
			expect(request.url).not.toContain(API_KEY);
		}
	});

	it('leaves the API key out of everything the run produced', () => {
		const serialised = result.serialised();
		expect(serialised).toContain(importId);
		expect(serialised).not.toContain(API_KEY);
		expect(serialised).not.toContain('ApiKey ');
	});
});
