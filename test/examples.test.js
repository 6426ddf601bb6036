const fs = require('node:fs');
const path = require('node:path');
const { TerrosImport } = require('../dist/nodes/TerrosImport/TerrosImport.node.js');

const EXAMPLES = path.resolve(__dirname, '../examples');
const properties = new TerrosImport().description.properties;

/** Names of the node's parameters that the editor shows for `operation`. */
function parameterNames(operation) {
	return properties
		.filter((p) => {
			const show = p.displayOptions?.show;
			return !show?.operation || show.operation.includes(operation);
		})
		.map((p) => p.name);
}

const files = fs.readdirSync(EXAMPLES).filter((f) => f.endsWith('.json'));

it('ships at least three example workflows', () => {
	expect(files.sort()).toEqual([
		'failed-import-and-error-rows.json',
		'import-csv-one-step.json',
		'import-step-by-step.json',
	]);
});

describe.each(files)('%s', (file) => {
	const workflow = JSON.parse(fs.readFileSync(path.join(EXAMPLES, file), 'utf8'));
	const terrosNodes = workflow.nodes.filter((n) => n.type === 'n8n-nodes-terros.terrosImport');

	it('starts at a Manual Trigger and connects every node', () => {
		expect(workflow.nodes[0].type).toBe('n8n-nodes-base.manualTrigger');
		const targets = new Set(
			Object.values(workflow.connections).flatMap((c) => c.main.flat().map((t) => t.node)),
		);
		for (const node of workflow.nodes.slice(1)) expect(targets.has(node.name)).toBe(true);
	});

	it('uses only parameters the Terros Import node has, with the Terros API credential', () => {
		expect(terrosNodes.length).toBeGreaterThan(0);
		for (const node of terrosNodes) {
			const known = parameterNames(node.parameters.operation);
			const unknown = Object.keys(node.parameters).filter((name) => !known.includes(name));
			expect({ node: node.name, unknown }).toEqual({ node: node.name, unknown: [] });
			expect(Object.keys(node.credentials)).toEqual(['terrosApi']);
		}
	});
});
