const { useSimulator, run, terros, createImportDirectly, uploadDirectly, settle, errorShape, SAMPLE_CSV } = require('./helpers');
const h = useSimulator();
const show = (r, n) => { const e = r.error(n); console.log(JSON.stringify({status: r.status, out: r.output(n), err: errorShape(e), ctx: e && e.context, ctor: e && e.constructor.name, reqs: h.sim.requests.map(q=>`${q.server} ${q.method} ${q.path} ${q.status}`)}, null, 1)); };
it('x', async () => {
	const sim = h.sim;
	const c = await createImportDirectly(sim);
	console.log(JSON.stringify(c));
	await uploadDirectly(c.url, SAMPLE_CSV);
	await settle(sim, c.importData.importId);
	sim.reset ? null : null;
	sim.requests = [];
	let r = await run(sim, [{ importId: c.importData.importId }], [terros('Get', 'get')]);
	show(r, 'Get');
	for (const f of [{kind:'html', status: 200}, {kind:'html'}, {kind:'empty'}, {kind:'truncated'}, {kind:'drop', times: 0}, {kind: 'envelope', retry: false}, {kind:'envelope', times: 0}]) {
		sim.requests = [];
		sim.inject({ route: '/import/get', times: f.times ?? 4, ...f });
		r = await run(sim, [{ importId: c.importData.importId }], [terros('Get', 'get')]);
		show(r, 'Get');
		sim.faults = [];
	}
	r = await run(sim, [{ importId: 'Import:nope' }], [terros('Get', 'get')]);
	show(r, 'Get');
	r = await run(sim, [{ importId: 'Import:nope' }], [terros('Get', 'get')], 'bad-key');
	show(r, 'Get');
	r = await run(sim, [{ importId: 'Import:nope' }, {importId: c.importData.importId}], [terros('Get', 'get', {}, {onError: 'continueErrorOutput'})]);
	console.log(JSON.stringify(r.output('Get', 0)), JSON.stringify(r.output('Get', 1)));
	r = await run(sim, [{ }], [terros('Get', 'get', {}, {})]);
	show(r, 'Get');
});
