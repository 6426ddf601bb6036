const { startSimulator } = require('/work/main/test/simulator');
const { runWorkflow } = require('/work/main/test/harness/engine');
let sim;
beforeAll(async () => { sim = await startSimulator({ stepMs: 5 }); });
afterAll(() => sim.stop());
it('imports a file', async () => {
	const csv = '\uFEFFname,email\r\nAcme,a@b.co\r\n"Multi\nline, inc",bad-email\r\n,x@y.z\r\n';
	const result = await runWorkflow({
		nodes: [
			{ name: 'Start', type: 'test.testInput', parameters: { items: JSON.stringify([{ binaryText: csv }]) } },
			{ name: 'Import', type: 'terros.terrosImport', parameters: { operation: 'importFile', entity: 'Account', name: 'n', pollInterval: 0.02, includeErrorRows: true } },
			{ name: 'Errors', type: 'terros.terrosImport', parameters: { operation: 'getErrors', output: 'rows' } },
			{ name: 'Clean', type: 'terros.terrosImport', parameters: { operation: 'cleanUp' } },
		],
		credentials: { apiKey: 'sim-key-acme', baseUrl: sim.baseUrl },
	});
	console.log(result.status, result.workflowError?.message, result.workflowError?.description);
	console.log(JSON.stringify(result.runData.Start[0].data.main[0][0].binary));
	console.log(JSON.stringify(result.output('Import'), null, 1));
	console.log(JSON.stringify(result.output('Errors')));
	console.log(JSON.stringify(result.output('Clean')));
	console.log(sim.requests.map(r => `${r.server} ${r.method} ${r.path} auth=${r.headers.authorization} ct=${r.headers['content-type']} cl=${r.headers['content-length']} te=${r.headers['transfer-encoding']}`).join('\n'));
});
