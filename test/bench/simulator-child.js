'use strict';

/**
 * Child entry for the benchmarks: starts the simulator without CSV processing, prints its URLs as
 * one JSON line, and answers `{ type: 'memory', id }` IPC messages with its resident set size.
 */

const { startSimulator } = require('../simulator');

async function main() {
	const sim = await startSimulator({ apiPort: 0, s3Port: 0, stepMs: 5, processCsv: false });
	let stopping;
	const stop = () => {
		stopping ??= sim.stop().finally(() => process.exit(0));
		return stopping;
	};
	process.on('message', (message) => {
		if (message?.type === 'memory') {
			process.send({
				type: 'memory',
				id: message.id,
				maxRssKiB: process.resourceUsage().maxRSS,
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
