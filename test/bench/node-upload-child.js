'use strict';

/**
 * Uploads one file through the Terros Import node (Upload File, inside n8n-core's engine) to a
 * simulator running in another process, then prints one JSON line: the outcome and this
 * process's own peak RSS. Used by the streaming regression test and the upload benchmark.
 *
 *   node test/bench/node-upload-child.js <baseUrl> <uploadUrl> <file>
 */

const { runWorkflow, cleanupUserFolder } = require('../harness/engine');

async function main() {
	const [baseUrl, uploadUrl, file] = process.argv.slice(2);
	const startedAt = Date.now();
	const result = await runWorkflow({
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
	});
	const error = result.error('Upload');
	const output = error ? null : result.output('Upload')[0].json;
	const input = result.output('Input')[0].binary.data;
	process.stdout.write(
		`${JSON.stringify({
			ok: !error,
			error: error?.message,
			output,
			binaryId: input.id ?? null,
			wallMs: Date.now() - startedAt,
			maxRssKiB: process.resourceUsage().maxRSS,
		})}\n`,
	);
	await cleanupUserFolder();
}

main().catch((error) => {
	process.stdout.write(`${JSON.stringify({ ok: false, error: String(error?.stack ?? error) })}\n`);
	process.exitCode = 1;
});
