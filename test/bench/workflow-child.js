'use strict';

/**
 * Runs one workflow of the Terros node inside n8n-core's engine, in a process of its own, and
 * prints one JSON line about one node of it (`measure`): its wall time, CPU time, memory and
 * chosen fields of its output items. Used by the error-details and wait benchmarks.
 *
 *   node --expose-gc test/bench/workflow-child.js <spec.json>
 *
 * spec: { nodes, credentials, measure, pick: [field…], retryTimingMs? }
 * Memory: `growthKiB` is the node's peak RSS minus the RSS when it started (the kernel's peak is
 * reset at its start); `retainedBytes` is the V8 heap still in use after it, after a full GC,
 * minus the same before it: what its output items (and the engine's record of them) hold;
 * `itemsHeapBytes` is what a copy of the items' json takes, for comparison.
 */

const fs = require('node:fs');
const path = require('node:path');
const { startWorkflow, cleanupUserFolder } = require('../harness/engine');

function procMemory() {
	const status = fs.readFileSync('/proc/self/status', 'utf8');
	const field = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]);
	return { rssKiB: field('VmRSS'), hwmKiB: field('VmHWM') };
}

function resetPeak() {
	try {
		fs.writeFileSync('/proc/self/clear_refs', '5');
		return true;
	} catch {
		return false;
	}
}

const collect = () => (typeof global.gc === 'function' ? global.gc() : undefined);

async function main() {
	const spec = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
	if (spec.retryTimingMs) {
		const dist = path.resolve(__dirname, '../../dist/nodes/TerrosImport/transport/retry.js');
		Object.assign(require(dist).retryTiming, spec.retryTimingMs);
	}
	const m = {};
	const { promise } = startWorkflow({
		nodes: spec.nodes,
		credentials: spec.credentials,
		onNodeStart: (name) => {
			if (name !== spec.measure) return;
			collect();
			m.heapBefore = process.memoryUsage().heapUsed;
			m.peakReset = resetPeak();
			m.before = procMemory();
			m.cpuBefore = process.cpuUsage();
			m.startedAt = Date.now();
		},
		onNodeEnd: (name) => {
			if (name !== spec.measure) return;
			m.endedAt = Date.now();
			m.cpu = process.cpuUsage(m.cpuBefore);
			m.after = procMemory();
			collect();
			m.heapAfter = process.memoryUsage().heapUsed;
		},
	});
	const result = await promise;
	const error = result.error(spec.measure);
	const items = error ? [] : result.output(spec.measure);
	const picked = items.map((item) =>
		Object.fromEntries((spec.pick ?? []).map((field) => [field, item.json[field]])),
	);
	const jsonBytes = items.reduce((total, item) => total + JSON.stringify(item.json).length, 0);
	// The heap the output items' json takes by itself: a copy of it, measured.
	collect();
	const heapBeforeCopy = process.memoryUsage().heapUsed;
	const copy = structuredClone(items.map((item) => item.json));
	collect();
	const itemsHeapBytes = process.memoryUsage().heapUsed - heapBeforeCopy;
	process.stdout.write(
		`${JSON.stringify({
			ok: !error,
			error: error?.message,
			startedAt: m.startedAt,
			endedAt: m.endedAt,
			nodeMs: m.endedAt - m.startedAt,
			cpuMs: m.cpu && Math.round((m.cpu.user + m.cpu.system) / 1000),
			items: items.length,
			jsonBytes,
			rssBeforeKiB: m.before?.rssKiB,
			growthKiB: m.peakReset ? m.after.hwmKiB - m.before.rssKiB : null,
			retainedBytes: m.heapAfter - m.heapBefore,
			itemsHeapBytes: copy.length === items.length ? itemsHeapBytes : null,
			picked,
		})}\n`,
	);
	await cleanupUserFolder();
}

main().catch((error) => {
	process.stdout.write(`${JSON.stringify({ ok: false, error: String(error?.stack ?? error) })}\n`);
	process.exitCode = 1;
});
