'use strict';

/**
 * Target 1, upload: the node's Upload File (in n8n-core's engine, file in the filesystem binary
 * store, a child process of its own) against `curl -T` of the same file to the same simulator
 * endpoint, runs alternating, medians reported.
 */

const fsp = require('node:fs/promises');
const path = require('node:path');

const { addImport, fmt, median, runNodeChild, syncDisks, timed, writeCsv } = require('./lib');

const CHILD = path.join(__dirname, 'node-upload-child.js');
const GROWTH_LIMIT_KIB = 64 * 1024;

/** The S3 PUT the simulator received for an import: its headers. */
function putHeaders(sim, importId) {
	const suffix = `/imports/${encodeURIComponent(importId)}/upload.csv`;
	const put = [...sim.requests]
		.reverse()
		.find((r) => r.server === 's3' && r.method === 'PUT' && r.path.endsWith(suffix));
	return put?.headers;
}

function framingOk(headers, size) {
	return (
		headers !== undefined &&
		headers['content-length'] === String(size) &&
		headers['transfer-encoding'] === undefined
	);
}

async function curlRun(sim, file, size) {
	const { importId, url } = await addImport(sim);
	syncDisks();
	const result = await timed('curl', [
		'-sS',
		'--fail',
		'-o',
		'/dev/null',
		'-T',
		file,
		'-H',
		'Content-Type: text/csv',
		url,
	]);
	const record = sim.imports.get(importId);
	return {
		ok: result.exitCode === 0 && record.uploadedBytes === size,
		wallMs: result.wallMs,
		cpuMs: result.cpuMs,
		maxRssKiB: result.maxRssKiB,
		framingOk: framingOk(putHeaders(sim, importId), size),
	};
}

async function nodeRun(sim, file, size, crc32, env) {
	const { importId, url } = await addImport(sim);
	syncDisks();
	const report = await runNodeChild(CHILD, [sim.baseUrl, url, file], { env });
	const record = sim.imports.get(importId);
	return {
		ok:
			report.ok &&
			report.output?.bytes === size &&
			report.output?.etag === `"crc32-${crc32}"` &&
			record.uploadedBytes === size,
		error: report.error,
		wallMs: report.uploadWallMs,
		cpuMs: report.uploadCpuMs,
		growthKiB: report.uploadGrowthKiB,
		rssBeforeKiB: report.rssBeforeUploadKiB,
		peakKiB: report.peakRssDuringUploadKiB,
		gc: report.uploadGc,
		threads: report.uploadThreadCpuMs,
		framingOk: framingOk(putHeaders(sim, importId), size),
		binaryId: report.binaryId,
	};
}

/**
 * Runs the upload comparison for each size in `sizes` (bytes), `runs` times each side, the sides
 * alternating (and the side that goes first alternating too).
 */
async function benchUpload(sim, { sizes, runs, dir, env, log }) {
	const results = [];
	for (const bytes of sizes) {
		const file = path.join(dir, `upload-${bytes}.csv`);
		log(`upload: writing a ${fmt.size(bytes)} CSV`);
		const { size, crc32 } = await writeCsv(file, bytes);
		const curl = [];
		const node = [];
		for (let run = 0; run < runs; run++) {
			const order = run % 2 === 0 ? ['curl', 'node'] : ['node', 'curl'];
			for (const side of order) {
				if (side === 'curl') {
					const r = await curlRun(sim, file, size);
					curl.push(r);
					log(`upload ${fmt.size(size)} curl #${run + 1}: ${fmt.ms(r.wallMs)}, ok ${r.ok}`);
				} else {
					const r = await nodeRun(sim, file, size, crc32, env);
					node.push(r);
					log(
						`upload ${fmt.size(size)} node #${run + 1}: ${fmt.ms(r.wallMs)}, growth ${fmt.mib(r.growthKiB)}, ok ${r.ok}${r.error ? ` (${r.error})` : ''}`,
					);
				}
			}
		}
		await fsp.rm(file, { force: true });
		results.push({
			size,
			curl,
			node,
			curlWallMs: median(curl.map((r) => r.wallMs)),
			nodeWallMs: median(node.map((r) => r.wallMs)),
			curlCpuMs: median(curl.map((r) => r.cpuMs)),
			nodeCpuMs: median(node.map((r) => r.cpuMs)),
			curlMaxRssKiB: median(curl.map((r) => r.maxRssKiB)),
			nodeGrowthKiB: median(node.map((r) => r.growthKiB)),
			nodeGrowthMaxKiB: Math.max(...node.map((r) => r.growthKiB)),
			allOk: [...curl, ...node].every((r) => r.ok),
			framingOk: node.every((r) => r.framingOk),
			filesystem: node.every((r) => /^filesystem/.test(r.binaryId ?? '')),
		});
	}
	return results;
}

/** Main-table rows for the upload target. */
function uploadRows(results) {
	const rows = [];
	for (const r of results) {
		const ratio = r.nodeWallMs / r.curlWallMs;
		rows.push([
			`1. Upload ${fmt.size(r.size)}: wall time (median of ${r.node.length})`,
			`${fmt.ms(r.nodeWallMs)} (${fmt.rate(r.size, r.nodeWallMs)})`,
			`curl -T: ${fmt.ms(r.curlWallMs)} (${fmt.rate(r.size, r.curlWallMs)})`,
			fmt.ratio(ratio),
			'≤ 1.2×',
			ratio <= 1.2 ? 'yes' : 'no',
		]);
	}
	for (const r of results) {
		const worst = r.node.reduce((a, b) => (b.growthKiB > a.growthKiB ? b : a));
		rows.push([
			`1. Upload ${fmt.size(r.size)}: peak RSS growth (worst of ${r.node.length})`,
			`${fmt.mib(worst.growthKiB)} (RSS ${fmt.mib(worst.rssBeforeKiB)} → ${fmt.mib(worst.peakKiB)})`,
			`curl's whole peak RSS: ${fmt.mib(r.curlMaxRssKiB)}`,
			fmt.ratio(worst.growthKiB / r.curlMaxRssKiB),
			'≤ 64 MiB',
			worst.growthKiB <= GROWTH_LIMIT_KIB ? 'yes' : 'no',
		]);
	}
	if (results.length >= 2) {
		const small = results[0];
		const big = results[results.length - 1];
		const peak = (r) => Math.max(...r.node.map((n) => n.peakKiB));
		const ratio = peak(big) / peak(small);
		rows.push([
			`1. Upload: peak RSS during the upload, ${fmt.size(big.size)} vs ${fmt.size(small.size)} (worst of each)`,
			fmt.mib(peak(big)),
			fmt.mib(peak(small)),
			fmt.ratio(ratio),
			`the same for both sizes (a buffered upload would add ${fmt.size(big.size - small.size)})`,
			ratio <= 1.1 ? 'yes' : 'no',
		]);
	}
	const big = results[results.length - 1];
	const framing = results.every((r) => r.allOk && r.framingOk && r.filesystem);
	rows.push([
		`1. Upload: ${fmt.size(big.size)} file works, Content-Length sent, no chunked encoding`,
		framing ? 'every run: HTTP 200, all bytes, ETag matches' : 'FAILED',
		'curl: the same',
		'',
		'files > 2 GiB work',
		framing && big.size > 2 ** 31 ? 'yes' : big.size > 2 ** 31 ? 'no' : 'n/a (quick)',
	]);
	return rows;
}

module.exports = { benchUpload, uploadRows };
