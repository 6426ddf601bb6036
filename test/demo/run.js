'use strict';

/**
 * The demo: starts the Terros simulator, then runs a real workflow through n8n's engine:
 * a CSV of accounts → Import File (and wait) → Get Errors (failed rows) → Clean Up.
 * Prints each status change as Terros makes it, and a summary at the end.
 */

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const { startSimulator } = require('../simulator');
const { startWorkflow, cleanupUserFolder } = require('../harness/engine');
const { sampleAccounts } = require('./sample');

const STEP_MS = Number(process.env.TERROS_DEMO_STEP_MS ?? 1000);
const started = Date.now();
const clock = () => `${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s`;
const say = (text) => console.log(`[${clock()}] ${text}`);

function watchStatuses(sim) {
	const seen = new Map();
	const timer = setInterval(() => {
		for (const record of sim.imports.values()) {
			if (seen.get(record.importId) !== record.importStatus) {
				seen.set(record.importId, record.importStatus);
				const counts =
					record.importStatus === 'Completed' || record.importStatus === 'Failed'
						? ` (${record.successes} imported, ${record.errors} rejected)`
						: '';
				say(`Terros: ${record.importId} is ${record.importStatus}${counts}`);
			}
		}
	}, 25);
	return () => clearInterval(timer);
}

function table(rows) {
	const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
	const line = (r) => `| ${r.map((c, i) => String(c).padEnd(widths[i])).join(' | ')} |`;
	return [
		line(rows[0]),
		`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
		...rows.slice(1).map(line),
	].join('\n');
}

async function main() {
	const sim = await startSimulator({ stepMs: STEP_MS });
	say(`Terros simulator at ${sim.baseUrl} (uploads at ${sim.s3Url})`);
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'terros-demo-'));
	const sample = sampleAccounts(300);
	const file = path.join(dir, 'accounts.csv');
	fs.writeFileSync(file, sample.csv);
	say(`Sample export: ${sample.rows} accounts, ${sample.badRows.size} of them with a problem`);
	const stopWatching = watchStatuses(sim);

	const nodes = [
		{
			name: 'Accounts CSV',
			type: 'test.testInput',
			parameters: { items: JSON.stringify([{ binaryFile: file, fileName: 'accounts.csv' }]) },
		},
		{
			name: 'Import File',
			type: 'terros.terrosImport',
			parameters: {
				resource: 'import',
				operation: 'importFile',
				entity: 'Account',
				name: 'Demo: nightly accounts',
				options: {
					columnMapping: {
						mappings: [
							{ csvColumn: 'Company', terrosHeader: 'name' },
							{ csvColumn: 'E-mail', terrosHeader: 'email' },
						],
					},
				},
				pollInterval: STEP_MS / 2000,
				maxPollInterval: STEP_MS / 1000,
				timeout: 2,
			},
		},
		{
			name: 'Get Errors',
			type: 'terros.terrosImport',
			parameters: { resource: 'import', operation: 'getErrors', output: 'rows' },
		},
		{
			name: 'Clean Up',
			type: 'terros.terrosImport',
			parameters: { resource: 'import', operation: 'cleanUp' },
			executeOnce: true,
		},
	];
	const execution = startWorkflow({
		nodes,
		credentials: { apiKey: 'sim-key-acme', baseUrl: sim.baseUrl },
		onNodeStart: (name) => say(`n8n: ${name} started`),
		onNodeEnd: (name, task) => {
			const items = task.data?.main?.[0]?.length ?? 0;
			say(
				task.error
					? `n8n: ${name} failed: ${task.error.message}`
					: `n8n: ${name} done, ${items} item(s)`,
			);
		},
	});
	const result = await execution.promise;
	stopWatching();

	let ok = result.status === 'success';
	if (ok) {
		const imported = result.output('Import File')[0].json;
		const rows = result.output('Get Errors').map((item) => item.json);
		const cleaned = result.output('Clean Up')[0].json;
		console.log('\nSummary\n');
		console.log(
			table([
				['import', 'status', 'successes', 'errors', 'total', 'waited', 'cleaned up'],
				[
					imported.importId,
					imported.importStatus,
					imported.successes,
					imported.errors,
					imported.totalMessages,
					`${imported.waitedSeconds} s`,
					cleaned.cleanedUp ? 'yes' : 'no',
				],
			]),
		);
		console.log('\nFirst failed rows\n');
		console.log(table([['row', 'reason'], ...rows.slice(0, 8).map((r) => [r.row, r.reason])]));
		if (rows.length > 8) console.log(`… and ${rows.length - 8} more`);
		const expectedRows = [...sample.badRows.keys()];
		const gotRows = rows.map((r) => r.row);
		ok =
			imported.successes === sample.rows - sample.badRows.size &&
			imported.errors === sample.badRows.size &&
			JSON.stringify(gotRows) === JSON.stringify(expectedRows);
		console.log(
			ok
				? `\nEvery count and failed row matches the sample (${expectedRows.length} bad rows).`
				: `\nMismatch: expected failed rows ${expectedRows.join(', ')}, got ${gotRows.join(', ')}`,
		);
	} else {
		const error = result.workflowError;
		console.error(`\nThe workflow failed: ${error?.message}\n${error?.description ?? ''}`);
	}
	await sim.stop();
	fs.rmSync(dir, { recursive: true, force: true });
	await cleanupUserFolder();
	say(ok ? 'Demo finished.' : 'Demo failed.');
	process.exitCode = ok ? 0 : 1;
}

main().catch((error) => {
	console.error(error);
	process.exit(1);
});
