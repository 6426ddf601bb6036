const fs = require('node:fs');
const path = require('node:path');
const { PackageDirectoryLoader } = require('n8n-core');

const ROOT = path.resolve(__dirname, '..');
const packageJson = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));

/**
 * A package folder as npm would install it: package.json and dist/, with edits to package.json.
 * It sits inside the repository so that `n8n-workflow` resolves from the host, as in n8n.
 */
function installedCopy(edit = (p) => p) {
	fs.mkdirSync(path.join(ROOT, '.tmp'), { recursive: true });
	const dir = fs.mkdtempSync(path.join(ROOT, '.tmp', 'package-'));
	fs.cpSync(path.join(ROOT, 'dist'), path.join(dir, 'dist'), { recursive: true });
	fs.writeFileSync(
		path.join(dir, 'package.json'),
		JSON.stringify(edit(structuredClone(packageJson))),
	);
	return dir;
}

/** Icons of the loaded node and credential whose files do not exist. */
function missingIcons(dir, loader) {
	const icons = [...loader.types.nodes, ...loader.types.credentials].flatMap((type) => [
		type.iconUrl.light,
		type.iconUrl.dark,
	]);
	expect(icons).toHaveLength(4);
	return icons.filter(
		(icon) => !fs.existsSync(path.join(dir, icon.replace(/^icons\/n8n-nodes-terros\//, ''))),
	);
}

async function load(dir) {
	const loader = new PackageDirectoryLoader(dir);
	await loader.loadAll();
	return loader;
}

describe('loading dist/ the way n8n loads a community package', () => {
	let dir;
	let loader;
	beforeAll(async () => {
		dir = installedCopy();
		loader = await load(dir);
	});
	afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

	it('finds the credential and every node', () => {
		expect(Object.keys(loader.credentialTypes)).toEqual(['terrosApi']);
		expect(Object.keys(loader.nodeTypes)).toEqual(['terrosImport']);
		expect(loader.types.nodes.map((n) => n.name)).toEqual(['terrosImport']);
		expect(loader.packageName).toBe('n8n-nodes-terros');
	});

	it('resolves every icon to a file that exists', () => {
		expect(missingIcons(dir, loader)).toEqual([]);
	});

	it('reads the codex file', () => {
		const { codex } = loader.types.nodes[0];
		expect(codex.categories).toEqual(['Sales', 'Data & Storage']);
		expect(codex.resources.primaryDocumentation[0].url).toMatch(/#operations$/);
	});

	it('marks the node usable by AI agents', () => {
		expect(loader.types.nodes[0].usableAsTool).toBe(true);
	});
});

describe('a wrong path to a node or an icon', () => {
	it('fails to load a node that is not where package.json says', async () => {
		const dir = installedCopy((p) => {
			p.n8n.nodes = ['dist/nodes/TerrosImport/Missing.node.js'];
			return p;
		});
		await expect(load(dir)).rejects.toThrow(/Missing\.node\.js/);
		fs.rmSync(dir, { recursive: true, force: true });
	});

	it('reports an icon that points at no file', async () => {
		const dir = installedCopy();
		const nodeFile = path.join(dir, 'dist/nodes/TerrosImport/TerrosImport.node.js');
		const source = fs.readFileSync(nodeFile, 'utf8');
		fs.writeFileSync(nodeFile, source.replace('terros.dark.svg', 'terros-missing.svg'));
		const loader = await load(dir);
		expect(missingIcons(dir, loader)).toEqual([
			'icons/n8n-nodes-terros/dist/icons/terros-missing.svg',
		]);
		fs.rmSync(dir, { recursive: true, force: true });
	});
});
