/**
 * Wait for Completion given many items waits for their imports at the same time: 24 imports that
 * take 0.2–1.35 s each (about 18 s one after another) are all seen finished in about the time of
 * the slowest one.
 */

const {
	createImportDirectly,
	run,
	terros,
	uploadDirectly,
	useSimulator,
} = require('../node/helpers');

const COUNT = 24;
const handle = useSimulator({ stepMs: 25 });

it('waits for the imports of all items at once', async () => {
	const { sim } = handle;
	const imports = [];
	for (let i = 0; i < COUNT; i++) {
		const { importData, url } = await createImportDirectly(sim);
		// Each import completes durationMs after the node first asks about it.
		imports.push({ importId: importData.importId, url, durationMs: 200 + i * 50, polls: [] });
	}
	const byId = new Map(imports.map((entry) => [entry.importId, entry]));
	const uploads = [];
	const findImport = sim.findImport;
	sim.findImport = function recordPoll(caller, body) {
		const record = findImport.call(this, caller, body);
		const entry = byId.get(record.importId);
		if (entry) {
			entry.polls.push({ at: Date.now(), status: record.importStatus });
			if (entry.polls.length === 1) {
				const delay = entry.durationMs - 4 * sim.options.stepMs;
				uploads.push(
					new Promise((resolve) => setTimeout(resolve, delay)).then(() =>
						uploadDirectly(entry.url, 'name\nAcme\n'),
					),
				);
			}
		}
		return record;
	};
	let result;
	try {
		result = await run(
			sim,
			imports.map(({ importId }) => ({ importId })),
			[
				terros('Wait', 'waitForCompletion', {
					pollInterval: 0.05,
					maxPollInterval: 0.2,
					timeout: 1,
				}),
			],
		);
		await Promise.all(uploads);
	} finally {
		sim.findImport = findImport;
	}

	const items = result.output('Wait');
	expect(items.map((item) => item.json.importId)).toEqual(imports.map((i) => i.importId));
	expect(items.every((item) => item.json.importStatus === 'Completed')).toBe(true);
	// Every import was first asked about before the first one was done: they ran together.
	const firstPolls = imports.map((entry) => entry.polls[0].at);
	const firstDone = Math.min(
		...imports.map((entry) => sim.imports.get(entry.importId).completedAt),
	);
	expect(Math.max(...firstPolls)).toBeLessThan(firstDone);
	// The wait, as the simulator saw it (from the first status request to the last), lasted
	// about as long as the slowest import, far less than all of them one after another.
	const completed = imports.map((entry) => sim.imports.get(entry.importId).completedAt);
	const noticed = imports.map((entry) => entry.polls.find((p) => p.status === 'Completed').at);
	const start = Math.min(...firstPolls);
	const span = Math.max(...noticed) - start;
	const slowest = Math.max(...completed) - start;
	const sum = imports.reduce((total, entry, i) => total + completed[i] - entry.polls[0].at, 0);
	// Slack for a loaded CI machine (two jest workers on two cores): the interval cap plus 0.8 s.
	// Waiting one item after the other would overshoot by the sum of the others.
	expect(span - slowest).toBeLessThanOrEqual(200 + 800);
	expect(span).toBeLessThan(sum / 5);
	// Each import was noticed within one interval (capped at 0.2 s) of finishing, give or take
	// the status request itself.
	// The bound proper (lag ≤ the interval) is measured by `npm run bench`; this keeps room for load.
	imports.forEach((_, i) => expect(noticed[i] - completed[i]).toBeLessThanOrEqual(200 + 800));
});
