'use strict';

/**
 * Target 3, waiting: one Wait for Completion node given many imports. The simulator finishes each
 * import a chosen time after the node first asks about it (the file is uploaded at the right
 * moment), and records every status request, so that for each import we know when it reached its
 * final status, when the node noticed, and how many requests that took.
 */

const fs = require('node:fs');
const path = require('node:path');

const { addImport, fmt, runNodeChild, sum, uploadText } = require('./lib');

const CHILD = path.join(__dirname, 'workflow-child.js');
const FINAL = new Set(['Completed', 'Failed']);
const CSV = 'name,email\nAcme,ops@acme.example\n';
/**
 * The lag may pass the interval by the time one status request takes: the node sleeps the
 * interval after the previous answer arrives, and the simulator sees the next request a moment
 * after it is sent.
 */
const REQUEST_ALLOWANCE_MS = 50;

/** Poll times of the node's schedule (first at once, then doubling to the cap) until `durationMs`. */
function modelPolls(durationMs, initialMs, capMs) {
	let t = 0;
	let polls = 1;
	let interval = initialMs;
	while (t < durationMs) {
		t += interval;
		polls++;
		interval = Math.min(interval * 2, capMs);
	}
	return polls;
}

/** The interval the node slept before its `polls`-th request. */
function intervalInForce(polls, initialMs, capMs) {
	return Math.min(initialMs * 2 ** Math.max(0, polls - 2), capMs);
}

/**
 * Runs one Wait node over imports finishing `durationsMs` after the node's first request for
 * each; returns per-import measurements and the node's own wall time.
 */
async function waitScenario(sim, durationsMs, { initialMs, capMs, dir, env, name }) {
	const processingMs = 4 * sim.options.stepMs;
	const imports = [];
	for (const durationMs of durationsMs) {
		const { importId, url } = await addImport(sim);
		imports.push({ importId, url, durationMs, polls: [] });
	}
	const byId = new Map(imports.map((i) => [i.importId, i]));
	const original = sim.findImport;
	const uploads = [];
	sim.findImport = function recordPoll(caller, body) {
		const record = original.call(this, caller, body);
		const entry = byId.get(record.importId);
		if (entry) {
			const at = Date.now();
			entry.polls.push({ at, status: record.importStatus });
			if (entry.polls.length === 1) {
				const delay = Math.max(0, entry.durationMs - processingMs);
				uploads.push(
					new Promise((resolve) => setTimeout(resolve, delay)).then(() =>
						uploadText(entry.url, CSV),
					),
				);
			}
		}
		return record;
	};
	const spec = {
		nodes: [
			{
				name: 'Input',
				type: 'test.testInput',
				parameters: { items: JSON.stringify(imports.map((i) => ({ importId: i.importId }))) },
			},
			{
				name: 'Wait',
				type: 'terros.terrosImport',
				parameters: {
					resource: 'import',
					operation: 'waitForCompletion',
					pollInterval: initialMs / 1000,
					maxPollInterval: capMs / 1000,
					timeout: 30,
				},
			},
		],
		credentials: { apiKey: 'sim-key-acme', baseUrl: sim.baseUrl },
		measure: 'Wait',
		pick: ['importId', 'importStatus', 'polls', 'waitedSeconds'],
	};
	const specFile = path.join(dir, `wait-${name}.json`);
	fs.writeFileSync(specFile, JSON.stringify(spec));
	let report;
	try {
		report = await runNodeChild(CHILD, [specFile], { env });
		await Promise.all(uploads);
	} finally {
		sim.findImport = original;
	}
	const perImport = imports.map((entry) => {
		const record = sim.imports.get(entry.importId);
		const firstAt = entry.polls[0]?.at;
		const noticedIndex = entry.polls.findIndex((p) => FINAL.has(p.status));
		const noticedAt = entry.polls[noticedIndex]?.at;
		const polls = noticedIndex + 1;
		const interval = intervalInForce(polls, initialMs, capMs);
		return {
			targetMs: entry.durationMs,
			durationMs: record.completedAt - firstAt,
			finishedAfterStartMs: record.completedAt - report.startedAt,
			polls,
			outputPolls: report.picked?.find((p) => p.importId === entry.importId)?.polls,
			modelPolls: modelPolls(record.completedAt - firstAt, initialMs, capMs),
			fixedPolls: Math.ceil((record.completedAt - firstAt) / initialMs) + 1,
			lagMs: noticedAt - record.completedAt,
			intervalMs: interval,
		};
	});
	return { report, perImport, initialMs, capMs };
}

async function benchWaits(sim, { many, manyRangeMs, durationsMs, dir, env, log }) {
	const [lo, hi] = manyRangeMs;
	// Spread evenly over the range, in a shuffled (but fixed) order.
	const manyDurations = Array.from(
		{ length: many },
		(_, i) => lo + ((hi - lo) * ((i * 37) % many)) / (many - 1),
	);
	log(`waits: ${many} imports of ${lo / 1000}–${hi / 1000} s`);
	const concurrent = await waitScenario(sim, manyDurations, {
		initialMs: 200,
		capMs: 1600,
		dir,
		env,
		name: 'many',
	});
	log(`waits: ${fmt.ms(concurrent.report.nodeMs)}`);
	log(`waits: imports of ${durationsMs.map((d) => d / 1000).join(', ')} s`);
	const durations = await waitScenario(sim, durationsMs, {
		initialMs: 100,
		capMs: 3200,
		dir,
		env,
		name: 'durations',
	});
	log(`waits: ${fmt.ms(durations.report.nodeMs)}`);
	return { concurrent, durations };
}

function waitRows({ concurrent, durations }) {
	const c = concurrent;
	const slowest = Math.max(...c.perImport.map((i) => i.finishedAfterStartMs));
	const total = c.report.nodeMs;
	const sumMs = sum(c.perImport.map((i) => i.durationMs));
	const allOk = c.report.ok && c.report.items === c.perImport.length;
	const rows = [
		[
			`3. Wait: ${c.perImport.length} imports in one node (total vs slowest import)`,
			fmt.ms(total),
			`slowest: ${fmt.ms(slowest)} (sum of all: ${fmt.ms(sumMs)})`,
			fmt.ratio(total / slowest),
			`≤ slowest + the cap (${c.capMs / 1000} s)`,
			allOk && total <= slowest + c.capMs ? 'yes' : 'no',
		],
	];
	const all = [...c.perImport, ...durations.perImport];
	const worst = all.reduce((a, b) => (b.lagMs - b.intervalMs > a.lagMs - a.intervalMs ? b : a));
	const within = all.filter((i) => i.lagMs <= i.intervalMs).length;
	rows.push([
		`3. Wait: lag from final status to the node noticing (${all.length} imports)`,
		`worst: ${fmt.ms(worst.lagMs)} (${within} of ${all.length} within the interval)`,
		`the interval in force then: ${fmt.ms(worst.intervalMs)}`,
		fmt.ratio(worst.lagMs / worst.intervalMs),
		`≤ the interval in force (+ one status request, ${REQUEST_ALLOWANCE_MS} ms)`,
		worst.lagMs <= worst.intervalMs + REQUEST_ALLOWANCE_MS ? 'yes' : 'no',
	]);
	const d = durations.perImport;
	const longest = d[d.length - 1];
	const logOk = d.every((i) => i.polls <= i.modelPolls + 1);
	rows.push([
		`3. Wait: status requests for imports of ${d.map((i) => (i.targetMs / 1000).toString()).join(', ')} s`,
		d.map((i) => i.polls).join(', '),
		`fixed ${durations.initialMs / 1000} s interval: ${d.map((i) => i.fixedPolls).join(', ')}`,
		fmt.ratio(longest.polls / longest.fixedPolls),
		`log₂ growth to the ${durations.capMs / 1000} s cap, then linear`,
		logOk ? 'yes' : 'no',
	]);
	return rows;
}

/** The per-duration detail table. */
function waitDetail({ durations }) {
	return durations.perImport.map((i) => [
		fmt.ms(i.durationMs),
		String(i.polls),
		String(i.modelPolls),
		String(i.fixedPolls),
		fmt.ms(i.lagMs),
		fmt.ms(i.intervalMs),
	]);
}

module.exports = { benchWaits, waitRows, waitDetail, modelPolls };
