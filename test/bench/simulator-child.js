'use strict';

/**
 * Child entry for the benchmarks: starts the simulator without CSV processing, prints its URLs as
 * one JSON line, and answers `{ type: 'memory', id, resetPeak? }` IPC messages with its resident
 * set size and peak (after resetting the peak when asked).
 */

const fs = require('node:fs');
const { startSimulator } = require('../simulator');

/** A field of /proc/self/status in KiB (Linux), e.g. VmHWM: the peak RSS since the last reset. */
function procField(name) {
	try {
		const status = fs.readFileSync('/proc/self/status', 'utf8');
		return Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]);
	} catch {
		return NaN;
	}
}

function resetPeak() {
	try {
		fs.writeFileSync('/proc/self/clear_refs', '5');
		return true;
	} catch {
		return false;
	}
}

async function main() {
	const sim = await startSimulator({ apiPort: 0, s3Port: 0, stepMs: 5, processCsv: false });
	let stopping;
	const stop = () => {
		stopping ??= sim.stop().finally(() => process.exit(0));
		return stopping;
	};
	process.on('message', (message) => {
		if (message?.type === 'memory') {
			// `resetPeak`: from now on, the peak (VmHWM) counts from the current RSS.
			const reset = message.resetPeak ? resetPeak() : false;
			process.send({
				type: 'memory',
				id: message.id,
				maxRssKiB: process.resourceUsage().maxRSS,
				hwmKiB: procField('VmHWM'),
				peakReset: reset,
				rssBytes: process.memoryUsage().rss,
			});
		} else if (message?.type === 'stop') {
			stop();
		}
	});
	process.on('disconnect', stop);
	process.on('SIGTERM', stop);
	process.stdout.write(`${JSON.stringify({ baseUrl: sim.baseUrl, s3Url: sim.s3Url })}\n`);
}

main().catch((error) => {
	console.error(error);
	process.exit(1);
});
