const { execFileSync } = require('node:child_process');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const pkg = require('../package.json');

describe('package.json', () => {
	it('declares the node and credential for n8n in strict mode', () => {
		expect(pkg.n8n).toEqual({
			n8nNodesApiVersion: 1,
			strict: true,
			credentials: ['dist/credentials/TerrosApi.credentials.js'],
			nodes: ['dist/nodes/TerrosImport/TerrosImport.node.js'],
		});
		expect(pkg.keywords).toContain('n8n-community-node-package');
		expect(pkg.license).toBe('MIT');
	});

	it('has n8n-workflow as its only peer dependency and no runtime dependencies', () => {
		expect(pkg.peerDependencies).toEqual({ 'n8n-workflow': '*' });
		expect(pkg.dependencies).toBeUndefined();
		expect(pkg.overrides).toBeUndefined();
	});
});

describe('npm pack', () => {
	it('holds only dist/, README, LICENSE, CHANGELOG and package.json', () => {
		const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
		const [report] = JSON.parse(
			execFileSync(npm, ['pack', '--dry-run', '--json', '--ignore-scripts'], {
				cwd: ROOT,
				encoding: 'utf8',
				stdio: ['ignore', 'pipe', 'ignore'],
			}),
		);
		const files = report.files.map((f) => f.path);
		expect(files.filter((f) => !f.startsWith('dist/')).sort()).toEqual([
			'CHANGELOG.md',
			'LICENSE',
			'README.md',
			'package.json',
		]);
		expect(files).toEqual(
			expect.arrayContaining([
				'dist/nodes/TerrosImport/TerrosImport.node.js',
				'dist/nodes/TerrosImport/TerrosImport.node.json',
				'dist/credentials/TerrosApi.credentials.js',
				'dist/icons/terros.svg',
				'dist/icons/terros.dark.svg',
			]),
		);
		expect(files.some((f) => /(^|\/)test\/|\.ts$/.test(f) && !f.endsWith('.d.ts'))).toBe(false);
	});
});
