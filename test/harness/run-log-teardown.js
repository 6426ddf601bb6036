'use strict';

/**
 * jest globalTeardown: scans everything the suite's runs produced (outputs, errors field by field,
 * n8n's log lines) for the simulator's API keys and every key a run was given, and for signed-URL
 * signatures outside the uploadUrl / signedUrl fields. A leak fails the jest run (exit code 1).
 */

const { DEFAULT_KEYS } = require('../simulator');
const { runLogDir, scanRunLog } = require('./run-log');

module.exports = async function runLogTeardown() {
	const dir = runLogDir();
	const summary = scanRunLog(dir, Object.keys(DEFAULT_KEYS));
	const counts = `${summary.runs} runs, ${summary.errors} node errors and ${summary.logLines} log lines from ${summary.files} processes, for ${summary.keys} API keys and signed-URL signatures`;
	if (summary.leaks.length === 0) {
		process.stdout.write(`\nSecret scan: ${counts}: no leaks.\n`);
		return;
	}
	const shown = summary.leaks
		.slice(0, 20)
		.map((leak) => `  - ${leak.kind} ${leak.key ?? leak.where} in ${leak.test ?? '(no test)'}`)
		.join('\n');
	throw new Error(
		`Secret scan: ${summary.leaks.length} leak(s) in ${counts} (run log: ${dir}):\n${shown}`,
	);
};
