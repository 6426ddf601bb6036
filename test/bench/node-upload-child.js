'use strict';

/**
 * Uploads one file through the Terros Import node (Upload File, inside n8n-core's engine) to a
 * simulator running in another process, then prints one JSON line: the outcome and this
 * process's own memory. Used by the streaming regression test and the upload benchmark.
 *
 *   node test/bench/node-upload-child.js <baseUrl> <uploadUrl> <file>
 *
 * The Input node first copies the file into n8n's binary store (filesystem mode). When the Upload
 * node starts, the child notes its resident set and resets the kernel's peak-RSS mark
 * (/proc/self/clear_refs), so that the peak read when the node ends is the upload's own:
 * `uploadGrowthKiB` = that peak − the RSS just before the upload. `maxRssKiB` stays the whole
 * process's peak (getrusage), as before.
 */

const fs = require('node:fs');
const { PerformanceObserver, constants, performance } = require('node:perf_hooks');
const { startWorkflow, cleanupUserFolder } = require('../harness/engine');

/** VmRSS / VmHWM of this process in KiB, from /proc (Linux). */
function procMemory() {
	try {
		const status = fs.readFileSync('/proc/self/status', 'utf8');
		const field = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]);
		return { rssKiB: field('VmRSS'), hwmKiB: field('VmHWM') };
	} catch {
		return { rssKiB: NaN, hwmKiB: NaN };
	}
}

/**
 * CPU time of this process's threads so far, in ms, by thread name: the main thread, V8's
 * workers (concurrent GC marking and sweeping), libuv's pool (file reads), others.
 */
function threadCpu() {
	const byName = {};
	try {
		for (const tid of fs.readdirSync('/proc/self/task')) {
			let stat;
			let name;
			try {
				stat = fs.readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
				name = fs.readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim();
			} catch {
				continue; // The thread ended meanwhile.
			}
			// Fields after the parenthesised name: utime and stime are the 12th and 13th.
			const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
			const ticks = Number(fields[11]) + Number(fields[12]);
			const group = /^V8/.test(name)
				? 'v8Workers'
				: /libuv/.test(name)
					? 'libuvPool'
					: name === 'MainThread' || tid === String(process.pid)
						? 'main'
						: 'other';
			byName[group] = (byName[group] ?? 0) + ticks * 10; // 100 ticks a second
		}
	} catch {
		// Not Linux.
	}
	return byName;
}

function cpuDelta(after, before) {
	return Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v - (before[k] ?? 0)]));
}

/** Resets the kernel's peak RSS of this process to its current RSS; false where unsupported. */
function resetPeak() {
	try {
		fs.writeFileSync('/proc/self/clear_refs', '5');
		return true;
	} catch {
		return false;
	}
}

const GC_KINDS = {
	[constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
	[constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
	[constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
	[constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
};

/** Records every garbage collection; `between(t0, t1)` sums them by kind (performance.now() times). */
function watchGc() {
	const entries = [];
	const observer = new PerformanceObserver((list) => {
		for (const entry of list.getEntries()) {
			entries.push({ at: entry.startTime, ms: entry.duration, kind: entry.detail?.kind });
		}
	});
	observer.observe({ entryTypes: ['gc'] });
	return {
		stop: () => observer.disconnect(),
		between: (t0, t1) => {
			const gc = {};
			for (const e of entries.filter((x) => x.at >= t0 && x.at <= t1)) {
				const kind = GC_KINDS[e.kind] ?? 'other';
				gc[kind] ??= { count: 0, ms: 0 };
				gc[kind].count++;
				gc[kind].ms += e.ms;
			}
			for (const v of Object.values(gc)) v.ms = Math.round(v.ms);
			return gc;
		},
	};
}

async function main() {
	const [baseUrl, uploadUrl, file] = process.argv.slice(2);
	const startedAt = Date.now();
	const upload = {};
	const gcWatch = watchGc();
	const { promise } = startWorkflow({
		nodes: [
			{
				name: 'Input',
				type: 'test.testInput',
				parameters: { items: JSON.stringify([{ binaryFile: file, fileName: 'big.csv' }]) },
			},
			{
				name: 'Upload',
				type: 'terros.terrosImport',
				parameters: { resource: 'import', operation: 'uploadFile', uploadUrl },
			},
		],
		credentials: { apiKey: 'sim-key-acme', baseUrl },
		onNodeStart: (name) => {
			if (name !== 'Upload') return;
			upload.peakReset = resetPeak();
			upload.before = procMemory();
			upload.heapBefore = process.memoryUsage();
			upload.cpuBefore = process.cpuUsage();
			upload.threadsBefore = threadCpu();
			upload.startedAt = Date.now();
			upload.t0 = performance.now();
		},
		onNodeEnd: (name) => {
			if (name !== 'Upload') return;
			upload.endedAt = Date.now();
			upload.t1 = performance.now();
			upload.cpu = process.cpuUsage(upload.cpuBefore);
			upload.threads = cpuDelta(threadCpu(), upload.threadsBefore);
			upload.after = procMemory();
			upload.heapAfter = process.memoryUsage();
		},
	});
	const result = await promise;
	// GC entries are delivered asynchronously: let the last ones of the upload arrive.
	await new Promise((resolve) => setTimeout(resolve, 50));
	gcWatch.stop();
	const error = result.error('Upload');
	const output = error ? null : result.output('Upload')[0].json;
	const input = result.output('Input')[0].binary.data;
	const { before, after } = upload;
	process.stdout.write(
		`${JSON.stringify({
			ok: !error,
			error: error?.message,
			output,
			binaryId: input.id ?? null,
			wallMs: Date.now() - startedAt,
			maxRssKiB: process.resourceUsage().maxRSS,
			uploadWallMs: upload.endedAt - upload.startedAt,
			uploadCpuMs: upload.cpu && Math.round((upload.cpu.user + upload.cpu.system) / 1000),
			uploadCpuUserMs: upload.cpu && Math.round(upload.cpu.user / 1000),
			rssBeforeUploadKiB: before?.rssKiB,
			peakRssDuringUploadKiB: upload.peakReset ? after?.hwmKiB : null,
			uploadGrowthKiB: upload.peakReset ? after.hwmKiB - before.rssKiB : null,
			uploadGc: gcWatch.between(upload.t0, upload.t1),
			uploadThreadCpuMs: upload.threads,
			externalBeforeUpload: upload.heapBefore?.external,
			externalAfterUpload: upload.heapAfter?.external,
		})}\n`,
	);
	await cleanupUserFolder();
}

main().catch((error) => {
	process.stdout.write(`${JSON.stringify({ ok: false, error: String(error?.stack ?? error) })}\n`);
	process.exitCode = 1;
});
