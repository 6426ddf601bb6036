/**
 * Get Errors (Failed Rows) over a few hundred error files: never more downloads in flight than
 * Parallel Downloads (the simulator counts them), yet several at once, and rows in row order
 * even though the files finish in random order and are listed as S3 lists keys (row-1, row-10,
 * row-100, row-101, …).
 */

const {
	createImportDirectly,
	run,
	settle,
	terros,
	uploadDirectly,
	useSimulator,
} = require('../node/helpers');

const ROWS = 300;
const handle = useSimulator({ stepMs: 5, s3GetLatencyMs: [1, 8] });

let importId;
beforeAll(async () => {
	const { sim } = handle;
	// S3 lists keys in lexicographic order, not by row number.
	const importErrors = sim.importErrors.bind(sim);
	sim.importErrors = async (caller, body) => {
		const answer = await importErrors(caller, body);
		answer.records.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
		return answer;
	};
	const created = await createImportDirectly(sim);
	importId = created.importData.importId;
	let csv = 'name,email\n';
	for (let i = 1; i <= ROWS; i++) csv += `Account ${i},not-an-email-${i}\n`;
	await uploadDirectly(created.url, csv);
	await settle(sim, importId);
});

async function failedRows(options) {
	const { sim } = handle;
	const firstRequest = sim.requests.length;
	sim.stats.s3.peakInFlight = sim.stats.s3.inFlight;
	const result = await run(
		sim,
		[{ importId }],
		[terros('Errors', 'getErrors', { output: 'rows', errorOptions: options })],
	);
	expect(result.error('Errors')).toBeUndefined();
	const gets = sim.requests.slice(firstRequest).filter((r) => r.server === 's3');
	return { items: result.output('Errors'), gets, peak: sim.stats.s3.peakInFlight };
}

it('lists the error files as S3 would: not in row order', async () => {
	const answer = await handle.sim.importErrors({ company: 'acme' }, { importId });
	const rows = answer.records.map((r) => Number(/row-(\d+)/.exec(r.key)[1]));
	expect(rows.slice(0, 4)).toEqual([1, 10, 100, 101]);
});

it.each([4, 10])(
	'keeps at most %i downloads in flight and outputs the rows in row order',
	async (concurrency) => {
		const { items, gets, peak } = await failedRows({ concurrency });
		expect(gets).toHaveLength(ROWS);
		expect(peak).toBeLessThanOrEqual(concurrency);
		// Bounded, not serial: the files were fetched several at a time.
		expect(peak).toBeGreaterThan(1);
		expect(items.map((item) => item.json.row)).toEqual(
			Array.from({ length: ROWS }, (_, i) => i + 1),
		);
		expect(items[41].json).toMatchObject({ importId, row: 42, errorCount: ROWS });
		expect(items[41].json.reason).toMatch(/not-an-email-42/);
	},
);

it('defaults to at most 10 downloads in flight', async () => {
	const { items, peak } = await failedRows({});
	expect(items).toHaveLength(ROWS);
	expect(peak).toBeLessThanOrEqual(10);
	expect(peak).toBeGreaterThan(1);
});
