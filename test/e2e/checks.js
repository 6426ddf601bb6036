'use strict';

/** What each example workflow must produce against the simulator, node by node. */

const assert = require('node:assert/strict');

/** The JSON of every item a node output in its first run. */
function items(runData, node) {
	const task = runData[node]?.[0];
	assert.ok(task, `node "${node}" did not run`);
	assert.equal(task.error, undefined, `node "${node}" failed: ${task.error?.message}`);
	return (task.data?.main?.[0] ?? []).map((item) => item.json);
}

const checks = [
	{
		file: 'import-csv-one-step.json',
		assert(runData) {
			const [result] = items(runData, 'Import Accounts');
			assert.equal(result.importStatus, 'Completed');
			assert.equal(result.successes, 3);
			assert.equal(result.errors, 2);
			assert.deepEqual(
				result.failedRows.map((r) => [r.row, r.reason]),
				[
					[3, '"not-an-email" is not a valid email address'],
					[4, 'name is required'],
				],
			);
		},
	},
	{
		file: 'import-step-by-step.json',
		assert(runData, sim) {
			const [created] = items(runData, 'Create Import');
			assert.match(created.importId, /^Import:/);
			const [uploaded] = items(runData, 'Upload File');
			assert.equal(uploaded.uploaded, true);
			const [done] = items(runData, 'Wait for Completion');
			assert.deepEqual([done.importStatus, done.successes, done.errors], ['Completed', 3, 2]);
			const rows = items(runData, 'Get Errors').map((r) => r.row);
			assert.deepEqual(rows, [3, 4]);
			const [cleaned] = items(runData, 'Clean Up');
			assert.equal(cleaned.cleanedUp, true);
			assert.equal(sim.imports.get(created.importId).cleanedUp, true);
		},
	},
	{
		file: 'failed-import-and-error-rows.json',
		assert(runData) {
			const [failed] = items(runData, 'Import Contacts (fails)');
			assert.equal(failed.importStatus, 'Failed');
			assert.equal(failed.reason, 'Missing required column(s) for Contact: lastName');
			const rows = items(runData, 'Get Error Rows').map((r) => [r.row, r.reason]);
			assert.deepEqual(rows, [
				[2, 'lastName is required'],
				[3, '"alan-at-example" is not a valid email address'],
			]);
		},
	},
];

module.exports = { checks, items };
