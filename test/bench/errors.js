'use strict';

/**
 * Target 2, error details: Get Errors (Failed Rows) over an import with many error files, the
 * simulator answering each file after an S3-like first-byte latency, against one request at a
 * time (measured on a sample and scaled). Also counts the connections the simulator accepted.
 */

const fs = require('node:fs');
const path = require('node:path');

const {
	addImport,
	apiCall,
	countConnections,
	fmt,
	runNodeChild,
	settled,
	timed,
	uploadText,
} = require('./lib');

const CHILD = path.join(__dirname, 'workflow-child.js');

/** An import of `count` accounts, every one with a bad email: `count` error files. */
async function importWithErrors(sim, count) {
	const { importId, url } = await addImport(sim);
	let csv = 'name,email\n';
	for (let i = 1; i <= count; i++) csv += `Account ${i},not-an-email-${i}\n`;
	await uploadText(url, csv);
	const record = await settled(sim, importId);
	if (record.errors !== count) throw new Error(`expected ${count} errors, got ${record.errors}`);
	return importId;
}

/** Runs Get Errors (Failed Rows) in a child process; reads the simulator's view of it. */
async function getErrorsRun(sim, importId, concurrency, { dir, env }) {
	const spec = {
		nodes: [
			{
				name: 'Input',
				type: 'test.testInput',
				parameters: { items: JSON.stringify([{ importId }]) },
			},
			{
				name: 'Get Errors',
				type: 'terros.terrosImport',
				parameters: {
					resource: 'import',
					operation: 'getErrors',
					output: 'rows',
					errorOptions: { concurrency },
				},
			},
		],
		credentials: { apiKey: 'sim-key-acme', baseUrl: sim.baseUrl },
		measure: 'Get Errors',
		pick: ['row'],
	};
	const specFile = path.join(dir, `errors-${importId.replace(/\W/g, '')}-${concurrency}.json`);
	fs.writeFileSync(specFile, JSON.stringify(spec));
	const firstRequest = sim.requests.length;
	sim.stats.s3.peakInFlight = sim.stats.s3.inFlight;
	const connections = countConnections(sim.s3Server);
	const report = await runNodeChild(CHILD, [specFile], { nodeArgs: ['--expose-gc'], env });
	connections.stop();
	const gets = sim.requests.slice(firstRequest).filter((r) => r.server === 's3');
	const rows = report.picked?.map((p) => p.row) ?? [];
	const inOrder = rows.length > 0 && rows.every((row, i) => row === i + 1);
	return {
		...report,
		picked: undefined,
		concurrency,
		requests: gets.length,
		sockets: connections.accepted,
		peakOpenSockets: connections.peakOpen,
		peakInFlight: sim.stats.s3.peakInFlight,
		inOrder,
	};
}

/** curl fetching `urls`, `parallel` at a time (keep-alive unless `close`). */
async function curlFetchAll(sim, urls, parallel, { dir, close = false }) {
	const config = path.join(dir, `curl-urls-${urls.length}.txt`);
	fs.writeFileSync(config, urls.map((u) => `url = "${u}"\noutput = "/dev/null"\n`).join(''));
	const connections = countConnections(sim.s3Server);
	// --parallel-immediate: open connections at once rather than wait to reuse one.
	const args = ['-sS', '--fail', '-Z', '--parallel-immediate', '--parallel-max', String(parallel)];
	args.push('-K', config);
	if (close) args.push('-H', 'Connection: close');
	const result = await timed('curl', args);
	connections.stop();
	return { wallMs: result.wallMs, ok: result.exitCode === 0, sockets: connections.accepted };
}

async function benchErrors(sim, { count, sample, latencyMs, dir, env, log }) {
	log(`errors: making imports with ${count} and ${sample} error files`);
	const bigImport = await importWithErrors(sim, count);
	const sampleImport = await importWithErrors(sim, sample);

	const listStarted = Date.now();
	const { records } = await apiCall(sim, '/import/errors', { importId: bigImport });
	const listMs = Date.now() - listStarted;

	sim.options.s3GetLatencyMs = latencyMs;
	log(`errors: node, ${count} files, 10 at a time`);
	const ours = await getErrorsRun(sim, bigImport, 10, { dir, env });
	log(`errors: ${fmt.ms(ours.nodeMs)}, ${ours.items} rows, ${ours.sockets} sockets`);
	log(`errors: node, ${sample} files, one at a time`);
	const serial = await getErrorsRun(sim, sampleImport, 1, { dir, env });
	log(`errors: ${fmt.ms(serial.nodeMs)}`);
	log(`errors: node, ${sample} files, 10 at a time`);
	const oursSample = await getErrorsRun(sim, sampleImport, 10, { dir, env });
	const sampleUrls = (await apiCall(sim, '/import/errors', { importId: sampleImport })).records.map(
		(r) => r.signedUrl,
	);
	log('errors: curl on the sample, 10 at a time, keep-alive and not');
	const curlKeepAlive = await curlFetchAll(sim, sampleUrls, 10, { dir });
	const curlClose = await curlFetchAll(sim, sampleUrls, 10, { dir, close: true });

	sim.options.s3GetLatencyMs = 0;
	log(`errors: simulator alone (no latency), curl, ${count} files, 10 at a time`);
	const capacity = await curlFetchAll(
		sim,
		records.map((r) => r.signedUrl),
		10,
		{ dir },
	);
	return {
		count,
		sample,
		latencyMs,
		listMs,
		ours,
		serial,
		oursSample,
		curlKeepAlive,
		curlClose,
		capacity,
	};
}

const kib = (bytes) => `${(bytes / 1024).toFixed(2)} KiB`;

function errorRows(r) {
	const scaled = r.serial.nodeMs * (r.count / r.sample);
	const speedup = scaled / r.ours.nodeMs;
	// V8 heap still in use after the node (after a full GC), per file beyond the sample's.
	const marginal =
		(r.ours.retainedBytes - r.oursSample.retainedBytes) / (r.ours.items - r.oursSample.items);
	const items = r.ours.itemsHeapBytes / r.ours.items;
	const latency = Array.isArray(r.latencyMs) ? r.latencyMs.join('–') : r.latencyMs;
	return [
		[
			`2. Error details: ${r.count.toLocaleString('en')} files, ${latency} ms first-byte latency`,
			`${fmt.ms(r.ours.nodeMs)} (10 at a time)`,
			`one at a time: ${fmt.ms(r.serial.nodeMs)} for ${r.sample.toLocaleString('en')}, ×${r.count / r.sample} = ${fmt.ms(scaled)}`,
			`${speedup.toFixed(1)}× faster`,
			'≥ 8× faster',
			speedup >= 8 && r.ours.ok && r.ours.items === r.count ? 'yes' : 'no',
		],
		[
			'2. Error details: most requests in flight (simulator count)',
			String(r.ours.peakInFlight),
			'Parallel Downloads: 10',
			fmt.ratio(r.ours.peakInFlight / 10),
			'≤ the parameter',
			r.ours.peakInFlight <= 10 ? 'yes' : 'no',
		],
		[
			'2. Error details: rows in row order',
			r.ours.inOrder ? `1…${r.ours.items}, in order` : 'NOT in order',
			`${r.count.toLocaleString('en')} error rows`,
			'',
			'row order',
			r.ours.inOrder && r.serial.inOrder ? 'yes' : 'no',
		],
		[
			'2. Error details: connections (sockets the simulator accepted)',
			`${r.ours.sockets.toLocaleString('en')} for ${r.ours.requests.toLocaleString('en')} requests`,
			`curl, keep-alive: ${r.curlKeepAlive.sockets} for ${r.sample.toLocaleString('en')}`,
			fmt.ratio(r.ours.sockets / r.ours.requests),
			'keep-alive (sockets < requests)',
			r.ours.sockets < r.ours.requests ? 'yes' : 'no (n8n makes a new agent per request)',
		],
		[
			`2. Error details: memory kept per extra file (${r.sample.toLocaleString('en')} → ${r.count.toLocaleString('en')} files)`,
			`${kib(marginal)} (peak RSS +${fmt.mib(r.oursSample.growthKiB)} → +${fmt.mib(r.ours.growthKiB)})`,
			`the output items alone: ${kib(items)} per file`,
			fmt.ratio(marginal / items),
			'no growth with the file count beyond the output items',
			marginal <= items * 1.25 ? 'yes (kept); peak RSS: see notes' : 'no',
		],
	];
}

module.exports = { benchErrors, errorRows };
